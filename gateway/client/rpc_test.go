package client_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
)

func TestCallResult(t *testing.T) {
	for _, ser := range []transports.Serializer{transports.JSON, transports.MsgPack, transports.CBOR} {
		t.Run(ser.String(), func(t *testing.T) {
			conn, r := newFakeRouter(t, ser)
			s := join(t, conn, r, client.Options{})
			args := wamp.List{int64(2), "x", []byte{0, 1, 2}, uint64(math.MaxUint64)}
			kwargs := wamp.Dict{"k": true}
			res := asyncCall(s, context.Background(), "com.example.add", args, kwargs, wamp.Dict{"timeout": int64(500)})

			call := expect[*wamp.Call](r)
			equal(t, "request", call.Request, wamp.ID(1))
			equal(t, "procedure", call.Procedure, "com.example.add")
			equal(t, "args", call.Args, args)
			equal(t, "kwargs", call.Kwargs, kwargs)
			equal(t, "options", call.Options, wamp.Dict{"timeout": int64(500)})

			r.send(&wamp.Result{Request: call.Request, Details: wamp.Dict{"d": "v"},
				Payload: wamp.Payload{Args: wamp.List{int64(5)}, Kwargs: wamp.Dict{"sum": int64(5)}}})
			cr := await(t, res)
			if cr.err != nil {
				t.Fatal(cr.err)
			}
			equal(t, "result args", cr.res.Args, wamp.List{int64(5)})
			equal(t, "result kwargs", cr.res.Kwargs, wamp.Dict{"sum": int64(5)})
			equal(t, "result details", cr.res.Details, wamp.Dict{"d": "v"})
		})
	}
}

func TestCallError(t *testing.T) {
	s, r := setup(t)
	res := asyncCall(s, context.Background(), "com.example.fail", nil, nil, nil)
	call := expect[*wamp.Call](r)
	r.send(&wamp.Error{RequestType: wamp.TypeCall, Request: call.Request, Details: wamp.Dict{"x": "y"},
		Error: "com.example.oops", Payload: wamp.Payload{Args: wamp.List{"bad input", int64(3)}, Kwargs: wamp.Dict{"field": "a"}}})
	cr := await(t, res)
	var e *client.Error
	if !errors.As(cr.err, &e) {
		t.Fatalf("error %v (%T) is not a *client.Error", cr.err, cr.err)
	}
	equal(t, "URI", e.URI, "com.example.oops")
	equal(t, "Args", e.Args, wamp.List{"bad input", int64(3)})
	equal(t, "Kwargs", e.Kwargs, wamp.Dict{"field": "a"})
	equal(t, "Details", e.Details, wamp.Dict{"x": "y"})
	wantErrorIs(t, cr.err, &client.Error{URI: "com.example.oops"})
	if errors.Is(cr.err, &client.Error{URI: "com.example.other"}) {
		t.Error("errors.Is matched a different URI")
	}
}

func TestCallCancel(t *testing.T) {
	s, r := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	res := asyncCall(s, ctx, "com.example.slow", nil, nil, nil)
	call := expect[*wamp.Call](r)
	cancel()
	cr := await(t, res)
	wantErrorIs(t, cr.err, context.Canceled)
	c := expect[*wamp.Cancel](r)
	equal(t, "cancel request", c.Request, call.Request)
	equal(t, "cancel mode", c.Options["mode"], "killnowait")

	// The router's ERROR canceled for the abandoned call is swallowed and
	// the session goes on with the next request ID.
	r.send(&wamp.Error{RequestType: wamp.TypeCall, Request: call.Request, Details: wamp.Dict{}, Error: wamp.ErrCanceled})
	res = asyncCall(s, context.Background(), "com.example.next", nil, nil, nil)
	next := expect[*wamp.Call](r)
	equal(t, "next request", next.Request, call.Request+1)
	r.send(&wamp.Result{Request: next.Request, Details: wamp.Dict{}})
	if cr := await(t, res); cr.err != nil {
		t.Fatal(cr.err)
	}
}

