package gateway_test

import (
	"slices"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway"
	gt "github.com/wampgate/wampgate/gateway/gatewaytest"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/inproc"
)

// metaCall calls a meta procedure and returns the RESULT or ERROR.
func metaCall(t *testing.T, p *gt.Peer, req wamp.ID, proc string, args wamp.List, kwargs wamp.Dict) wamp.Message {
	t.Helper()
	p.Send(&wamp.Call{Request: req, Options: wamp.Dict{}, Procedure: proc, Payload: wamp.Payload{Args: args, Kwargs: kwargs}})
	return p.Recv()
}

func result(t *testing.T, m wamp.Message) *wamp.Result {
	t.Helper()
	r, ok := m.(*wamp.Result)
	if !ok {
		t.Fatalf("got %s %+v, want RESULT", m.MessageType(), m)
	}
	return r
}

func errorURI(t *testing.T, m wamp.Message) string {
	t.Helper()
	e, ok := m.(*wamp.Error)
	if !ok {
		t.Fatalf("got %s %+v, want ERROR", m.MessageType(), m)
	}
	return e.Error
}

func asID(v any) wamp.ID {
	n, _ := wamp.AsUint(v)
	return wamp.ID(n)
}

func subscribe(t *testing.T, p *gt.Peer, req wamp.ID, topic string, opts wamp.Dict) wamp.ID {
	t.Helper()
	p.Send(&wamp.Subscribe{Request: req, Options: opts, Topic: topic})
	return gt.Expect[wamp.Subscribed](p).Subscription
}

func TestSessionMetaAPI(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	admin, wa := gt.Join(t, r, "realm1", transports.JSON)
	subscribe(t, admin, 1, "wamp.session.on_join", wamp.Dict{})
	subscribe(t, admin, 2, "wamp.session.on_leave", wamp.Dict{})
	other, wo := gt.Join(t, r, "realm1", transports.CBOR)
	ev := gt.Expect[wamp.Event](admin)
	details, _ := ev.Args[0].(map[string]any)
	if asID(details["session"]) != wo.Session || details["authrole"] != "anonymous" || details["authmethod"] != "anonymous" {
		t.Fatalf("on_join details %v", details)
	}

	if n := result(t, metaCall(t, admin, 10, "wamp.session.count", nil, nil)).Args[0]; n != int64(2) {
		t.Fatalf("count = %v", n)
	}
	if n := result(t, metaCall(t, admin, 11, "wamp.session.count", wamp.List{[]any{"nobody"}}, nil)).Args[0]; n != int64(0) {
		t.Fatalf("filtered count = %v", n)
	}
	ids, _ := result(t, metaCall(t, admin, 12, "wamp.session.list", nil, nil)).Args[0].([]any)
	got := []wamp.ID{asID(ids[0]), asID(ids[1])}
	if !slices.Contains(got, wa.Session) || !slices.Contains(got, wo.Session) {
		t.Fatalf("list = %v", ids)
	}
	gd, _ := result(t, metaCall(t, admin, 13, "wamp.session.get", wamp.List{int64(wo.Session)}, nil)).Args[0].(map[string]any)
	if tr, _ := gd["transport"].(map[string]any); tr["serializer"] != "cbor" {
		t.Fatalf("get = %v", gd)
	}
	if u := errorURI(t, metaCall(t, admin, 14, "wamp.session.get", wamp.List{int64(12345)}, nil)); u != wamp.ErrNoSuchSession {
		t.Fatalf("get unknown: %s", u)
	}
	// Misuse: unknown session, own session, bad reason.
	if u := errorURI(t, metaCall(t, admin, 15, "wamp.session.kill", wamp.List{int64(999)}, nil)); u != wamp.ErrNoSuchSession {
		t.Fatalf("kill unknown: %s", u)
	}
	if u := errorURI(t, metaCall(t, admin, 16, "wamp.session.kill", wamp.List{int64(wa.Session)}, nil)); u != wamp.ErrNoSuchSession {
		t.Fatalf("kill self: %s", u)
	}
	if u := errorURI(t, metaCall(t, admin, 17, "wamp.session.kill", wamp.List{int64(wo.Session)}, wamp.Dict{"reason": "not a uri"})); u != wamp.ErrInvalidURI {
		t.Fatalf("kill bad reason: %s", u)
	}
	result(t, metaCall(t, admin, 18, "wamp.session.kill", wamp.List{int64(wo.Session)}, wamp.Dict{"reason": "com.example.bye", "message": "maintenance"}))
	g := gt.Expect[wamp.Goodbye](other)
	if g.Reason != "com.example.bye" || g.Details["message"] != "maintenance" {
		t.Fatalf("killed goodbye %+v", g)
	}
	other.Send(&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseGoodbyeAndOut})
	leave := gt.Expect[wamp.Event](admin)
	if asID(leave.Args[0]) != wo.Session || len(leave.Args) != 3 {
		t.Fatalf("on_leave args %v", leave.Args)
	}
	if u := errorURI(t, metaCall(t, admin, 19, "wamp.session.nonexistent", nil, nil)); u != wamp.ErrNoSuchProcedure {
		t.Fatalf("unknown meta procedure: %s", u)
	}
}

