package client_test

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/gateway/wamp/codec"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/inproc"
)

// waitTimeout bounds every wait in these tests; it only matters when a test
// is about to fail.
const waitTimeout = 5 * time.Second

// fakeRouter is the router end of an inproc pipe, driven by the test:
// send writes a message, expect reads the next one.
type fakeRouter struct {
	t     testing.TB
	conn  transports.Conn
	codec codec.Codec
	in    chan received
	done  chan struct{} // closed when the read goroutine exits (conn closed)
}

type received struct {
	m   wamp.Message
	err error
}

// newFakeRouter returns the client end of a pipe and the router driving
// the other end. Cleanup closes the pipe and waits for the read goroutine.
func newFakeRouter(t testing.TB, ser transports.Serializer) (transports.Conn, *fakeRouter) {
	t.Helper()
	cc, rc := inproc.Pipe(ser)
	cd, err := codec.ByName(ser.String())
	if err != nil {
		t.Fatal(err)
	}
	r := &fakeRouter{t: t, conn: rc, codec: cd, in: make(chan received, 1024), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			data, err := rc.Read()
			if err != nil {
				return
			}
			m, err := cd.Decode(data)
			r.in <- received{m, err}
		}
	}()
	t.Cleanup(func() {
		rc.Close()
		<-r.done
	})
	return cc, r
}

func (r *fakeRouter) send(m wamp.Message) {
	r.t.Helper()
	data, err := r.codec.Encode(m)
	if err != nil {
		r.t.Fatalf("router: encode %s: %v", m.MessageType(), err)
	}
	r.sendRaw(data)
}

func (r *fakeRouter) sendRaw(data []byte) {
	r.t.Helper()
	if err := r.conn.Write([][]byte{data}); err != nil {
		r.t.Fatalf("router: write: %v", err)
	}
}

// next returns the next message from the client.
func (r *fakeRouter) next() wamp.Message {
	r.t.Helper()
	select {
	case rcv := <-r.in:
		if rcv.err != nil {
			r.t.Fatalf("router: client sent an undecodable message: %v", rcv.err)
		}
		return rcv.m
	case <-r.done:
		select {
		case rcv := <-r.in:
			return rcv.m
		default:
		}
		r.t.Fatalf("router: connection closed while expecting a message")
	case <-time.After(waitTimeout):
		r.t.Fatalf("router: no message from the client within %v", waitTimeout)
	}
	return nil
}

// expectNothing checks that the client sent nothing so far. Call it only
// after a synchronisation point that orders the client's writes.
func (r *fakeRouter) expectNothing() {
	r.t.Helper()
	select {
	case rcv := <-r.in:
		r.t.Fatalf("router: unexpected message %v", rcv.m)
	default:
	}
}

// expectClosed waits until the client closes the connection.
func (r *fakeRouter) expectClosed() {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(waitTimeout):
		r.t.Fatalf("router: client did not close the connection")
	}
}

// expect reads the next message and checks its type.
func expect[T wamp.Message](r *fakeRouter) T {
	r.t.Helper()
	m := r.next()
	v, ok := m.(T)
	if !ok {
		var zero T
		r.t.Fatalf("router: got %T %+v, want %T", m, m, zero)
	}
	return v
}

// routerDetails is a WELCOME.Details announcing the features the client
// cares about.
func routerDetails(features ...string) wamp.Dict {
	f := wamp.Dict{}
	for _, n := range features {
		f[n] = true
	}
	return wamp.Dict{
		"roles": wamp.Dict{
			"broker": wamp.Dict{"features": wamp.Dict{}},
			"dealer": wamp.Dict{"features": f},
		},
		"authid":   "anon",
		"authrole": "anonymous",
	}
}

const sessionID wamp.ID = 4242

// join runs Join against r and answers the HELLO with WELCOME. Cleanup
// closes the session and waits for Done.
func join(t testing.TB, conn transports.Conn, r *fakeRouter, opts client.Options) *client.Session {
	t.Helper()
	res := async(func() joinResult {
		s, err := client.Join(context.Background(), conn, "realm1", opts)
		return joinResult{s, err}
	})
	expect[*wamp.Hello](r)
	r.send(&wamp.Welcome{Session: sessionID, Details: routerDetails("call_canceling", "progressive_call_results")})
	jr := await(t, res)
	if jr.err != nil {
		t.Fatalf("Join: %v", jr.err)
	}
	t.Cleanup(func() {
		jr.s.Close()
		waitDone(t, jr.s)
	})
	return jr.s
}

type joinResult struct {
	s   *client.Session
	err error
}

// setup joins a session over a JSON pipe.
func setup(t testing.TB) (*client.Session, *fakeRouter) {
	t.Helper()
	conn, r := newFakeRouter(t, transports.JSON)
	return join(t, conn, r, client.Options{}), r
}

func waitDone(t testing.TB, s *client.Session) {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(waitTimeout):
		t.Fatalf("session Done not closed within %v", waitTimeout)
	}
}

// async runs f in a goroutine and returns a channel for its result.
func async[T any](f func() T) <-chan T {
	ch := make(chan T, 1)
	go func() { ch <- f() }()
	return ch
}

func await[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("no result within %v", waitTimeout)
	}
	var zero T
	return zero
}

type callResult struct {
	res *client.Result
	err error
}

func asyncCall(s *client.Session, ctx context.Context, proc string, args wamp.List, kwargs wamp.Dict, opts wamp.Dict) <-chan callResult {
	return async(func() callResult {
		res, err := s.Call(ctx, proc, args, kwargs, opts)
		return callResult{res, err}
	})
}

func asyncErr(f func() error) <-chan error { return async(f) }

func equal(t testing.TB, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func wantErrorIs(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v (%T) does not wrap %v", err, err, target)
	}
}

// eventually polls cond until it holds or waitTimeout passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}
