package client_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
)

func TestLeave(t *testing.T) {
	for _, tt := range []struct{ reason, want string }{
		{"", wamp.CloseRealm},
		{wamp.CloseNormal, wamp.CloseNormal},
	} {
		t.Run(tt.want, func(t *testing.T) {
			s, r := setup(t)
			res := asyncErr(func() error { return s.Leave(context.Background(), tt.reason) })
			g := expect[*wamp.Goodbye](r)
			equal(t, "reason", g.Reason, tt.want)
			r.send(&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseGoodbyeAndOut})
			if err := await(t, res); err != nil {
				t.Fatalf("Leave = %v", err)
			}
			waitDone(t, s)
			wantErrorIs(t, s.Err(), client.ErrClosed)
			r.expectClosed()
			// The client does not answer the router's GOODBYE reply.
			r.expectNothing()
			_, err := s.Call(context.Background(), "p", nil, nil, nil)
			wantErrorIs(t, err, client.ErrClosed)
			wantErrorIs(t, s.Leave(context.Background(), ""), client.ErrClosed)
		})
	}
}

func TestLeaveTimeout(t *testing.T) {
	s, r := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	res := asyncErr(func() error { return s.Leave(ctx, "") })
	expect[*wamp.Goodbye](r) // and no answer
	wantErrorIs(t, await(t, res), context.DeadlineExceeded)
	waitDone(t, s)
	r.expectClosed()
}

func TestRouterGoodbye(t *testing.T) {
	s, r := setup(t)
	res := asyncCall(s, context.Background(), "p", nil, nil, nil)
	expect[*wamp.Call](r)
	r.send(&wamp.Goodbye{Details: wamp.Dict{"message": "bye"}, Reason: wamp.CloseSystemShutdown})
	g := expect[*wamp.Goodbye](r)
	equal(t, "reply reason", g.Reason, wamp.CloseGoodbyeAndOut)
	r.expectClosed()
	waitDone(t, s)

	var ge *client.GoodbyeError
	if !errors.As(s.Err(), &ge) {
		t.Fatalf("Err = %v (%T), want *GoodbyeError", s.Err(), s.Err())
	}
	equal(t, "reason", ge.Reason, wamp.CloseSystemShutdown)
	equal(t, "details", ge.Details, wamp.Dict{"message": "bye"})

	err := await(t, res).err
	wantErrorIs(t, err, client.ErrClosed)
	if !errors.As(err, &ge) {
		t.Errorf("pending call error %v does not carry the GOODBYE", err)
	}
	equal(t, "message", err.Error(), "client: call p: session closed: router closed the session: wamp.close.system_shutdown")
}

func TestRouterAbort(t *testing.T) {
	s, r := setup(t)
	res := asyncCall(s, context.Background(), "p", nil, nil, nil)
	expect[*wamp.Call](r)
	r.send(&wamp.Abort{Details: wamp.Dict{}, Reason: wamp.CloseKilled})
	waitDone(t, s)
	wantErrorIs(t, s.Err(), &client.Error{URI: wamp.CloseKilled})
	err := await(t, res).err
	wantErrorIs(t, err, client.ErrClosed)
	wantErrorIs(t, err, &client.Error{URI: wamp.CloseKilled})
	r.expectClosed()
	r.expectNothing() // ABORT is not answered
}

// TestTransportCloseFailsPending: every kind of pending request fails
// promptly when the transport goes away.
func TestTransportCloseFailsPending(t *testing.T) {
	s, r := setup(t)
	ctx := context.Background()
	started := make(chan struct{})
	handlerDone := make(chan error, 1)
	register(t, s, r, "busy", nil, 1, func(ctx context.Context, inv *client.Invocation) (*client.Result, error) {
		close(started)
		<-ctx.Done()
		handlerDone <- context.Cause(ctx)
		return nil, ctx.Err()
	})
	r.send(&wamp.Invocation{Request: 1, Registration: 1, Details: wamp.Dict{}})
	await(t, started)

	pending := []<-chan error{
		asyncErr(func() error { _, err := s.Call(ctx, "c", nil, nil, nil); return err }),
		asyncErr(func() error {
			_, err := s.CallProgress(ctx, "c", nil, nil, nil, func(*client.Result) {})
			return err
		}),
		asyncErr(func() error { return s.Publish(ctx, "t", nil, nil, wamp.Dict{"acknowledge": true}) }),
		asyncErr(func() error { _, err := s.Subscribe(ctx, "t", nil, func(*client.Event) {}); return err }),
		asyncErr(func() error {
			_, err := s.Register(ctx, "r", nil, func(context.Context, *client.Invocation) (*client.Result, error) { return nil, nil })
			return err
		}),
	}
	for range pending {
		r.next()
	}
	r.conn.Close()
	for i, ch := range pending {
		err := await(t, ch)
		wantErrorIs(t, err, client.ErrClosed)
		if !errors.Is(err, client.ErrConnectionLost) {
			t.Errorf("request %d: error %v does not wrap ErrConnectionLost", i, err)
		}
	}
	wantErrorIs(t, await(t, handlerDone), client.ErrClosed)
	waitDone(t, s)
	wantErrorIs(t, s.Err(), client.ErrConnectionLost)
}

