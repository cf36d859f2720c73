package auth_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway/auth"
	"github.com/wampgate/wampgate/gateway/wamp"
)

// pbkdf2Ref is PBKDF2 (RFC 8018 section 5.2) with HMAC-SHA256, written out
// here so that the test does not trust the implementation under test.
func pbkdf2Ref(password, salt []byte, iterations, keyLen int) []byte {
	var out []byte
	for block := uint32(1); len(out) < keyLen; block++ {
		mac := hmac.New(sha256.New, password)
		mac.Write(salt)
		mac.Write(binary.BigEndian.AppendUint32(nil, block))
		u := mac.Sum(nil)
		t := slices.Clone(u)
		for range iterations - 1 {
			mac = hmac.New(sha256.New, password)
			mac.Write(u)
			u = mac.Sum(nil)
			for i := range t {
				t[i] ^= u[i]
			}
		}
		out = append(out, t...)
	}
	return out[:keyLen]
}

// The reference PBKDF2 must reproduce the RFC 7914 section 11 vector before
// we believe anything it says.
func TestPBKDF2Reference(t *testing.T) {
	want, _ := hex.DecodeString("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc" +
		"49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
	if got := pbkdf2Ref([]byte("passwd"), []byte("salt"), 1, 64); !bytes.Equal(got, want) {
		t.Fatalf("reference PBKDF2 = %x", got)
	}
}

func craSign(key []byte, challenge string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(challenge))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// saltedKey is the client-side WAMP-CRA key for salted secrets: the text of
// base64(PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen)).
func saltedKey(secret, salt string, iterations, keyLen int) []byte {
	return []byte(base64.StdEncoding.EncodeToString(pbkdf2Ref([]byte(secret), []byte(salt), iterations, keyLen)))
}

var craTimestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// parseCRAChallenge checks the challenge object and returns it.
func parseCRAChallenge(t *testing.T, ch *wamp.Challenge) (string, map[string]any) {
	t.Helper()
	s, ok := ch.Extra["challenge"].(string)
	if !ok {
		t.Fatalf("challenge extra %v has no challenge string", ch.Extra)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		t.Fatalf("challenge %q is not a JSON object: %v", s, err)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"authid", "authmethod", "authprovider", "authrole", "nonce", "session", "timestamp"}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("challenge keys %v, want %v", keys, want)
	}
	for _, k := range []string{"authid", "authmethod", "authprovider", "authrole", "nonce", "timestamp"} {
		if v, ok := obj[k].(string); !ok || v == "" {
			t.Fatalf("challenge %s = %#v, want a non-empty string", k, obj[k])
		}
	}
	if obj["authmethod"] != "wampcra" {
		t.Fatalf("authmethod %v", obj["authmethod"])
	}
	ts := obj["timestamp"].(string)
	if !craTimestamp.MatchString(ts) {
		t.Fatalf("timestamp %q is not ISO 8601 UTC with milliseconds", ts)
	}
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		t.Fatalf("timestamp %q: %v", ts, err)
	}
	return s, obj
}

func TestCRAPlain(t *testing.T) {
	a := newAuth(t, mixedRealm())
	c := newClock()
	a.SetClockForTest(c.Now)

	const session = wamp.ID(1<<53 - 1)
	x, err := a.Begin(hello(methods("wampcra"), "alice", nil), session, auth.Transport{})
	if err != nil {
		t.Fatal(err)
	}
	ch := x.Challenge()
	if ch == nil || ch.AuthMethod != "wampcra" {
		t.Fatalf("challenge %+v", ch)
	}
	for _, k := range []string{"salt", "iterations", "keylen"} {
		if _, ok := ch.Extra[k]; ok {
			t.Fatalf("plain challenge carries %s: %v", k, ch.Extra)
		}
	}
	s, obj := parseCRAChallenge(t, ch)
	if obj["authid"] != "alice" || obj["authrole"] != "user" || obj["authprovider"] != "userdb" {
		t.Fatalf("challenge %s", s)
	}
	if obj["session"] != json.Number("9007199254740991") {
		t.Fatalf("session %v, want %d", obj["session"], session)
	}
	if obj["timestamp"] != "2024-05-06T07:08:09.123Z" {
		t.Fatalf("timestamp %v", obj["timestamp"])
	}

	id := verifyOK(t, x, craSign([]byte("alice-secret"), s))
	wantIdentity(t, id, "alice", "user", "wampcra", "userdb")

	// Nonces differ between challenges.
	_, ch2 := beginChallenge(t, a, hello(methods("wampcra"), "alice", nil), auth.Transport{}, auth.MethodWAMPCRA)
	_, obj2 := parseCRAChallenge(t, ch2)
	if obj2["nonce"] == obj["nonce"] {
		t.Fatalf("nonce repeated: %v", obj["nonce"])
	}
}

