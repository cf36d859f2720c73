package auth_test

import (
	"crypto/ed25519"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway/auth"
	"github.com/wampgate/wampgate/gateway/wamp"
)

const aliceTicket = "correct horse battery staple"

func mixedRealm() auth.Realm {
	return auth.Realm{
		Name:          "realm1",
		AnonymousRole: "guest",
		Provider:      "userdb",
		Users: []auth.User{
			{AuthID: "alice", Role: "user", Ticket: aliceTicket, CRA: &auth.CRA{Secret: "alice-secret"}},
			{AuthID: "bob", Role: "backend", Ticket: "bob-ticket"},
		},
	}
}

func TestAnonymousAllowed(t *testing.T) {
	a := newAuth(t, auth.Realm{AnonymousRole: "guest"})
	cases := map[string]*wamp.Hello{
		"absent":            hello(nil, "", nil),
		"null":              {Realm: "realm1", Details: wamp.Dict{"authmethods": nil}},
		"empty":             hello(methods(), "", nil),
		"explicit":          hello(methods("anonymous"), "", nil),
		"nil HELLO details": {Realm: "realm1"},
		"typed list":        {Realm: "realm1", Details: wamp.Dict{"authmethods": []string{"anonymous"}}},
	}
	seen := map[string]bool{}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			x := begin(t, a, h, auth.Transport{})
			if x.Challenge() != nil {
				t.Fatal("anonymous exchange has a challenge")
			}
			id := x.Identity()
			wantIdentity(t, id, id.AuthID, "guest", auth.MethodAnonymous, auth.DefaultProvider)
			if !strings.HasPrefix(id.AuthID, "anon-") || len(id.AuthID) < 10 {
				t.Fatalf("anonymous authid %q", id.AuthID)
			}
			if seen[id.AuthID] {
				t.Fatalf("authid %q handed out twice", id.AuthID)
			}
			seen[id.AuthID] = true
			// A done exchange takes no AUTHENTICATE.
			e := verifyFails(t, x, "")
			contains(t, e.Message, "no challenge")
		})
	}
}

func TestAnonymousRefused(t *testing.T) {
	a := newAuth(t, auth.Realm{Users: []auth.User{{AuthID: "bob", Role: "backend", Ticket: "t"}}})
	for name, h := range map[string]*wamp.Hello{
		"absent":   hello(nil, "", nil),
		"empty":    hello(methods(), "", nil),
		"explicit": hello(methods("anonymous"), "", nil),
	} {
		t.Run(name, func(t *testing.T) {
			x, err := a.Begin(h, 1, auth.Transport{})
			if x != nil {
				t.Fatalf("got exchange %+v", x.Identity())
			}
			e := authErr(t, err, wamp.ErrNoAuthMethod)
			contains(t, e.Message, "ticket") // says what the realm accepts
			if !errors.Is(err, auth.ErrNoAuthMethod) || errors.Is(err, auth.ErrAuthenticationFailed) {
				t.Fatalf("errors.Is mismatch for %v", err)
			}
		})
	}
}

func TestAuthMethodsNotAList(t *testing.T) {
	a := newAuth(t, mixedRealm())
	_, err := a.Begin(&wamp.Hello{Details: wamp.Dict{"authmethods": "ticket", "authid": "alice"}}, 1, auth.Transport{})
	authErr(t, err, wamp.ErrNoAuthMethod)
}

func TestAuthMethodOrder(t *testing.T) {
	a := newAuth(t, mixedRealm())
	tests := []struct {
		methods []any
		authid  string
		want    string // method, or "" for no_auth_method
	}{
		{methods("wampcra", "ticket"), "alice", auth.MethodWAMPCRA},
		{methods("ticket", "wampcra"), "alice", auth.MethodTicket},
		{methods("bogus", "ticket", "anonymous"), "alice", auth.MethodTicket},
		{methods("anonymous", "ticket"), "alice", auth.MethodAnonymous},
		{methods("cryptosign", "ticket"), "alice", auth.MethodTicket}, // realm has no cryptosign keys
		{methods("ticket", "anonymous"), "", auth.MethodAnonymous},    // ticket needs an authid
		{methods("ticket"), "", ""},
		{methods("wampcra"), "", ""},
		{methods("cryptosign"), "alice", ""},
		{methods("tls"), "alice", ""}, // no client certificate
		{methods("wamp-scram", "scram"), "alice", ""},
		{[]any{int64(1), nil, "ticket"}, "bob", auth.MethodTicket}, // junk entries are skipped
	}
	for _, tt := range tests {
		x, err := a.Begin(hello(tt.methods, tt.authid, nil), 7, auth.Transport{})
		if tt.want == "" {
			if x != nil {
				t.Errorf("%v/%q: got method %q, want no_auth_method", tt.methods, tt.authid, x.Method())
				continue
			}
			authErr(t, err, wamp.ErrNoAuthMethod)
			continue
		}
		if err != nil {
			t.Errorf("%v/%q: %v", tt.methods, tt.authid, err)
			continue
		}
		if x.Method() != tt.want {
			t.Errorf("%v/%q: method %q, want %q", tt.methods, tt.authid, x.Method(), tt.want)
		}
	}
}

