package firmwaresim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway"
	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/inproc"
	"github.com/wampgate/wampgate/transports/serial"
	"github.com/wampgate/wampgate/transports/serial/serialtest"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 10 * time.Second

// dbgLog receives the test devices' logs when FWSIM_DEBUG is set.
var dbgLog = func() *slog.Logger {
	if os.Getenv("FWSIM_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}()

// fastRetry is a handshake retry schedule short enough for tests.
var fastRetry = []time.Duration{30 * time.Millisecond, 60 * time.Millisecond, 120 * time.Millisecond}

// routerMaxMessage is the receive limit test devices announce. The router's
// WELCOME is about 600 bytes of CBOR, over the 512-byte default.
const routerMaxMessage = 1024

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// testDevice is a device configuration tuned for tests: fast retries, a
// receive limit the router's WELCOME fits in, quick procedures, one fast
// publisher.
func testDevice(name string) DeviceConfig {
	return DeviceConfig{
		Name:           name,
		MaxMessage:     routerMaxMessage,
		HandshakeRetry: fastRetry,
		JoinTimeout:    3 * time.Second,
		Procedures:     DefaultProcedures(100 * time.Millisecond),
		Publishers:     []Publisher{{Topic: "temp", Interval: 20 * time.Millisecond, Base: 20, Spread: 1}},
		Seed:           1,
		Logger:         dbgLog,
	}
}

// needPty skips tests that need ptys where there are none.
func needPty(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("ptys need Linux")
	}
}

func startDevice(t *testing.T, cfg DeviceConfig) *Device {
	t.Helper()
	if cfg.Mode == "" || cfg.Mode == ModePty {
		needPty(t)
	}
	d, err := StartDevice(cfg)
	if err != nil {
		t.Fatalf("StartDevice: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func newRouter(t *testing.T) *gateway.Router {
	t.Helper()
	r, err := gateway.New(gateway.Config{Realms: []gateway.RealmConfig{{Name: "realm1"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		r.Shutdown(ctx)
	})
	return r
}

// prefixConn gives a device session the URI prefix a configured device
// port has, so the router rewrites its single-component URIs.
type prefixConn struct {
	transports.Conn
	prefix string
}

func (c prefixConn) Info() transports.Info {
	i := c.Conn.Info()
	i.URIPrefix = c.prefix
	return i
}

// testGateway is the gateway side of one serial line: a serial.Link whose
// sessions a router serves.
type testGateway struct {
	link *serial.Link
	wg   sync.WaitGroup
	once sync.Once
}

// attach runs a gateway Link on rw and serves its sessions with r, each
// with URI prefix prefix. It is closed at cleanup, or earlier by close.
func attach(t *testing.T, r *gateway.Router, rw io.ReadWriteCloser, cfg serial.LinkConfig, prefix string) *testGateway {
	t.Helper()
	g := &testGateway{link: serial.NewLink(rw, cfg)}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		for {
			c, err := g.link.Accept(context.Background())
			if err != nil {
				return
			}
			g.wg.Add(1)
			go func() {
				defer g.wg.Done()
				r.ServeConn(prefixConn{c, prefix})
			}()
		}
	}()
	t.Cleanup(g.close)
	return g
}

func (g *testGateway) close() {
	g.once.Do(func() {
		g.link.Close()
		g.wg.Wait()
	})
}

// openPort opens a pty slave as the gateway does.
func openPort(t *testing.T, path string) *serial.Port {
	t.Helper()
	p, err := serial.Open(path, serial.PortConfig{})
	if err != nil {
		t.Fatalf("serial.Open(%s): %v", path, err)
	}
	return p
}

// attachPort opens path and attaches a gateway to it.
func attachPort(t *testing.T, r *gateway.Router, path string, cfg serial.LinkConfig, prefix string) *testGateway {
	t.Helper()
	return attach(t, r, openPort(t, path), cfg, prefix)
}

// caller joins r over an in-process pipe.
func caller(t *testing.T, r *gateway.Router) *client.Session {
	t.Helper()
	a, b := inproc.Pipe(transports.CBOR)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.ServeConn(a)
	}()
	s, err := client.Join(testCtx(t), b, "realm1", client.Options{})
	if err != nil {
		a.Close()
		wg.Wait()
		t.Fatalf("caller join: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		<-s.Done()
		wg.Wait()
	})
	return s
}

// callUntil calls procedure until it succeeds (the device may be between
// sessions) and returns the result.
func callUntil(t *testing.T, s *client.Session, procedure string, args []any, kwargs map[string]any) *client.Result {
	t.Helper()
	var res *client.Result
	var last error
	waitFor(t, "a successful call to "+procedure, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		res, last = s.Call(ctx, procedure, args, kwargs, nil)
		return last == nil
	})
	return res
}

// ptyPair opens a pty and the gateway's end of it (opened before the
// device starts writing, since opening flushes pending input).
func ptyPair(t *testing.T) (*os.File, *serial.Port) {
	t.Helper()
	needPty(t)
	m, path, err := serialtest.OpenPty()
	if err != nil {
		t.Fatal(err)
	}
	p := openPort(t, path)
	t.Cleanup(func() { p.Close(); m.Close() })
	return m, p
}

// rawGateway speaks the framing by hand on the gateway's end, for tests
// of the link rules.
type rawGateway struct {
	t   *testing.T
	p   *serial.Port
	dec *serial.Decoder
	buf []byte
	in  []byte // read but not yet decoded
}

func newRawGateway(t *testing.T, p *serial.Port, maxPayload int) *rawGateway {
	return &rawGateway{t: t, p: p, dec: serial.NewDecoder(maxPayload), buf: make([]byte, 2048)}
}

func (g *rawGateway) send(typ serial.FrameType, seq uint8, payload []byte) {
	g.t.Helper()
	if _, err := g.p.Write(serial.AppendFrame(nil, typ, seq, payload, true)); err != nil {
		g.t.Fatalf("gateway write: %v", err)
	}
}

// next returns the next frame, or ok false if none comes within d.
func (g *rawGateway) next(d time.Duration) (serial.Frame, bool) {
	g.t.Helper()
	deadline := time.Now().Add(d)
	for {
		for len(g.in) > 0 {
			k, f, ok := g.dec.Feed(g.in)
			g.in = g.in[k:]
			if ok {
				f.Payload = bytes.Clone(f.Payload)
				return f, true
			}
		}
		g.p.SetReadDeadline(deadline)
		n, err := g.p.Read(g.buf)
		g.in = g.buf[:n]
		if err != nil && n == 0 {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return serial.Frame{}, false
			}
			g.t.Fatalf("gateway read: %v", err)
		}
	}
}

// expect returns the next frame of type typ, skipping PONGs only.
func (g *rawGateway) expect(typ serial.FrameType) serial.Frame {
	g.t.Helper()
	for {
		f, ok := g.next(testTimeout)
		if !ok {
			g.t.Fatalf("no %v frame", typ)
		}
		if f.Type == typ {
			return f
		}
		if f.Type != serial.FramePong {
			g.t.Fatalf("got %v frame (seq %d, % x), want %v", f.Type, f.Seq, f.Payload, typ)
		}
	}
}

// handshake answers the device's HANDSHAKE with limit max.
func (g *rawGateway) handshake(maxLen int) {
	g.t.Helper()
	f := g.expect(serial.FrameHandshake)
	h, code := serial.ParseHandshake(f.Payload)
	if code != 0 {
		g.t.Fatalf("bad device handshake % x", f.Payload)
	}
	reply := serial.NewHandshake(maxLen, h.Serializer())
	g.send(serial.FrameHandshake, 0, reply[:])
}

func acceptConn(t *testing.T, l *DeviceLink) transports.Conn {
	t.Helper()
	c, err := l.Accept(testCtx(t))
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	return c
}

func newLink(t *testing.T, rw io.ReadWriteCloser, cfg LinkConfig) *DeviceLink {
	t.Helper()
	l, err := NewDeviceLink(rw, cfg)
	if err != nil {
		t.Fatalf("NewDeviceLink: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func equal[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}