func TestCloseFailsPendingAndLaterRequests(t *testing.T) {
	s, r := setup(t)
	res := asyncCall(s, context.Background(), "p", nil, nil, nil)
	expect[*wamp.Call](r)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	wantErrorIs(t, await(t, res).err, client.ErrClosed)
	waitDone(t, s)
	equal(t, "Err", s.Err(), client.ErrClosed)
	r.expectClosed()
	ctx := context.Background()
	_, err := s.Subscribe(ctx, "t", nil, func(*client.Event) {})
	wantErrorIs(t, err, client.ErrClosed)
	wantErrorIs(t, s.Publish(ctx, "t", nil, nil, nil), client.ErrClosed)
	_, err = s.Register(ctx, "p", nil, func(context.Context, *client.Invocation) (*client.Result, error) { return nil, nil })
	wantErrorIs(t, err, client.ErrClosed)
}

// TestRouterSlipsIgnored: replies for unknown requests, mismatched reply
// types and unexpected messages are logged and ignored.
func TestRouterSlipsIgnored(t *testing.T) {
	s, r := setup(t)
	res := asyncCall(s, context.Background(), "p", nil, nil, nil)
	call := expect[*wamp.Call](r)
	r.send(&wamp.Result{Request: 999, Details: wamp.Dict{}})
	r.send(&wamp.Result{Request: 999, Details: wamp.Dict{"progress": true}})
	r.send(&wamp.Error{RequestType: wamp.TypeCall, Request: 998, Details: wamp.Dict{}, Error: "x"})
	r.send(&wamp.Error{RequestType: wamp.TypeSubscribe, Request: call.Request, Details: wamp.Dict{}, Error: "x"}) // wrong type
	r.send(&wamp.Published{Request: call.Request, Publication: 1})                                                // wrong type
	r.send(&wamp.Subscribed{Request: 997, Subscription: 1})
	r.send(&wamp.Registered{Request: 996, Registration: 1})
	r.send(&wamp.Unsubscribed{Request: 995})
	r.send(&wamp.Event{Subscription: 12345, Publication: 1, Details: wamp.Dict{}})
	r.send(&wamp.Welcome{Session: 1, Details: wamp.Dict{}})
	r.send(&wamp.Result{Request: call.Request, Details: wamp.Dict{}, Payload: wamp.Payload{Args: wamp.List{"ok"}}})
	cr := await(t, res)
	if cr.err != nil {
		t.Fatal(cr.err)
	}
	equal(t, "args", cr.res.Args, wamp.List{"ok"})
	if s.Err() != nil {
		t.Fatalf("session ended: %v", s.Err())
	}
	r.expectNothing()
}

func TestMalformedMessageAborts(t *testing.T) {
	s, r := setup(t)
	r.sendRaw([]byte(`[36, "not an id"]`))
	a := expect[*wamp.Abort](r)
	equal(t, "reason", a.Reason, wamp.ErrProtocolViolation)
	waitDone(t, s)
	wantErrorIs(t, s.Err(), client.ErrProtocolViolation)
}

// TestNoGoroutineLeak runs a session through every feature, closes it and
// checks that the goroutine count returns to where it was.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		conn, r := newFakeRouter(t, transports.CBOR)
		s, err := joinNoCleanup(t, conn, r)
		if err != nil {
			t.Fatal(err)
		}
		handlerRunning := make(chan struct{})
		register(t, s, r, "p", nil, 1, func(ctx context.Context, inv *client.Invocation) (*client.Result, error) {
			close(handlerRunning)
			<-ctx.Done()
			return nil, ctx.Err()
		})
		events := make(chan struct{}, 1)
		subscribe(t, s, r, "t", nil, 2, func(*client.Event) { events <- struct{}{} },
			&wamp.Event{Subscription: 2, Publication: 1, Details: wamp.Dict{}})
		await(t, events)
		r.send(&wamp.Invocation{Request: 1, Registration: 1, Details: wamp.Dict{}})
		await(t, handlerRunning)
		res := asyncCall(s, context.Background(), "x", nil, nil, nil)
		expect[*wamp.Call](r)
		s.Close()
		wantErrorIs(t, await(t, res).err, client.ErrClosed)
		waitDone(t, s)
		r.conn.Close()
		<-r.done
	}()
	eventually(t, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= before })
}

func joinNoCleanup(t *testing.T, conn transports.Conn, r *fakeRouter) (*client.Session, error) {
	res := async(func() joinResult {
		s, err := client.Join(context.Background(), conn, "realm1", client.Options{})
		return joinResult{s, err}
	})
	expect[*wamp.Hello](r)
	r.send(&wamp.Welcome{Session: sessionID, Details: routerDetails()})
	jr := await(t, res)
	return jr.s, jr.err
}

func TestErrorMessages(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&client.Error{URI: "a.b"}, "client: a.b"},
		{&client.Error{URI: "a.b", Args: wamp.List{"msg", int64(1)}}, "client: a.b: msg"},
		{&client.Error{URI: "a.b", Args: wamp.List{int64(1)}, Details: wamp.Dict{"message": "detail"}}, "client: a.b: detail"},
		{&client.GoodbyeError{Reason: wamp.CloseKilled}, "client: router closed the session: wamp.close.killed"},
	} {
		equal(t, "Error()", tt.err.Error(), tt.want)
	}
}