func TestKillByAuthAndKillAll(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	admin, _ := gt.Join(t, r, "realm1", transports.JSON)
	subscribe(t, admin, 1, "wamp.session.on_leave", wamp.Dict{})
	a, wa := gt.Join(t, r, "realm1", transports.JSON)
	b, _ := gt.Join(t, r, "realm1", transports.JSON)
	authid := ""
	{
		gd, _ := result(t, metaCall(t, admin, 2, "wamp.session.get", wamp.List{int64(wa.Session)}, nil)).Args[0].(map[string]any)
		authid, _ = gd["authid"].(string)
	}
	killed, _ := result(t, metaCall(t, admin, 3, "wamp.session.kill_by_authid", wamp.List{authid}, nil)).Args[0].([]any)
	if len(killed) != 1 || asID(killed[0]) != wa.Session {
		t.Fatalf("kill_by_authid = %v", killed)
	}
	if g := gt.Expect[wamp.Goodbye](a); g.Reason != wamp.CloseKilled {
		t.Fatalf("reason %q", g.Reason)
	}
	a.Conn.Close()
	gt.Expect[wamp.Event](admin) // on_leave for a
	n := result(t, metaCall(t, admin, 4, "wamp.session.kill_all", nil, nil)).Args[0]
	if n != int64(1) {
		t.Fatalf("kill_all = %v", n)
	}
	gt.Expect[wamp.Goodbye](b)
	b.Conn.Close()
	admin.ExpectSilence(50 * time.Millisecond) // kill_all publishes no on_leave
	if n := result(t, metaCall(t, admin, 5, "wamp.session.kill_by_authrole", wamp.List{"anonymous"}, nil)).Args[0]; n != int64(0) {
		t.Fatalf("kill_by_authrole after kill_all = %v (the caller is never killed)", n)
	}
}

func TestRegistrationMetaAPI(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	admin, _ := gt.Join(t, r, "realm1", transports.JSON)
	callee, wc := gt.Join(t, r, "realm1", transports.JSON)
	for i, topic := range []string{"wamp.registration.on_create", "wamp.registration.on_register", "wamp.registration.on_unregister", "wamp.registration.on_delete"} {
		subscribe(t, admin, wamp.ID(i+1), topic, wamp.Dict{})
	}
	regID := register(t, callee, 1, "com.dev.", wamp.Dict{"match": "prefix", "invoke": "roundrobin"})
	create := gt.Expect[wamp.Event](admin)
	rd, _ := create.Args[1].(map[string]any)
	if asID(create.Args[0]) != wc.Session || asID(rd["id"]) != regID || rd["match"] != "prefix" || rd["invoke"] != "roundrobin" || rd["created"] == "" {
		t.Fatalf("on_create %v", create.Args)
	}
	if ev := gt.Expect[wamp.Event](admin); asID(ev.Args[1]) != regID {
		t.Fatalf("on_register %v", ev.Args)
	}
	lists, _ := result(t, metaCall(t, admin, 10, "wamp.registration.list", nil, nil)).Args[0].(map[string]any)
	if p, _ := lists["prefix"].([]any); len(p) != 1 || asID(p[0]) != regID {
		t.Fatalf("list %v", lists)
	}
	if id := result(t, metaCall(t, admin, 11, "wamp.registration.lookup", wamp.List{"com.dev.", map[string]any{"match": "prefix"}}, nil)).Args[0]; asID(id) != regID {
		t.Fatalf("lookup %v", id)
	}
	if id := result(t, metaCall(t, admin, 12, "wamp.registration.lookup", wamp.List{"com.dev."}, nil)).Args[0]; id != nil {
		t.Fatalf("exact lookup of a prefix registration = %v, want null", id)
	}
	if id := result(t, metaCall(t, admin, 13, "wamp.registration.match", wamp.List{"com.dev.x.y"}, nil)).Args[0]; asID(id) != regID {
		t.Fatalf("match %v", id)
	}
	if c := result(t, metaCall(t, admin, 14, "wamp.registration.count_callees", wamp.List{int64(regID)}, nil)).Args[0]; c != int64(1) {
		t.Fatalf("count_callees %v", c)
	}
	callees, _ := result(t, metaCall(t, admin, 15, "wamp.registration.list_callees", wamp.List{int64(regID)}, nil)).Args[0].([]any)
	if len(callees) != 1 || asID(callees[0]) != wc.Session {
		t.Fatalf("list_callees %v", callees)
	}
	if u := errorURI(t, metaCall(t, admin, 16, "wamp.registration.get", wamp.List{int64(regID + 100)}, nil)); u != wamp.ErrNoSuchRegistration {
		t.Fatalf("get unknown: %s", u)
	}
	callee.Conn.Close() // leaving removes the registration
	for _, want := range []string{"unregister", "delete"} {
		ev := gt.Expect[wamp.Event](admin)
		if asID(ev.Args[1]) != regID {
			t.Fatalf("on_%s %v", want, ev.Args)
		}
	}
}

