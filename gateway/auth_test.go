package gateway_test

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway"
	"github.com/wampgate/wampgate/gateway/auth"
	"github.com/wampgate/wampgate/gateway/client"
	gt "github.com/wampgate/wampgate/gateway/gatewaytest"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/inproc"
)

// iotRealm is a realm with users of every method and role-based rules.
func iotRealm(t *testing.T, pub ed25519.PublicKey, rules map[string][]auth.Rule, anonymous string) gateway.RealmConfig {
	t.Helper()
	authn, err := auth.NewAuthenticator(auth.Realm{
		Name:          "iot",
		AnonymousRole: anonymous,
		Users: []auth.User{
			{AuthID: "svc-ticket", Role: "backend", Ticket: "s3cret"},
			{AuthID: "svc-cra", Role: "backend", CRA: &auth.CRA{Secret: "cra-secret"}},
			{AuthID: "svc-key", Role: "backend", CryptosignKeys: []ed25519.PublicKey{pub}},
			{AuthID: "dev1", Role: "device", Ticket: "devpass"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rules == nil {
		rules = map[string][]auth.Rule{
			"backend": {
				{URI: "", Match: "prefix", Allow: []string{"call", "subscribe", "publish"}},
				{URI: "admin.", Match: "prefix", Deny: []string{"call"}},
			},
			"device": {{URI: "dev.", Match: "prefix", Allow: []string{"register", "publish", "subscribe", "call"}}},
			"public": {{URI: "", Match: "prefix", Allow: []string{"subscribe"}}},
		}
	}
	authz, err := auth.NewAuthorizer(rules)
	if err != nil {
		t.Fatal(err)
	}
	return gateway.RealmConfig{Name: "iot", Auth: authn, Authorizer: authz}
}

func hello(authid string, methods ...string) *wamp.Hello {
	m := []any{}
	for _, s := range methods {
		m = append(m, s)
	}
	d := wamp.Dict{"roles": gt.ClientRoles(), "authmethods": m}
	if authid != "" {
		d["authid"] = authid
	}
	return &wamp.Hello{Realm: "iot", Details: d}
}

func joinTicket(t *testing.T, r *gt.Router, authid, ticket string) (*gt.Peer, wamp.Message) {
	t.Helper()
	p := gt.Connect(t, r, transports.JSON)
	p.Send(hello(authid, "ticket"))
	ch := gt.Expect[wamp.Challenge](p)
	if ch.AuthMethod != "ticket" {
		t.Fatalf("challenge %+v", ch)
	}
	p.Send(&wamp.Authenticate{Signature: ticket, Extra: wamp.Dict{}})
	return p, p.Recv()
}

func TestAuthenticationMethods(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	r := gt.NewRouter(t, gateway.Config{Realms: []gateway.RealmConfig{iotRealm(t, pub, nil, "")}})

	t.Run("ticket", func(t *testing.T) {
		_, m := joinTicket(t, r, "svc-ticket", "s3cret")
		w, ok := m.(*wamp.Welcome)
		if !ok || w.Details["authid"] != "svc-ticket" || w.Details["authrole"] != "backend" || w.Details["authmethod"] != "ticket" || w.Details["authprovider"] == "" {
			t.Fatalf("got %+v", m)
		}
	})
	t.Run("bad ticket and unknown authid look the same", func(t *testing.T) {
		var reasons []string
		for _, c := range [][2]string{{"svc-ticket", "wrong"}, {"nobody", "s3cret"}} {
			p, m := joinTicket(t, r, c[0], c[1])
			a, ok := m.(*wamp.Abort)
			if !ok {
				t.Fatalf("got %+v, want ABORT", m)
			}
			reasons = append(reasons, a.Reason+"|"+a.Details["message"].(string))
			p.ExpectClosed()
		}
		if reasons[0] != reasons[1] || reasons[0][:len(wamp.ErrAuthenticationFailed)] != wamp.ErrAuthenticationFailed {
			t.Fatalf("replies differ or wrong reason: %q", reasons)
		}
	})
	t.Run("wampcra", func(t *testing.T) {
		p := gt.Connect(t, r, transports.CBOR)
		p.Send(hello("svc-cra", "wampcra"))
		ch := gt.Expect[wamp.Challenge](p)
		challenge, _ := ch.Extra["challenge"].(string)
		mac := hmac.New(sha256.New, []byte("cra-secret"))
		mac.Write([]byte(challenge))
		p.Send(&wamp.Authenticate{Signature: base64.StdEncoding.EncodeToString(mac.Sum(nil)), Extra: wamp.Dict{}})
		w := gt.Expect[wamp.Welcome](p)
		if w.Details["authmethod"] != "wampcra" {
			t.Fatalf("welcome %+v", w.Details)
		}
	})
	t.Run("cryptosign", func(t *testing.T) {
		p := gt.Connect(t, r, transports.MsgPack)
		h := hello("svc-key", "cryptosign")
		h.Details["authextra"] = map[string]any{"pubkey": hex.EncodeToString(pub)}
		p.Send(h)
		ch := gt.Expect[wamp.Challenge](p)
		msg, _ := hex.DecodeString(ch.Extra["challenge"].(string))
		sig := ed25519.Sign(priv, msg)
		p.Send(&wamp.Authenticate{Signature: hex.EncodeToString(sig) + hex.EncodeToString(msg), Extra: wamp.Dict{}})
		if w := gt.Expect[wamp.Welcome](p); w.Details["authid"] != "svc-key" {
			t.Fatalf("welcome %+v", w.Details)
		}
	})
	t.Run("anonymous refused", func(t *testing.T) {
		p := gt.Connect(t, r, transports.JSON)
		p.Send(&wamp.Hello{Realm: "iot", Details: wamp.Dict{"roles": gt.ClientRoles()}})
		if a := gt.Expect[wamp.Abort](p); a.Reason != wamp.ErrNoAuthMethod {
			t.Fatalf("abort %+v", a)
		}
	})
	t.Run("abort instead of authenticate", func(t *testing.T) {
		p := gt.Connect(t, r, transports.JSON)
		p.Send(hello("svc-ticket", "ticket"))
		gt.Expect[wamp.Challenge](p)
		p.Send(&wamp.Abort{Details: wamp.Dict{}, Reason: "wamp.error.cannot_authenticate"})
		p.ExpectClosed()
	})
	if r.Stats().AuthFailures < 2 {
		t.Fatalf("auth failures not counted: %+v", r.Stats())
	}
}

func TestAuthorization(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	r := gt.NewRouter(t, gateway.Config{Realms: []gateway.RealmConfig{iotRealm(t, pub, nil, "public")}})
	dev, m := joinTicket(t, r, "dev1", "devpass")
	if _, ok := m.(*wamp.Welcome); !ok {
		t.Fatalf("device join: %+v", m)
	}
	svc, m := joinTicket(t, r, "svc-ticket", "s3cret")
	if _, ok := m.(*wamp.Welcome); !ok {
		t.Fatalf("backend join: %+v", m)
	}
	anon, _ := func() (*gt.Peer, *wamp.Welcome) {
		p := gt.Connect(t, r, transports.JSON)
		p.Send(&wamp.Hello{Realm: "iot", Details: wamp.Dict{"roles": gt.ClientRoles()}})
		return p, gt.Expect[wamp.Welcome](p)
	}()

	register(t, dev, 1, "dev.pump.set", wamp.Dict{})
	// Denied actions get ERROR not_authorized and the session stays usable.
	dev.Send(&wamp.Register{Request: 2, Options: wamp.Dict{}, Procedure: "admin.reset"})
	if e := gt.Expect[wamp.Error](dev); e.Error != wamp.ErrNotAuthorized {
		t.Fatalf("register outside dev.: %+v", e)
	}
	svc.Send(&wamp.Register{Request: 1, Options: wamp.Dict{}, Procedure: "svc.x"})
	if e := gt.Expect[wamp.Error](svc); e.Error != wamp.ErrNotAuthorized {
		t.Fatalf("backend register: %+v", e)
	}
	svc.Send(&wamp.Call{Request: 2, Options: wamp.Dict{}, Procedure: "admin.reset"})
	if e := gt.Expect[wamp.Error](svc); e.Error != wamp.ErrNotAuthorized {
		t.Fatalf("deny rule on admin.: %+v", e)
	}
	svc.Send(&wamp.Call{Request: 3, Options: wamp.Dict{}, Procedure: "dev.pump.set", Payload: wamp.Payload{Args: wamp.List{true}}})
	inv := gt.Expect[wamp.Invocation](dev)
	dev.Send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}})
	gt.Expect[wamp.Result](svc)
	// Meta procedures are subject to the same rules.
	anon.Send(&wamp.Call{Request: 1, Options: wamp.Dict{}, Procedure: "wamp.session.list"})
	if e := gt.Expect[wamp.Error](anon); e.Error != wamp.ErrNotAuthorized {
		t.Fatalf("anonymous meta call: %+v", e)
	}
	// Delivery checks: the device may read dev.* only, even with a pattern
	// subscription that matches more.
	// A pattern subscription is checked on its pattern: "everything" is
	// not within dev.*, so it is refused.
	dev.Send(&wamp.Subscribe{Request: 3, Options: wamp.Dict{"match": "prefix"}, Topic: ""})
	if e := gt.Expect[wamp.Error](dev); e.Error != wamp.ErrNotAuthorized {
		t.Fatalf("prefix subscription to everything: %+v", e)
	}
	subscribe(t, dev, 4, "dev.", wamp.Dict{"match": "prefix"})
	dev.Send(&wamp.Subscribe{Request: 5, Options: wamp.Dict{}, Topic: "svc.news"})
	if e := gt.Expect[wamp.Error](dev); e.Error != wamp.ErrNotAuthorized {
		t.Fatalf("subscribe outside dev.: %+v", e)
	}
	svc.Send(&wamp.Publish{Request: 4, Options: wamp.Dict{"acknowledge": true}, Topic: "svc.news"})
	gt.Expect[wamp.Published](svc)
	svc.Send(&wamp.Publish{Request: 5, Options: wamp.Dict{"acknowledge": true}, Topic: "dev.pump.cmd"})
	gt.Expect[wamp.Published](svc)
	if ev := gt.Expect[wamp.Event](dev); ev.Details["topic"] != "dev.pump.cmd" {
		t.Fatalf("device got %+v, want only dev.pump.cmd", ev)
	}
	anon.Send(&wamp.Publish{Request: 2, Options: wamp.Dict{"acknowledge": true}, Topic: "dev.x"})
	if e := gt.Expect[wamp.Error](anon); e.Error != wamp.ErrNotAuthorized {
		t.Fatalf("anonymous publish: %+v", e)
	}
	if r.Stats().Denied < 5 {
		t.Fatalf("denials not counted: %d", r.Stats().Denied)
	}
}

func TestReloadKeepsAllowedSessions(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	r := gt.NewRouter(t, gateway.Config{Realms: []gateway.RealmConfig{iotRealm(t, pub, nil, "public"), {Name: "realm1"}}})
	dev, _ := joinTicket(t, r, "dev1", "devpass")
	svc, _ := joinTicket(t, r, "svc-ticket", "s3cret")
	other, _ := gt.Join(t, r, "realm1", transports.JSON)
	subscribe(t, dev, 1, "dev.status", wamp.Dict{})
	subscribe(t, svc, 1, "dev.status", wamp.Dict{})

	// New rules: the device role is gone, backend may no longer read dev.*.
	rules := map[string][]auth.Rule{
		"backend": {
			{URI: "", Match: "prefix", Allow: []string{"call", "subscribe", "publish"}},
			{URI: "dev.", Match: "prefix", Deny: []string{"subscribe"}},
		},
		"public": {{URI: "", Match: "prefix", Allow: []string{"subscribe"}}},
	}
	rc := iotRealm(t, pub, rules, "public")
	if err := r.Reload([]gateway.RealmConfig{rc, {Name: "realm1"}}); err != nil {
		t.Fatal(err)
	}
	if g := gt.Expect[wamp.Goodbye](dev); g.Reason != wamp.CloseKilled {
		t.Fatalf("device goodbye %+v", g)
	}
	svc.Send(&wamp.Publish{Request: 1, Options: wamp.Dict{"acknowledge": true, "exclude_me": false}, Topic: "dev.status"})
	gt.Expect[wamp.Published](svc) // still connected, but no longer reads dev.*
	svc.ExpectSilence(30 * time.Millisecond)
	other.Send(&wamp.Call{Request: 1, Options: wamp.Dict{}, Procedure: "wamp.session.count"})
	gt.Expect[wamp.Result](other)

	// Dropping realm1 closes its sessions and refuses new joins.
	if err := r.Reload([]gateway.RealmConfig{rc}); err != nil {
		t.Fatal(err)
	}
	gt.Expect[wamp.Goodbye](other)
	p := gt.Connect(t, r, transports.JSON)
	p.Send(&wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": gt.ClientRoles()}})
	if a := gt.Expect[wamp.Abort](p); a.Reason != wamp.ErrNoSuchRealm {
		t.Fatalf("join removed realm: %+v", a)
	}
	if err := r.Reload([]gateway.RealmConfig{rc, rc}); err == nil {
		t.Fatal("duplicate realms accepted by Reload")
	}
}

func TestSessionAndRateLimits(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{Realms: []gateway.RealmConfig{{Name: "realm1", MaxSessions: 1,
		PublishRate: gateway.Rate{PerSecond: 0.001, Burst: 2}, CallRate: gateway.Rate{PerSecond: 0.001, Burst: 1}}}})
	p, _ := gt.Join(t, r, "realm1", transports.JSON)
	second := gt.Connect(t, r, transports.JSON)
	second.Send(&wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": gt.ClientRoles()}})
	if a := gt.Expect[wamp.Abort](second); a.Reason != gateway.ErrLimitExceeded {
		t.Fatalf("over the session limit: %+v", a)
	}
	for i := 1; i <= 2; i++ {
		p.Send(&wamp.Publish{Request: wamp.ID(i), Options: wamp.Dict{"acknowledge": true}, Topic: "t"})
		gt.Expect[wamp.Published](p)
	}
	p.Send(&wamp.Publish{Request: 3, Options: wamp.Dict{"acknowledge": true}, Topic: "t"})
	if e := gt.Expect[wamp.Error](p); e.Error != gateway.ErrRateLimited {
		t.Fatalf("publish over rate: %+v", e)
	}
	p.Send(&wamp.Call{Request: 4, Options: wamp.Dict{}, Procedure: "wamp.session.count"})
	gt.Expect[wamp.Result](p)
	p.Send(&wamp.Call{Request: 5, Options: wamp.Dict{}, Procedure: "wamp.session.count"})
	if e := gt.Expect[wamp.Error](p); e.Error != gateway.ErrRateLimited {
		t.Fatalf("call over rate: %+v", e)
	}
	st := r.Stats()
	if st.RateLimited != 2 || st.Closed["limit_exceeded"] != 1 {
		t.Fatalf("limits not counted: rate=%d closed=%v", st.RateLimited, st.Closed)
	}
}

// presetConn is a transport that established its peer's identity itself,
// like a configured serial device port.
type presetConn struct{ transports.Conn }

func (c presetConn) Info() transports.Info {
	i := c.Conn.Info()
	i.AuthID, i.AuthRole = "pump1", "device"
	return i
}

func TestTransportIdentity(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	r := gt.NewRouter(t, gateway.Config{Realms: []gateway.RealmConfig{iotRealm(t, pub, nil, "")}})
	client, server := inproc.Pipe(transports.CBOR)
	r.Serve(presetConn{server})
	p := gt.NewPeer(t, client)
	p.Send(&wamp.Hello{Realm: "iot", Details: wamp.Dict{"roles": gt.ClientRoles()}})
	w := gt.Expect[wamp.Welcome](p)
	if w.Details["authid"] != "pump1" || w.Details["authrole"] != "device" || w.Details["authmethod"] != "port" {
		t.Fatalf("welcome %+v", w.Details)
	}
	register(t, p, 1, "dev.pump1.get", wamp.Dict{})
}

// deviceConn is a device port: forced realm, port identity, URI prefix.
type deviceConn struct{ transports.Conn }

func (c deviceConn) Info() transports.Info {
	i := c.Conn.Info()
	i.AuthID, i.AuthRole, i.Realm, i.URIPrefix = "pump2", "device", "iot", "dev.pump2."
	return i
}

func TestDevicePrefixAndForcedRealm(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	r := gt.NewRouter(t, gateway.Config{Realms: []gateway.RealmConfig{iotRealm(t, pub, nil, ""), {Name: "realm1"}}})
	client, server := inproc.Pipe(transports.CBOR)
	r.Serve(deviceConn{server})
	dev := gt.NewPeer(t, client)
	dev.Send(&wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": gt.ClientRoles()}}) // realm is overridden
	if w := gt.Expect[wamp.Welcome](dev); w.Details["realm"] != "iot" {
		t.Fatalf("welcome %+v", w.Details)
	}
	register(t, dev, 1, "set", wamp.Dict{})            // becomes dev.pump2.set
	subscribe(t, dev, 2, "dev.broadcast", wamp.Dict{}) // absolute: unchanged
	svc, _ := joinTicket(t, r, "svc-ticket", "s3cret")
	svc.Send(&wamp.Call{Request: 1, Options: wamp.Dict{}, Procedure: "dev.pump2.set", Payload: wamp.Payload{Args: wamp.List{int64(7)}}})
	inv := gt.Expect[wamp.Invocation](dev)
	dev.Send(&wamp.Yield{Request: inv.Request, Options: wamp.Dict{}, Payload: wamp.Payload{Args: inv.Args}})
	if res := gt.Expect[wamp.Result](svc); res.Args[0] != int64(7) {
		t.Fatalf("result %+v", res)
	}
	svc.Send(&wamp.Publish{Request: 2, Options: wamp.Dict{}, Topic: "dev.broadcast"})
	gt.Expect[wamp.Event](dev)
}

// TestClientCredentialsAgainstRouter joins with the client package's
// credential helpers, so client signing and router verification agree.
func TestClientCredentialsAgainstRouter(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	authn, err := auth.NewAuthenticator(auth.Realm{Name: "iot", Users: []auth.User{
		{AuthID: "salted", Role: "backend", CRA: &auth.CRA{Secret: "pw", Salt: "salt123", Iterations: 1000, KeyLen: 32}},
		{AuthID: "plain", Role: "backend", CRA: &auth.CRA{Secret: "pw2"}},
		{AuthID: "key", Role: "backend", CryptosignKeys: []ed25519.PublicKey{pub}},
		{AuthID: "tix", Role: "backend", Ticket: "t"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	r := gt.NewRouter(t, gateway.Config{Realms: []gateway.RealmConfig{{Name: "iot", Auth: authn}}})
	cases := map[string]client.Options{
		"salted wampcra":            client.WithWAMPCRA(client.Options{}, "salted", "pw"),
		"plain wampcra":             client.WithWAMPCRA(client.Options{}, "plain", "pw2"),
		"cryptosign without authid": client.WithCryptosign(client.Options{}, "", priv),
		"ticket":                    client.WithTicket(client.Options{}, "tix", "t"),
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			c, s := inproc.Pipe(transports.CBOR)
			r.Serve(s)
			ctx, cancel := context.WithTimeout(context.Background(), gt.Timeout)
			defer cancel()
			sess, err := client.Join(ctx, c, "iot", opts)
			if err != nil {
				t.Fatalf("join: %v", err)
			}
			defer sess.Close()
			if sess.Details()["authrole"] != "backend" {
				t.Fatalf("details %v", sess.Details())
			}
		})
	}
	c, s := inproc.Pipe(transports.JSON)
	r.Serve(s)
	ctx, cancel := context.WithTimeout(context.Background(), gt.Timeout)
	defer cancel()
	if _, err := client.Join(ctx, c, "iot", client.WithWAMPCRA(client.Options{}, "salted", "wrong")); err == nil {
		t.Fatal("wrong salted secret accepted")
	}
}

func TestRealmMessageAndQueueLimits(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{Realms: []gateway.RealmConfig{{Name: "realm1", MaxMessage: 256, OutQueueBytes: 4096}}})
	p, _ := gt.Join(t, r, "realm1", transports.JSON)
	p.Send(&wamp.Publish{Request: 1, Options: wamp.Dict{"acknowledge": true}, Topic: "t", Payload: wamp.Payload{Args: wamp.List{"small"}}})
	gt.Expect[wamp.Published](p)
	big := make([]byte, 300)
	for i := range big {
		big[i] = 'x'
	}
	p.Send(&wamp.Publish{Request: 2, Options: wamp.Dict{}, Topic: "t", Payload: wamp.Payload{Args: wamp.List{string(big)}}})
	if a := gt.Expect[wamp.Abort](p); a.Reason != wamp.ErrProtocolViolation {
		t.Fatalf("abort %+v", a)
	}
	p.ExpectClosed()
	gt.Eventually(t, "too_big counted", func() bool { return r.Stats().Violations["too_big"] == 1 })
}

// queueConn is a connection from a listener with its own queue budget.
type queueConn struct{ transports.Conn }

func (c queueConn) Info() transports.Info {
	i := c.Conn.Info()
	i.OutQueue = 2048
	return i
}

func TestListenerOutQueue(t *testing.T) {
	r := gt.NewRouter(t, gateway.Config{})
	client, server := inproc.Pipe(transports.JSON)
	slow := &stalledConn{Conn: queueConn{server}, closed: make(chan struct{})}
	r.Serve(slow)
	sp := gt.NewPeer(t, client)
	sp.Send(&wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": gt.ClientRoles()}})
	sp.Send(&wamp.Subscribe{Request: 1, Options: wamp.Dict{}, Topic: "t"})
	gt.Eventually(t, "subscriber joined", func() bool { return r.SessionCount() == 1 })
	pub, _ := gt.Join(t, r, "realm1", transports.JSON)
	// 2 KiB from the listener, not the router's 1 MiB default: a handful of
	// 512-byte events is enough to close the stalled subscriber.
	for i := 1; i <= 16; i++ {
		pub.Send(&wamp.Publish{Request: wamp.ID(i), Options: wamp.Dict{"acknowledge": true}, Topic: "t", Payload: wamp.Payload{Args: wamp.List{strings.Repeat("x", 512)}}})
		gt.Expect[wamp.Published](pub)
	}
	gt.Eventually(t, "slow consumer closed", func() bool { return r.Stats().Closed["slow_consumer"] == 1 })
}
