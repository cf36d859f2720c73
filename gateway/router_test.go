package gateway_test

import (
	"bytes"
	"context"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway"
	gt "github.com/wampgate/wampgate/gateway/gatewaytest"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/inproc"
)

var serializers = []transports.Serializer{transports.JSON, transports.MsgPack, transports.CBOR}

func TestWelcomeAnnouncesRolesAndIdentity(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	_, w := gt.Join(t, r, "realm1", transports.JSON)
	if w.Session < 1 || w.Session > wamp.MaxID {
		t.Fatalf("session ID %d out of range", w.Session)
	}
	for _, role := range []string{"broker", "dealer"} {
		roles, _ := w.Details["roles"].(map[string]any)
		rd, _ := roles[role].(map[string]any)
		if _, ok := rd["features"].(map[string]any); !ok {
			t.Fatalf("WELCOME role %s has no features dict: %v", role, w.Details)
		}
	}
	for _, k := range []string{"authid", "authrole", "authmethod", "authprovider"} {
		if s, _ := w.Details[k].(string); s == "" {
			t.Errorf("WELCOME.Details.%s missing", k)
		}
	}
	if w.Details["authmethod"] != "anonymous" || w.Details["realm"] != "realm1" {
		t.Errorf("details = %v", w.Details)
	}
}

func TestJoinRefusals(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	cases := []struct {
		name   string
		msg    wamp.Message
		reason string
	}{
		{"unknown realm", &wamp.Hello{Realm: "nope", Details: wamp.Dict{"roles": gt.ClientRoles()}}, wamp.ErrNoSuchRealm},
		{"not hello", &wamp.Subscribe{Request: 1, Options: wamp.Dict{}, Topic: "a"}, wamp.ErrProtocolViolation},
		{"no roles", &wamp.Hello{Realm: "realm1", Details: wamp.Dict{}}, wamp.ErrProtocolViolation},
		{"ticket only", &wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": gt.ClientRoles(), "authmethods": []any{"ticket"}, "authid": "x"}}, wamp.ErrNoAuthMethod},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := gt.Connect(t, r, transports.JSON)
			p.Send(c.msg)
			a := gt.Expect[wamp.Abort](p)
			if a.Reason != c.reason {
				t.Fatalf("ABORT reason %q, want %q", a.Reason, c.reason)
			}
			if msg, _ := a.Details["message"].(string); msg == "" {
				t.Errorf("ABORT without a message")
			}
			p.ExpectClosed()
		})
	}
}

func TestPubSubEveryCodecPair(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	for _, ps := range serializers {
		for _, ss := range serializers {
			t.Run(ps.String()+"->"+ss.String(), func(t *testing.T) {
				sub, _ := gt.Join(t, r, "realm1", ss)
				pub, _ := gt.Join(t, r, "realm1", ps)
				sub.Send(&wamp.Subscribe{Request: 1, Options: wamp.Dict{}, Topic: "com.example.topic"})
				sd := gt.Expect[wamp.Subscribed](sub)
				args := wamp.List{int64(1) << 53, int64(math.MaxInt64), "text", []byte{0, 1, 2, 255}, 1.5, true, nil}
				kwargs := wamp.Dict{"nested": map[string]any{"list": []any{int64(-7)}}}
				pub.Send(&wamp.Publish{Request: 1, Options: wamp.Dict{"acknowledge": true}, Topic: "com.example.topic",
					Payload: wamp.Payload{Args: args, Kwargs: kwargs}})
				pd := gt.Expect[wamp.Published](pub)
				ev := gt.Expect[wamp.Event](sub)
				if ev.Subscription != sd.Subscription || ev.Publication != pd.Publication {
					t.Fatalf("event ids %d/%d, want %d/%d", ev.Subscription, ev.Publication, sd.Subscription, pd.Publication)
				}
				if !reflect.DeepEqual(ev.Args, args) || !reflect.DeepEqual(ev.Kwargs, kwargs) {
					t.Fatalf("payload changed:\n got %#v %#v\nwant %#v %#v", ev.Args, ev.Kwargs, args, kwargs)
				}
			})
		}
	}
}

