package gateway_test

import (
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway"
	gt "github.com/wampgate/wampgate/gateway/gatewaytest"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
)

// joinWithRoles joins with the given HELLO roles.
func joinWithRoles(t *testing.T, r *gt.Router, roles wamp.Dict) *gt.Peer {
	t.Helper()
	p := gt.Connect(t, r, transports.JSON)
	p.Send(&wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": roles}})
	gt.Expect[wamp.Welcome](p)
	return p
}

// basicCallee announces no features, like autobahn-js and wampy callees
// (no call_canceling).
var basicCallee = wamp.Dict{"callee": wamp.Dict{}, "caller": wamp.Dict{}}

func register(t *testing.T, p *gt.Peer, req wamp.ID, proc string, opts wamp.Dict) wamp.ID {
	t.Helper()
	p.Send(&wamp.Register{Request: req, Options: opts, Procedure: proc})
	return gt.Expect[wamp.Registered](p).Registration
}

func TestCancelModes(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	callee, _ := gt.Join(t, r, "realm1", transports.CBOR)
	caller, _ := gt.Join(t, r, "realm1", transports.JSON)
	register(t, callee, 1, "com.slow", wamp.Dict{})

	call := func(req wamp.ID) *wamp.Invocation {
		caller.Send(&wamp.Call{Request: req, Options: wamp.Dict{}, Procedure: "com.slow"})
		return gt.Expect[wamp.Invocation](callee)
	}
	t.Run("skip", func(t *testing.T) {
		inv := call(10)
		caller.Send(&wamp.Cancel{Request: 10, Options: wamp.Dict{"mode": "skip"}})
		if e := gt.Expect[wamp.Error](caller); e.Error != wamp.ErrCanceled || e.Request != 10 {
			t.Fatalf("error %+v", e)
		}
		callee.ExpectSilence(30 * time.Millisecond) // no INTERRUPT in skip mode
		callee.Send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}})
		caller.ExpectSilence(30 * time.Millisecond) // late YIELD discarded
	})
	t.Run("killnowait", func(t *testing.T) {
		inv := call(11)
		caller.Send(&wamp.Cancel{Request: 11, Options: wamp.Dict{"mode": "killnowait"}})
		in := gt.Expect[wamp.Interrupt](callee)
		if in.Request != inv.Request || in.Options["mode"] != "killnowait" {
			t.Fatalf("interrupt %+v", in)
		}
		if e := gt.Expect[wamp.Error](caller); e.Error != wamp.ErrCanceled {
			t.Fatalf("error %+v", e)
		}
	})
	t.Run("kill", func(t *testing.T) {
		inv := call(12)
		caller.Send(&wamp.Cancel{Request: 12, Options: wamp.Dict{"mode": "kill"}})
		in := gt.Expect[wamp.Interrupt](callee)
		if in.Options["mode"] != "kill" {
			t.Fatalf("interrupt %+v", in)
		}
		caller.ExpectSilence(30 * time.Millisecond) // waits for the callee
		callee.Send(&wamp.Error{RequestType: wamp.TypeInvocation, Request: inv.Request, Details: wamp.Dict{}, Error: wamp.ErrCanceled})
		if e := gt.Expect[wamp.Error](caller); e.Error != wamp.ErrCanceled || e.Request != 12 {
			t.Fatalf("error %+v", e)
		}
	})
	t.Run("default mode is killnowait", func(t *testing.T) {
		call(13)
		caller.Send(&wamp.Cancel{Request: 13, Options: wamp.Dict{}})
		gt.Expect[wamp.Interrupt](callee)
		if e := gt.Expect[wamp.Error](caller); e.Error != wamp.ErrCanceled {
			t.Fatalf("error %+v", e)
		}
	})
	t.Run("unknown mode", func(t *testing.T) {
		call(14)
		caller.Send(&wamp.Cancel{Request: 14, Options: wamp.Dict{"mode": "explode"}})
		gt.Expect[wamp.Interrupt](callee)
		if e := gt.Expect[wamp.Error](caller); e.Error != wamp.ErrInvalidArgument || e.RequestType != wamp.TypeCall {
			t.Fatalf("error %+v", e)
		}
	})
	t.Run("cancel of finished call is ignored", func(t *testing.T) {
		inv := call(15)
		callee.Send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}})
		gt.Expect[wamp.Result](caller)
		caller.Send(&wamp.Cancel{Request: 15, Options: wamp.Dict{"mode": "kill"}})
		caller.ExpectSilence(30 * time.Millisecond)
		callee.ExpectSilence(30 * time.Millisecond)
	})
}

