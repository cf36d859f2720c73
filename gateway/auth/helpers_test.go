package auth_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway/auth"
	"github.com/wampgate/wampgate/gateway/wamp"
)

// hello builds a HELLO; a nil methods slice leaves authmethods out.
func hello(methods []any, authid string, extra map[string]any) *wamp.Hello {
	d := wamp.Dict{"roles": wamp.Dict{"caller": wamp.Dict{}}}
	if methods != nil {
		d["authmethods"] = methods
	}
	if authid != "" {
		d["authid"] = authid
	}
	if extra != nil {
		d["authextra"] = extra
	}
	return &wamp.Hello{Realm: "realm1", Details: d}
}

func methods(m ...string) []any {
	l := make([]any, len(m))
	for i, s := range m {
		l[i] = s
	}
	return l
}

func newAuth(t testing.TB, r auth.Realm) *auth.Authenticator {
	t.Helper()
	if r.Name == "" {
		r.Name = "realm1"
	}
	a, err := auth.NewAuthenticator(r)
	if err != nil {
		t.Fatalf("NewAuthenticator: %v", err)
	}
	return a
}

func begin(t testing.TB, a *auth.Authenticator, h *wamp.Hello, tr auth.Transport) *auth.Exchange {
	t.Helper()
	x, err := a.Begin(h, 4242, tr)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	if x == nil {
		t.Fatal("Begin returned neither exchange nor error")
	}
	return x
}

// beginChallenge asserts that Begin produced a challenge for method.
func beginChallenge(t testing.TB, a *auth.Authenticator, h *wamp.Hello, tr auth.Transport, method string) (*auth.Exchange, *wamp.Challenge) {
	t.Helper()
	x := begin(t, a, h, tr)
	ch := x.Challenge()
	if ch == nil {
		t.Fatalf("no challenge; identity %+v", x.Identity())
	}
	if x.Identity() != nil {
		t.Fatal("exchange with a challenge already has an identity")
	}
	if ch.AuthMethod != method || x.Method() != method {
		t.Fatalf("challenge method %q / exchange method %q, want %q", ch.AuthMethod, x.Method(), method)
	}
	return x, ch
}

// authErr asserts err is an *auth.Error with the given URI.
func authErr(t testing.TB, err error, uri string) *auth.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", uri)
	}
	var e *auth.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not *auth.Error", err, err)
	}
	if e.URI != uri {
		t.Fatalf("error URI %q (%v), want %q", e.URI, err, uri)
	}
	if e.Message == "" {
		t.Fatalf("error %v has no message", err)
	}
	return e
}

// verifyFails asserts that Verify fails with authentication_failed and
// returns the error.
func verifyFails(t testing.TB, x *auth.Exchange, sig string) *auth.Error {
	t.Helper()
	id, err := x.Verify(&wamp.Authenticate{Signature: sig, Extra: wamp.Dict{}})
	if id != nil {
		t.Fatalf("Verify(%q) granted %+v", sig, id)
	}
	return authErr(t, err, wamp.ErrAuthenticationFailed)
}

func verifyOK(t testing.TB, x *auth.Exchange, sig string) *auth.Identity {
	t.Helper()
	id, err := x.Verify(&wamp.Authenticate{Signature: sig, Extra: wamp.Dict{}})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if id == nil {
		t.Fatal("Verify returned no identity and no error")
	}
	return id
}

func wantIdentity(t testing.TB, id *auth.Identity, authid, role, method, provider string) {
	t.Helper()
	if id == nil {
		t.Fatal("nil identity")
	}
	if id.AuthID != authid || id.AuthRole != role || id.AuthMethod != method || id.AuthProvider != provider {
		t.Fatalf("identity %+v, want authid=%q role=%q method=%q provider=%q", id, authid, role, method, provider)
	}
}

// sameFailure asserts two failures look identical to the peer.
func sameFailure(t testing.TB, a, b *auth.Error) {
	t.Helper()
	if a.URI != b.URI || a.Message != b.Message || a.Error() != b.Error() {
		t.Fatalf("failures differ: %q vs %q", a.Error(), b.Error())
	}
}

func contains(t testing.TB, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Fatalf("%q does not contain %q", s, sub)
	}
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
