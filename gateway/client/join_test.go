package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
)

func TestJoinWelcome(t *testing.T) {
	conn, r := newFakeRouter(t, transports.JSON)
	res := async(func() joinResult {
		s, err := client.Join(context.Background(), conn, "realm1", client.Options{
			AuthID: "alice", AuthMethods: []string{"ticket", "anonymous"}, AuthExtra: wamp.Dict{"k": "v"}, Agent: "test-agent",
		})
		return joinResult{s, err}
	})
	hello := expect[*wamp.Hello](r)
	equal(t, "realm", hello.Realm, "realm1")
	equal(t, "agent", hello.Details["agent"], "test-agent")
	equal(t, "authid", hello.Details["authid"], "alice")
	equal(t, "authmethods", hello.Details["authmethods"], wamp.List{"ticket", "anonymous"})
	equal(t, "authextra", hello.Details["authextra"], wamp.Dict{"k": "v"})
	want := map[string][]string{
		"caller": {"progressive_call_results", "call_canceling", "call_timeout", "caller_identification"},
		"callee": {"progressive_call_results", "call_canceling", "call_timeout", "caller_identification",
			"pattern_based_registration", "shared_registration"},
		"publisher":  {"publisher_exclusion", "subscriber_blackwhite_listing", "publisher_identification"},
		"subscriber": {"pattern_based_subscription", "publisher_identification"},
	}
	for role, features := range want {
		if !wamp.HasRole(hello.Details, role) {
			t.Errorf("HELLO lacks role %s", role)
		}
		for _, f := range features {
			if !wamp.HasFeature(hello.Details, role, f) {
				t.Errorf("HELLO role %s lacks feature %s", role, f)
			}
		}
	}
	details := routerDetails("call_canceling")
	r.send(&wamp.Welcome{Session: 77, Details: details})
	jr := await(t, res)
	if jr.err != nil {
		t.Fatal(jr.err)
	}
	s := jr.s
	defer func() { s.Close(); waitDone(t, s) }()
	equal(t, "ID", s.ID(), wamp.ID(77))
	equal(t, "Realm", s.Realm(), "realm1")
	equal(t, "Details", s.Details()["authrole"], "anonymous")
	if s.Err() != nil {
		t.Errorf("Err = %v on a live session", s.Err())
	}
}

func TestJoinDefaultsOmitAuth(t *testing.T) {
	conn, r := newFakeRouter(t, transports.CBOR)
	res := async(func() joinResult {
		s, err := client.Join(context.Background(), conn, "realm1", client.Options{})
		return joinResult{s, err}
	})
	hello := expect[*wamp.Hello](r)
	equal(t, "agent", hello.Details["agent"], client.DefaultAgent)
	for _, k := range []string{"authid", "authmethods", "authextra"} {
		if _, ok := hello.Details[k]; ok {
			t.Errorf("HELLO has %s without auth options", k)
		}
	}
	r.send(&wamp.Abort{Details: wamp.Dict{}, Reason: wamp.ErrNoSuchRealm})
	if jr := await(t, res); jr.err == nil {
		jr.s.Close()
		t.Fatal("Join succeeded after ABORT")
	}
}

func TestJoinAbort(t *testing.T) {
	conn, r := newFakeRouter(t, transports.MsgPack)
	res := async(func() joinResult {
		s, err := client.Join(context.Background(), conn, "nope", client.Options{})
		return joinResult{s, err}
	})
	expect[*wamp.Hello](r)
	r.send(&wamp.Abort{
		Details: wamp.Dict{"message": "no realm nope"},
		Reason:  wamp.ErrNoSuchRealm,
		Payload: wamp.Payload{Args: wamp.List{"realm nope does not exist"}, Kwargs: wamp.Dict{"realm": "nope"}},
	})
	jr := await(t, res)
	if jr.s != nil {
		t.Fatal("Join returned a session after ABORT")
	}
	var e *client.Error
	if !errors.As(jr.err, &e) {
		t.Fatalf("error %v (%T) is not a *client.Error", jr.err, jr.err)
	}
	equal(t, "URI", e.URI, wamp.ErrNoSuchRealm)
	equal(t, "Args", e.Args, wamp.List{"realm nope does not exist"})
	equal(t, "Kwargs", e.Kwargs, wamp.Dict{"realm": "nope"})
	equal(t, "Details", e.Details, wamp.Dict{"message": "no realm nope"})
	equal(t, "Error()", e.Error(), "client: wamp.error.no_such_realm: realm nope does not exist")
	wantErrorIs(t, jr.err, &client.Error{URI: wamp.ErrNoSuchRealm})
	r.expectClosed()
}