func TestNoInterruptForCalleesWithoutCancel(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	callee := joinWithRoles(t, r, basicCallee)
	caller, _ := gt.Join(t, r, "realm1", transports.JSON)
	register(t, callee, 1, "com.p", wamp.Dict{})
	caller.Send(&wamp.Call{Request: 1, Options: wamp.Dict{}, Procedure: "com.p"})
	gt.Expect[wamp.Invocation](callee)
	caller.Send(&wamp.Cancel{Request: 1, Options: wamp.Dict{"mode": "kill"}})
	if e := gt.Expect[wamp.Error](caller); e.Error != wamp.ErrCanceled {
		t.Fatalf("kill on a callee without call_canceling must act as skip: %+v", e)
	}
	caller.Send(&wamp.Call{Request: 2, Options: wamp.Dict{"timeout": int64(20)}, Procedure: "com.p"})
	gt.Expect[wamp.Invocation](callee)
	if e := gt.Expect[wamp.Error](caller); e.Error != wamp.ErrTimeout {
		t.Fatalf("timeout error %+v", e)
	}
	caller.Conn.Close() // caller leaves with a call pending
	caller.ExpectClosed()
	callee.ExpectSilence(50 * time.Millisecond) // never an INTERRUPT
}

func TestCallTimeoutInterruptsCallee(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	callee, _ := gt.Join(t, r, "realm1", transports.JSON)
	caller, _ := gt.Join(t, r, "realm1", transports.JSON)
	register(t, callee, 1, "com.p", wamp.Dict{})
	caller.Send(&wamp.Call{Request: 1, Options: wamp.Dict{"timeout": int64(20)}, Procedure: "com.p"})
	inv := gt.Expect[wamp.Invocation](callee)
	in := gt.Expect[wamp.Interrupt](callee)
	if in.Request != inv.Request || in.Options["reason"] != wamp.ErrTimeout {
		t.Fatalf("interrupt %+v", in)
	}
	if e := gt.Expect[wamp.Error](caller); e.Error != wamp.ErrTimeout {
		t.Fatalf("error %+v", e)
	}
	caller.Send(&wamp.Call{Request: 2, Options: wamp.Dict{"timeout": int64(-1)}, Procedure: "com.p"})
	if e := gt.Expect[wamp.Error](caller); e.Error != wamp.ErrInvalidArgument {
		t.Fatalf("negative timeout %+v", e)
	}
}

func TestCallerLeavesInterruptsCallee(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	callee, _ := gt.Join(t, r, "realm1", transports.JSON)
	caller, _ := gt.Join(t, r, "realm1", transports.JSON)
	register(t, callee, 1, "com.p", wamp.Dict{})
	caller.Send(&wamp.Call{Request: 1, Options: wamp.Dict{}, Procedure: "com.p"})
	inv := gt.Expect[wamp.Invocation](callee)
	caller.Conn.Close()
	in := gt.Expect[wamp.Interrupt](callee)
	if in.Request != inv.Request || in.Options["mode"] != "killnowait" {
		t.Fatalf("interrupt %+v", in)
	}
	callee.Send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}}) // late: dropped
	callee.Send(&wamp.Call{Request: 2, Options: wamp.Dict{}, Procedure: "com.none"})
	if e := gt.Expect[wamp.Error](callee); e.Error != wamp.ErrNoSuchProcedure {
		t.Fatalf("callee session broken after late yield: %+v", e)
	}
}

