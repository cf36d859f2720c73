package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway"
	gt "github.com/wampgate/wampgate/gateway/gatewaytest"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/rawsocket"
	"github.com/wampgate/wampgate/transports/websocket"
)

// e2eRouter serves a router on real loopback listeners: RawSocket over TCP
// and Unix, and WebSocket over HTTP.
type e2eRouter struct {
	r             *gateway.Router
	tcp, unix, ws string
	rs            *rawsocket.Server
	hs            *httptest.Server
	stopped       bool
}

func startE2E(t *testing.T) *e2eRouter {
	t.Helper()
	r, err := gateway.New(gateway.Config{Realms: []gateway.RealmConfig{{Name: "realm1"}}})
	if err != nil {
		t.Fatal(err)
	}
	opts := transports.Options{MaxMessageSize: 1 << 20, WriteTimeout: 5 * time.Second}
	e := &e2eRouter{r: r, rs: &rawsocket.Server{Handler: r, Options: opts}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.tcp = ln.Addr().String()
	go e.rs.Serve(ln)
	e.unix = filepath.Join(t.TempDir(), "wg.sock")
	uln, err := rawsocket.ListenUnix(e.unix)
	if err != nil {
		t.Fatal(err)
	}
	go e.rs.Serve(uln)
	e.hs = httptest.NewServer(&websocket.Server{Handler: r, Options: opts})
	e.ws = "ws" + strings.TrimPrefix(e.hs.URL, "http") + "/ws"
	t.Cleanup(func() { e.stop(t) })
	return e
}

func (e *e2eRouter) stop(t *testing.T) {
	if e.stopped {
		return
	}
	e.stopped = true
	e.rs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), gt.Timeout)
	defer cancel()
	if err := e.r.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	e.rs.Wait()
	e.hs.Close()
}

func (e *e2eRouter) dial(t *testing.T, kind string, ser transports.Serializer) *gt.Peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), gt.Timeout)
	defer cancel()
	var (
		c   transports.Conn
		err error
	)
	opts := transports.Options{MaxMessageSize: 1 << 20}
	switch kind {
	case "tcp":
		c, err = rawsocket.Dial(ctx, "tcp", e.tcp, ser, opts)
	case "unix":
		c, err = rawsocket.Dial(ctx, "unix", e.unix, ser, opts)
	case "ws":
		c, err = websocket.Dial(ctx, e.ws, ser, opts)
	}
	if err != nil {
		t.Fatalf("dial %s/%s: %v", kind, ser, err)
	}
	return gt.NewPeer(t, c)
}

func (e *e2eRouter) join(t *testing.T, kind string, ser transports.Serializer) (*gt.Peer, *wamp.Welcome) {
	t.Helper()
	p := e.dial(t, kind, ser)
	p.Send(&wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": gt.ClientRoles()}})
	return p, gt.Expect[wamp.Welcome](p)
}

// TestE2EMatrix runs RPC and PubSub between every pair of transport and
// serializer over real sockets.
func TestE2EMatrix(t *testing.T) {
	before := runtime.NumGoroutine()
	e := startE2E(t)
	kinds := []string{"tcp", "unix", "ws"}
	type ep struct {
		kind string
		ser  transports.Serializer
	}
	var eps []ep
	for _, k := range kinds {
		for _, s := range serializers {
			eps = append(eps, ep{k, s})
		}
	}
	args := wamp.List{int64(1) << 53, uint64(1<<64 - 1), []byte{0, 0xff, 7}, "ünï", 2.25, false, nil, map[string]any{"x": []any{}}}
	for i, a := range eps {
		b := eps[(i*4+1)%len(eps)] // a spread of pairs, every endpoint on both sides
		t.Run(fmt.Sprintf("%s-%s_to_%s-%s", a.kind, a.ser, b.kind, b.ser), func(t *testing.T) {
			caller, _ := e.join(t, a.kind, a.ser)
			callee, _ := e.join(t, b.kind, b.ser)
			proc := fmt.Sprintf("com.e2e.p%d", i)
			register(t, callee, 1, proc, wamp.Dict{})
			caller.Send(&wamp.Call{Request: 1, Options: wamp.Dict{}, Procedure: proc, Payload: wamp.Payload{Args: args}})
			inv := gt.Expect[wamp.Invocation](callee)
			if !reflect.DeepEqual(inv.Args, args) {
				t.Fatalf("invocation args %#v", inv.Args)
			}
			callee.Send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}, Payload: wamp.Payload{Args: inv.Args}})
			if res := gt.Expect[wamp.Result](caller); !reflect.DeepEqual(res.Args, args) {
				t.Fatalf("result args %#v", res.Args)
			}
			subscribe(t, callee, 2, proc+".topic", wamp.Dict{})
			caller.Send(&wamp.Publish{Request: 2, Options: wamp.Dict{"acknowledge": true}, Topic: proc + ".topic", Payload: wamp.Payload{Args: args}})
			gt.Expect[wamp.Published](caller)
			if ev := gt.Expect[wamp.Event](callee); !reflect.DeepEqual(ev.Args, args) {
				t.Fatalf("event args %#v", ev.Args)
			}
		})
	}
	e.stop(t)
	gt.Eventually(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before+2 })
}

