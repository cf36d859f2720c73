package config

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// listeners decodes the listen list and reports address conflicts.
func (d *decoder) listeners(n *yaml.Node, path string) []Listener {
	items, ok := d.seq(n, path)
	if !ok {
		return nil
	}
	if len(items) == 0 {
		d.errorf(n, path, "no listeners; list at least one, or leave listen out for the defaults")
	}
	type bound struct {
		index      int
		host, port string
		unix       string
		line       int
	}
	var seen []bound
	out := make([]Listener, 0, len(items))
	for i, it := range items {
		lpath := index(path, i)
		l, where := d.listener(it, lpath)
		out = append(out, l)
		if where == nil {
			continue
		}
		b := bound{index: i, line: where.Line}
		if l.Type == ListenUnix {
			b.unix = filepath.Clean(l.Path)
		} else {
			b.host, b.port, _ = net.SplitHostPort(l.Address)
			if b.port == "0" {
				continue // any free port: cannot clash
			}
		}
		for _, s := range seen {
			clash := b.unix != "" && b.unix == s.unix ||
				b.unix == "" && s.unix == "" && b.port == s.port &&
					(b.host == s.host || anyHost(b.host) || anyHost(s.host))
			if clash {
				key := "address"
				if b.unix != "" {
					key = "path"
				}
				d.errorf(where, join(lpath, key), "conflicts with %s (line %d)", index(path, s.index), s.line)
				break
			}
		}
		seen = append(seen, b)
	}
	return out
}

// anyHost reports whether a listen host means every interface.
func anyHost(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }

// listener decodes one listener. It returns the node of its address (or
// unix path) when that is valid, for the conflict check.
func (d *decoder) listener(n *yaml.Node, path string) (Listener, *yaml.Node) {
	l := Listener{Line: n.Line}
	o := d.object(n, path, listenerKeys)
	if o == nil {
		return l, nil
	}
	tn := o.str("type", &l.Type)
	switch {
	case tn == nil:
		if !o.has("type") {
			o.missing("type", "websocket, rawsocket or unix")
		}
	case !slices.Contains(listenerTypes, l.Type):
		d.errorf(tn, o.at("type"), "unknown listener type %q%s", l.Type, hint(l.Type, listenerTypes, true))
		tn = nil
	}
	an := o.str("address", &l.Address)
	pn := o.str("path", &l.Path)
	if an != nil {
		if problem := listenAddrProblem(l.Address); problem != "" {
			d.errorf(an, o.at("address"), "%s", problem)
			an = nil
		}
	}
	if tls := o.get("tls"); tls != nil {
		l.TLS = d.tls(tls, o.at("tls"))
	}
	if lim := o.get("limits"); lim != nil {
		l.Limits = d.limits(lim, o.at("limits"), listenerLimitKeys, Limits{}, false)
	}
	if tn == nil {
		return l, nil
	}
	switch l.Type {
	case ListenWebSocket, ListenRawSocket:
		if !o.has("address") {
			o.missing("address", `host:port, such as "127.0.0.1:8080"`)
		}
		if l.Type == ListenRawSocket && o.has("path") {
			d.errorf(o.keys["path"], o.at("path"), "rawsocket listeners have no path (for a Unix socket use type: unix)")
		}
		if l.Type == ListenWebSocket {
			switch {
			case !o.has("path"):
				l.Path = DefaultWebSocketPath
			case pn != nil && !strings.HasPrefix(l.Path, "/"):
				d.errorf(pn, o.at("path"), "URL path %q must start with \"/\"", l.Path)
			}
		}
		return l, an
	default: // unix
		if o.has("address") {
			d.errorf(o.keys["address"], o.at("address"), "unix listeners have no address; set path to the socket file")
		}
		if o.has("tls") {
			d.errorf(o.keys["tls"], o.at("tls"), "unix listeners do not support TLS")
		}
		switch {
		case !o.has("path"):
			o.missing("path", "the socket file, required for unix listeners")
		case pn != nil && l.Path == "":
			d.errorf(pn, o.at("path"), "must not be empty")
		case pn != nil:
			l.Path = d.resolve(l.Path)
			return l, pn
		}
		return l, nil
	}
}

// listenAddrProblem checks a host:port to listen on.
func listenAddrProblem(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("bad address %q: want host:port, such as \"127.0.0.1:8080\" or \":8080\"", addr)
	}
	if p, err := strconv.ParseUint(port, 10, 32); err != nil || p > 65535 {
		return fmt.Sprintf("bad port %q in %q (want a number from 0 to 65535)", port, addr)
	}
	if host != "" && !validHost(host) {
		return fmt.Sprintf("bad host %q in %q", host, addr)
	}
	return ""
}

// dialAddrProblem checks a host:port to connect to.
func dialAddrProblem(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("bad address %q: want tcp://host:port", addr)
	}
	if p, err := strconv.ParseUint(port, 10, 32); err != nil || p < 1 || p > 65535 {
		return fmt.Sprintf("bad port %q in %q (want a number from 1 to 65535)", port, addr)
	}
	if !validHost(host) {
		return fmt.Sprintf("bad host %q in %q", host, addr)
	}
	return ""
}

// validHost accepts IP addresses (IPv6 with an optional zone) and DNS
// names.
func validHost(h string) bool {
	ip := h
	if i := strings.IndexByte(ip, '%'); i > 0 {
		ip = ip[:i]
	}
	if net.ParseIP(ip) != nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

func (d *decoder) tls(n *yaml.Node, path string) *TLS {
	t := &TLS{}
	o := d.object(n, path, tlsKeys)
	if o == nil {
		return t
	}
	for _, f := range []struct {
		key      string
		dst      *string
		required bool
		what     string
	}{
		{"cert", &t.Cert, true, "PEM certificate file"},
		{"key", &t.Key, true, "PEM private key file"},
		{"client_ca", &t.ClientCA, false, ""},
	} {
		fn := o.str(f.key, f.dst)
		switch {
		case fn == nil:
			if f.required && !o.has(f.key) {
				o.missing(f.key, f.what)
			}
		case *f.dst == "":
			d.errorf(fn, o.at(f.key), "must not be empty")
		default:
			*f.dst = d.resolve(*f.dst)
			d.checkFile(fn, o.at(f.key), *f.dst)
		}
	}
	return t
}

// checkFile records a problem when p is not an existing file.
func (d *decoder) checkFile(n *yaml.Node, path, p string) {
	fi, err := os.Stat(p)
	switch {
	case err != nil:
		d.wrapf(n, path, err, "cannot use %q: %s", p, cause(err))
	case fi.IsDir():
		d.errorf(n, path, "%q is a directory, not a file", p)
	}
}