func TestProgressiveResults(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	callee, _ := gt.Join(t, r, "realm1", transports.MsgPack)
	caller, _ := gt.Join(t, r, "realm1", transports.JSON)
	register(t, callee, 1, "com.stream", wamp.Dict{})
	caller.Send(&wamp.Call{Request: 1, Options: wamp.Dict{"receive_progress": true}, Procedure: "com.stream"})
	inv := gt.Expect[wamp.Invocation](callee)
	if inv.Details["receive_progress"] != true {
		t.Fatalf("receive_progress not forwarded: %v", inv.Details)
	}
	for i := range 3 {
		callee.Send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{"progress": true}, Payload: wamp.Payload{Args: wamp.List{int64(i)}}})
		res := gt.Expect[wamp.Result](caller)
		if res.Details["progress"] != true || res.Args[0] != int64(i) {
			t.Fatalf("progress result %+v", res)
		}
	}
	callee.Send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}, Payload: wamp.Payload{Args: wamp.List{"done"}}})
	res := gt.Expect[wamp.Result](caller)
	if res.Details["progress"] != nil || res.Args[0] != "done" {
		t.Fatalf("final result %+v", res)
	}
	// Without receive_progress, progressive yields are not forwarded.
	caller.Send(&wamp.Call{Request: 2, Options: wamp.Dict{}, Procedure: "com.stream"})
	inv = gt.Expect[wamp.Invocation](callee)
	callee.Send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{"progress": true}})
	callee.Send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}, Payload: wamp.Payload{Args: wamp.List{"final"}}})
	if res := gt.Expect[wamp.Result](caller); res.Args[0] != "final" {
		t.Fatalf("result %+v", res)
	}
}

func TestPatternRegistrationAndDisclosure(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	callee, _ := gt.Join(t, r, "realm1", transports.JSON)
	caller, w := gt.Join(t, r, "realm1", transports.CBOR)
	register(t, callee, 1, "com.dev.", wamp.Dict{"match": "prefix"})
	register(t, callee, 2, "com..get", wamp.Dict{"match": "wildcard"})
	caller.Send(&wamp.Call{Request: 1, Options: wamp.Dict{"disclose_me": true}, Procedure: "com.dev.pump1.set"})
	inv := gt.Expect[wamp.Invocation](callee)
	if inv.Details["procedure"] != "com.dev.pump1.set" {
		t.Fatalf("procedure detail missing: %v", inv.Details)
	}
	if id, _ := wamp.AsUint(inv.Details["caller"]); wamp.ID(id) != w.Session || inv.Details["caller_authrole"] != "anonymous" {
		t.Fatalf("caller not disclosed: %v", inv.Details)
	}
	callee.Send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}})
	gt.Expect[wamp.Result](caller)
	caller.Send(&wamp.Call{Request: 2, Options: wamp.Dict{}, Procedure: "com.x.get"})
	inv = gt.Expect[wamp.Invocation](callee)
	if inv.Details["procedure"] != "com.x.get" || inv.Details["caller"] != nil {
		t.Fatalf("wildcard details %v", inv.Details)
	}
	// A callee can ask for caller disclosure on every call (disclose_caller).
	register(t, callee, 4, "com.audit", wamp.Dict{"disclose_caller": true})
	caller.Send(&wamp.Call{Request: 3, Options: wamp.Dict{}, Procedure: "com.audit"})
	inv = gt.Expect[wamp.Invocation](callee)
	if id, _ := wamp.AsUint(inv.Details["caller"]); wamp.ID(id) != w.Session || inv.Details["caller_authid"] == nil {
		t.Fatalf("disclose_caller ignored: %v", inv.Details)
	}
	callee.Send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}})
	gt.Expect[wamp.Result](caller)
	callee.Send(&wamp.Register{Request: 3, Options: wamp.Dict{"match": "regex"}, Procedure: "com.x"})
	if e := gt.Expect[wamp.Error](callee); e.Error != wamp.ErrInvalidArgument {
		t.Fatalf("bad match policy: %+v", e)
	}
}

