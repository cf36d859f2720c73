package firmwaresim

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/rawsocket"
	"github.com/wampgate/wampgate/transports/serial"
)

func TestE2EDeviceOverPty(t *testing.T) {
	r := newRouter(t)
	cfg := testDevice("pump1")
	d := startDevice(t, cfg)
	if !strings.HasPrefix(d.Path(), "/dev/pts/") {
		t.Fatalf("Path = %q, want a pty slave", d.Path())
	}
	// The gateway prefixes the device's single-component URIs.
	attachPort(t, r, d.Path(), serial.LinkConfig{}, "dev.pump1.")
	if err := d.WaitReady(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	s := caller(t, r)
	ctx := testCtx(t)

	events := make(chan *client.Event, 16)
	if _, err := s.Subscribe(ctx, "dev.pump1.temp", nil, func(e *client.Event) {
		select {
		case events <- e:
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}

	res := callUntil(t, s, "dev.pump1.add", wamp.List{2, 3}, nil)
	if len(res.Args) != 1 || res.Args[0] != int64(5) {
		t.Fatalf("add(2, 3) = %v", res.Args)
	}
	res, err := s.Call(ctx, "dev.pump1.add", wamp.List{1.5, 2, -1}, nil, nil)
	if err != nil || len(res.Args) != 1 || res.Args[0] != 2.5 {
		t.Fatalf("add(1.5, 2, -1) = %v, %v", res, err)
	}
	var werr *client.Error
	if _, err := s.Call(ctx, "dev.pump1.add", wamp.List{1, "x"}, nil, nil); !errors.As(err, &werr) || werr.URI != wamp.ErrInvalidArgument {
		t.Fatalf("add(1, x): %v, want %s", err, wamp.ErrInvalidArgument)
	}
	res, err = s.Call(ctx, "dev.pump1.echo", wamp.List{"hi", int64(7)}, wamp.Dict{"k": "v"}, nil)
	if err != nil || len(res.Args) != 2 || res.Args[0] != "hi" || res.Args[1] != int64(7) || res.Kwargs["k"] != "v" {
		t.Fatalf("echo = %+v, %v", res, err)
	}
	if _, err := s.Call(ctx, "dev.pump1.set", nil, wamp.Dict{"on": true, "speed": int64(3)}, nil); err != nil {
		t.Fatal(err)
	}
	res, err = s.Call(ctx, "dev.pump1.get", nil, nil, nil)
	if err != nil || res.Kwargs["on"] != true || res.Kwargs["speed"] != int64(3) {
		t.Fatalf("get = %+v, %v", res, err)
	}
	if _, err := s.Call(ctx, "dev.pump1.set", wamp.List{int64(42)}, nil, nil); err != nil {
		t.Fatal(err)
	}
	res, err = s.Call(ctx, "dev.pump1.get", nil, nil, nil)
	if err != nil || len(res.Args) != 1 || res.Args[0] != int64(42) || d.State() != int64(42) {
		t.Fatalf("get after set(42) = %+v, %v (state %v)", res, err, d.State())
	}
	start := time.Now()
	res, err = s.Call(ctx, "dev.pump1.slow", wamp.List{"x"}, nil, nil)
	if err != nil || len(res.Args) != 1 || res.Args[0] != "x" {
		t.Fatalf("slow = %+v, %v", res, err)
	}
	if el := time.Since(start); el < 100*time.Millisecond {
		t.Fatalf("slow answered after %v, before its latency", el)
	}

	var last int64
	for range 3 {
		select {
		case e := <-events:
			if len(e.Args) != 1 {
				t.Fatalf("event args %v", e.Args)
			}
			v, ok := e.Args[0].(float64)
			if !ok || v < 19 || v > 21 {
				t.Fatalf("reading %v (%T) out of 20±1", e.Args[0], e.Args[0])
			}
			n, _ := wamp.AsInt(e.Kwargs["n"])
			if n <= last {
				t.Fatalf("event n %d after %d", n, last)
			}
			last = n
		case <-ctx.Done():
			t.Fatal("no events")
		}
	}
	st := d.Stats()
	if !st.Ready || st.Sessions != 1 || st.Registrations != 1 || st.Calls < 8 || st.Events < 3 {
		t.Fatalf("stats %+v", st)
	}
	if st.Link.FramesOut == 0 || st.Link.FramesIn == 0 {
		t.Fatalf("link stats %+v", st.Link)
	}
}

// A cancelled call interrupts the slow procedure at once.
func TestE2ESlowInterrupted(t *testing.T) {
	r := newRouter(t)
	cfg := testDevice("s1")
	cfg.Procedures = []Procedure{{Name: "slow", Kind: KindSlow, Latency: time.Hour}}
	d := startDevice(t, cfg)
	attachPort(t, r, d.Path(), serial.LinkConfig{}, "")
	if err := d.WaitReady(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	s := caller(t, r)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := s.Call(ctx, "slow", nil, nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow call: %v, want deadline exceeded", err)
	}
	// The device closes cleanly: the handler did not keep waiting an hour.
	closed := make(chan struct{})
	go func() {
		d.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(testTimeout):
		t.Fatal("device Close blocked by a slow handler")
	}
}

func TestE2ERebootFaultReregisters(t *testing.T) {
	r := newRouter(t)
	cfg := testDevice("r1")
	// Long enough between reboots for a join and five registrations even
	// on a loaded machine.
	cfg.Faults.RebootEvery = 500 * time.Millisecond
	d := startDevice(t, cfg)
	g := attachPort(t, r, d.Path(), serial.LinkConfig{}, "")
	waitFor(t, "a registration after a reboot", func() bool {
		st := d.Stats()
		return st.Registrations >= 2 && st.Reboots >= 1
	})
	st := d.Stats()
	if st.Link.Faults.CutFrames < st.Reboots {
		t.Fatalf("CutFrames %d, want a cut frame per reboot", st.Link.Faults.CutFrames)
	}
	if g.link.Stats().DeviceResets == 0 {
		t.Fatal("the gateway saw no device reset")
	}
	s := caller(t, r)
	res := callUntil(t, s, "add", wamp.List{40, 2}, nil)
	if res.Args[0] != int64(42) {
		t.Fatalf("add = %v", res.Args)
	}
}

// RESET from the gateway makes the device handshake again at once and
// join anew. Retries are an hour apart, so every HANDSHAKE here answers a
// RESET.
func TestE2EGatewayResetRehandshakes(t *testing.T) {
	cfg := testDevice("x1")
	cfg.HandshakeRetry = noRetry
	d := startDevice(t, cfg)
	gw := newRawGateway(t, openPort(t, d.Path()), 4096)
	t.Cleanup(func() { gw.p.Close() })
	gw.send(serial.FrameReset, 0, nil) // as a gateway does when it opens a port
	reply := serial.NewHandshake(4096, transports.CBOR)
	for round := range 3 {
		var f serial.Frame
		for {
			var ok bool
			if f, ok = gw.next(testTimeout); !ok {
				t.Fatalf("round %d: device silent", round)
			}
			if f.Type != serial.FrameHandshake {
				break
			}
			// The boot HANDSHAKE may come as well in round 0; the
			// device takes the first reply and ignores the others.
			gw.send(serial.FrameHandshake, 0, reply[:])
		}
		if f.Type != serial.FrameWAMP || f.Seq != 0 || len(f.Payload) < 2 || f.Payload[1] != byte(wamp.TypeHello) { // CBOR [1, ...]
			t.Fatalf("round %d: %v seq %d % x, want HELLO with seq 0", round, f.Type, f.Seq, f.Payload)
		}
		gw.send(serial.FrameReset, 0, nil)
	}
	waitFor(t, "the last RESET", func() bool { return d.Stats().Link.ResetsReceived >= 4 })
	if st := d.Stats(); st.Link.Sessions < 3 || st.JoinFailures < 2 {
		t.Fatalf("stats %+v", st)
	}
}

// A gateway restart: the port closes (the device does not notice), then a
// new link opens it and sends RESET; the device joins again.
func TestE2EGatewayRestart(t *testing.T) {
	r := newRouter(t)
	d := startDevice(t, testDevice("g1"))
	g := attachPort(t, r, d.Path(), serial.LinkConfig{}, "")
	if err := d.WaitReady(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	g.close()
	attachPort(t, r, d.Path(), serial.LinkConfig{}, "")
	waitFor(t, "a second registration", func() bool { return d.Stats().Registrations >= 2 })
	res := callUntil(t, caller(t, r), "echo", wamp.List{"back"}, nil)
	if res.Args[0] != "back" {
		t.Fatalf("echo = %v", res.Args)
	}
}

func TestE2EUnplugReplug(t *testing.T) {
	r := newRouter(t)
	paths := make(chan string, 4)
	cfg := testDevice("u1")
	cfg.Faults.UnplugFor = 50 * time.Millisecond
	cfg.OnReplug = func(_ *Device, path string) { paths <- path }
	d := startDevice(t, cfg)
	first := d.Path()
	g := attachPort(t, r, first, serial.LinkConfig{}, "")
	if err := d.WaitReady(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := d.Inject(FaultUnplug); err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.link.Done():
		if !errors.Is(g.link.Err(), io.EOF) {
			t.Fatalf("gateway link ended with %v, want EOF (hang-up)", g.link.Err())
		}
	case <-time.After(testTimeout):
		t.Fatal("the gateway's port did not hang up")
	}
	var path string
	select {
	case path = <-paths:
	case <-time.After(testTimeout):
		t.Fatal("no replug")
	}
	if path == "" || d.Path() != path {
		t.Fatalf("replug path %q, Path() %q", path, d.Path())
	}
	g.close() // the gateway closes the dead port
	attachPort(t, r, path, serial.LinkConfig{}, "")
	res := callUntil(t, caller(t, r), "add", wamp.List{1, 1}, nil)
	if res.Args[0] != int64(2) {
		t.Fatalf("add = %v", res.Args)
	}
	equal(t, "Unplugs", d.Stats().Unplugs, 1)
}

func TestE2EMisbehaviour(t *testing.T) {
	r := newRouter(t)
	d := startDevice(t, testDevice("m1"))
	g := attachPort(t, r, d.Path(), serial.LinkConfig{MaxMessageSize: 1024}, "")
	if err := d.WaitReady(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	// A malformed message: the router ends the session, the gateway sends
	// RESET, the device joins again.
	if err := d.Inject(FaultMalformed); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a new session after the malformed message", func() bool { return d.Stats().Registrations >= 2 })
	// An oversize frame: the gateway drops it, and the next frame shows a
	// seq gap.
	if err := d.Inject(FaultOversize); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a new session after the oversize frame", func() bool { return d.Stats().Registrations >= 3 })
	gs := g.link.Stats()
	if gs.Dropped[serial.DropOversize] != 1 || gs.SeqGaps == 0 {
		t.Fatalf("gateway stats %+v", gs)
	}
}

func TestE2EMutedPings(t *testing.T) {
	r := newRouter(t)
	cfg := testDevice("p1")
	cfg.Publishers = []Publisher{} // silence, so the gateway pings
	cfg.Faults.MutePings = true
	d := startDevice(t, cfg)
	g := attachPort(t, r, d.Path(), serial.LinkConfig{PingInterval: 30 * time.Millisecond}, "")
	waitFor(t, "a ping timeout", func() bool { return g.link.Stats().PingTimeouts >= 1 })
	if d.Stats().Link.PingsIgnored < serial.MaxUnansweredPings {
		t.Fatalf("PingsIgnored %d", d.Stats().Link.PingsIgnored)
	}
	equal(t, "PingsAnswered", d.Stats().Link.PingsAnswered, 0)
}

func TestE2ETCPSerial(t *testing.T) {
	r := newRouter(t)
	cfg := testDevice("t1")
	cfg.Mode = ModeTCPSerial
	cfg.Baud = -1
	cfg.Faults.UnplugFor = 100 * time.Millisecond
	d := startDevice(t, cfg)
	addr, ok := strings.CutPrefix(d.Path(), "tcp://")
	if !ok {
		t.Fatalf("Path = %q", d.Path())
	}
	dial := func() *testGateway {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		return attach(t, r, nc, serial.LinkConfig{}, "dev.t1.")
	}
	g := dial()
	if err := d.WaitReady(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	s := caller(t, r)
	callUntil(t, s, "dev.t1.add", wamp.List{1, 2}, nil)
	// The gateway reconnects: the device serves the new connection.
	g.close()
	g = dial()
	waitFor(t, "a second registration", func() bool { return d.Stats().Registrations >= 2 })
	callUntil(t, s, "dev.t1.add", wamp.List{1, 2}, nil)

	// Unplugged, the server drops the connection and refuses new ones for
	// a while; a gateway that keeps redialling gets it back.
	if err := d.Inject(FaultUnplug); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a third registration", func() bool {
		select {
		case <-g.link.Done():
			g.close()
			g = dial()
		default:
		}
		return d.Stats().Registrations >= 3
	})
	callUntil(t, s, "dev.t1.add", wamp.List{1, 2}, nil)
	equal(t, "Unplugs", d.Stats().Unplugs, 1)
}

func TestE2ERawSocket(t *testing.T) {
	r := newRouter(t)
	srv := &rawsocket.Server{Handler: r}
	tcpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unixLn, err := rawsocket.ListenUnix(filepath.Join(t.TempDir(), "r.sock"))
	if err != nil {
		t.Fatal(err)
	}
	serveDone := make(chan struct{}, 2)
	for _, ln := range []net.Listener{tcpLn, unixLn} {
		go func() {
			srv.Serve(ln)
			serveDone <- struct{}{}
		}()
	}
	t.Cleanup(func() {
		srv.Close()
		<-serveDone
		<-serveDone
	})
	for _, url := range []string{"tcp://" + tcpLn.Addr().String(), "unix://" + unixLn.Addr().String()} {
		t.Run(strings.SplitN(url, ":", 2)[0], func(t *testing.T) {
			cfg := testDevice("rs")
			cfg.Mode = ModeRawSocket
			cfg.URL = url
			cfg.URIPrefix = "dev.rs."
			d := startDevice(t, cfg)
			equal(t, "Path", d.Path(), url)
			s := caller(t, r)
			res := callUntil(t, s, "dev.rs.add", wamp.List{20, 22}, nil)
			if res.Args[0] != int64(42) {
				t.Fatalf("add = %v", res.Args)
			}
			if err := d.WaitReady(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			if err := d.Inject(FaultReboot); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "a reconnect", func() bool { return d.Stats().Registrations >= 2 })
			equal(t, "Reboots", d.Stats().Reboots, 1)
			if err := d.Inject(FaultGarbage); !errors.Is(err, ErrNotSupported) {
				t.Fatalf("garbage in rawsocket mode: %v, want ErrNotSupported", err)
			}
			d.Close()
		})
	}
}

func TestDeviceConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  DeviceConfig
	}{
		{"mode", DeviceConfig{Mode: "usb"}},
		{"serializer", DeviceConfig{Serializer: 9}},
		{"rawsocket without url", DeviceConfig{Mode: ModeRawSocket}},
		{"rawsocket ws url", DeviceConfig{Mode: ModeRawSocket, URL: "ws://h/ws"}},
		{"rate", DeviceConfig{Faults: FaultConfig{TX: LineFaults{BitErrorRate: 2}}}},
		{"wrong serializer", DeviceConfig{Faults: FaultConfig{WrongSerializer: 16}}},
		{"procedure kind", DeviceConfig{Procedures: []Procedure{{Name: "x", Kind: "fly"}}}},
		{"duplicate procedure", DeviceConfig{Procedures: []Procedure{{Name: "add"}, {Name: "add"}}}},
		{"publisher", DeviceConfig{Publishers: []Publisher{{Topic: ""}}}},
		{"retry", DeviceConfig{HandshakeRetry: []time.Duration{0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := StartDevice(tt.cfg)
			if err == nil {
				d.Close()
				t.Fatal("StartDevice accepted the config")
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("error %v does not wrap ErrInvalidConfig", err)
			}
		})
	}
}

func TestAdd(t *testing.T) {
	tests := []struct {
		args wamp.List
		want any
	}{
		{nil, int64(0)},
		{wamp.List{int64(1), int64(2)}, int64(3)},
		{wamp.List{int64(1), 0.5}, 1.5},
		{wamp.List{0.5, int64(1)}, 1.5},
		{wamp.List{int64(9223372036854775807), int64(1)}, 9223372036854775808.0},
		{wamp.List{uint64(1 << 63)}, 9223372036854775808.0},
	}
	for _, tt := range tests {
		res, err := add(tt.args)
		if err != nil || len(res.Args) != 1 || res.Args[0] != tt.want {
			t.Errorf("add(%v) = %v, %v; want %v", tt.args, res, err, tt.want)
		}
	}
	if _, err := add(wamp.List{true}); err == nil {
		t.Error("add(true) succeeded")
	}
}

// transports.Conn is what client.Join needs; check the device session
// works with a Join done by hand too (not only through Device).
func TestLinkConnJoins(t *testing.T) {
	r := newRouter(t)
	m, p := ptyPair(t)
	attach(t, r, p, serial.LinkConfig{}, "")
	l := newLink(t, m, LinkConfig{Baud: -1, MaxMessage: routerMaxMessage, HandshakeRetry: fastRetry})
	c := acceptConn(t, l)
	var closed atomic.Bool
	s, err := client.Join(testCtx(t), c, "realm1", client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		s.Close()
		<-s.Done()
		closed.Store(true)
	}()
	if _, err := s.Register(testCtx(t), "hand", nil, func(context.Context, *client.Invocation) (*client.Result, error) {
		return &client.Result{Args: wamp.List{"made"}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	res := callUntil(t, caller(t, r), "hand", nil, nil)
	if res.Args[0] != "made" {
		t.Fatalf("hand = %v", res.Args)
	}
	equal(t, "serializer", c.Serializer(), transports.CBOR)
}