func TestTicket(t *testing.T) {
	a := newAuth(t, mixedRealm())

	t.Run("correct", func(t *testing.T) {
		x, ch := beginChallenge(t, a, hello(methods("ticket"), "alice", nil), auth.Transport{}, auth.MethodTicket)
		if len(ch.Extra) != 0 || ch.Extra == nil {
			t.Fatalf("ticket challenge extra %v, want {}", ch.Extra)
		}
		id := verifyOK(t, x, aliceTicket)
		wantIdentity(t, id, "alice", "user", auth.MethodTicket, "userdb")
		if id.AuthExtra != nil {
			t.Fatalf("ticket authextra %v", id.AuthExtra)
		}
		d := id.Details()
		want := wamp.Dict{"authid": "alice", "authrole": "user", "authmethod": "ticket", "authprovider": "userdb"}
		if !reflect.DeepEqual(d, want) {
			t.Fatalf("Details %v, want %v", d, want)
		}
	})

	t.Run("other user's ticket", func(t *testing.T) {
		x, _ := beginChallenge(t, a, hello(methods("ticket"), "alice", nil), auth.Transport{}, auth.MethodTicket)
		verifyFails(t, x, "bob-ticket")
	})

	var wrong *auth.Error
	for _, sig := range []string{"", "correct horse battery", aliceTicket + " ", strings.ToUpper(aliceTicket), "\x00"} {
		x, _ := beginChallenge(t, a, hello(methods("ticket"), "alice", nil), auth.Transport{}, auth.MethodTicket)
		e := verifyFails(t, x, sig)
		if wrong == nil {
			wrong = e
		}
		sameFailure(t, wrong, e)
		if e.LogDetail != "wrong secret" {
			t.Fatalf("LogDetail %q", e.LogDetail)
		}
	}

	t.Run("unknown authid looks like a wrong ticket", func(t *testing.T) {
		xa, cha := beginChallenge(t, a, hello(methods("ticket"), "alice", nil), auth.Transport{}, auth.MethodTicket)
		xm, chm := beginChallenge(t, a, hello(methods("ticket"), "mallory", nil), auth.Transport{}, auth.MethodTicket)
		if !reflect.DeepEqual(cha, chm) {
			t.Fatalf("challenges differ: %v vs %v", cha, chm)
		}
		ea := verifyFails(t, xa, "guess")
		em := verifyFails(t, xm, aliceTicket)
		sameFailure(t, ea, em)
		if em.LogDetail != "unknown authid" {
			t.Fatalf("LogDetail %q", em.LogDetail)
		}
		if strings.Contains(em.Error(), "unknown") || strings.Contains(em.Error(), "mallory") {
			t.Fatalf("error text reveals the authid: %q", em.Error())
		}
	})

	t.Run("replay", func(t *testing.T) {
		x, _ := beginChallenge(t, a, hello(methods("ticket"), "alice", nil), auth.Transport{}, auth.MethodTicket)
		verifyOK(t, x, aliceTicket)
		e := verifyFails(t, x, aliceTicket)
		contains(t, e.Message, "already answered")
	})

	t.Run("replay after failure", func(t *testing.T) {
		x, _ := beginChallenge(t, a, hello(methods("ticket"), "alice", nil), auth.Transport{}, auth.MethodTicket)
		verifyFails(t, x, "guess 1")
		verifyFails(t, x, aliceTicket) // one try per challenge
	})

	t.Run("nil authenticate", func(t *testing.T) {
		x, _ := beginChallenge(t, a, hello(methods("ticket"), "alice", nil), auth.Transport{}, auth.MethodTicket)
		id, err := x.Verify(nil)
		if id != nil {
			t.Fatal("granted")
		}
		authErr(t, err, wamp.ErrAuthenticationFailed)
	})
}