// TestE2EShutdownGoodbye checks that sessions on every transport get
// GOODBYE wamp.close.system_shutdown.
func TestE2EShutdownGoodbye(t *testing.T) {
	e := startE2E(t)
	var peers []*gt.Peer
	for _, k := range []string{"tcp", "unix", "ws"} {
		p, _ := e.join(t, k, transports.CBOR)
		peers = append(peers, p)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.stop(t)
	}()
	for _, p := range peers {
		if g := gt.Expect[wamp.Goodbye](p); g.Reason != wamp.CloseSystemShutdown {
			t.Fatalf("reason %q", g.Reason)
		}
		p.Send(&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseGoodbyeAndOut})
	}
	<-done
}

// TestE2EOversizedMessage checks that a message over the receive limit ends
// the session with a protocol violation instead of being read.
func TestE2EOversizedMessage(t *testing.T) {
	e := startE2E(t)
	t.Run("ws", func(t *testing.T) {
		p, _ := e.join(t, "ws", transports.JSON)
		big := strings.Repeat("x", 2<<20)
		b, _ := p.Codec.Encode(&wamp.Publish{Request: 1, Options: wamp.Dict{}, Topic: "t", Payload: wamp.Payload{Args: wamp.List{big}}})
		_ = p.Conn.Write([][]byte{b})
		p.ExpectClosed()
	})
	t.Run("tcp", func(t *testing.T) {
		// Our RawSocket client refuses to send past the router's limit, so
		// speak the wire format by hand: a frame header announcing 2 MiB is
		// enough; the router must not wait for (or allocate) the payload.
		c, err := net.Dial("tcp", e.tcp)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(gt.Timeout))
		mustWrite := func(b []byte) {
			if _, err := c.Write(b); err != nil {
				t.Fatal(err)
			}
		}
		readN := func(n int) []byte {
			b := make([]byte, n)
			if _, err := io.ReadFull(c, b); err != nil {
				t.Fatalf("read: %v", err)
			}
			return b
		}
		mustWrite([]byte{0x7f, 0xf1, 0, 0})
		if reply := readN(4); reply[0] != 0x7f || reply[1]&0x0f != 1 {
			t.Fatalf("handshake reply % x", reply)
		}
		hello := []byte(`[1,"realm1",{"roles":{"caller":{}}}]`)
		mustWrite(append([]byte{0, 0, 0, byte(len(hello))}, hello...))
		h := readN(4)
		readN(int(h[1])<<16 | int(h[2])<<8 | int(h[3])) // WELCOME
		mustWrite([]byte{0, 0x20, 0, 0})                // WAMP frame of 2 MiB, no payload sent
		h = readN(4)
		abort := string(readN(int(h[1])<<16 | int(h[2])<<8 | int(h[3])))
		if !strings.Contains(abort, wamp.ErrProtocolViolation) {
			t.Fatalf("got %s, want ABORT protocol_violation", abort)
		}
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("connection still open after ABORT")
		}
	})
	gt.Eventually(t, "too-big counted", func() bool { return e.r.Stats().Violations["too_big"] >= 2 })
}
