package auth_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"

	"github.com/wampgate/wampgate/gateway/auth"
	"github.com/wampgate/wampgate/gateway/wamp"
)

// The fuzz realm: one user per method, plus stand-ins for unknown principals.
// No secret may appear in the seed corpus.
const fuzzTicket = "a ticket the fuzzer does not know"

var fuzzSeed = ed25519.NewKeyFromSeed(make([]byte, 32)) // the fuzzer never sees it

func fuzzRealm() auth.Realm {
	return auth.Realm{
		Name:          "fuzz",
		AnonymousRole: "",
		Users: []auth.User{
			{AuthID: "alice", Role: "user", Ticket: fuzzTicket, CRA: &auth.CRA{Secret: "plain secret"}},
			{AuthID: "salty", Role: "user", CRA: &auth.CRA{Secret: "salted secret", Salt: "NaCl", Iterations: 10, KeyLen: 32}},
			{AuthID: "dev", Role: "device", CryptosignKeys: []ed25519.PublicKey{fuzzSeed.Public().(ed25519.PublicKey)}},
		},
	}
}

type fuzzCase struct {
	methods []any
	authid  string
	extra   map[string]any
	binding bool
}

var fuzzCases = []fuzzCase{
	{methods("ticket"), "alice", nil, false},
	{methods("ticket"), "nobody", nil, false},
	{methods("wampcra"), "alice", nil, false},
	{methods("wampcra"), "salty", nil, false},
	{methods("wampcra"), "nobody", nil, false},
	{methods("cryptosign"), "", map[string]any{"pubkey": hex.EncodeToString(fuzzSeed.Public().(ed25519.PublicKey))}, false},
	{methods("cryptosign"), "dev", map[string]any{"pubkey": hex.EncodeToString(fuzzSeed.Public().(ed25519.PublicKey)), "channel_binding": "tls-unique"}, true},
	{methods("cryptosign"), "", map[string]any{"pubkey": hex.EncodeToString(make([]byte, 32))}, false},
}

// FuzzVerify feeds arbitrary AUTHENTICATE messages to every method. Verify
// must never panic and never succeed, since the fuzzer holds no secret.
func FuzzVerify(f *testing.F) {
	a := newAuth(f, fuzzRealm())
	// Control: the harness can succeed with the secret, so failures below
	// are not an artefact of a broken setup.
	x, err := a.Begin(hello(methods("ticket"), "alice", nil), 1, auth.Transport{})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := x.Verify(&wamp.Authenticate{Signature: fuzzTicket}); err != nil {
		f.Fatalf("control handshake failed: %v", err)
	}

	f.Add(uint(0), "", "", "")
	f.Add(uint(2), "gir1mSx+deCDUV7wRM5SGIn/+R/ClqLZuH4m7FJeBVI=", "x", "y")
	f.Add(uint(5), "e2f0297a193b63b7a4a92028e9e2e6107f82730560d54a657bd982cb4b3151490399debbbde998e494d3c3b2a5e2e91271291e10dee85a6cfaa127885ddd8b0afa034062ad76352b53a25358854577730db82f367aa439709c91296d04a5716c", "", "")
	f.Fuzz(func(t *testing.T, which uint, sig, extraKey, extraVal string) {
		c := fuzzCases[which%uint(len(fuzzCases))]
		var tr auth.Transport
		if c.binding {
			tr.ChannelBinding = map[string][]byte{"tls-unique": make([]byte, 32)}
		}
		x, err := a.Begin(hello(c.methods, c.authid, c.extra), 99, tr)
		if err != nil {
			t.Fatalf("Begin: %v", err)
		}
		if x.Challenge() == nil {
			t.Fatal("no challenge")
		}
		m := &wamp.Authenticate{Signature: sig, Extra: wamp.Dict{extraKey: extraVal}}
		for range 2 { // the second call is a replay
			id, err := x.Verify(m)
			if id != nil || err == nil {
				t.Fatalf("case %d: signature %q accepted", which%uint(len(fuzzCases)), sig)
			}
			if !errors.Is(err, auth.ErrAuthenticationFailed) {
				t.Fatalf("error %v is not authentication_failed", err)
			}
		}
	})
}

// FuzzBegin feeds arbitrary HELLO.Details (as JSON) to Begin. It must never
// panic, must answer with an exchange or an *Error, and must never grant
// anything but anonymous without a challenge.
func FuzzBegin(f *testing.F) {
	r := fuzzRealm()
	r.AnonymousRole = "guest"
	a := newAuth(f, r)
	f.Add([]byte(`{"authmethods":["ticket"],"authid":"alice"}`), false)
	f.Add([]byte(`{"authmethods":["cryptosign"],"authextra":{"pubkey":"3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29","channel_binding":"tls-unique"}}`), true)
	f.Add([]byte(`{"authmethods":null,"authid":null,"authextra":null}`), false)
	f.Add([]byte(`{"authmethods":"anonymous"}`), false)
	f.Fuzz(func(t *testing.T, details []byte, binding bool) {
		var d map[string]any
		if json.Unmarshal(details, &d) != nil {
			return
		}
		var tr auth.Transport
		if binding {
			tr.ChannelBinding = map[string][]byte{"tls-unique": make([]byte, 32), "tls-exporter": make([]byte, 32)}
		}
		x, err := a.Begin(&wamp.Hello{Realm: "fuzz", Details: d}, 5, tr)
		if err != nil {
			var e *auth.Error
			if !errors.As(err, &e) || (e.URI != wamp.ErrNoAuthMethod && e.URI != wamp.ErrAuthenticationFailed) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if ch := x.Challenge(); ch == nil {
			id := x.Identity()
			if id == nil || id.AuthMethod != auth.MethodAnonymous || id.AuthRole != "guest" {
				t.Fatalf("granted without a challenge: %+v", id)
			}
			return
		}
		if id, err := x.Verify(&wamp.Authenticate{Signature: string(details)}); id != nil || err == nil {
			t.Fatalf("Verify accepted %q", details)
		}
	})
}
