package discovery

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestParseID(t *testing.T) {
	tests := []struct {
		in   string
		want uint16
		ok   bool
	}{
		{"0403", 0x0403, true},
		{"6a5b", 0x6a5b, true},
		{"6A5B", 0x6a5b, true},
		{"0x1A86", 0x1a86, true},
		{"0X1a86", 0x1a86, true},
		{" 10c4 ", 0x10c4, true},
		{"ffff", 0xffff, true},
		{"", 0, false},
		{"0x", 0, false},
		{"10000", 0, false},
		{"xyz", 0, false},
		{"-1", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseID(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ParseID(%q) = %#x, %v; want %#x, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadID) {
			t.Errorf("ParseID(%q) error %v does not wrap ErrBadID", tt.in, err)
		}
	}
}

func TestMatch(t *testing.T) {
	ports := []PortInfo{
		{Path: "/dev/ttyS0"},
		{Path: "/dev/ttyUSB3", VID: 0x0403, PID: 0x6001, Serial: "B2"},
		{Path: "/dev/ttyUSB1", VID: 0x0403, PID: 0x6001, Serial: "A1"},
		{Path: "/dev/ttyUSB0", VID: 0x1a86, PID: 0x7523},
		{Path: "/dev/ttyUSB2", VID: 0x1a86, PID: 0x7523},
		{Path: "", VID: 0x2341, PID: 0x0043},
	}
	tests := []struct {
		name  string
		m     USBMatch
		want  string
		cands []string
	}{
		{"by serial", USBMatch{VID: 0x0403, PID: 0x6001, Serial: "A1"}, "/dev/ttyUSB1", []string{"/dev/ttyUSB1"}},
		{"other serial", USBMatch{VID: 0x0403, PID: 0x6001, Serial: "B2"}, "/dev/ttyUSB3", []string{"/dev/ttyUSB3"}},
		{"serial is exact", USBMatch{VID: 0x0403, PID: 0x6001, Serial: "a1"}, "", nil},
		{"no serial picks lowest path", USBMatch{VID: 0x0403, PID: 0x6001}, "/dev/ttyUSB1", []string{"/dev/ttyUSB1", "/dev/ttyUSB3"}},
		{"identical adapters", USBMatch{VID: 0x1a86, PID: 0x7523}, "/dev/ttyUSB0", []string{"/dev/ttyUSB0", "/dev/ttyUSB2"}},
		{"absent", USBMatch{VID: 0x10c4, PID: 0xea60}, "", nil},
		{"nameless port ignored", USBMatch{VID: 0x2341, PID: 0x0043}, "", nil},
		{"zero match never hits non-USB ports", USBMatch{}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Match(ports, tt.m)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("Match = %q, %v; want %q", got, ok, tt.want)
			}
			if c := Candidates(ports, tt.m); !slices.Equal(c, tt.cands) {
				t.Errorf("Candidates = %q, want %q", c, tt.cands)
			}
		})
	}
}

func TestUSBMatchString(t *testing.T) {
	if got := (USBMatch{VID: 0x0403, PID: 0x6A01}).String(); got != "0403:6a01" {
		t.Errorf("String = %q", got)
	}
	if got := (USBMatch{VID: 0x1a86, PID: 0x7523, Serial: "X9"}).String(); got != "1a86:7523:X9" {
		t.Errorf("String = %q", got)
	}
}

func TestByIDAndResolve(t *testing.T) {
	dir := t.TempDir()
	dev := filepath.Join(dir, "dev")
	byid := filepath.Join(dir, "by-id")
	for _, d := range []string{dev, byid} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	node := filepath.Join(dev, "ttyUSB7")
	if err := os.WriteFile(node, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	stable := filepath.Join(byid, "usb-Acme_Pump_A1-if00-port0")
	if err := os.Symlink("../dev/ttyUSB7", stable); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../dev/ttyUSB9", filepath.Join(byid, "usb-gone")); err != nil {
		t.Fatal(err)
	}
	m, err := ByID(byid)
	if err != nil {
		t.Fatal(err)
	}
	realNode, err := filepath.EvalSymlinks(node) // t.TempDir may itself sit behind a symlink
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || m[realNode] != stable {
		t.Fatalf("ByID = %v, want %s -> %s", m, realNode, stable)
	}
	if got, err := Resolve(stable); err != nil || got != realNode {
		t.Fatalf("Resolve(%s) = %q, %v; want %q", stable, got, err, realNode)
	}
	if _, err := Resolve(filepath.Join(byid, "usb-gone")); err == nil {
		t.Fatal("Resolve of a dangling link succeeded")
	}
	if m, err := ByID(filepath.Join(dir, "missing")); err != nil || len(m) != 0 {
		t.Fatalf("ByID(missing) = %v, %v; want empty, nil", m, err)
	}
}

func TestListerFunc(t *testing.T) {
	want := []PortInfo{{Path: "/dev/ttyACM0", VID: 0x2e8a, PID: 0x000a}}
	var l Lister = ListerFunc(func() ([]PortInfo, error) { return want, nil })
	got, err := l.Ports()
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("Ports = %v, %v", got, err)
	}
}