func TestPublisherExclusionAndAcknowledge(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	p, _ := gt.Join(t, r, "realm1", transports.JSON)
	p.Send(&wamp.Subscribe{Request: 1, Options: wamp.Dict{}, Topic: "t"})
	gt.Expect[wamp.Subscribed](p)
	// Default: the publisher does not get its own event, and no ack.
	p.Send(&wamp.Publish{Request: 2, Options: wamp.Dict{}, Topic: "t"})
	p.ExpectSilence(50 * time.Millisecond)
	p.Send(&wamp.Publish{Request: 3, Options: wamp.Dict{"exclude_me": false}, Topic: "t", Payload: wamp.Payload{Args: wamp.List{"self"}}})
	ev := gt.Expect[wamp.Event](p)
	if ev.Args[0] != "self" {
		t.Fatalf("event args %v", ev.Args)
	}
	// Invalid topic: silent without acknowledge, ERROR with it.
	p.Send(&wamp.Publish{Request: 4, Options: wamp.Dict{}, Topic: "bad..topic"})
	p.Send(&wamp.Publish{Request: 5, Options: wamp.Dict{"acknowledge": true}, Topic: "bad topic"})
	e := gt.Expect[wamp.Error](p)
	if e.RequestType != wamp.TypePublish || e.Request != 5 || e.Error != wamp.ErrInvalidURI {
		t.Fatalf("error = %+v", e)
	}
}

func TestUnsubscribe(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	sub, _ := gt.Join(t, r, "realm1", transports.CBOR)
	pub, _ := gt.Join(t, r, "realm1", transports.JSON)
	sub.Send(&wamp.Subscribe{Request: 1, Options: wamp.Dict{}, Topic: "t"})
	sd := gt.Expect[wamp.Subscribed](sub)
	sub.Send(&wamp.Unsubscribe{Request: 2, Subscription: sd.Subscription})
	if u := gt.Expect[wamp.Unsubscribed](sub); u.Request != 2 {
		t.Fatalf("unsubscribed request %d", u.Request)
	}
	sub.Send(&wamp.Unsubscribe{Request: 3, Subscription: sd.Subscription})
	if e := gt.Expect[wamp.Error](sub); e.Error != wamp.ErrNoSuchSubscription || e.RequestType != wamp.TypeUnsubscribe {
		t.Fatalf("error = %+v", e)
	}
	pub.Send(&wamp.Publish{Request: 1, Options: wamp.Dict{"acknowledge": true}, Topic: "t"})
	gt.Expect[wamp.Published](pub)
	sub.ExpectSilence(50 * time.Millisecond)
}

func TestRPCEveryCodecPair(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	for _, cs := range serializers {
		for _, es := range serializers {
			t.Run(cs.String()+"->"+es.String(), func(t *testing.T) {
				callee, _ := gt.Join(t, r, "realm1", es)
				caller, _ := gt.Join(t, r, "realm1", cs)
				proc := "com.example.echo." + cs.String() + es.String()
				callee.Send(&wamp.Register{Request: 1, Options: wamp.Dict{}, Procedure: proc})
				reg := gt.Expect[wamp.Registered](callee)
				args := wamp.List{uint64(math.MaxUint64), int64(math.MinInt64), []byte("\x00bin\xff"), "s"}
				caller.Send(&wamp.Call{Request: 7, Options: wamp.Dict{}, Procedure: proc, Payload: wamp.Payload{Args: args, Kwargs: wamp.Dict{"k": "v"}}})
				inv := gt.Expect[wamp.Invocation](callee)
				if inv.Registration != reg.Registration || !reflect.DeepEqual(inv.Args, args) {
					t.Fatalf("invocation %+v", inv)
				}
				callee.Send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}, Payload: wamp.Payload{Args: inv.Args, Kwargs: inv.Kwargs}})
				res := gt.Expect[wamp.Result](caller)
				if res.Request != 7 || !reflect.DeepEqual(res.Args, args) || res.Kwargs["k"] != "v" {
					t.Fatalf("result %+v", res)
				}
				// A callee error reaches the caller with its args and kwargs.
				caller.Send(&wamp.Call{Request: 8, Options: wamp.Dict{}, Procedure: proc})
				inv = gt.Expect[wamp.Invocation](callee)
				callee.Send(&wamp.Error{RequestType: wamp.TypeInvocation, Request: inv.Request, Details: wamp.Dict{},
					Error: "com.example.error.bad", Payload: wamp.Payload{Args: wamp.List{"why"}, Kwargs: wamp.Dict{"code": int64(42)}}})
				e := gt.Expect[wamp.Error](caller)
				if e.RequestType != wamp.TypeCall || e.Request != 8 || e.Error != "com.example.error.bad" ||
					e.Args[0] != "why" || e.Kwargs["code"] != int64(42) {
					t.Fatalf("error %+v", e)
				}
			})
		}
	}
}