// A realm-level choice: a known user without the chosen credential gets a
// challenge all the same, so that the choice never depends on the authid.
func TestMethodChoiceDoesNotDependOnAuthID(t *testing.T) {
	a := newAuth(t, mixedRealm())
	for _, authid := range []string{"alice", "bob", "nobody"} {
		x, _ := beginChallenge(t, a, hello(methods("wampcra", "ticket"), authid, nil), auth.Transport{}, auth.MethodWAMPCRA)
		verifyFails(t, x, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	}
}

func TestChallengeTimeout(t *testing.T) {
	a := newAuth(t, auth.Realm{ChallengeTimeout: 10 * time.Second, Users: []auth.User{{AuthID: "alice", Role: "user", Ticket: aliceTicket}}})
	c := newClock()
	a.SetClockForTest(c.Now)

	x, _ := beginChallenge(t, a, hello(methods("ticket"), "alice", nil), auth.Transport{}, auth.MethodTicket)
	c.Advance(10 * time.Second)
	verifyOK(t, x, aliceTicket)

	x, _ = beginChallenge(t, a, hello(methods("ticket"), "alice", nil), auth.Transport{}, auth.MethodTicket)
	c.Advance(10*time.Second + time.Millisecond)
	e := verifyFails(t, x, aliceTicket)
	contains(t, e.Message, "expired")
}

func TestVerifyRecordsInLimiter(t *testing.T) {
	lim := auth.NewLimiter(time.Second, time.Minute)
	r := mixedRealm()
	r.Limiter = lim
	a := newAuth(t, r)
	tr := auth.Transport{Peer: "192.0.2.7:4000"}

	for i := 1; i <= 3; i++ {
		x, _ := beginChallenge(t, a, hello(methods("ticket"), "nobody", nil), tr, auth.MethodTicket)
		verifyFails(t, x, "guess")
		if d := lim.Delay("192.0.2.7:5000"); d <= time.Duration(1<<(i-1))*time.Second-time.Second/2 {
			t.Fatalf("after %d failures Delay = %v", i, d)
		}
	}
	if d := lim.Delay("192.0.2.8:4000"); d != 0 {
		t.Fatalf("other peer delayed %v", d)
	}
	x, _ := beginChallenge(t, a, hello(methods("ticket"), "alice", nil), tr, auth.MethodTicket)
	verifyOK(t, x, aliceTicket)
	if d := lim.Delay(tr.Peer); d != 0 {
		t.Fatalf("Delay after success = %v", d)
	}
}

func TestConcurrentVerifyOnlyOneWins(t *testing.T) {
	a := newAuth(t, mixedRealm())
	x, _ := beginChallenge(t, a, hello(methods("ticket"), "alice", nil), auth.Transport{}, auth.MethodTicket)
	const n = 8
	var wg sync.WaitGroup
	results := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := x.Verify(&wamp.Authenticate{Signature: aliceTicket})
			results <- err
		})
	}
	wg.Wait()
	close(results)
	wins := 0
	for err := range results {
		if err == nil {
			wins++
		}
	}
	if wins != 1 {
		t.Fatalf("%d concurrent Verify calls succeeded, want 1", wins)
	}
}