func TestCRAPlainNegative(t *testing.T) {
	a := newAuth(t, mixedRealm())
	next := func(authid string) (*auth.Exchange, string) {
		x, ch := beginChallenge(t, a, hello(methods("wampcra"), authid, nil), auth.Transport{}, auth.MethodWAMPCRA)
		s, _ := parseCRAChallenge(t, ch)
		return x, s
	}

	x, s := next("alice")
	wrong := verifyFails(t, x, craSign([]byte("not-the-secret"), s))

	t.Run("unpadded base64 is accepted", func(t *testing.T) {
		x, s := next("alice")
		sig := craSign([]byte("alice-secret"), s)
		verifyOK(t, x, sig[:len(sig)-1])
	})

	t.Run("signature for another challenge", func(t *testing.T) {
		_, s1 := next("alice")
		x2, _ := next("alice")
		sameFailure(t, wrong, verifyFails(t, x2, craSign([]byte("alice-secret"), s1)))
	})

	t.Run("malformed", func(t *testing.T) {
		good := func() string { _, s := next("alice"); return craSign([]byte("alice-secret"), s) }()
		raw, _ := base64.StdEncoding.DecodeString(good)
		for _, sig := range []string{
			"",
			"!!!!",
			hex.EncodeToString(raw), // hex, not base64
			base64.StdEncoding.EncodeToString(raw[:31]),                       // too short
			base64.StdEncoding.EncodeToString(append(raw, 0)),                 // too long
			base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), // URL alphabet
			good + "=",
		} {
			x, _ := next("alice")
			verifyFails(t, x, sig)
		}
	})

	t.Run("unknown authid", func(t *testing.T) {
		xu, chu := beginChallenge(t, a, hello(methods("wampcra"), "mallory", nil), auth.Transport{}, auth.MethodWAMPCRA)
		su, obj := parseCRAChallenge(t, chu)
		if obj["authid"] != "mallory" || obj["authrole"] != "user" {
			t.Fatalf("stand-in challenge %s", su)
		}
		if len(chu.Extra) != 1 {
			t.Fatalf("stand-in extra %v differs in shape from a plain challenge", chu.Extra)
		}
		e := verifyFails(t, xu, craSign([]byte("alice-secret"), su))
		sameFailure(t, wrong, e)
		if e.LogDetail != "unknown authid" {
			t.Fatalf("LogDetail %q", e.LogDetail)
		}
	})

	t.Run("known authid without wampcra", func(t *testing.T) {
		xb, chb := beginChallenge(t, a, hello(methods("wampcra"), "bob", nil), auth.Transport{}, auth.MethodWAMPCRA)
		sb, obj := parseCRAChallenge(t, chb)
		if obj["authrole"] != "backend" {
			t.Fatalf("challenge %s", sb)
		}
		sameFailure(t, wrong, verifyFails(t, xb, craSign([]byte("bob-ticket"), sb)))
	})

	t.Run("replay", func(t *testing.T) {
		x, s := next("alice")
		sig := craSign([]byte("alice-secret"), s)
		verifyOK(t, x, sig)
		verifyFails(t, x, sig)
	})
}

func saltedRealm() auth.Realm {
	return auth.Realm{
		Name: "realm1",
		Users: []auth.User{
			{AuthID: "peter", Role: "user", CRA: &auth.CRA{Secret: "secret1", Salt: "salt123", Iterations: 100, KeyLen: 16}},
			{AuthID: "paul", Role: "user", CRA: &auth.CRA{Secret: "secret2", Salt: "pepper", Iterations: 100, KeyLen: 16}},
			{AuthID: "mary", Role: "admin", CRA: &auth.CRA{Secret: "secret3", Salt: "x9", Iterations: 100, KeyLen: 16}},
			{AuthID: "dflt", Role: "user", CRA: &auth.CRA{Secret: "secret4", Salt: "s4"}},
		},
	}
}