func TestRPCErrors(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	a, _ := gt.Join(t, r, "realm1", transports.JSON)
	b, _ := gt.Join(t, r, "realm1", transports.JSON)
	a.Send(&wamp.Call{Request: 1, Options: wamp.Dict{}, Procedure: "com.none"})
	if e := gt.Expect[wamp.Error](a); e.Error != wamp.ErrNoSuchProcedure || e.Request != 1 {
		t.Fatalf("error %+v", e)
	}
	a.Send(&wamp.Call{Request: 2, Options: wamp.Dict{}, Procedure: "com..bad"})
	if e := gt.Expect[wamp.Error](a); e.Error != wamp.ErrInvalidURI {
		t.Fatalf("error %+v", e)
	}
	a.Send(&wamp.Register{Request: 3, Options: wamp.Dict{}, Procedure: "com.p"})
	reg := gt.Expect[wamp.Registered](a)
	b.Send(&wamp.Register{Request: 1, Options: wamp.Dict{}, Procedure: "com.p"})
	if e := gt.Expect[wamp.Error](b); e.Error != wamp.ErrProcedureAlreadyExists || e.RequestType != wamp.TypeRegister {
		t.Fatalf("error %+v", e)
	}
	b.Send(&wamp.Register{Request: 2, Options: wamp.Dict{}, Procedure: "wamp.session.count"})
	if e := gt.Expect[wamp.Error](b); e.Error != wamp.ErrInvalidURI {
		t.Fatalf("reserved register error %+v", e)
	}
	b.Send(&wamp.Unregister{Request: 3, Registration: reg.Registration})
	if e := gt.Expect[wamp.Error](b); e.Error != wamp.ErrNoSuchRegistration {
		t.Fatalf("foreign unregister error %+v", e)
	}
	a.Send(&wamp.Unregister{Request: 4, Registration: reg.Registration})
	gt.Expect[wamp.Unregistered](a)
	b.Send(&wamp.Call{Request: 4, Options: wamp.Dict{}, Procedure: "com.p"})
	if e := gt.Expect[wamp.Error](b); e.Error != wamp.ErrNoSuchProcedure {
		t.Fatalf("call after unregister %+v", e)
	}
}

func TestCalleeLeavesPendingCallsFail(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	callee, _ := gt.Join(t, r, "realm1", transports.CBOR)
	caller, _ := gt.Join(t, r, "realm1", transports.JSON)
	callee.Send(&wamp.Register{Request: 1, Options: wamp.Dict{}, Procedure: "com.slow"})
	gt.Expect[wamp.Registered](callee)
	caller.Send(&wamp.Call{Request: 1, Options: wamp.Dict{}, Procedure: "com.slow"})
	caller.Send(&wamp.Call{Request: 2, Options: wamp.Dict{}, Procedure: "com.slow"})
	gt.Expect[wamp.Invocation](callee)
	gt.Expect[wamp.Invocation](callee)
	callee.Conn.Close()
	got := map[wamp.ID]string{}
	for range 2 {
		e := gt.Expect[wamp.Error](caller)
		got[e.Request] = e.Error
	}
	if got[1] != wamp.ErrCanceled || got[2] != wamp.ErrCanceled {
		t.Fatalf("errors %v", got)
	}
	caller.Send(&wamp.Call{Request: 3, Options: wamp.Dict{}, Procedure: "com.slow"})
	if e := gt.Expect[wamp.Error](caller); e.Error != wamp.ErrNoSuchProcedure {
		t.Fatalf("registration survived the callee: %+v", e)
	}
}