func TestJoinChallenge(t *testing.T) {
	conn, r := newFakeRouter(t, transports.JSON)
	var got *wamp.Challenge
	res := async(func() joinResult {
		s, err := client.Join(context.Background(), conn, "realm1", client.Options{
			AuthID: "bob", AuthMethods: []string{"ticket"},
			OnChallenge: func(ctx context.Context, c *wamp.Challenge) (string, wamp.Dict, error) {
				got = c
				return "secret-ticket", wamp.Dict{"x": int64(1)}, nil
			},
		})
		return joinResult{s, err}
	})
	expect[*wamp.Hello](r)
	r.send(&wamp.Challenge{AuthMethod: "ticket", Extra: wamp.Dict{"nonce": "abc"}})
	auth := expect[*wamp.Authenticate](r)
	equal(t, "signature", auth.Signature, "secret-ticket")
	equal(t, "extra", auth.Extra, wamp.Dict{"x": int64(1)})
	r.send(&wamp.Welcome{Session: 5, Details: routerDetails()})
	jr := await(t, res)
	if jr.err != nil {
		t.Fatal(jr.err)
	}
	defer func() { jr.s.Close(); waitDone(t, jr.s) }()
	equal(t, "challenge method", got.AuthMethod, "ticket")
	equal(t, "challenge extra", got.Extra, wamp.Dict{"nonce": "abc"})
}

func TestJoinChallengeFails(t *testing.T) {
	for _, tt := range []struct {
		name string
		cb   func(context.Context, *wamp.Challenge) (string, wamp.Dict, error)
	}{
		{"no handler", nil},
		{"handler error", func(context.Context, *wamp.Challenge) (string, wamp.Dict, error) {
			return "", nil, errors.New("no key")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn, r := newFakeRouter(t, transports.JSON)
			res := async(func() joinResult {
				s, err := client.Join(context.Background(), conn, "realm1", client.Options{OnChallenge: tt.cb})
				return joinResult{s, err}
			})
			expect[*wamp.Hello](r)
			r.send(&wamp.Challenge{AuthMethod: "wampcra", Extra: wamp.Dict{}})
			abort := expect[*wamp.Abort](r)
			equal(t, "abort reason", abort.Reason, client.ReasonCannotAuthenticate)
			jr := await(t, res)
			wantErrorIs(t, jr.err, client.ErrCannotAuthenticate)
			r.expectClosed()
		})
	}
}

func TestJoinUnexpectedMessage(t *testing.T) {
	conn, r := newFakeRouter(t, transports.JSON)
	res := async(func() joinResult {
		s, err := client.Join(context.Background(), conn, "realm1", client.Options{})
		return joinResult{s, err}
	})
	expect[*wamp.Hello](r)
	r.send(&wamp.Result{Request: 1, Details: wamp.Dict{}})
	abort := expect[*wamp.Abort](r)
	equal(t, "abort reason", abort.Reason, wamp.ErrProtocolViolation)
	wantErrorIs(t, await(t, res).err, client.ErrProtocolViolation)
}

func TestJoinTimeout(t *testing.T) {
	conn, r := newFakeRouter(t, transports.JSON)
	res := async(func() joinResult {
		s, err := client.Join(context.Background(), conn, "realm1", client.Options{JoinTimeout: 20 * time.Millisecond})
		return joinResult{s, err}
	})
	expect[*wamp.Hello](r) // and never answer
	wantErrorIs(t, await(t, res).err, context.DeadlineExceeded)
	r.expectClosed()
}

func TestJoinContextCanceled(t *testing.T) {
	conn, r := newFakeRouter(t, transports.JSON)
	ctx, cancel := context.WithCancel(context.Background())
	res := async(func() joinResult {
		s, err := client.Join(ctx, conn, "realm1", client.Options{})
		return joinResult{s, err}
	})
	expect[*wamp.Hello](r)
	cancel()
	wantErrorIs(t, await(t, res).err, context.Canceled)
	r.expectClosed()
}

func TestJoinTransportClosed(t *testing.T) {
	conn, r := newFakeRouter(t, transports.JSON)
	res := async(func() joinResult {
		s, err := client.Join(context.Background(), conn, "realm1", client.Options{})
		return joinResult{s, err}
	})
	expect[*wamp.Hello](r)
	r.conn.Close()
	wantErrorIs(t, await(t, res).err, client.ErrConnectionLost)
}
