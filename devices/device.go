package devices

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/wampgate/wampgate/devices/discovery"
	"github.com/wampgate/wampgate/transports/serial"
)

// USBMatch selects a USB serial adapter by vendor ID, product ID and
// optionally serial number.
type USBMatch = discovery.USBMatch

// DefaultAuthRole is the role of a device session whose Device.AuthRole is
// empty.
const DefaultAuthRole = "device"

// Transport kinds reported in transports.Info.Kind and in Status.Kind.
const (
	KindSerial    = "serial"     // a local tty
	KindSerialTCP = "serial-tcp" // a TCP serial server (ser2net, ESP-link)
)

// ErrInvalidDevice reports a Device that cannot be supervised.
var ErrInvalidDevice = errors.New("devices: invalid device")

// Device configures one serial device: how to reach it and the identity its
// sessions get. It mirrors gateway/config.Device; zero fields take the
// defaults below.
type Device struct {
	// Name is the device's stable name: letters, digits, '.', '-' and '_'.
	Name string
	// Exactly one of Port, USB and TCP says where the device is.
	//
	// Port is a tty path; symlinks such as /dev/serial0 and
	// /dev/serial/by-id/... are fine.
	Port string
	// USB finds the adapter by its IDs at every attempt, so a device that
	// comes back under another /dev/ttyUSBn is found again.
	USB *USBMatch
	// TCP is the address of a TCP serial server that the gateway dials,
	// "host:port" or "tcp://host:port". The same framing runs over the
	// TCP stream.
	TCP string
	// Realm is the realm the device's sessions join whatever their HELLO
	// names; empty leaves the HELLO's realm.
	Realm string
	// AuthID and AuthRole are the identity the device's sessions get
	// without authentication: the port is the credential. AuthID defaults
	// to Name, AuthRole to DefaultAuthRole.
	AuthID, AuthRole string
	// Prefix is prepended to every single-component URI the device uses
	// (see transports.Info.URIPrefix), so that devices running identical
	// firmware are addressed one by one. A prefix without a final '.'
	// gets one: "dev.pump1" and "dev.pump1." both turn "set" into
	// "dev.pump1.set".
	Prefix string
	// Line settings: Baud (default 115200), DataBits 5..8 (default 8),
	// Parity "none" (default), "even" or "odd", StopBits 1 (default) or 2,
	// RTSCTS hardware flow control. For TCP only Baud and the bits per
	// character matter: they size write deadlines.
	Baud, DataBits int
	Parity         string
	StopBits       int
	RTSCTS         bool
	// Lenient counts WAMP sequence gaps instead of resetting the session.
	Lenient bool
	// PingInterval is the silence after which the device is pinged: 0 means
	// serial.DefaultPingInterval (10 s), negative disables pings.
	PingInterval time.Duration
	// MaxMessage is the largest message accepted from the device, announced
	// in the handshake: 0 means serial.DefaultLinkMaxMessageSize, else 512
	// bytes to 16 MiB, rounded down to a power of two.
	MaxMessage int
}

// Validate reports every problem of d, each wrapping ErrInvalidDevice.
func (d Device) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w %q: %s", ErrInvalidDevice, d.Name, fmt.Sprintf(format, args...)))
	}
	if d.Name == "" {
		bad("name is empty")
	}
	for _, r := range d.Name {
		if !validNameRune(r) {
			bad("name may only hold letters, digits, '.', '-' and '_'")
			break
		}
	}
	n := 0
	if d.Port != "" {
		n++
	}
	if d.USB != nil {
		n++
		if d.USB.VID == 0 && d.USB.PID == 0 {
			bad("usb match needs a vendor and product id")
		}
	}
	if d.TCP != "" {
		n++
		if _, err := tcpAddr(d.TCP); err != nil {
			bad("%v", err)
		}
	}
	if n != 1 {
		bad("exactly one of port, usb and tcp must be set, got %d", n)
	}
	pc, err := d.portConfig()
	if err != nil {
		bad("%v", err)
	} else if err := pc.Validate(); err != nil {
		bad("%v", err)
	}
	if d.MaxMessage != 0 && (d.MaxMessage < serial.MinMessageSize || d.MaxMessage > serial.MaxMessageSize) {
		bad("max message %d outside %d..%d", d.MaxMessage, serial.MinMessageSize, serial.MaxMessageSize)
	}
	return errors.Join(errs...)
}

func validNameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_'
}

// tcpAddr returns the host:port of a TCP serial server address.
func tcpAddr(s string) (string, error) {
	a := strings.TrimPrefix(s, "tcp://")
	host, port, err := net.SplitHostPort(a)
	if err != nil || port == "" || strings.Contains(a, "/") {
		return "", fmt.Errorf("tcp address %q: want host:port or tcp://host:port", s)
	}
	return net.JoinHostPort(host, port), nil
}

// portConfig converts the line settings.
func (d Device) portConfig() (serial.PortConfig, error) {
	pc := serial.PortConfig{Baud: d.Baud, DataBits: d.DataBits, StopBits: d.StopBits, RTSCTS: d.RTSCTS}
	switch strings.ToLower(d.Parity) {
	case "", "none", "n":
		pc.Parity = serial.ParityNone
	case "even", "e":
		pc.Parity = serial.ParityEven
	case "odd", "o":
		pc.Parity = serial.ParityOdd
	default:
		return pc, fmt.Errorf("parity %q: want none, even or odd", d.Parity)
	}
	return pc.WithDefaults(), nil
}

// normalized returns d with the identity defaults and the prefix's final
// dot filled in, and the TCP address in host:port form.
func (d Device) normalized() Device {
	if d.AuthID == "" {
		d.AuthID = d.Name
	}
	if d.AuthRole == "" {
		d.AuthRole = DefaultAuthRole
	}
	if d.Prefix != "" && !strings.HasSuffix(d.Prefix, ".") {
		d.Prefix += "."
	}
	if d.TCP != "" {
		if a, err := tcpAddr(d.TCP); err == nil {
			d.TCP = a
		}
	}
	if d.USB != nil {
		u := *d.USB // keep the caller's value out of reach
		d.USB = &u
	}
	return d
}

// kind is the transport kind of d's sessions.
func (d Device) kind() string {
	if d.TCP != "" {
		return KindSerialTCP
	}
	return KindSerial
}

// source describes where d is configured to be: its port path,
// "usb:vvvv:pppp[:serial]" or "tcp://host:port".
func (d Device) source() string {
	switch {
	case d.TCP != "":
		return "tcp://" + d.TCP
	case d.USB != nil:
		return "usb:" + d.USB.String()
	}
	return d.Port
}