func TestCallCancelWithoutRouterSupport(t *testing.T) {
	conn, r := newFakeRouter(t, transports.JSON)
	res := async(func() joinResult {
		s, err := client.Join(context.Background(), conn, "realm1", client.Options{})
		return joinResult{s, err}
	})
	expect[*wamp.Hello](r)
	r.send(&wamp.Welcome{Session: 1, Details: routerDetails()}) // no call_canceling
	jr := await(t, res)
	if jr.err != nil {
		t.Fatal(jr.err)
	}
	s := jr.s
	defer func() { s.Close(); waitDone(t, s) }()

	ctx, cancel := context.WithCancel(context.Background())
	cres := asyncCall(s, ctx, "p", nil, nil, nil)
	call := expect[*wamp.Call](r)
	cancel()
	wantErrorIs(t, await(t, cres).err, context.Canceled)
	// A late RESULT is discarded; the next message is the next CALL, not
	// a CANCEL.
	r.send(&wamp.Result{Request: call.Request, Details: wamp.Dict{}})
	cres = asyncCall(s, context.Background(), "q", nil, nil, nil)
	next := expect[*wamp.Call](r)
	equal(t, "next procedure", next.Procedure, "q")
	r.send(&wamp.Result{Request: next.Request, Details: wamp.Dict{}})
	if err := await(t, cres).err; err != nil {
		t.Fatal(err)
	}
}

func TestCallAlreadyCanceled(t *testing.T) {
	s, r := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Call(ctx, "p", nil, nil, nil)
	wantErrorIs(t, err, context.Canceled)
	// Nothing was sent: the next request still gets ID 1.
	res := asyncCall(s, context.Background(), "p", nil, nil, nil)
	equal(t, "request", expect[*wamp.Call](r).Request, wamp.ID(1))
	s.Close()
	wantErrorIs(t, await(t, res).err, client.ErrClosed)
}

func TestCallProgress(t *testing.T) {
	s, r := setup(t)
	var got []wamp.List
	res := async(func() callResult {
		res, err := s.CallProgress(context.Background(), "com.example.stream", nil, nil, wamp.Dict{"x": int64(1)},
			func(p *client.Result) { got = append(got, p.Args) })
		return callResult{res, err}
	})
	call := expect[*wamp.Call](r)
	equal(t, "options", call.Options, wamp.Dict{"x": int64(1), "receive_progress": true})
	for i := range 3 {
		r.send(&wamp.Result{Request: call.Request, Details: wamp.Dict{"progress": true},
			Payload: wamp.Payload{Args: wamp.List{int64(i)}}})
	}
	r.send(&wamp.Result{Request: call.Request, Details: wamp.Dict{}, Payload: wamp.Payload{Args: wamp.List{"done"}}})
	cr := await(t, res)
	if cr.err != nil {
		t.Fatal(cr.err)
	}
	equal(t, "progress", got, []wamp.List{{int64(0)}, {int64(1)}, {int64(2)}})
	equal(t, "final", cr.res.Args, wamp.List{"done"})
}

func TestProgressForPlainCallIgnored(t *testing.T) {
	s, r := setup(t)
	res := asyncCall(s, context.Background(), "p", nil, nil, nil)
	call := expect[*wamp.Call](r)
	r.send(&wamp.Result{Request: call.Request, Details: wamp.Dict{"progress": true}, Payload: wamp.Payload{Args: wamp.List{"partial"}}})
	r.send(&wamp.Result{Request: call.Request, Details: wamp.Dict{}, Payload: wamp.Payload{Args: wamp.List{"final"}}})
	cr := await(t, res)
	if cr.err != nil {
		t.Fatal(cr.err)
	}
	equal(t, "args", cr.res.Args, wamp.List{"final"})
}

// TestConcurrentCalls checks that request IDs reach the router in order,
// without gaps, from one counter, and that replies find their callers
// whatever order they come in.
func TestConcurrentCalls(t *testing.T) {
	s, r := setup(t)
	const n = 50
	results := make([]<-chan callResult, n)
	for i := range n {
		results[i] = asyncCall(s, context.Background(), "echo", wamp.List{int64(i)}, nil, nil)
	}
	pub := asyncErr(func() error {
		return s.Publish(context.Background(), "t", nil, nil, nil)
	})
	calls := make([]*wamp.Call, 0, n)
	for want := wamp.ID(1); want <= n+1; want++ {
		switch m := r.next().(type) {
		case *wamp.Call:
			equal(t, "request ID", m.Request, want)
			calls = append(calls, m)
		case *wamp.Publish:
			equal(t, "request ID", m.Request, want)
		default:
			t.Fatalf("unexpected %T", m)
		}
	}
	if err := await(t, pub); err != nil {
		t.Fatal(err)
	}
	for i := len(calls) - 1; i >= 0; i-- {
		r.send(&wamp.Result{Request: calls[i].Request, Details: wamp.Dict{}, Payload: wamp.Payload{Args: calls[i].Args}})
	}
	for i := range n {
		cr := await(t, results[i])
		if cr.err != nil {
			t.Fatal(cr.err)
		}
		equal(t, fmt.Sprintf("call %d result", i), cr.res.Args, wamp.List{int64(i)})
	}
}