func TestSharedRegistration(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	c1, _ := gt.Join(t, r, "realm1", transports.JSON)
	c2, _ := gt.Join(t, r, "realm1", transports.JSON)
	caller, _ := gt.Join(t, r, "realm1", transports.JSON)
	id1 := register(t, c1, 1, "com.rr", wamp.Dict{"invoke": "roundrobin"})
	id2 := register(t, c2, 1, "com.rr", wamp.Dict{"invoke": "roundrobin"})
	if id1 != id2 {
		t.Fatalf("shared registration has two IDs: %d %d", id1, id2)
	}
	c2.Send(&wamp.Register{Request: 2, Options: wamp.Dict{"invoke": "random"}, Procedure: "com.rr"})
	if e := gt.Expect[wamp.Error](c2); e.Error != wamp.ErrProcedureAlreadyExists {
		t.Fatalf("conflicting policy: %+v", e)
	}
	for i, c := range []*gt.Peer{c1, c2, c1} {
		caller.Send(&wamp.Call{Request: wamp.ID(i + 1), Options: wamp.Dict{}, Procedure: "com.rr"})
		inv := gt.Expect[wamp.Invocation](c)
		c.Send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}})
		gt.Expect[wamp.Result](caller)
	}
}

func TestPatternSubscriptionAndPublisherDisclosure(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	sub, _ := gt.Join(t, r, "realm1", transports.JSON)
	pub, w := gt.Join(t, r, "realm1", transports.CBOR)
	sub.Send(&wamp.Subscribe{Request: 1, Options: wamp.Dict{"match": "prefix"}, Topic: "sensors."})
	gt.Expect[wamp.Subscribed](sub)
	sub.Send(&wamp.Subscribe{Request: 2, Options: wamp.Dict{"match": "wildcard"}, Topic: "sensors..temp"})
	gt.Expect[wamp.Subscribed](sub)
	pub.Send(&wamp.Publish{Request: 1, Options: wamp.Dict{"disclose_me": true}, Topic: "sensors.kitchen.temp"})
	for range 2 { // one EVENT per matching subscription
		ev := gt.Expect[wamp.Event](sub)
		if ev.Details["topic"] != "sensors.kitchen.temp" {
			t.Fatalf("topic detail missing: %v", ev.Details)
		}
		if id, _ := wamp.AsUint(ev.Details["publisher"]); wamp.ID(id) != w.Session {
			t.Fatalf("publisher not disclosed: %v", ev.Details)
		}
	}
}