func TestRealmsAreIsolated(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{Realms: []gateway.RealmConfig{{Name: "realm1"}, {Name: "realm2"}}})
	a, _ := gt.Join(t, r, "realm1", transports.JSON)
	b, _ := gt.Join(t, r, "realm2", transports.JSON)
	b.Send(&wamp.Subscribe{Request: 1, Options: wamp.Dict{}, Topic: "t"})
	gt.Expect[wamp.Subscribed](b)
	b.Send(&wamp.Register{Request: 2, Options: wamp.Dict{}, Procedure: "p"})
	gt.Expect[wamp.Registered](b)
	a.Send(&wamp.Publish{Request: 1, Options: wamp.Dict{"acknowledge": true}, Topic: "t"})
	gt.Expect[wamp.Published](a)
	a.Send(&wamp.Call{Request: 2, Options: wamp.Dict{}, Procedure: "p"})
	if e := gt.Expect[wamp.Error](a); e.Error != wamp.ErrNoSuchProcedure {
		t.Fatalf("cross-realm call: %+v", e)
	}
	b.ExpectSilence(50 * time.Millisecond)
}

func TestProtocolViolations(t *testing.T) {
	cases := []struct {
		name string
		send func(p *gt.Peer)
	}{
		{"malformed bytes", func(p *gt.Peer) { p.SendRaw([]byte("[16, 1, {")) }},
		{"not a list", func(p *gt.Peer) { p.SendRaw([]byte(`{"a":1}`)) }},
		{"unknown type", func(p *gt.Peer) { p.SendRaw([]byte(`[999, 1]`)) }},
		{"wrong element type", func(p *gt.Peer) { p.SendRaw([]byte(`[16, "x", {}, "t"]`)) }},
		{"hello twice", func(p *gt.Peer) { p.Send(&wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": gt.ClientRoles()}}) }},
		{"router message", func(p *gt.Peer) { p.Send(&wamp.Welcome{Session: 1, Details: wamp.Dict{}}) }},
		{"error for call", func(p *gt.Peer) {
			p.Send(&wamp.Error{RequestType: wamp.TypeCall, Request: 1, Details: wamp.Dict{}, Error: "x.y"})
		}},
	}
	r := gt.NewRouter(t, gateway.Config{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, _ := gt.Join(t, r, "realm1", transports.JSON)
			before := r.Stats().Closed["protocol_violation"]
			c.send(p)
			a := gt.Expect[wamp.Abort](p)
			if a.Reason != wamp.ErrProtocolViolation {
				t.Fatalf("reason %q", a.Reason)
			}
			p.ExpectClosed()
			gt.Eventually(t, "violation counted", func() bool { return r.Stats().Closed["protocol_violation"] > before })
		})
	}
	st := r.Stats()
	if st.Violations["malformed"] == 0 || st.Violations["unexpected_message"] == 0 || st.Violations["bad_error_type"] == 0 {
		t.Fatalf("violations not counted by reason: %v", st.Violations)
	}
}

func TestGoodbyeHandshake(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	p, _ := gt.Join(t, r, "realm1", transports.MsgPack)
	p.Send(&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseNormal})
	g := gt.Expect[wamp.Goodbye](p)
	if g.Reason != wamp.CloseGoodbyeAndOut {
		t.Fatalf("goodbye reason %q", g.Reason)
	}
	p.ExpectClosed()
}

func TestHandshakeTimeout(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{HandshakeTimeout: 50 * time.Millisecond})
	p := gt.Connect(t, r, transports.JSON)
	p.ExpectClosed()
	gt.Eventually(t, "handshake timeout counted", func() bool { return r.Stats().Closed["handshake_timeout"] == 1 })
}

func TestShutdownSaysGoodbye(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	peers := []*gt.Peer{}
	for _, s := range serializers {
		p, _ := gt.Join(t, r, "realm1", s)
		peers = append(peers, p)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), gt.Timeout)
		defer cancel()
		done <- r.Shutdown(ctx)
	}()
	for _, p := range peers {
		g := gt.Expect[wamp.Goodbye](p)
		if g.Reason != wamp.CloseSystemShutdown {
			t.Fatalf("goodbye reason %q", g.Reason)
		}
		p.Send(&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseGoodbyeAndOut})
		p.ExpectClosed()
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	// New connections are refused at once, before HELLO.
	p := gt.Connect(t, r, transports.JSON)
	if a := gt.Expect[wamp.Abort](p); a.Reason != wamp.CloseSystemShutdown {
		t.Fatalf("abort reason %q", a.Reason)
	}
}