type regResult struct {
	reg *client.Registration
	err error
}

// register registers h for proc and answers REGISTERED with regID.
func register(t *testing.T, s *client.Session, r *fakeRouter, proc string, opts wamp.Dict, regID wamp.ID, h client.Handler) *client.Registration {
	t.Helper()
	res := async(func() regResult {
		reg, err := s.Register(context.Background(), proc, opts, h)
		return regResult{reg, err}
	})
	m := expect[*wamp.Register](r)
	equal(t, "procedure", m.Procedure, proc)
	if opts == nil {
		opts = wamp.Dict{} // nil dicts go out as {}
	}
	equal(t, "options", m.Options, opts)
	r.send(&wamp.Registered{Request: m.Request, Registration: regID})
	rr := await(t, res)
	if rr.err != nil {
		t.Fatal(rr.err)
	}
	equal(t, "registration ID", rr.reg.ID(), regID)
	equal(t, "registration procedure", rr.reg.Procedure(), proc)
	return rr.reg
}

func TestRegisterInvocationYield(t *testing.T) {
	s, r := setup(t)
	got := make(chan *client.Invocation, 1)
	// REGISTERED and the first INVOCATION arrive back to back: the handler
	// must be installed before Register returns.
	res := async(func() regResult {
		reg, err := s.Register(context.Background(), "com.example.", wamp.Dict{"match": "prefix"},
			func(ctx context.Context, inv *client.Invocation) (*client.Result, error) {
				got <- inv
				return &client.Result{Args: wamp.List{"ok"}, Kwargs: wamp.Dict{"n": int64(len(inv.Args))}}, nil
			})
		return regResult{reg, err}
	})
	m := expect[*wamp.Register](r)
	r.send(&wamp.Registered{Request: m.Request, Registration: 9})
	r.send(&wamp.Invocation{Request: 100, Registration: 9,
		Details: wamp.Dict{"procedure": "com.example.add", "caller": int64(3)},
		Payload: wamp.Payload{Args: wamp.List{int64(1), int64(2)}, Kwargs: wamp.Dict{"a": "b"}}})
	if rr := await(t, res); rr.err != nil {
		t.Fatal(rr.err)
	}
	inv := await(t, got)
	equal(t, "inv args", inv.Args, wamp.List{int64(1), int64(2)})
	equal(t, "inv kwargs", inv.Kwargs, wamp.Dict{"a": "b"})
	equal(t, "inv procedure", inv.Procedure, "com.example.add")
	equal(t, "inv registration", inv.Registration, wamp.ID(9))
	equal(t, "inv caller", inv.Details["caller"], int64(3))
	y := expect[*wamp.Yield](r)
	equal(t, "yield request", y.Request, wamp.ID(100))
	equal(t, "yield args", y.Args, wamp.List{"ok"})
	equal(t, "yield kwargs", y.Kwargs, wamp.Dict{"n": int64(2)})
	if wamp.OptBool(y.Options, "progress", false) {
		t.Error("final YIELD marked progress")
	}
}