func TestSubscriptionMetaAPI(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	admin, _ := gt.Join(t, r, "realm1", transports.JSON)
	s1, w1 := gt.Join(t, r, "realm1", transports.JSON)
	s2, _ := gt.Join(t, r, "realm1", transports.JSON)
	subscribe(t, admin, 1, "wamp.subscription.", wamp.Dict{"match": "prefix"})
	// The admin's own subscription is announced too.
	for _, want := range []string{"wamp.subscription.on_create", "wamp.subscription.on_subscribe"} {
		if ev := gt.Expect[wamp.Event](admin); ev.Details["topic"] != want {
			t.Fatalf("own subscription: got %v, want %s", ev.Details["topic"], want)
		}
	}
	id := subscribe(t, s1, 1, "sensors..temp", wamp.Dict{"match": "wildcard"})
	on := gt.Expect[wamp.Event](admin)
	if on.Details["topic"] != "wamp.subscription.on_create" || asID(on.Args[0]) != w1.Session {
		t.Fatalf("on_create %+v", on)
	}
	if on = gt.Expect[wamp.Event](admin); on.Details["topic"] != "wamp.subscription.on_subscribe" {
		t.Fatalf("on_subscribe %+v", on)
	}
	if id2 := subscribe(t, s2, 1, "sensors..temp", wamp.Dict{"match": "wildcard"}); id2 != id {
		t.Fatalf("same topic and policy must share the subscription: %d vs %d", id, id2)
	}
	if on = gt.Expect[wamp.Event](admin); on.Details["topic"] != "wamp.subscription.on_subscribe" {
		t.Fatalf("second subscriber: %+v", on)
	}
	if c := result(t, metaCall(t, admin, 10, "wamp.subscription.count_subscribers", wamp.List{int64(id)}, nil)).Args[0]; c != int64(2) {
		t.Fatalf("count_subscribers %v", c)
	}
	matches, _ := result(t, metaCall(t, admin, 11, "wamp.subscription.match", wamp.List{"sensors.kitchen.temp"}, nil)).Args[0].([]any)
	if len(matches) != 1 || asID(matches[0]) != id {
		t.Fatalf("match %v", matches)
	}
	if m := result(t, metaCall(t, admin, 12, "wamp.subscription.match", wamp.List{"nothing"}, nil)).Args[0]; m != nil {
		t.Fatalf("match without subscriptions = %v, want null", m)
	}
	sd, _ := result(t, metaCall(t, admin, 13, "wamp.subscription.get", wamp.List{int64(id)}, nil)).Args[0].(map[string]any)
	if sd["uri"] != "sensors..temp" || sd["match"] != "wildcard" {
		t.Fatalf("get %v", sd)
	}
	if u := errorURI(t, metaCall(t, admin, 14, "wamp.subscription.list_subscribers", wamp.List{int64(9999)}, nil)); u != wamp.ErrNoSuchSubscription {
		t.Fatalf("unknown: %s", u)
	}
}