func TestConcurrentHandshakes(t *testing.T) {
	a := newAuth(t, mixedRealm())
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Go(func() {
			h := hello(methods("ticket"), "alice", nil)
			want := aliceTicket
			if i%2 == 1 {
				h = hello(methods("ticket"), "bob", nil)
				want = "bob-ticket"
			}
			x, err := a.Begin(h, wamp.ID(i+1), auth.Transport{})
			if err != nil {
				errs <- err
				return
			}
			if _, err := x.Verify(&wamp.Authenticate{Signature: want}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestNewAuthenticatorValidation(t *testing.T) {
	key := ed25519.PublicKey(make([]byte, ed25519.PublicKeySize))
	tests := []struct {
		name string
		r    auth.Realm
		want string
	}{
		{"no name", auth.Realm{}, "realm name is empty"},
		{"empty authid", auth.Realm{Name: "r", Users: []auth.User{{Role: "x"}}}, "authid is empty"},
		{"duplicate authid", auth.Realm{Name: "r", Users: []auth.User{{AuthID: "a", Role: "x"}, {AuthID: "a", Role: "y"}}}, "duplicate authid"},
		{"empty role", auth.Realm{Name: "r", Users: []auth.User{{AuthID: "a"}}}, "role \"\" is empty"},
		{"spaced role", auth.Realm{Name: "r", Users: []auth.User{{AuthID: "a", Role: " x"}}}, "surrounding spaces"},
		{"spaced anonymous role", auth.Realm{Name: "r", AnonymousRole: "guest "}, "anonymous role"},
		{"empty cra secret", auth.Realm{Name: "r", Users: []auth.User{{AuthID: "a", Role: "x", CRA: &auth.CRA{}}}}, "secret is empty"},
		{"iterations without salt", auth.Realm{Name: "r", Users: []auth.User{{AuthID: "a", Role: "x", CRA: &auth.CRA{Secret: "s", Iterations: 10}}}}, "need a salt"},
		{"negative iterations", auth.Realm{Name: "r", Users: []auth.User{{AuthID: "a", Role: "x", CRA: &auth.CRA{Secret: "s", Salt: "s", Iterations: -1}}}}, "out of range"},
		{"huge keylen", auth.Realm{Name: "r", Users: []auth.User{{AuthID: "a", Role: "x", CRA: &auth.CRA{Secret: "s", Salt: "s", KeyLen: 1 << 20}}}}, "out of range"},
		{"short key", auth.Realm{Name: "r", Users: []auth.User{{AuthID: "a", Role: "x", CryptosignKeys: []ed25519.PublicKey{key[:31]}}}}, "has 31 bytes"},
		{"shared key", auth.Realm{Name: "r", Users: []auth.User{{AuthID: "a", Role: "x", CryptosignKeys: []ed25519.PublicKey{key}}, {AuthID: "b", Role: "x", CryptosignKeys: []ed25519.PublicKey{key}}}}, "also belongs to \"a\""},
		{"negative timeout", auth.Realm{Name: "r", ChallengeTimeout: -time.Second}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := auth.NewAuthenticator(tt.r)
			if a != nil || err == nil {
				t.Fatalf("accepted: %v", err)
			}
			if !errors.Is(err, auth.ErrInvalidRealm) {
				t.Fatalf("%v does not wrap ErrInvalidRealm", err)
			}
			contains(t, err.Error(), tt.want)
		})
	}

	t.Run("all problems at once", func(t *testing.T) {
		_, err := auth.NewAuthenticator(auth.Realm{Users: []auth.User{{AuthID: "a"}, {Role: "x"}}})
		for _, want := range []string{"realm name is empty", "role \"\"", "authid is empty"} {
			contains(t, err.Error(), want)
		}
	})
}

func TestAuthenticatorAccessors(t *testing.T) {
	r := mixedRealm()
	r.Users = append(r.Users, auth.User{AuthID: "sensor-7", Role: "device"})
	a := newAuth(t, r)
	if a.Name() != "realm1" {
		t.Fatalf("Name %q", a.Name())
	}
	if got, want := a.Methods(), []string{"anonymous", "ticket", "wampcra", "tls"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Methods %v, want %v", got, want)
	}
	if got, want := a.Roles(), []string{"backend", "device", "guest", "user"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Roles %v, want %v", got, want)
	}
	id, ok := a.IdentityFor("sensor-7", "serial")
	if !ok {
		t.Fatal("IdentityFor: unknown")
	}
	wantIdentity(t, id, "sensor-7", "device", "serial", "userdb")
	if _, ok := a.IdentityFor("nobody", "serial"); ok {
		t.Fatal("IdentityFor accepted an unknown authid")
	}
}

func TestErrorType(t *testing.T) {
	e := &auth.Error{URI: wamp.ErrAuthenticationFailed, Message: "invalid credentials", LogDetail: "unknown authid"}
	if e.Error() != "auth: wamp.error.authentication_failed: invalid credentials" {
		t.Fatalf("Error() = %q", e.Error())
	}
	if !errors.Is(e, auth.ErrAuthenticationFailed) || errors.Is(e, auth.ErrNotAuthorized) || errors.Is(e, auth.ErrNoAuthMethod) {
		t.Fatal("errors.Is mismatch")
	}
	d := auth.Denied("user", "call", "com.app.reset")
	if d.URI != wamp.ErrNotAuthorized || !errors.Is(d, auth.ErrNotAuthorized) {
		t.Fatalf("Denied = %+v", d)
	}
	contains(t, d.Message, `"user" may not call "com.app.reset"`)
}

func TestChallengeIsACopy(t *testing.T) {
	a := newAuth(t, mixedRealm())
	x, ch := beginChallenge(t, a, hello(methods("wampcra"), "alice", nil), auth.Transport{}, auth.MethodWAMPCRA)
	orig := ch.Extra["challenge"]
	ch.Extra["challenge"] = "tampered"
	if got := x.Challenge().Extra["challenge"]; got != orig {
		t.Fatalf("challenge changed through a returned copy: %v", got)
	}
}