func TestProgressiveCallInvocations(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	callee := joinWithRoles(t, r, wamp.Dict{"callee": wamp.Dict{"features": wamp.Dict{"progressive_call_invocations": true, "call_canceling": true}}})
	basic := joinWithRoles(t, r, basicCallee)
	caller, _ := gt.Join(t, r, "realm1", transports.CBOR)
	register(t, callee, 1, "com.upload", wamp.Dict{})
	register(t, basic, 1, "com.basic", wamp.Dict{})

	caller.Send(&wamp.Call{Request: 5, Options: wamp.Dict{"progress": true}, Procedure: "com.upload", Payload: wamp.Payload{Args: wamp.List{"chunk1"}}})
	inv := gt.Expect[wamp.Invocation](callee)
	if inv.Details["progress"] != true || inv.Args[0] != "chunk1" {
		t.Fatalf("first chunk %+v", inv)
	}
	caller.Send(&wamp.Call{Request: 5, Options: wamp.Dict{"progress": true}, Procedure: "com.upload", Payload: wamp.Payload{Args: wamp.List{"chunk2"}}})
	caller.Send(&wamp.Call{Request: 5, Options: wamp.Dict{}, Procedure: "com.upload", Payload: wamp.Payload{Args: wamp.List{"last"}}})
	for _, want := range []string{"chunk2", "last"} {
		next := gt.Expect[wamp.Invocation](callee)
		if next.Request != inv.Request || next.Args[0] != want || (want == "last") == (next.Details["progress"] == true) {
			t.Fatalf("chunk %s: %+v", want, next)
		}
	}
	callee.Send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}, Payload: wamp.Payload{Args: wamp.List{int64(3)}}})
	if res := gt.Expect[wamp.Result](caller); res.Request != 5 || res.Args[0] != int64(3) {
		t.Fatalf("result %+v", res)
	}
	// A late chunk after completion is dropped.
	caller.Send(&wamp.Call{Request: 5, Options: wamp.Dict{"progress": true}, Procedure: "com.upload"})
	callee.ExpectSilence(30 * time.Millisecond)
	caller.ExpectSilence(10 * time.Millisecond)
	// A callee without the feature cannot take progressive invocations.
	caller.Send(&wamp.Call{Request: 6, Options: wamp.Dict{"progress": true}, Procedure: "com.basic"})
	if e := gt.Expect[wamp.Error](caller); e.Error != wamp.ErrFeatureNotSupported {
		t.Fatalf("error %+v", e)
	}
}

func TestPayloadPassthru(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	callee := joinWithRoles(t, r, wamp.Dict{"callee": wamp.Dict{"features": wamp.Dict{"payload_passthru_mode": true}}})
	basic := joinWithRoles(t, r, basicCallee)
	caller, _ := gt.Join(t, r, "realm1", transports.JSON)
	register(t, callee, 1, "com.e2e", wamp.Dict{})
	register(t, basic, 1, "com.plain", wamp.Dict{})
	blob := []byte{0x82, 0x01, 0x02, 0x00, 0xff}
	ppt := wamp.Dict{"ppt_scheme": "x_custom", "ppt_serializer": "cbor"}
	caller.Send(&wamp.Call{Request: 1, Options: ppt, Procedure: "com.e2e", Payload: wamp.Payload{Args: wamp.List{blob}}})
	inv := gt.Expect[wamp.Invocation](callee)
	if inv.Details["ppt_scheme"] != "x_custom" || inv.Details["ppt_serializer"] != "cbor" || string(inv.Args[0].([]byte)) != string(blob) {
		t.Fatalf("invocation %+v", inv)
	}
	callee.Send(&wamp.Yield{Request: inv.Request, Options: ppt, Payload: wamp.Payload{Args: wamp.List{blob}}})
	res := gt.Expect[wamp.Result](caller)
	if res.Details["ppt_scheme"] != "x_custom" || string(res.Args[0].([]byte)) != string(blob) {
		t.Fatalf("result %+v", res)
	}
	caller.Send(&wamp.Call{Request: 2, Options: ppt, Procedure: "com.plain", Payload: wamp.Payload{Args: wamp.List{blob}}})
	if e := gt.Expect[wamp.Error](caller); e.Error != wamp.ErrFeatureNotSupported {
		t.Fatalf("ppt to a callee without the feature: %+v", e)
	}
	// Publish: ppt keys reach the EVENT details, payload untouched.
	sub, _ := gt.Join(t, r, "realm1", transports.MsgPack)
	subscribe(t, sub, 1, "com.enc", wamp.Dict{})
	caller.Send(&wamp.Publish{Request: 3, Options: ppt, Topic: "com.enc", Payload: wamp.Payload{Args: wamp.List{blob}}})
	ev := gt.Expect[wamp.Event](sub)
	if ev.Details["ppt_scheme"] != "x_custom" || string(ev.Args[0].([]byte)) != string(blob) {
		t.Fatalf("event %+v", ev)
	}
}