func TestTestaments(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	watcher, _ := gt.Join(t, r, "realm1", transports.JSON)
	subscribe(t, watcher, 1, "com.dev.gone", wamp.Dict{})
	for _, goodbye := range []bool{false, true} {
		dev, _ := gt.Join(t, r, "realm1", transports.CBOR)
		result(t, metaCall(t, dev, 1, "wamp.session.add_testament", wamp.List{"com.dev.gone", []any{"pump1"}, map[string]any{"why": "lost"}}, nil))
		result(t, metaCall(t, dev, 2, "wamp.session.add_testament", wamp.List{"com.dev.flushed", []any{}}, nil))
		if u := errorURI(t, metaCall(t, dev, 3, "wamp.session.add_testament", wamp.List{"com.x"}, wamp.Dict{"scope": "forever"})); u != wamp.ErrInvalidArgument {
			t.Fatalf("bad scope: %s", u)
		}
		if goodbye {
			dev.Send(&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseNormal})
		} else {
			dev.Conn.Close()
		}
		ev := gt.Expect[wamp.Event](watcher)
		if ev.Args[0] != "pump1" || ev.Kwargs["why"] != "lost" {
			t.Fatalf("testament event %+v", ev)
		}
	}
	dev, _ := gt.Join(t, r, "realm1", transports.JSON)
	result(t, metaCall(t, dev, 1, "wamp.session.add_testament", wamp.List{"com.dev.gone", []any{"x"}}, nil))
	result(t, metaCall(t, dev, 2, "wamp.session.flush_testaments", nil, nil))
	dev.Conn.Close()
	watcher.ExpectSilence(50 * time.Millisecond)
}

func TestEventRetention(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	pub, _ := gt.Join(t, r, "realm1", transports.JSON)
	pub.Send(&wamp.Publish{Request: 1, Options: wamp.Dict{"retain": true}, Topic: "home.temp", Payload: wamp.Payload{Args: wamp.List{20.5}}})
	pub.Send(&wamp.Publish{Request: 2, Options: wamp.Dict{"retain": true, "acknowledge": true}, Topic: "home.temp", Payload: wamp.Payload{Args: wamp.List{21.5}}})
	pd := gt.Expect[wamp.Published](pub)
	sub, _ := gt.Join(t, r, "realm1", transports.CBOR)
	subscribe(t, sub, 1, "home.temp", wamp.Dict{"get_retained": true})
	ev := gt.Expect[wamp.Event](sub)
	if ev.Details["retained"] != true || ev.Args[0] != 21.5 || ev.Publication != pd.Publication {
		t.Fatalf("retained event %+v", ev)
	}
	subscribe(t, sub, 2, "home.", wamp.Dict{"match": "prefix", "get_retained": true})
	if ev := gt.Expect[wamp.Event](sub); ev.Details["topic"] != "home.temp" {
		t.Fatalf("retained pattern event %+v", ev)
	}
	late, _ := gt.Join(t, r, "realm1", transports.JSON)
	subscribe(t, late, 1, "home.temp", wamp.Dict{})
	late.ExpectSilence(30 * time.Millisecond) // only with get_retained
	// Whitelists apply to retained events too.
	pub.Send(&wamp.Publish{Request: 3, Options: wamp.Dict{"retain": true, "eligible": []any{int64(1)}}, Topic: "home.secret"})
	subscribe(t, late, 2, "home.secret", wamp.Dict{"get_retained": true})
	late.ExpectSilence(30 * time.Millisecond)
}

// trustedConn is an in-process session of the gateway itself.
type trustedConn struct{ transports.Conn }

func (c trustedConn) Info() transports.Info {
	i := c.Conn.Info()
	i.Trusted, i.AuthID, i.AuthRole = true, "wampgate", "wampgate.system"
	return i
}

func TestTrustedSessionsAreInvisible(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	admin, _ := gt.Join(t, r, "realm1", transports.JSON)
	subscribe(t, admin, 1, "wamp.session.on_join", wamp.Dict{})
	client, server := inproc.Pipe(transports.CBOR)
	r.Serve(trustedConn{server})
	internal := gt.NewPeer(t, client)
	internal.Send(&wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": gt.ClientRoles()}})
	w := gt.Expect[wamp.Welcome](internal)
	admin.ExpectSilence(30 * time.Millisecond) // no on_join
	if n := result(t, metaCall(t, admin, 2, "wamp.session.count", nil, nil)).Args[0]; n != int64(1) {
		t.Fatalf("count = %v, want only the admin", n)
	}
	if u := errorURI(t, metaCall(t, admin, 3, "wamp.session.kill", wamp.List{int64(w.Session)}, nil)); u != wamp.ErrNoSuchSession {
		t.Fatalf("kill internal: %s", u)
	}
	result(t, metaCall(t, admin, 4, "wamp.session.kill_all", nil, nil))
	register(t, internal, 1, "wampgate.device.list", wamp.Dict{}) // still alive
}
