package devices_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wampgate/wampgate/devices"
	"github.com/wampgate/wampgate/devices/discovery"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/serial"
)

// TestOnlineIdentity: after a handshake the device is online and the
// router gets a Conn carrying the configured identity, realm and prefix.
func TestOnlineIdentity(t *testing.T) {
	checkGoroutines(t)
	master, path := openPty(t)
	a, r := newFakeAttacher(), newRecorder()
	m := devices.New(fastConfig(a, r, devices.Device{
		Name: "pump1", Port: path, Realm: "realm1", AuthRole: "actuator",
		Prefix: "dev.pump1", Baud: 9600, PingInterval: -1,
	}))
	if s := status(t, m, "pump1"); s.State != devices.StateOffline || s.AuthID != "pump1" || s.Prefix != "dev.pump1." {
		t.Fatalf("status before Start: %+v", s)
	}
	m.Start()
	defer m.Close()

	d := newFakeDevice(t, master)
	d.connect(transports.CBOR)
	s := a.next(t)
	info := s.conn.Info()
	if info.Kind != devices.KindSerial || info.AuthID != "pump1" || info.AuthRole != "actuator" ||
		info.Realm != "realm1" || info.URIPrefix != "dev.pump1." {
		t.Fatalf("Info = %+v", info)
	}
	if info.Remote == nil || info.Remote.String() != path {
		t.Fatalf("Info.Remote = %v, want %s", info.Remote, path)
	}
	if s.conn.Serializer() != transports.CBOR {
		t.Fatalf("serializer %v", s.conn.Serializer())
	}
	e := r.expect(t, "pump1", true, devices.ReasonNone)
	if e.Realm != "realm1" || e.Status.Path != path {
		t.Fatalf("online event %+v", e)
	}

	if err := d.sendWAMP([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	s.expectMsg(t, "hello")
	d.expectWAMP("echo:hello")

	st := status(t, m, "pump1")
	if st.State != devices.StateOnline || st.Path != path || st.Handshakes != 1 || st.Sessions != 1 || st.Reconnects != 0 {
		t.Fatalf("status %+v", st)
	}
	// RESET, HANDSHAKE reply and the echo went out (the counter moves just
	// after the write, so the device may see the echo first); HANDSHAKE and
	// "hello" came in.
	waitFor(t, "link counters", func() bool {
		st := status(t, m, "pump1")
		return st.BytesIn > 0 && st.BytesOut > 0 && st.FramesIn == 2 && st.FramesOut == 3 && !st.LastSeen.IsZero()
	})

	// The router ends the session (GOODBYE, kill): the device is told with
	// RESET, handshakes again on the same open port and is back online.
	if err := d.sendWAMP([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	if err := s.waitDone(t); !errors.Is(err, transports.ErrClosed) {
		t.Fatalf("session end %v", err)
	}
	r.expect(t, "pump1", false, devices.ReasonClosed)
	d.expect(serial.FrameReset)
	d.handshake(transports.JSON)
	s2 := a.next(t)
	r.expect(t, "pump1", true, devices.ReasonNone)
	if err := d.sendWAMP([]byte("again")); err != nil {
		t.Fatal(err)
	}
	s2.expectMsg(t, "again")
	d.expectWAMP("echo:again")
	if st := status(t, m, "pump1"); st.Reconnects != 0 || st.Sessions != 2 || st.Handshakes != 2 || st.Reason != devices.ReasonClosed {
		t.Fatalf("status after second session %+v", st)
	}

	// Close: the session ends with the shutdown reason, and the device gets
	// RESET so it knows to handshake again when the gateway is back.
	m.Close()
	if err := s2.waitDone(t); !errors.Is(err, transports.ErrClosed) {
		t.Fatalf("session end on Close: %v", err)
	}
	r.expect(t, "pump1", false, devices.ReasonShutdown)
	d.expect(serial.FrameReset)
	if st := status(t, m, "pump1"); st.State != devices.StateOffline || st.Reason != devices.ReasonShutdown {
		t.Fatalf("status after Close %+v", st)
	}
}

// TestUnplugAndUSBReplug: unplugging ends the session with "unplugged";
// the adapter then shows up under a new path and is found again by its USB
// IDs through the Lister.
func TestUnplugAndUSBReplug(t *testing.T) {
	checkGoroutines(t)
	master1, path1 := openPty(t)
	a, r := newFakeAttacher(), newRecorder()
	lister := &fakeLister{}
	match := &devices.USBMatch{VID: 0x0403, PID: 0x6001, Serial: "A1"}
	lister.set(
		discovery.PortInfo{Path: "/dev/ttyUSB9", VID: 0x0403, PID: 0x6001, Serial: "B2"}, // same model, other unit
		discovery.PortInfo{Path: path1, VID: 0x0403, PID: 0x6001, Serial: "A1"},
	)
	cfg := fastConfig(a, r, devices.Device{Name: "sensor", USB: match, Realm: "realm1", PingInterval: -1})
	cfg.Lister = lister
	m := devices.New(cfg)
	m.Start()
	defer m.Close()

	d1 := newFakeDevice(t, master1)
	d1.connect(transports.MsgPack)
	s1 := a.next(t)
	r.expect(t, "sensor", true, devices.ReasonNone)
	if st := status(t, m, "sensor"); st.Path != path1 || st.Source != "usb:0403:6001:A1" {
		t.Fatalf("status %+v", st)
	}
	// Line noise: one frame with a bad CRC, one with broken COBS.
	bad := serial.AppendFrame(nil, serial.FrameWAMP, 0, []byte("noise"), true)
	bad[bytes.IndexByte(bad, 'i')] ^= 0x20 // COBS intact, CRC wrong
	if _, err := master1.Write(append(bad, 0x05, 0x01, 0x00)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "drop counters", func() bool {
		st := status(t, m, "sensor")
		return st.CRCDrops == 1 && st.COBSDrops == 1
	})

	// The pty the adapter will come back as; opened now, since pty numbers
	// are reused once freed.
	master2, path2 := openPty(t)

	// Unplug: the adapter disappears from the enumeration and its tty hangs up.
	lister.set(discovery.PortInfo{Path: "/dev/ttyUSB9", VID: 0x0403, PID: 0x6001, Serial: "B2"})
	master1.Close()
	if err := s1.waitDone(t); err == nil {
		t.Fatal("session ended without error")
	}
	e := r.expect(t, "sensor", false, devices.ReasonUnplugged)
	if e.Status.Reason != devices.ReasonUnplugged {
		t.Fatalf("offline event status %+v", e.Status)
	}
	// While it is away the supervisor keeps looking, and says why.
	calls := lister.Calls()
	waitFor(t, "not_found while unplugged", func() bool {
		st := status(t, m, "sensor")
		return st.State == devices.StateOffline && st.Reason == devices.ReasonNotFound && lister.Calls() >= calls+2
	})

	// Replug under another path.
	d2 := newFakeDevice(t, master2)
	lister.set(
		discovery.PortInfo{Path: path2, VID: 0x0403, PID: 0x6001, Serial: "A1"},
		discovery.PortInfo{Path: "/dev/ttyUSB9", VID: 0x0403, PID: 0x6001, Serial: "B2"},
	)
	d2.connect(transports.MsgPack)
	s2 := a.next(t)
	r.expect(t, "sensor", true, devices.ReasonNone)
	if err := d2.sendWAMP([]byte("back")); err != nil {
		t.Fatal(err)
	}
	s2.expectMsg(t, "back")
	d2.expectWAMP("echo:back")
	st := status(t, m, "sensor")
	if st.State != devices.StateOnline || st.Path != path2 || st.Reconnects != 1 || st.Handshakes != 2 || st.Sessions != 2 {
		t.Fatalf("status after replug %+v", st)
	}
	if st.CRCDrops != 1 || st.COBSDrops != 1 || st.ResetsSent != 2 {
		t.Fatalf("counters not cumulative over reopens: %+v", st)
	}
}

// TestDeviceReboot: a HANDSHAKE in the middle of a session ends that
// session as "device_reset" and attaches the new one.
func TestDeviceReboot(t *testing.T) {
	checkGoroutines(t)
	master, path := openPty(t)
	a, r := newFakeAttacher(), newRecorder()
	m := devices.New(fastConfig(a, r, devices.Device{Name: "valve", Port: path, PingInterval: -1}))
	m.Start()
	defer m.Close()

	d := newFakeDevice(t, master)
	d.connect(transports.CBOR)
	s1 := a.next(t)
	r.expect(t, "valve", true, devices.ReasonNone)
	for _, msg := range []string{"one", "two"} {
		if err := d.sendWAMP([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		s1.expectMsg(t, msg)
		d.expectWAMP("echo:" + msg)
	}

	d.handshake(transports.JSON) // reboot
	if err := s1.waitDone(t); !errors.Is(err, serial.ErrDeviceReset) {
		t.Fatalf("old session ended with %v, want ErrDeviceReset", err)
	}
	r.expect(t, "valve", false, devices.ReasonDeviceReset)
	s2 := a.next(t)
	r.expect(t, "valve", true, devices.ReasonNone)
	if s2.conn.Serializer() != transports.JSON {
		t.Fatalf("new session serializer %v", s2.conn.Serializer())
	}
	if err := d.sendWAMP([]byte("after")); err != nil {
		t.Fatal(err)
	}
	s2.expectMsg(t, "after")
	d.expectWAMP("echo:after")
	st := status(t, m, "valve")
	if st.State != devices.StateOnline || st.Resets != 1 || st.Sessions != 2 || st.Handshakes != 2 || st.Reconnects != 0 || st.Reason != devices.ReasonDeviceReset {
		t.Fatalf("status %+v", st)
	}
}

// TestSeqGapStrict: in strict mode a lost frame ends the session with
// "seq_gap"; the device is reset and can handshake again.
func TestSeqGapStrict(t *testing.T) {
	checkGoroutines(t)
	master, path := openPty(t)
	a, r := newFakeAttacher(), newRecorder()
	m := devices.New(fastConfig(a, r, devices.Device{Name: "meter", Port: path, PingInterval: -1}))
	m.Start()
	defer m.Close()
	d := newFakeDevice(t, master)
	d.connect(transports.CBOR)
	s := a.next(t)
	r.expect(t, "meter", true, devices.ReasonNone)
	d.wmu.Lock()
	d.txSeq = 5 // frames 0..4 "lost"
	d.wmu.Unlock()
	if err := d.sendWAMP([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.waitDone(t); !errors.Is(err, serial.ErrSeqGap) {
		t.Fatalf("session ended with %v", err)
	}
	r.expect(t, "meter", false, devices.ReasonSeqGap)
	d.expect(serial.FrameReset)
	d.handshake(transports.CBOR)
	a.next(t)
	r.expect(t, "meter", true, devices.ReasonNone)
	if st := status(t, m, "meter"); st.SeqGaps != 1 {
		t.Fatalf("status %+v", st)
	}
}

// TestTCPSerialServer: the gateway dials a TCP serial server and speaks the
// same framing over the stream; a dropped connection is redialled.
func TestTCPSerialServer(t *testing.T) {
	checkGoroutines(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accept := func() net.Conn {
		t.Helper()
		if err := ln.(*net.TCPListener).SetDeadline(time.Now().Add(waitTimeout)); err != nil {
			t.Fatal(err)
		}
		c, err := ln.Accept()
		if err != nil {
			t.Fatalf("accept: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a, r := newFakeAttacher(), newRecorder()
	m := devices.New(fastConfig(a, r, devices.Device{
		Name: "esp", TCP: "tcp://" + ln.Addr().String(), Realm: "realm1", AuthID: "esp-link-7", PingInterval: -1,
	}))
	m.Start()
	defer m.Close()

	c1 := accept()
	d1 := newFakeDevice(t, c1.(*net.TCPConn))
	d1.connect(transports.CBOR)
	s1 := a.next(t)
	info := s1.conn.Info()
	if info.Kind != devices.KindSerialTCP || info.AuthID != "esp-link-7" || info.AuthRole != devices.DefaultAuthRole || info.Realm != "realm1" {
		t.Fatalf("Info = %+v", info)
	}
	if info.Remote == nil || info.Remote.String() != ln.Addr().String() {
		t.Fatalf("Info.Remote = %v, want %v", info.Remote, ln.Addr())
	}
	r.expect(t, "esp", true, devices.ReasonNone)
	if err := d1.sendWAMP([]byte("over tcp")); err != nil {
		t.Fatal(err)
	}
	s1.expectMsg(t, "over tcp")
	d1.expectWAMP("echo:over tcp")
	if st := status(t, m, "esp"); st.Path != "tcp://"+ln.Addr().String() || st.Kind != devices.KindSerialTCP {
		t.Fatalf("status %+v", st)
	}

	c1.Close() // the serial server drops the connection
	r.expect(t, "esp", false, devices.ReasonDisconnected)
	c2 := accept()
	d2 := newFakeDevice(t, c2.(*net.TCPConn))
	d2.connect(transports.CBOR)
	s2 := a.next(t)
	r.expect(t, "esp", true, devices.ReasonNone)
	if err := d2.sendWAMP([]byte("redialled")); err != nil {
		t.Fatal(err)
	}
	s2.expectMsg(t, "redialled")
	if st := status(t, m, "esp"); st.Reconnects != 1 || st.Sessions != 2 {
		t.Fatalf("status %+v", st)
	}
}

// TestCloseEndsEverything: Close stops supervisors in every phase (online,
// searching for a USB adapter, redialling a TCP server) and leaves no
// goroutine behind.
func TestCloseEndsEverything(t *testing.T) {
	checkGoroutines(t)
	master, path := openPty(t)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close() // dials are refused from now on
	a, r := newFakeAttacher(), newRecorder()
	lister := &fakeLister{}
	cfg := fastConfig(a, r,
		devices.Device{Name: "a-online", Port: path, PingInterval: -1},
		devices.Device{Name: "b-usb", USB: &devices.USBMatch{VID: 0x2e8a, PID: 0x000a}},
		devices.Device{Name: "c-tcp", TCP: deadAddr},
		devices.Device{Name: "d-missing", Port: "/dev/does-not-exist-wampgate"},
		devices.Device{Name: "e-invalid", Port: path, TCP: deadAddr},
		devices.Device{Name: "e-invalid", Port: "/dev/ttyS0"}, // duplicate: left out
	)
	cfg.Lister = lister
	m := devices.New(cfg)
	m.Start()
	m.Start() // idempotent

	d := newFakeDevice(t, master)
	d.connect(transports.CBOR)
	s := a.next(t)
	r.expect(t, "a-online", true, devices.ReasonNone)
	waitFor(t, "the other devices to fail", func() bool {
		return status(t, m, "b-usb").Reason == devices.ReasonNotFound &&
			status(t, m, "c-tcp").Reason == devices.ReasonDialFailed &&
			status(t, m, "d-missing").Reason == devices.ReasonNotFound
	})
	list := m.List()
	if len(list) != 5 {
		t.Fatalf("List has %d devices, want 5: %+v", len(list), list)
	}
	for i, want := range []string{"a-online", "b-usb", "c-tcp", "d-missing", "e-invalid"} {
		if list[i].Name != want {
			t.Fatalf("List[%d] = %s, want %s", i, list[i].Name, want)
		}
	}
	inv := list[4]
	if inv.State != devices.StateOffline || inv.Reason != devices.ReasonInvalidConfig || !strings.Contains(inv.Error, "exactly one") {
		t.Fatalf("invalid device %+v", inv)
	}
	if !strings.Contains(status(t, m, "b-usb").Error, "2e8a:000a") {
		t.Fatalf("b-usb error %q", status(t, m, "b-usb").Error)
	}

	done := make(chan struct{})
	go func() {
		m.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("Close did not return")
	}
	if err := s.waitDone(t); err == nil {
		t.Fatal("session survived Close")
	}
	r.expect(t, "a-online", false, devices.ReasonShutdown)
	for _, st := range m.List()[:4] {
		if st.State != devices.StateOffline || st.Reason != devices.ReasonShutdown {
			t.Errorf("%s after Close: %v %v", st.Name, st.State, st.Reason)
		}
	}
	if err := m.Add(devices.Device{Name: "late", Port: path}); !errors.Is(err, devices.ErrClosed) {
		t.Fatalf("Add after Close: %v", err)
	}
	m.Close() // idempotent
	if err := m.Run(t.Context()); !errors.Is(err, devices.ErrClosed) {
		t.Fatalf("Run after Close: %v", err)
	}
}

// TestRun: Run starts the manager and returns after its context ends.
func TestRun(t *testing.T) {
	checkGoroutines(t)
	master, path := openPty(t)
	a, r := newFakeAttacher(), newRecorder()
	m := devices.New(fastConfig(a, r, devices.Device{Name: "x", Port: path, PingInterval: -1}))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	d := newFakeDevice(t, master)
	d.connect(transports.CBOR)
	a.next(t)
	r.expect(t, "x", true, devices.ReasonNone)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return")
	}
	r.expect(t, "x", false, devices.ReasonShutdown)
}

// TestAdd: validation, duplicates, and Add while running.
func TestAdd(t *testing.T) {
	checkGoroutines(t)
	master, path := openPty(t)
	a, r := newFakeAttacher(), newRecorder()
	m := devices.New(fastConfig(a, r, devices.Device{Name: "first", Port: "/dev/does-not-exist-wampgate"}))
	defer m.Close()

	invalid := []devices.Device{
		{Port: path},
		{Name: "has space", Port: path},
		{Name: "none"},
		{Name: "two", Port: path, TCP: "127.0.0.1:1"},
		{Name: "usb0", USB: &devices.USBMatch{}},
		{Name: "tcp", TCP: "tcp://nohost"},
		{Name: "tcp2", TCP: "tcp://host:1/x"},
		{Name: "parity", Port: path, Parity: "mark"},
		{Name: "bits", Port: path, DataBits: 9},
		{Name: "stop", Port: path, StopBits: 3},
		{Name: "max", Port: path, MaxMessage: 100},
	}
	for _, d := range invalid {
		if err := m.Add(d); !errors.Is(err, devices.ErrInvalidDevice) {
			t.Errorf("Add(%+v) = %v, want ErrInvalidDevice", d, err)
		}
	}
	if err := m.Add(devices.Device{Name: "first", Port: path}); !errors.Is(err, devices.ErrDuplicate) {
		t.Fatalf("duplicate Add: %v", err)
	}
	if len(m.List()) != 1 {
		t.Fatalf("List after refused Adds: %+v", m.List())
	}
	m.Start()
	name := devices.NameForPath(path)
	if err := m.Add(devices.Device{Name: name, Port: path, Parity: "even", StopBits: 2, PingInterval: -1}); err != nil {
		t.Fatalf("Add: %v", err)
	}
	d := newFakeDevice(t, master)
	d.connect(transports.CBOR)
	s := a.next(t)
	r.expect(t, name, true, devices.ReasonNone)
	if s.conn.Info().AuthID != name {
		t.Fatalf("AuthID %q, want %q", s.conn.Info().AuthID, name)
	}
}

func TestNameForPath(t *testing.T) {
	for in, want := range map[string]string{
		"/dev/ttyUSB0": "ttyUSB0",
		"/dev/pts/7":   "7",
		"/dev/serial0": "serial0",
		"/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A9:x-if00-port0": "usb-FTDI_FT232R_USB_UART_A9_x-if00-port0",
		"tcp://10.0.0.5:4001": "10.0.0.5_4001",
		"/":                   "device",
	} {
		got := devices.NameForPath(in)
		if got != want {
			t.Errorf("NameForPath(%q) = %q, want %q", in, got, want)
		}
		if err := (devices.Device{Name: got, Port: in}).Validate(); err != nil {
			t.Errorf("name %q does not validate: %v", got, err)
		}
	}
}

// TestPingTimeout: a device that stops answering loses its session with
// "ping_timeout" while the port stays open.
func TestPingTimeout(t *testing.T) {
	checkGoroutines(t)
	master, path := openPty(t)
	a, r := newFakeAttacher(), newRecorder()
	m := devices.New(fastConfig(a, r, devices.Device{Name: "mute", Port: path, PingInterval: 20 * time.Millisecond}))
	m.Start()
	defer m.Close()
	d := newFakeDevice(t, master)
	d.connect(transports.CBOR)
	s := a.next(t)
	r.expect(t, "mute", true, devices.ReasonNone)
	// The device says nothing more and reads nothing: PINGs go unanswered.
	if err := s.waitDone(t); !errors.Is(err, transports.ErrPingTimeout) {
		t.Fatalf("session ended with %v", err)
	}
	r.expect(t, "mute", false, devices.ReasonPingTimeout)
	st := status(t, m, "mute")
	if st.PingTimeouts != 1 || st.State != devices.StateConnecting || st.Reconnects != 0 {
		t.Fatalf("status %+v", st)
	}
	// It recovers with a new handshake on the same port.
	d.handshake(transports.CBOR)
	a.next(t)
	r.expect(t, "mute", true, devices.ReasonNone)
}

// TestRefusedSessionsArePaced: when the router closes sessions as soon as
// they start (a refused join), the device, reset each time, would otherwise
// loop as fast as the line allows; the manager hands it the next session
// only after a backoff. The assertion is a lower bound, so it cannot flake
// on a slow machine.
func TestRefusedSessionsArePaced(t *testing.T) {
	checkGoroutines(t)
	master, path := openPty(t)
	type attach struct{ start, end time.Time }
	attaches := make(chan attach, 16)
	refuse := transports.HandlerFunc(func(c transports.Conn) {
		a := attach{start: time.Now()}
		c.Close()
		a.end = time.Now()
		attaches <- a
	})
	r := newRecorder()
	cfg := fastConfig(refuse, r, devices.Device{Name: "refused", Port: path, PingInterval: -1})
	cfg.MinBackoff, cfg.MaxBackoff = 200*time.Millisecond, 400*time.Millisecond
	m := devices.New(cfg)
	m.Start()
	defer m.Close()
	d := newFakeDevice(t, master)
	d.connect(transports.CBOR)
	next := func() attach {
		t.Helper()
		select {
		case a := <-attaches:
			return a
		case <-time.After(waitTimeout):
			t.Fatal("no session attached")
			return attach{}
		}
	}
	first := next()
	r.expect(t, "refused", true, devices.ReasonNone)
	r.expect(t, "refused", false, devices.ReasonClosed)
	d.expect(serial.FrameReset)
	d.handshake(transports.CBOR) // at once, as firmware does after RESET
	second := next()
	if gap := second.start.Sub(first.end); gap < 100*time.Millisecond {
		t.Fatalf("second session attached %v after the first was refused, want >= 100ms", gap)
	}
}

func TestRemoveStopsOneDevice(t *testing.T) {
	checkGoroutines(t)
	m := devices.New(devices.Config{
		Devices:    []devices.Device{{Name: "a", Port: "/nonexistent/ttyA"}, {Name: "b", Port: "/nonexistent/ttyB"}},
		Attacher:   newFakeAttacher(),
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
	})
	m.Start()
	defer m.Close()
	if err := m.Remove("a"); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Get("a"); ok {
		t.Fatal("removed device still listed")
	}
	if _, ok := m.Get("b"); !ok {
		t.Fatal("other device gone")
	}
	if err := m.Remove("a"); !errors.Is(err, devices.ErrNotFound) {
		t.Fatalf("second remove: %v", err)
	}
	if err := m.Add(devices.Device{Name: "a", Port: "/nonexistent/ttyA2"}); err != nil {
		t.Fatalf("re-add after remove: %v", err)
	}
}
