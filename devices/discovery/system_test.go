//go:build linux || windows || (darwin && cgo)

package discovery

import (
	"os"
	"strings"
	"testing"

	"go.bug.st/serial/enumerator"
)

// TestFromDetails: the enumerator's hex strings match in either case.
func TestFromDetails(t *testing.T) {
	list := []*enumerator.PortDetails{
		{Name: "/dev/ttyUSB0", IsUSB: true, VID: "0403", PID: "6A01", SerialNumber: "A1", Manufacturer: "FTDI", Product: "FT232R"},
		{Name: "/dev/ttyUSB1", IsUSB: true, VID: "1a86", PID: "7523"},
		{Name: "/dev/ttyACM0", IsUSB: true, VID: "zz", PID: "0001"},
		{Name: "/dev/ttyS0"},
		{}, // the enumerator returns empty records for ports it cannot describe
		nil,
	}
	byID := map[string]string{"/dev/ttyUSB0": "/dev/serial/by-id/usb-FTDI_FT232R_A1-if00-port0"}
	ports := fromDetails(list, byID)
	if len(ports) != 4 {
		t.Fatalf("got %d ports, want 4: %+v", len(ports), ports)
	}
	want0 := PortInfo{Path: "/dev/ttyUSB0", VID: 0x0403, PID: 0x6a01, Serial: "A1", Manufacturer: "FTDI", Product: "FT232R", ByID: byID["/dev/ttyUSB0"]}
	if ports[0] != want0 {
		t.Errorf("ports[0] = %+v, want %+v", ports[0], want0)
	}
	for _, m := range []USBMatch{{VID: 0x0403, PID: 0x6a01}, {VID: 0x0403, PID: 0x6A01, Serial: "A1"}} {
		if p, ok := Match(ports, m); !ok || p != "/dev/ttyUSB0" {
			t.Errorf("Match(%v) = %q, %v", m, p, ok)
		}
	}
	if p, ok := Match(ports, USBMatch{VID: 0x1A86, PID: 0x7523}); !ok || p != "/dev/ttyUSB1" {
		t.Errorf("lower-case IDs: Match = %q, %v", p, ok)
	}
	if ports[2].IsUSB() {
		t.Errorf("a port with an unparsable VID should not count as USB: %+v", ports[2])
	}
	if ports[3].IsUSB() {
		t.Errorf("ttyS0 counts as USB: %+v", ports[3])
	}
}

// TestSystem runs the real enumerator. Whatever the machine has, it must
// not fail where sysfs exists, and it never lists ptys.
func TestSystem(t *testing.T) {
	if _, err := os.Stat("/sys/class/tty"); err != nil {
		t.Skip("no /sys/class/tty on this machine")
	}
	ports, err := System().Ports()
	if err != nil {
		t.Fatalf("Ports: %v", err)
	}
	for _, p := range ports {
		if p.Path == "" || strings.HasPrefix(p.Path, "/dev/pts/") {
			t.Errorf("unexpected port %+v", p)
		}
	}
	t.Logf("%d ports", len(ports))
}
