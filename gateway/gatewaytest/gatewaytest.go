// Package gatewaytest starts routers for tests and speaks raw WAMP to them:
// send a message, expect the next one, with deadlines instead of sleeps.
// It is imported only by _test.go files.
package gatewaytest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/gateway/wamp/codec"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/inproc"
)

// Timeout bounds every wait in this package.
const Timeout = 5 * time.Second

// Router is a router started for one test.
type Router struct {
	*gateway.Router
	t  testing.TB
	wg sync.WaitGroup
}

// NewRouter starts a router with cfg (realm1 when cfg has no realm) and
// shuts it down when the test ends, failing the test if sessions linger.
func NewRouter(t testing.TB, cfg gateway.Config) *Router {
	t.Helper()
	if len(cfg.Realms) == 0 {
		cfg.Realms = []gateway.RealmConfig{{Name: "realm1"}}
	}
	r, err := gateway.New(cfg)
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	tr := &Router{Router: r, t: t}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			t.Errorf("router shutdown: %v", err)
		}
		tr.wg.Wait()
	})
	return tr
}

// Serve runs ServeConn(c) in a goroutine tracked by the test.
func (r *Router) Serve(c transports.Conn) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.ServeConn(c)
	}()
}

// Peer is the client end of a connection to a test router.
type Peer struct {
	T     testing.TB
	Conn  transports.Conn
	Codec codec.Codec
	in    chan []byte
	done  chan struct{}
	err   error
}

// Connect opens an in-memory connection to r with serializer ser.
func Connect(t testing.TB, r *Router, ser transports.Serializer) *Peer {
	t.Helper()
	client, server := inproc.Pipe(ser)
	r.Serve(server)
	return NewPeer(t, client)
}

// NewPeer wraps a connected client-side transport.
func NewPeer(t testing.TB, c transports.Conn) *Peer {
	cd, err := codec.ByName(c.Serializer().String())
	if err != nil {
		t.Fatal(err)
	}
	p := &Peer{T: t, Conn: c, Codec: cd, in: make(chan []byte, 4096), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for {
			b, err := c.Read()
			if err != nil {
				p.err = err
				close(p.in)
				return
			}
			p.in <- append([]byte(nil), b...)
		}
	}()
	t.Cleanup(func() {
		c.Close()
		<-p.done
	})
	return p
}

// Send encodes and writes m.
func (p *Peer) Send(m wamp.Message) {
	p.T.Helper()
	b, err := p.Codec.Encode(m)
	if err != nil {
		p.T.Fatalf("encode %s: %v", m.MessageType(), err)
	}
	p.SendRaw(b)
}

// SendRaw writes bytes as one message.
func (p *Peer) SendRaw(b []byte) {
	p.T.Helper()
	if err := p.Conn.Write([][]byte{b}); err != nil {
		p.T.Fatalf("write: %v", err)
	}
}

// Recv returns the next message, failing the test after Timeout.
func (p *Peer) Recv() wamp.Message {
	p.T.Helper()
	select {
	case b, ok := <-p.in:
		if !ok {
			p.T.Fatalf("connection closed while waiting for a message: %v", p.err)
		}
		m, err := p.Codec.Decode(b)
		if err != nil {
			p.T.Fatalf("decode %q: %v", b, err)
		}
		return m
	case <-time.After(Timeout):
		p.T.Fatalf("no message within %v", Timeout)
	}
	return nil
}

// Expect returns the next message as a *T, failing the test otherwise.
func Expect[T any](p *Peer) *T {
	p.T.Helper()
	m := p.Recv()
	v, ok := any(m).(*T)
	if !ok {
		var want *T
		p.T.Fatalf("got %s %s, want %T", m.MessageType(), describe(m), want)
	}
	return v
}

func describe(m wamp.Message) string {
	return fmt.Sprintf("%+v", reflect.ValueOf(m).Elem().Interface())
}

// ExpectClosed waits until the router closes the connection, skipping any
// messages still in flight; it fails the test after Timeout.
func (p *Peer) ExpectClosed() {
	p.T.Helper()
	deadline := time.After(Timeout)
	for {
		select {
		case _, ok := <-p.in:
			if !ok {
				return
			}
		case <-deadline:
			p.T.Fatalf("connection still open after %v", Timeout)
		}
	}
}

// ExpectSilence fails if a message arrives within d.
func (p *Peer) ExpectSilence(d time.Duration) {
	p.T.Helper()
	select {
	case b, ok := <-p.in:
		if ok {
			m, _ := p.Codec.Decode(b)
			p.T.Fatalf("unexpected message %v", m)
		}
	case <-time.After(d):
	}
}

// ClientRoles is what a full-featured client announces in HELLO.
func ClientRoles() wamp.Dict {
	f := func(names ...string) wamp.Dict {
		d := wamp.Dict{}
		for _, n := range names {
			d[n] = true
		}
		return wamp.Dict{"features": d}
	}
	return wamp.Dict{
		"caller":     f("call_canceling", "progressive_call_results", "caller_identification", "call_timeout"),
		"callee":     f("call_canceling", "progressive_call_results", "caller_identification", "pattern_based_registration", "shared_registration"),
		"publisher":  f("publisher_exclusion", "subscriber_blackwhite_listing", "publisher_identification"),
		"subscriber": f("pattern_based_subscription", "publisher_identification"),
	}
}

// Join connects with ser, sends HELLO for realm and expects WELCOME.
func Join(t testing.TB, r *Router, realm string, ser transports.Serializer) (*Peer, *wamp.Welcome) {
	t.Helper()
	p := Connect(t, r, ser)
	p.Send(&wamp.Hello{Realm: realm, Details: wamp.Dict{"roles": ClientRoles()}})
	return p, Expect[wamp.Welcome](p)
}

// Eventually polls cond until it holds, failing the test after Timeout.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling interval, not synchronisation
	}
}
