package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// devNodes are the nodes of a device's values that the cross-checks need
// (nil when the value is absent or invalid).
type devNodes struct {
	name, realm, role, prefix, where *yaml.Node
}

func (d *decoder) devices(n *yaml.Node, path string, realms realmIndex) []Device {
	items, ok := d.seq(n, path)
	if !ok {
		return nil
	}
	out := make([]Device, 0, len(items))
	names := map[string]int{}  // name -> index
	places := map[string]int{} // port, tcp address or USB match -> index
	lines := map[int]*devNodes{}
	for i, it := range items {
		dpath := index(path, i)
		dev, nd := d.device(it, dpath)
		out = append(out, dev)
		lines[i] = &nd
		if nd.name != nil {
			if first, dup := names[dev.Name]; dup {
				d.errorf(nd.name, join(dpath, "name"), "duplicate device name %q (first in %s, line %d)",
					dev.Name, index(path, first), lines[first].name.Line)
			} else {
				names[dev.Name] = i
			}
		}
		if nd.where != nil {
			place := "port " + dev.Port
			switch {
			case dev.TCP != "":
				place = "tcp " + dev.TCP
			case dev.USB != nil:
				place = fmt.Sprintf("usb %04x:%04x %s", dev.USB.VID, dev.USB.PID, dev.USB.Serial)
			}
			if first, dup := places[place]; dup {
				d.errorf(nd.where, dpath, "same %s as %s (line %d)", place, index(path, first), lines[first].where.Line)
			} else {
				places[place] = i
			}
		}
		var info *realmInfo
		if nd.realm != nil {
			info = realms.names[dev.Realm]
			if info == nil && realms.complete {
				known := slices.Sorted(mapKeys(realms.names))
				d.errorf(nd.realm, join(dpath, "realm"), "realm %q is not defined in realms%s", dev.Realm, hint(dev.Realm, known, true))
			}
		}
		if info == nil {
			continue
		}
		if nd.role != nil && info.rolesOK {
			if _, ok := info.realm.Roles[dev.Role]; !ok {
				d.errorf(nd.role, join(dpath, "role"), "role %q is not defined in realms[%d].roles%s",
					dev.Role, info.index, hint(dev.Role, slices.Sorted(mapKeys(info.realm.Roles)), true))
			}
		}
		if nd.prefix != nil {
			if problem := uriProblem(dev.Prefix, info.realm.StrictURIs, MatchPrefix); problem != "" {
				d.errorf(nd.prefix, join(dpath, "prefix"), "%s", problem)
			}
		}
	}
	return out
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func validDeviceName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func (d *decoder) device(n *yaml.Node, path string) (Device, devNodes) {
	dev := Device{
		Line:         n.Line,
		Baud:         DefaultBaud,
		DataBits:     DefaultDataBits,
		Parity:       ParityNone,
		StopBits:     DefaultStopBits,
		PingInterval: DefaultDevicePingInterval,
		OutQueue:     DefaultDeviceOutQueue,
		MaxMessage:   DefaultDeviceMaxMessage,
	}
	var nd devNodes
	o := d.object(n, path, deviceKeys)
	if o == nil {
		return dev, nd
	}
	nd.name = o.str("name", &dev.Name)
	switch {
	case nd.name == nil:
		if !o.has("name") {
			o.missing("name", "a stable name such as pump1")
		}
	case !validDeviceName(dev.Name):
		d.errorf(nd.name, o.at("name"), "bad device name %q (want 1 to 64 letters, digits, '.', '-' or '_')", dev.Name)
		nd.name = nil
	}

	var where []string
	for _, k := range []string{"port", "usb", "tcp"} {
		if o.has(k) {
			where = append(where, k)
		}
	}
	switch len(where) {
	case 0:
		d.errorf(o.node, path, "no port; set one of port, usb or tcp")
	case 1:
		nd.where = d.devicePlace(o, where[0], &dev)
	default:
		d.errorf(o.keys[where[1]], o.at(where[1]), "set only one of port, usb and tcp")
	}

	nd.realm = o.str("realm", &dev.Realm)
	switch {
	case nd.realm == nil:
		if !o.has("realm") {
			o.missing("realm", "the realm the device's session joins")
		}
	case dev.Realm == "":
		d.errorf(nd.realm, o.at("realm"), "must not be empty")
		nd.realm = nil
	}
	if an := o.str("authid", &dev.AuthID); an != nil && dev.AuthID == "" {
		d.errorf(an, o.at("authid"), "must not be empty (leave authid out to use the device name)")
	} else if an == nil {
		dev.AuthID = dev.Name
	}
	nd.role = o.str("role", &dev.Role)
	switch {
	case nd.role == nil:
		if !o.has("role") {
			o.missing("role", "a role of the device's realm")
		}
	case dev.Role == "":
		d.errorf(nd.role, o.at("role"), "must not be empty")
		nd.role = nil
	}
	nd.prefix = o.str("prefix", &dev.Prefix)

	if bn := o.int("baud", &dev.Baud); bn != nil && dev.Baud <= 0 {
		d.errorf(bn, o.at("baud"), "must be greater than 0")
	}
	if bn := o.int("data_bits", &dev.DataBits); bn != nil && (dev.DataBits < 5 || dev.DataBits > 8) {
		d.errorf(bn, o.at("data_bits"), "must be 5, 6, 7 or 8")
	}
	if pn := o.str("parity", &dev.Parity); pn != nil && !slices.Contains(parities, dev.Parity) {
		d.errorf(pn, o.at("parity"), "unknown parity %q%s", dev.Parity, hint(dev.Parity, parities, true))
	}
	if sn := o.int("stop_bits", &dev.StopBits); sn != nil && dev.StopBits != 1 && dev.StopBits != 2 {
		d.errorf(sn, o.at("stop_bits"), "must be 1 or 2")
	}
	o.bool("rtscts", &dev.RTSCTS)
	o.bool("lenient", &dev.Lenient)
	o.duration("ping_interval", &dev.PingInterval)
	if qn := o.size("out_queue", &dev.OutQueue); qn != nil && (dev.OutQueue < 1 || dev.OutQueue > maxSize) {
		d.errorf(qn, o.at("out_queue"), "must be from 1B to %s", maxSize)
	}
	if mn := o.size("max_message", &dev.MaxMessage); mn != nil && (dev.MaxMessage < minDeviceMessage || dev.MaxMessage > maxDeviceMessage) {
		d.errorf(mn, o.at("max_message"), "must be from %s to %s", minDeviceMessage, maxDeviceMessage)
	}
	return dev, nd
}

// devicePlace decodes where the device is (key is port, usb or tcp) and
// returns the value's node when it is valid.
func (d *decoder) devicePlace(o *object, key string, dev *Device) *yaml.Node {
	path := o.at(key)
	switch key {
	case "usb":
		un := o.get("usb")
		uo := d.object(un, path, usbKeys)
		if uo == nil {
			return nil
		}
		u := &USB{}
		ok := true
		for _, f := range []struct {
			key string
			dst *uint16
		}{{"vid", &u.VID}, {"pid", &u.PID}} {
			n := uo.get(f.key)
			if n == nil {
				uo.missing(f.key, "4 hex digits, as lsusb shows them")
				ok = false
				continue
			}
			v, good := parseUSBID(n)
			if !good {
				what := describe(n)
				if n.Kind == yaml.ScalarNode {
					what = strconv.Quote(n.Value)
				}
				d.errorf(n, uo.at(f.key), "bad USB ID %s (want 4 hex digits as lsusb shows them, such as 0403 or 0x0403)", what)
				ok = false
				continue
			}
			*f.dst = v
		}
		if sn := uo.str("serial", &u.Serial); sn != nil && u.Serial == "" {
			d.errorf(sn, uo.at("serial"), "must not be empty (leave serial out to match any)")
			ok = false
		}
		dev.USB = u
		if !ok {
			return nil
		}
		return un
	case "port":
		var p string
		pn := o.str("port", &p)
		if pn == nil {
			return nil
		}
		if rest, isTCP := strings.CutPrefix(p, "tcp://"); isTCP {
			return d.tcpPlace(pn, path, rest, dev)
		}
		if !strings.HasPrefix(p, "/") {
			d.errorf(pn, path, "port %q is not an absolute device path such as /dev/ttyUSB0 (or tcp://host:port)", p)
			return nil
		}
		dev.Port = p
		return pn
	default: // tcp
		var t string
		tn := o.str("tcp", &t)
		if tn == nil {
			return nil
		}
		rest, _ := strings.CutPrefix(t, "tcp://")
		return d.tcpPlace(tn, path, rest, dev)
	}
}

func (d *decoder) tcpPlace(n *yaml.Node, path, addr string, dev *Device) *yaml.Node {
	if strings.Contains(addr, "://") {
		d.errorf(n, path, "bad address %q: want tcp://host:port", addr)
		return nil
	}
	if problem := dialAddrProblem(addr); problem != "" {
		d.errorf(n, path, "%s", problem)
		return nil
	}
	dev.TCP = addr
	return n
}

// parseUSBID reads a USB vendor or product ID in hex: 4 digits, or 1 to 4
// after "0x". The raw text is used, so YAML's own reading of 0403 as an
// octal integer does not matter.
func parseUSBID(n *yaml.Node) (uint16, bool) {
	if n.Kind != yaml.ScalarNode {
		return 0, false
	}
	if t := n.ShortTag(); t != "!!int" && t != "!!str" {
		return 0, false
	}
	s := n.Value
	if rest, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		if len(rest) < 1 || len(rest) > 4 {
			return 0, false
		}
		s = rest
	} else if len(s) != 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 16, 16)
	if err != nil {
		return 0, false
	}
	return uint16(v), true
}
