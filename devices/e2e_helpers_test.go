//go:build linux

// The end-to-end tests run simulated devices (package firmware-sim) on
// pseudo-terminals, which serialtest only opens on Linux.

package devices_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wampgate/wampgate/devices"
	"github.com/wampgate/wampgate/devices/discovery"
	firmwaresim "github.com/wampgate/wampgate/firmware-sim"
	"github.com/wampgate/wampgate/gateway"
	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/rawsocket"
	"github.com/wampgate/wampgate/transports/serial"
	"github.com/wampgate/wampgate/transports/websocket"
)

const (
	// e2eWait bounds every wait of the end-to-end tests. Under the race
	// detector on a 2-core machine a device join with five registrations
	// can take a second; nothing should come close to this.
	e2eWait = 15 * time.Second
	// e2eRealm is the realm the router serves and the devices join.
	e2eRealm = "realm1"
	// e2eLogEnv, when set, sends the router's, the manager's and the
	// simulators' records to stderr at debug level.
	e2eLogEnv = "WAMPGATE_E2E_LOG"
)

// e2eLogger returns the logger of the components under test: nil (discard)
// unless e2eLogEnv is set.
func e2eLogger() *slog.Logger {
	if os.Getenv(e2eLogEnv) == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				a.Value = slog.StringValue(a.Value.Time().Format("15:04:05.000000"))
			}
			return a
		},
	}))
}

// e2eEventually polls cond every few milliseconds until it holds, failing
// the test after e2eWait. The polling interval is not synchronisation: cond
// carries the condition.
func e2eEventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(e2eWait)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", e2eWait, what)
		}
		<-tick.C
	}
}

// e2eLeakCheck records the goroutine count now and registers a cleanup,
// run after every cleanup registered later, that waits until the count is
// back at or below it. Call it first in a test.
func e2eLeakCheck(tb testing.TB) {
	tb.Helper()
	base := runtime.NumGoroutine()
	tb.Cleanup(func() {
		deadline := time.Now().Add(e2eWait)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				tb.Errorf("goroutine leak: %d running, %d before the test\n%s",
					runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
				return
			}
			<-tick.C
		}
	})
}

// e2eFleet starts a firmware-sim fleet on ptys, closed at cleanup. Tests
// that cannot open a pty here are skipped.
func e2eFleet(tb testing.TB, cfg firmwaresim.FleetConfig) *firmwaresim.Fleet {
	tb.Helper()
	if cfg.Template.Logger == nil {
		cfg.Template.Logger = e2eLogger()
	}
	f, err := firmwaresim.StartFleet(cfg)
	if err != nil {
		if strings.Contains(err.Error(), "ptmx") {
			tb.Skipf("no pseudo-terminals here: %v", err)
		}
		tb.Fatalf("start fleet: %v", err)
	}
	tb.Cleanup(func() { f.Close() })
	// Let every device send its boot HANDSHAKE before a gateway opens its
	// pty. The gateway flushes stale input when it opens a port and sends
	// RESET, so the device then handshakes exactly once. A device booting
	// while the port is being opened races with that: both its boot
	// HANDSHAKE and the one answering RESET get a reply, and the gateway
	// counts a device reset and a session that ends at once. That is the
	// protocol working as specified, but it would blur the counters the
	// tests check.
	// The whole frame must be out: at 9600 baud the simulator writes it
	// in two paced pieces, and a gateway opening the pty in between would
	// flush the first and count the rest as a damaged frame.
	for _, d := range f.Devices() {
		c := d.Config()
		hs := serial.NewHandshake(c.MaxMessage, c.Serializer)
		boot := uint64(len(serial.AppendFrame(nil, serial.FrameHandshake, 0, hs[:], true)))
		e2eEventually(tb, d.Name()+" to send its boot HANDSHAKE", func() bool {
			return d.Stats().Link.BytesOut >= boot
		})
	}
	return f
}

// e2eDevice is the manager's view of simulated device d, wired as `wampgate
// serve --simulate` does: its pty, the realm, and the prefix "dev.<name>.".
func e2eDevice(d *firmwaresim.Device) devices.Device {
	dev := devices.Device{
		Name:   d.Name(),
		Port:   d.Path(),
		Realm:  e2eRealm,
		Prefix: "dev." + d.Name() + ".",
	}
	if b := d.Config().Baud; b > 0 {
		dev.Baud = b
	}
	return dev
}

// e2eDevices maps every device of a fleet with e2eDevice.
func e2eDevices(f *firmwaresim.Fleet) []devices.Device {
	var out []devices.Device
	for _, d := range f.Devices() {
		out = append(out, e2eDevice(d))
	}
	return out
}