func TestCRASalted(t *testing.T) {
	a := newAuth(t, saltedRealm())

	x, ch := beginChallenge(t, a, hello(methods("wampcra"), "peter", nil), auth.Transport{}, auth.MethodWAMPCRA)
	if ch.Extra["salt"] != "salt123" || ch.Extra["iterations"] != int64(100) || ch.Extra["keylen"] != int64(16) {
		t.Fatalf("salted extra %v", ch.Extra)
	}
	s, _ := parseCRAChallenge(t, ch)
	id := verifyOK(t, x, craSign(saltedKey("secret1", "salt123", 100, 16), s))
	wantIdentity(t, id, "peter", "user", "wampcra", "static")

	t.Run("defaults", func(t *testing.T) {
		x, ch := beginChallenge(t, a, hello(methods("wampcra"), "dflt", nil), auth.Transport{}, auth.MethodWAMPCRA)
		if ch.Extra["iterations"] != int64(1000) || ch.Extra["keylen"] != int64(32) {
			t.Fatalf("default parameters %v", ch.Extra)
		}
		s, _ := parseCRAChallenge(t, ch)
		verifyOK(t, x, craSign(saltedKey("secret4", "s4", 1000, 32), s))
	})

	var wrong *auth.Error
	for name, key := range map[string][]byte{
		"plain secret":          []byte("secret1"),
		"raw derived bytes":     pbkdf2Ref([]byte("secret1"), []byte("salt123"), 100, 16),
		"wrong iterations":      saltedKey("secret1", "salt123", 99, 16),
		"wrong salt":            saltedKey("secret1", "salt12", 100, 16),
		"unpadded derived text": []byte(base64.RawStdEncoding.EncodeToString(pbkdf2Ref([]byte("secret1"), []byte("salt123"), 100, 16))),
	} {
		t.Run(name, func(t *testing.T) {
			x, ch := beginChallenge(t, a, hello(methods("wampcra"), "peter", nil), auth.Transport{}, auth.MethodWAMPCRA)
			s, _ := parseCRAChallenge(t, ch)
			e := verifyFails(t, x, craSign(key, s))
			if wrong == nil {
				wrong = e
			}
			sameFailure(t, wrong, e)
		})
	}

	t.Run("unknown authid", func(t *testing.T) {
		_, real := beginChallenge(t, a, hello(methods("wampcra"), "peter", nil), auth.Transport{}, auth.MethodWAMPCRA)
		x1, ch1 := beginChallenge(t, a, hello(methods("wampcra"), "mallory", nil), auth.Transport{}, auth.MethodWAMPCRA)
		_, ch2 := beginChallenge(t, a, hello(methods("wampcra"), "mallory", nil), auth.Transport{}, auth.MethodWAMPCRA)
		_, ch3 := beginChallenge(t, a, hello(methods("wampcra"), "trudy", nil), auth.Transport{}, auth.MethodWAMPCRA)
		if len(ch1.Extra) != len(real.Extra) {
			t.Fatalf("stand-in extra %v, real %v", ch1.Extra, real.Extra)
		}
		for k, v := range real.Extra {
			if reflect.TypeOf(ch1.Extra[k]) != reflect.TypeOf(v) {
				t.Fatalf("stand-in %s = %#v, real %#v", k, ch1.Extra[k], v)
			}
		}
		if ch1.Extra["iterations"] != int64(100) || ch1.Extra["keylen"] != int64(16) {
			t.Fatalf("stand-in parameters %v are not the realm's usual ones", ch1.Extra)
		}
		if ch1.Extra["salt"] != ch2.Extra["salt"] {
			t.Fatalf("stand-in salt changes between attempts: %v vs %v", ch1.Extra["salt"], ch2.Extra["salt"])
		}
		if ch1.Extra["salt"] == ch3.Extra["salt"] {
			t.Fatalf("two unknown authids share the salt %v", ch1.Extra["salt"])
		}
		s1, obj := parseCRAChallenge(t, ch1)
		if obj["authrole"] != "user" { // the most common role among wampcra users
			t.Fatalf("stand-in role %v", obj["authrole"])
		}
		salt := ch1.Extra["salt"].(string)
		sameFailure(t, wrong, verifyFails(t, x1, craSign(saltedKey("secret1", salt, 100, 16), s1)))
	})
}
