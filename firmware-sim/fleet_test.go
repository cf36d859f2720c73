package firmwaresim

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports/serial"
)

// A fleet of 20 devices attached to one router: all join, all answer, and
// closing everything leaves no goroutine behind.
func TestE2EFleetStartStopNoLeak(t *testing.T) {
	needPty(t)
	base := runtime.NumGoroutine()
	func() {
		r := newRouter(t)
		tmpl := testDevice("")
		tmpl.Publishers = []Publisher{{Topic: "temp", Interval: 50 * time.Millisecond}}
		f, err := StartFleet(FleetConfig{Count: 20, Template: tmpl})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		seen := map[string]bool{}
		var gws []*testGateway
		for i, d := range f.Devices() {
			equal(t, "name", d.Name(), fmt.Sprintf("sim%d", i+1))
			if seen[d.Path()] {
				t.Fatalf("path %s used twice", d.Path())
			}
			seen[d.Path()] = true
			if _, err := os.Stat(d.Path()); err != nil {
				t.Fatal(err)
			}
			gws = append(gws, attachPort(t, r, d.Path(), serial.LinkConfig{}, "dev."+d.Name()+"."))
		}
		if err := f.WaitReady(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		s := caller(t, r)
		for i, d := range f.Devices() {
			res := callUntil(t, s, "dev."+d.Name()+".add", wamp.List{i, 1}, nil)
			if res.Args[0] != int64(i+1) {
				t.Fatalf("%s add = %v", d.Name(), res.Args)
			}
		}
		if f.Device("sim7") != f.Devices()[6] || f.Device("nope") != nil {
			t.Fatal("Device by name")
		}
		// Seeds differ per device.
		if f.Devices()[0].Config().Seed == f.Devices()[1].Config().Seed {
			t.Fatal("devices share a seed")
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		for _, g := range gws {
			select {
			case <-g.link.Done(): // the device's close hung up the port
			case <-time.After(testTimeout):
				t.Fatal("a gateway port did not hang up")
			}
			g.close()
		}
		s.Close()
		<-s.Done()
	}()
	// The router's cleanup runs at the end of the test, but with every
	// session over it has no goroutine left.
	waitFor(t, "the fleet's goroutines to end", func() bool {
		return runtime.NumGoroutine() <= base
	})
}

func TestFleetGoroutinesEnd(t *testing.T) {
	needPty(t)
	base := runtime.NumGoroutine()
	tmpl := testDevice("")
	tmpl.Faults.RebootEvery = 20 * time.Millisecond
	f, err := StartFleet(FleetConfig{Count: 20, Template: tmpl, NamePrefix: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	// Each device runs its loop, its fault timer and its link's two.
	waitFor(t, "the devices' goroutines", func() bool { return runtime.NumGoroutine() >= base+20*4 })
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	waitFor(t, "every goroutine to end", func() bool { return runtime.NumGoroutine() <= base })
}

type fakeTB struct {
	cleanups []func()
	fatal    string
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Cleanup(fn func())                 { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

func TestMustStartFleet(t *testing.T) {
	needPty(t)
	tb := &fakeTB{}
	f := MustStartFleet(tb, FleetConfig{Count: 2, Template: testDevice("")})
	if f == nil || len(f.Devices()) != 2 || len(tb.cleanups) != 1 || tb.fatal != "" {
		t.Fatalf("fleet %v, cleanups %d, fatal %q", f, len(tb.cleanups), tb.fatal)
	}
	tb.cleanups[0]()
	for _, d := range f.Devices() {
		if d.ctx.Err() == nil {
			t.Fatal("cleanup did not close the fleet")
		}
	}
	bad := &fakeTB{}
	if f := MustStartFleet(bad, FleetConfig{Count: 1, Template: DeviceConfig{Mode: "usb"}}); f != nil || bad.fatal == "" {
		t.Fatalf("bad fleet: %v, fatal %q", f, bad.fatal)
	}
	// A failure midway closes the devices already started.
	base := runtime.NumGoroutine()
	_, err := StartFleet(FleetConfig{Count: 3, Template: testDevice(""),
		Devices: []DeviceConfig{{Name: "x", Mode: ModeTCPSerial, Listen: "256.0.0.1:1"}}})
	if err == nil {
		t.Fatal("StartFleet with a bad listen address succeeded")
	}
	waitFor(t, "the started devices to stop", func() bool { return runtime.NumGoroutine() <= base })
}

func TestFleetDeviceConfigs(t *testing.T) {
	cfg := FleetConfig{
		Count:      3,
		NamePrefix: "pump",
		Template:   DeviceConfig{Mode: ModeTCPSerial, Listen: "127.0.0.1:4001", Seed: 10, URIPrefix: "dev.{name}."},
		Devices:    []DeviceConfig{{Name: "extra", URIPrefix: "x.{name}."}},
	}
	dcs, err := cfg.DeviceConfigs()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range dcs {
		got = append(got, fmt.Sprintf("%s %s %d %s", d.Name, d.Listen, d.Seed, d.URIPrefix))
	}
	want := []string{
		"pump1 127.0.0.1:4001 10 dev.pump1.",
		"pump2 127.0.0.1:4002 11 dev.pump2.",
		"pump3 127.0.0.1:4003 12 dev.pump3.",
		"extra  0 x.extra.",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	cfg.Devices = append(cfg.Devices, DeviceConfig{Name: "pump2"})
	if _, err := cfg.DeviceConfigs(); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("duplicate names: %v", err)
	}
	if _, err := (FleetConfig{Count: -1}).DeviceConfigs(); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("negative count: %v", err)
	}
	// Port 0 stays 0: every device gets a free port.
	dcs, _ = FleetConfig{Count: 2, Template: DeviceConfig{Mode: ModeTCPSerial, Listen: "127.0.0.1:0"}}.DeviceConfigs()
	equal(t, "listen", dcs[1].Listen, "127.0.0.1:0")
}
