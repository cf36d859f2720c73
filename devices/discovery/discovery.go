package discovery

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ByIDDir is the directory where udev keeps stable symlinks to serial
// adapters, named after their vendor, product and serial number.
const ByIDDir = "/dev/serial/by-id"

// ErrBadID reports a USB vendor or product ID that is not a 16-bit
// hexadecimal number.
var ErrBadID = errors.New("discovery: bad USB id")

// PortInfo describes one serial port found on the system.
type PortInfo struct {
	// Path is the device node, such as /dev/ttyUSB0.
	Path string
	// VID and PID are the USB vendor and product IDs; both are zero for a
	// port that is not a USB adapter.
	VID, PID uint16
	// Serial is the adapter's USB serial number, empty when it has none.
	Serial string
	// Manufacturer and Product are the adapter's USB strings.
	Manufacturer, Product string
	// ByID is the port's stable name under ByIDDir, empty when udev made
	// none.
	ByID string
}

// IsUSB reports whether the port belongs to a USB adapter.
func (p PortInfo) IsUSB() bool { return p.VID != 0 || p.PID != 0 }

// Lister enumerates the serial ports of the machine. Implementations are
// safe for concurrent use.
type Lister interface {
	Ports() ([]PortInfo, error)
}

// ListerFunc adapts a function to Lister.
type ListerFunc func() ([]PortInfo, error)

// Ports calls f.
func (f ListerFunc) Ports() ([]PortInfo, error) { return f() }

// USBMatch selects a USB serial adapter by its IDs.
type USBMatch struct {
	VID, PID uint16
	// Serial, when set, must equal the adapter's serial number exactly.
	Serial string
}

// String formats the match as vvvv:pppp or vvvv:pppp:serial, with the IDs
// in lower-case hexadecimal as lsusb prints them.
func (m USBMatch) String() string {
	s := fmt.Sprintf("%04x:%04x", m.VID, m.PID)
	if m.Serial != "" {
		s += ":" + m.Serial
	}
	return s
}

// Matches reports whether port p is the adapter m describes.
func (m USBMatch) Matches(p PortInfo) bool {
	if !p.IsUSB() || p.VID != m.VID || p.PID != m.PID {
		return false
	}
	return m.Serial == "" || p.Serial == m.Serial
}

// Candidates returns the paths of all ports that match m, sorted, so that
// the choice among identical adapters without serial numbers is stable.
func Candidates(ports []PortInfo, m USBMatch) []string {
	var paths []string
	for _, p := range ports {
		if p.Path != "" && m.Matches(p) {
			paths = append(paths, p.Path)
		}
	}
	slices.Sort(paths)
	return slices.Compact(paths)
}

// Match returns the path of the port that m selects: the first of the
// candidates in path order. ok is false when no port matches.
func Match(ports []PortInfo, m USBMatch) (path string, ok bool) {
	c := Candidates(ports, m)
	if len(c) == 0 {
		return "", false
	}
	return c[0], true
}

// ParseID parses a USB vendor or product ID written in hexadecimal, in
// either case and with or without a 0x prefix ("0403", "6A5B", "0x1a86").
func ParseID(s string) (uint16, error) {
	t := strings.TrimSpace(s)
	if len(t) > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') {
		t = t[2:]
	}
	if t == "" {
		return 0, fmt.Errorf("%w: %q", ErrBadID, s)
	}
	v, err := strconv.ParseUint(t, 16, 16)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrBadID, s)
	}
	return uint16(v), nil
}

// ByID reads the stable names in dir (ByIDDir when empty) and returns a map
// from each device node they point to, such as /dev/ttyUSB0, to its stable
// name. A missing directory (no USB serial adapter plugged in) gives an
// empty map and no error.
func ByID(dir string) (map[string]string, error) {
	if dir == "" {
		dir = ByIDDir
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	m := make(map[string]string, len(ents))
	for _, e := range ents {
		link := filepath.Join(dir, e.Name())
		target, err := filepath.EvalSymlinks(link)
		if err != nil {
			continue // a dangling link left by a device being unplugged
		}
		if old, dup := m[target]; !dup || link < old {
			m[target] = link
		}
	}
	return m, nil
}

// Resolve returns the device node that path names, following symlinks such
// as /dev/serial0 and /dev/serial/by-id/...; two paths name the same port
// when they resolve to the same node.
func Resolve(path string) (string, error) {
	p, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("discovery: resolve %s: %w", path, err)
	}
	return p, nil
}