func TestInvocationErrors(t *testing.T) {
	s, r := setup(t)
	handlers := map[string]client.Handler{
		"wamp-error": func(context.Context, *client.Invocation) (*client.Result, error) {
			return nil, fmt.Errorf("wrapped: %w", &client.Error{URI: "com.example.bad", Args: wamp.List{"why"},
				Kwargs: wamp.Dict{"k": int64(1)}, Details: wamp.Dict{"d": true}})
		},
		"plain-error": func(context.Context, *client.Invocation) (*client.Result, error) {
			return nil, errors.New("disk on fire")
		},
		"panic": func(context.Context, *client.Invocation) (*client.Result, error) {
			panic("boom")
		},
		"nil-result": func(context.Context, *client.Invocation) (*client.Result, error) {
			return nil, nil
		},
		"unencodable": func(context.Context, *client.Invocation) (*client.Result, error) {
			return &client.Result{Args: wamp.List{make(chan int)}}, nil
		},
	}
	regIDs := map[string]wamp.ID{}
	next := wamp.ID(10)
	for name, h := range handlers {
		register(t, s, r, "com.example."+name, nil, next, h)
		regIDs[name] = next
		next++
	}
	check := func(name string, f func(m wamp.Message)) {
		t.Run(name, func(t *testing.T) {
			r.send(&wamp.Invocation{Request: regIDs[name], Registration: regIDs[name], Details: wamp.Dict{}})
			f(r.next())
		})
	}
	check("wamp-error", func(m wamp.Message) {
		e, ok := m.(*wamp.Error)
		if !ok {
			t.Fatalf("got %T", m)
		}
		equal(t, "type", e.RequestType, wamp.TypeInvocation)
		equal(t, "request", e.Request, regIDs["wamp-error"])
		equal(t, "uri", e.Error, "com.example.bad")
		equal(t, "args", e.Args, wamp.List{"why"})
		equal(t, "kwargs", e.Kwargs, wamp.Dict{"k": int64(1)})
		equal(t, "details", e.Details, wamp.Dict{"d": true})
	})
	check("plain-error", func(m wamp.Message) {
		e, ok := m.(*wamp.Error)
		if !ok {
			t.Fatalf("got %T", m)
		}
		equal(t, "uri", e.Error, wamp.ErrRuntimeError)
		equal(t, "args", e.Args, wamp.List{"disk on fire"})
	})
	check("panic", func(m wamp.Message) {
		e, ok := m.(*wamp.Error)
		if !ok {
			t.Fatalf("got %T", m)
		}
		equal(t, "uri", e.Error, wamp.ErrRuntimeError)
	})
	check("nil-result", func(m wamp.Message) {
		y, ok := m.(*wamp.Yield)
		if !ok {
			t.Fatalf("got %T", m)
		}
		if !y.Empty() {
			t.Errorf("YIELD payload %+v, want empty", y.Payload)
		}
	})
	check("unencodable", func(m wamp.Message) {
		e, ok := m.(*wamp.Error)
		if !ok {
			t.Fatalf("got %T", m)
		}
		equal(t, "uri", e.Error, wamp.ErrRuntimeError)
	})
}

func TestInvocationInterrupt(t *testing.T) {
	s, r := setup(t)
	started := make(chan struct{}, 2)
	causes := make(chan error, 2)
	register(t, s, r, "com.example.slow", nil, 1, func(ctx context.Context, inv *client.Invocation) (*client.Result, error) {
		started <- struct{}{}
		<-ctx.Done()
		causes <- context.Cause(ctx)
		return nil, ctx.Err()
	})
	register(t, s, r, "com.example.fast", nil, 2, func(ctx context.Context, inv *client.Invocation) (*client.Result, error) {
		return &client.Result{Args: wamp.List{"fast"}}, nil
	})

	// mode kill: the handler's error becomes ERROR wamp.error.canceled.
	r.send(&wamp.Invocation{Request: 1, Registration: 1, Details: wamp.Dict{}})
	await(t, started)
	r.send(&wamp.Interrupt{Request: 1, Options: wamp.Dict{"mode": "kill", "reason": wamp.ErrCanceled}})
	wantErrorIs(t, await(t, causes), client.ErrInterrupted)
	e := expect[*wamp.Error](r)
	equal(t, "request", e.Request, wamp.ID(1))
	equal(t, "uri", e.Error, wamp.ErrCanceled)

	// mode killnowait: no answer at all. The YIELD of a later invocation
	// is the next message the router sees.
	r.send(&wamp.Invocation{Request: 2, Registration: 1, Details: wamp.Dict{}})
	await(t, started)
	r.send(&wamp.Interrupt{Request: 2, Options: wamp.Dict{"mode": "killnowait"}})
	wantErrorIs(t, await(t, causes), client.ErrInterrupted)
	r.send(&wamp.Invocation{Request: 3, Registration: 2, Details: wamp.Dict{}})
	y := expect[*wamp.Yield](r)
	equal(t, "yield request", y.Request, wamp.ID(3))

	// INTERRUPT for an unknown invocation is ignored.
	r.send(&wamp.Interrupt{Request: 99, Options: wamp.Dict{}})
	r.send(&wamp.Invocation{Request: 4, Registration: 2, Details: wamp.Dict{}})
	equal(t, "yield request", expect[*wamp.Yield](r).Request, wamp.ID(4))
}