// e2eGateway is a router served on real loopback listeners (RawSocket over
// TCP, WebSocket through httptest) with a device manager attached to it.
type e2eGateway struct {
	tb        testing.TB
	router    *gateway.Router
	mgr       *devices.Manager
	rs        *rawsocket.Server
	ws        *websocket.Server
	hs        *httptest.Server
	serveDone chan struct{}
	tcpURL    string // tcp://127.0.0.1:port
	wsURL     string // ws://127.0.0.1:port/ws

	mu     sync.Mutex
	events []devices.Event // OnChange, in order

	stopOnce sync.Once
}

// e2eGatewayConfig are the knobs of startE2EGateway.
type e2eGatewayConfig struct {
	Devices []devices.Device
	// Lister answers USB matches; nil lists no port at all (ptys are never
	// found by a real enumeration anyway).
	Lister discovery.Lister
}

// startE2EGateway starts the router, its listeners and the manager; stop
// runs at cleanup unless the test stopped the gateway itself.
func startE2EGateway(tb testing.TB, cfg e2eGatewayConfig) *e2eGateway {
	tb.Helper()
	lg := e2eLogger()
	router, err := gateway.New(gateway.Config{
		Realms:         []gateway.RealmConfig{{Name: e2eRealm}},
		GoodbyeTimeout: time.Second,
		Logger:         lg,
	})
	if err != nil {
		tb.Fatalf("gateway.New: %v", err)
	}
	topts := transports.Options{MaxMessageSize: 1 << 20, WriteTimeout: 5 * time.Second}
	g := &e2eGateway{
		tb:        tb,
		router:    router,
		rs:        &rawsocket.Server{Handler: router, Options: topts, Logger: lg},
		ws:        &websocket.Server{Handler: router, Options: topts, Logger: lg},
		serveDone: make(chan struct{}),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	g.tcpURL = "tcp://" + ln.Addr().String()
	go func() {
		defer close(g.serveDone)
		_ = g.rs.Serve(ln) // ends with ErrServerClosed at stop
	}()
	g.hs = httptest.NewServer(g.ws)
	g.wsURL = "ws" + strings.TrimPrefix(g.hs.URL, "http") + "/ws"
	lister := cfg.Lister
	if lister == nil {
		lister = discovery.ListerFunc(func() ([]discovery.PortInfo, error) { return nil, nil })
	}
	g.mgr = devices.New(devices.Config{
		Devices:    cfg.Devices,
		Attacher:   router,
		Lister:     lister,
		Logger:     lg,
		MinBackoff: 10 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond,
		OnChange:   g.onChange,
	})
	g.mgr.Start()
	tb.Cleanup(g.stop)
	return g
}

func (g *e2eGateway) onChange(e devices.Event) {
	g.mu.Lock()
	g.events = append(g.events, e)
	g.mu.Unlock()
}

// stop shuts the gateway down in the order `wampgate serve` does: no new
// connections, GOODBYE to every session, then the devices (they get RESET
// and their ports are closed), then the transport servers' goroutines.
// The simulated devices keep running.
func (g *e2eGateway) stop() {
	g.stopOnce.Do(func() {
		_ = g.rs.Close()
		_ = g.ws.Close()
		ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
		defer cancel()
		if err := g.router.Shutdown(ctx); err != nil {
			g.tb.Errorf("router shutdown: %v", err)
		}
		if err := g.mgr.Close(); err != nil {
			g.tb.Errorf("manager close: %v", err)
		}
		g.rs.Wait()
		<-g.serveDone
		g.ws.Wait()
		g.hs.Close()
	})
}

// status returns the manager's status of the named device.
func (g *e2eGateway) status(name string) devices.Status {
	g.tb.Helper()
	st, ok := g.mgr.Get(name)
	if !ok {
		g.tb.Fatalf("the manager does not know device %q", name)
	}
	return st
}

// eventsOf returns the OnChange events of the named device so far.
func (g *e2eGateway) eventsOf(name string) []devices.Event {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []devices.Event
	for _, e := range g.events {
		if e.Device == name {
			out = append(out, e)
		}
	}
	return out
}

// waitEvent waits for an OnChange event of the named device, after the
// first skip of its events, that matches online and reason, and returns it.
func (g *e2eGateway) waitEvent(name string, skip int, online bool, reason devices.Reason) devices.Event {
	g.tb.Helper()
	var found devices.Event
	e2eEventually(g.tb, fmt.Sprintf("device %s to go online=%v (reason %v)", name, online, reason), func() bool {
		evs := g.eventsOf(name)
		for _, e := range evs[min(skip, len(evs)):] {
			if e.Online == online && e.Reason == reason {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

// connect opens a client session on url, closed at cleanup.
func (g *e2eGateway) connect(url string, ser transports.Serializer) *client.Session {
	g.tb.Helper()
	return e2eConnect(g.tb, url, ser)
}

func e2eConnect(tb testing.TB, url string, ser transports.Serializer) *client.Session {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	s, err := client.Connect(ctx, url, e2eRealm, client.Options{Serializer: ser, Logger: e2eLogger()})
	if err != nil {
		tb.Fatalf("connect %s: %v", url, err)
	}
	tb.Cleanup(func() {
		_ = s.Close()
		<-s.Done()
	})
	return s
}

// waitReady waits until every device is registered on its gateway session
// (firmware side) and online (manager side).
func (g *e2eGateway) waitReady(fleet *firmwaresim.Fleet) {
	g.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	if err := fleet.WaitReady(ctx); err != nil {
		g.tb.Fatalf("devices not ready: %v", err)
	}
	for _, d := range fleet.Devices() {
		if st := g.status(d.Name()); st.State != devices.StateOnline {
			g.tb.Fatalf("device %s is registered but the manager says %v", d.Name(), st.State)
		}
	}
}

// e2eWaitRegistrations waits until device d has completed n registrations
// (joins with every procedure registered) in total.
func e2eWaitRegistrations(tb testing.TB, d *firmwaresim.Device, n uint64) {
	tb.Helper()
	e2eEventually(tb, fmt.Sprintf("device %s to register for the %d. time", d.Name(), n), func() bool {
		st := d.Stats()
		return st.Registrations >= n && st.Ready
	})
}

// e2eCall calls procedure with a deadline.
func e2eCall(s *client.Session, procedure string, args wamp.List, kwargs wamp.Dict) (*client.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	return s.Call(ctx, procedure, args, kwargs, nil)
}

// e2eMustCall calls procedure and fails the test on an error.
func e2eMustCall(tb testing.TB, s *client.Session, procedure string, args wamp.List, kwargs wamp.Dict) *client.Result {
	tb.Helper()
	res, err := e2eCall(s, procedure, args, kwargs)
	if err != nil {
		tb.Fatalf("call %s%v: %v", procedure, args, err)
	}
	return res
}

// e2eWantInt checks that res carries exactly one integer argument, want.
func e2eWantInt(tb testing.TB, what string, res *client.Result, want int64) {
	tb.Helper()
	if err := e2eCheckInt(res, want); err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

func e2eCheckInt(res *client.Result, want int64) error {
	if len(res.Args) != 1 || len(res.Kwargs) != 0 {
		return fmt.Errorf("result %v %v, want [%d]", res.Args, res.Kwargs, want)
	}
	got, ok := wamp.AsInt(res.Args[0])
	if !ok || got != want {
		return fmt.Errorf("result %#v, want %d", res.Args[0], want)
	}
	return nil
}

// e2eCollector gathers the events of one subscription, checking each.
type e2eCollector struct {
	topic string
	check func(*client.Event) error

	mu  sync.Mutex
	n   int
	bad []string
}

func (c *e2eCollector) handle(e *client.Event) {
	err := c.check(e)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if err != nil && len(c.bad) < 20 {
		c.bad = append(c.bad, fmt.Sprintf("%s: %v (args %#v kwargs %#v)", c.topic, err, e.Args, e.Kwargs))
	}
}

func (c *e2eCollector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func (c *e2eCollector) corrupted() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.bad...)
}

// e2eSubscribe subscribes a collector to topic on s.
func e2eSubscribe(tb testing.TB, s *client.Session, topic string, check func(*client.Event) error) *e2eCollector {
	tb.Helper()
	c := &e2eCollector{topic: topic, check: check}
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	if _, err := s.Subscribe(ctx, topic, nil, c.handle); err != nil {
		tb.Fatalf("subscribe %s: %v", topic, err)
	}
	return c
}

// e2eReadingCheck returns the check of the events of a firmware-sim publisher:
// exactly one number within Base ± Spread with at most two decimals, and
// the keyword argument n, an integer counting from 1.
func e2eReadingCheck(p firmwaresim.Publisher) func(*client.Event) error {
	return func(e *client.Event) error {
		if len(e.Args) != 1 {
			return fmt.Errorf("%d arguments, want 1", len(e.Args))
		}
		var v float64
		switch x := e.Args[0].(type) {
		case float64:
			v = x
		case int64: // a whole reading may travel as an integer in JSON
			v = float64(x)
		default:
			return fmt.Errorf("reading of type %T", e.Args[0])
		}
		const eps = 1e-9
		if v < p.Base-p.Spread-eps || v > p.Base+p.Spread+eps {
			return fmt.Errorf("reading %v outside %v±%v", v, p.Base, p.Spread)
		}
		if c := v * 100; math.Abs(c-math.Round(c)) > 1e-6 {
			return fmt.Errorf("reading %v has more than two decimals", v)
		}
		if len(e.Kwargs) != 1 {
			return fmt.Errorf("keyword arguments %v, want only n", e.Kwargs)
		}
		n, ok := wamp.AsInt(e.Kwargs["n"])
		if !ok || n < 1 {
			return fmt.Errorf("n = %#v, want an integer >= 1", e.Kwargs["n"])
		}
		return nil
	}
}

// e2eWAMPError reports whether err is an ERROR from the router or callee,
// and its URI.
func e2eWAMPError(err error) (string, bool) {
	var we *client.Error
	if errors.As(err, &we) {
		return we.URI, true
	}
	return "", false
}