// stalledConn never reads what the router writes, like a peer that stopped
// reading its socket: Write blocks until Close.
type stalledConn struct {
	transports.Conn
	closed chan struct{}
}

func (c *stalledConn) Write([][]byte) error {
	<-c.closed
	return transports.ErrClosed
}

func (c *stalledConn) Close() error {
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	return c.Conn.Close()
}

func TestSlowConsumerIsDisconnected(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{OutQueueBytes: 4096})
	client, server := inproc.Pipe(transports.JSON)
	slow := &stalledConn{Conn: server, closed: make(chan struct{})}
	r.Serve(slow)
	sp := gt.NewPeer(t, client)
	sp.Send(&wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": gt.ClientRoles()}})
	sp.Send(&wamp.Subscribe{Request: 1, Options: wamp.Dict{}, Topic: "t"})
	gt.Eventually(t, "slow subscriber joined", func() bool { return r.SessionCount() == 1 })

	pub, _ := gt.Join(t, r, "realm1", transports.JSON)
	fast, _ := gt.Join(t, r, "realm1", transports.CBOR)
	fast.Send(&wamp.Subscribe{Request: 1, Options: wamp.Dict{}, Topic: "t"})
	gt.Expect[wamp.Subscribed](fast)
	payload := bytes.Repeat([]byte("x"), 512)
	for i := 1; i <= 64; i++ {
		pub.Send(&wamp.Publish{Request: wamp.ID(i), Options: wamp.Dict{"acknowledge": true}, Topic: "t", Payload: wamp.Payload{Args: wamp.List{string(payload)}}})
		gt.Expect[wamp.Published](pub)
		gt.Expect[wamp.Event](fast)
	}
	gt.Eventually(t, "slow consumer closed", func() bool { return r.Stats().Closed["slow_consumer"] == 1 })
	sp.ExpectClosed()
}

func TestExclusionLists(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	pub, _ := gt.Join(t, r, "realm1", transports.JSON)
	s1, w1 := gt.Join(t, r, "realm1", transports.JSON)
	s2, w2 := gt.Join(t, r, "realm1", transports.JSON)
	for _, s := range []*gt.Peer{s1, s2} {
		s.Send(&wamp.Subscribe{Request: 1, Options: wamp.Dict{}, Topic: "t"})
		gt.Expect[wamp.Subscribed](s)
	}
	pub.Send(&wamp.Publish{Request: 1, Options: wamp.Dict{"exclude": []any{int64(w1.Session)}}, Topic: "t", Payload: wamp.Payload{Args: wamp.List{"one"}}})
	if ev := gt.Expect[wamp.Event](s2); ev.Args[0] != "one" {
		t.Fatal("s2 should get the event")
	}
	pub.Send(&wamp.Publish{Request: 2, Options: wamp.Dict{"eligible": []any{int64(w1.Session)}}, Topic: "t", Payload: wamp.Payload{Args: wamp.List{"two"}}})
	if ev := gt.Expect[wamp.Event](s1); ev.Args[0] != "two" {
		t.Fatalf("s1 got %v first, want only event two", ev.Args)
	}
	s2.ExpectSilence(50 * time.Millisecond)
	_ = w2
}

// smallConn is a peer that accepts at most 512-byte messages, like a
// microcontroller on a serial line.
type smallConn struct{ transports.Conn }

func (smallConn) MaxOutgoing() int { return 512 }

func TestCompactWelcomeForSmallPeers(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	client, server := inproc.Pipe(transports.CBOR)
	r.Serve(smallConn{server})
	p := gt.NewPeer(t, client)
	p.Send(&wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": gt.ClientRoles()}})
	w := gt.Expect[wamp.Welcome](p)
	b, _ := p.Codec.Encode(w)
	if len(b) > 512 || w.Details["authrole"] == nil || !wamp.HasRole(w.Details, "dealer") {
		t.Fatalf("welcome of %d bytes: %v", len(b), w.Details)
	}
	register(t, p, 1, "dev.add", wamp.Dict{}) // the session works
}