func TestInvocationProgress(t *testing.T) {
	s, r := setup(t)
	var (
		mu       sync.Mutex
		late     error
		noticed  []bool
		progress = make(chan *client.Invocation, 2)
	)
	register(t, s, r, "com.example.stream", nil, 1, func(ctx context.Context, inv *client.Invocation) (*client.Result, error) {
		mu.Lock()
		noticed = append(noticed, inv.ReceiveProgress())
		mu.Unlock()
		for i := range 2 {
			if err := inv.Progress(wamp.List{int64(i)}, nil); err != nil {
				return nil, err
			}
		}
		progress <- inv
		return &client.Result{Args: wamp.List{"end"}}, nil
	})
	r.send(&wamp.Invocation{Request: 1, Registration: 1, Details: wamp.Dict{"receive_progress": true}})
	for i := range 2 {
		y := expect[*wamp.Yield](r)
		equal(t, "progress flag", y.Options["progress"], true)
		equal(t, "progress args", y.Args, wamp.List{int64(i)})
	}
	y := expect[*wamp.Yield](r)
	equal(t, "final args", y.Args, wamp.List{"end"})
	if wamp.OptBool(y.Options, "progress", false) {
		t.Error("final YIELD marked progress")
	}
	inv := await(t, progress)
	// Progress after the handler returned fails.
	eventually(t, "invocation finished", func() bool {
		late = inv.Progress(wamp.List{"late"}, nil)
		return late != nil
	})
	wantErrorIs(t, late, client.ErrInvocationDone)

	// Without receive_progress, Progress is a no-op.
	r.send(&wamp.Invocation{Request: 2, Registration: 1, Details: wamp.Dict{}})
	y = expect[*wamp.Yield](r)
	equal(t, "final args", y.Args, wamp.List{"end"})
	await(t, progress)
	mu.Lock()
	equal(t, "ReceiveProgress", noticed, []bool{true, false})
	mu.Unlock()
}

func TestInvocationUnknownRegistration(t *testing.T) {
	_, r := setup(t)
	r.send(&wamp.Invocation{Request: 7, Registration: 123, Details: wamp.Dict{}})
	e := expect[*wamp.Error](r)
	equal(t, "type", e.RequestType, wamp.TypeInvocation)
	equal(t, "request", e.Request, wamp.ID(7))
	equal(t, "uri", e.Error, wamp.ErrNoSuchRegistration)
}

func TestRegisterError(t *testing.T) {
	s, r := setup(t)
	res := async(func() regResult {
		reg, err := s.Register(context.Background(), "p", nil, func(context.Context, *client.Invocation) (*client.Result, error) { return nil, nil })
		return regResult{reg, err}
	})
	m := expect[*wamp.Register](r)
	r.send(&wamp.Error{RequestType: wamp.TypeRegister, Request: m.Request, Details: wamp.Dict{}, Error: wamp.ErrProcedureAlreadyExists})
	wantErrorIs(t, await(t, res).err, &client.Error{URI: wamp.ErrProcedureAlreadyExists})
}

func TestUnregister(t *testing.T) {
	s, r := setup(t)
	reg := register(t, s, r, "p", nil, 5, func(context.Context, *client.Invocation) (*client.Result, error) { return nil, nil })
	res := asyncErr(func() error { return reg.Unregister(context.Background()) })
	u := expect[*wamp.Unregister](r)
	equal(t, "registration", u.Registration, wamp.ID(5))
	// An INVOCATION racing the UNREGISTER is refused locally.
	r.send(&wamp.Invocation{Request: 1, Registration: 5, Details: wamp.Dict{}})
	equal(t, "uri", expect[*wamp.Error](r).Error, wamp.ErrNoSuchRegistration)
	r.send(&wamp.Unregistered{Request: u.Request})
	if err := await(t, res); err != nil {
		t.Fatal(err)
	}
	if err := reg.Unregister(context.Background()); err != nil {
		t.Errorf("second Unregister = %v, want nil", err)
	}
	r.expectNothing()
}

func TestRegistrationRevoked(t *testing.T) {
	s, r := setup(t)
	register(t, s, r, "p", nil, 5, func(context.Context, *client.Invocation) (*client.Result, error) { return nil, nil })
	r.send(&wamp.Unregistered{Request: 0, Details: wamp.Dict{"registration": int64(5), "reason": "wamp.error.killed"}})
	r.send(&wamp.Invocation{Request: 1, Registration: 5, Details: wamp.Dict{}})
	equal(t, "uri", expect[*wamp.Error](r).Error, wamp.ErrNoSuchRegistration)
}

func TestRegisterAbandoned(t *testing.T) {
	s, r := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	res := async(func() regResult {
		reg, err := s.Register(ctx, "p", nil, func(context.Context, *client.Invocation) (*client.Result, error) { return nil, nil })
		return regResult{reg, err}
	})
	m := expect[*wamp.Register](r)
	cancel()
	wantErrorIs(t, await(t, res).err, context.Canceled)
	// The late REGISTERED is undone.
	r.send(&wamp.Registered{Request: m.Request, Registration: 8})
	u := expect[*wamp.Unregister](r)
	equal(t, "registration", u.Registration, wamp.ID(8))
	r.send(&wamp.Unregistered{Request: u.Request})
}
