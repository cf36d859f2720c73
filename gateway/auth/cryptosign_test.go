package auth_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/wampgate/wampgate/gateway/auth"
	"github.com/wampgate/wampgate/gateway/wamp"
)

// Test vectors from the WAMP spec, rfc/text/advanced/authentication_cryptosign.md
// (wamp-proto/wamp-proto): private key seed, challenge and optional
// tls-unique channel id, and the expected AUTHENTICATE signature.
var cryptosignVectors = []struct {
	channelID, seed, challenge, signature string
}{
	{"", "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510",
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		"b32675b221f08593213737bef8240e7c15228b07028e19595294678c90d11c0cae80a357331bfc5cc9fb71081464e6e75013517c2cf067ad566a6b7b728e5d03ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
	{"", "d511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd",
		"b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d",
		"d4209ad10d5aff6bfbc009d7e924795de138a63515efc7afc6b01b7fe5201372190374886a70207b042294af5bd64ce725cd8dceb344e6d11c09d1aaaf4d660fb26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d"},
	{"", "6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b",
		"b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2",
		"7beb282184baadd08f166f16dd683b39cab53816ed81e6955def951cb2ddad1ec184e206746fd82bda075af03711d3d5658fc84a76196b0fa8d1ebc92ef9f30bb05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2"},
	{"62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff", "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510",
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		"9b6f41540c9b95b4b7b281c3042fa9c54cef43c842d62ea3fd6030fcb66e70b3e80d49d44c29d1635da9348d02ec93f3ed1ef227dfb59a07b580095c2b82f80f9d16ca518aa0c2b707f2b2a609edeca73bca8dd59817a633f35574ac6fd80d00"},
	{"62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff", "d511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd",
		"b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d",
		"305aaa3ac25e98f651427688b3fc43fe7d8a68a7ec1d7d61c61517c519bd4a427c3015599d83ca28b4c652333920223844ef0725eb5dc2febfd6af7677b73f01d0852a29b460fc92ec943242ac638a053bbacc200512b18b30d15083cbdc9282"},
	{"62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff", "6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b",
		"b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2",
		"ee3c7644fd8070532bc1fde3d70d742267da545d8c8f03e63bda63f1ad4214f4d2c4bfdb4eb9526def42deeb7e31602a6ff99eba893e0a4ad4d45892ca75e608d2b75e24a189a7f78ca776ba36fc53f6c3e31c32f251f2c524f0a44202f2902d"},
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signChallenge answers a cryptosign CHALLENGE the way clients do.
func signChallenge(t testing.TB, priv ed25519.PrivateKey, ch *wamp.Challenge, channelID []byte) string {
	t.Helper()
	c, _ := ch.Extra["challenge"].(string)
	msg := unhex(t, c)
	if len(msg) != 32 {
		t.Fatalf("challenge %q is not 32 bytes of hex", c)
	}
	for i := range channelID {
		msg[i] ^= channelID[i]
	}
	return hex.EncodeToString(ed25519.Sign(priv, msg)) + hex.EncodeToString(msg)
}

func TestCryptosignVectors(t *testing.T) {
	for i, v := range cryptosignVectors {
		priv := ed25519.NewKeyFromSeed(unhex(t, v.seed))
		pub := priv.Public().(ed25519.PublicKey)
		a := newAuth(t, auth.Realm{Users: []auth.User{{AuthID: "client01@example.com", Role: "user", CryptosignKeys: []ed25519.PublicKey{pub}}}})

		extra := map[string]any{"pubkey": hex.EncodeToString(pub), "channel_binding": nil, "trustroot": nil, "challenge": nil}
		var tr auth.Transport
		if v.channelID != "" {
			extra["channel_binding"] = "tls-unique"
			tr.ChannelBinding = map[string][]byte{"tls-unique": unhex(t, v.channelID)}
		}

		// The challenge the router draws is the vector's.
		a.SetRandForTest(bytes.NewReader(unhex(t, v.challenge)))
		x, ch := beginChallenge(t, a, hello(methods("cryptosign"), "", extra), tr, auth.MethodCryptosign)
		if ch.Extra["challenge"] != v.challenge {
			t.Fatalf("vector %d: challenge %v", i, ch.Extra["challenge"])
		}
		if v.channelID != "" {
			if ch.Extra["channel_binding"] != "tls-unique" {
				t.Fatalf("vector %d: channel_binding %v", i, ch.Extra["channel_binding"])
			}
		} else if _, ok := ch.Extra["channel_binding"]; ok {
			t.Fatalf("vector %d: channel_binding present without binding: %v", i, ch.Extra)
		}
		// Our own client-side computation agrees with the vector.
		if got := signChallenge(t, priv, ch, tr.ChannelBinding["tls-unique"]); got != v.signature {
			t.Fatalf("vector %d: computed signature\n%s\nwant\n%s", i, got, v.signature)
		}
		id := verifyOK(t, x, v.signature)
		wantIdentity(t, id, "client01@example.com", "user", "cryptosign", "static")
		if id.AuthExtra["pubkey"] != hex.EncodeToString(pub) {
			t.Fatalf("authextra %v", id.AuthExtra)
		}

		// The same signature without the binding the client signed with fails.
		a.SetRandForTest(bytes.NewReader(unhex(t, v.challenge)))
		if v.channelID != "" {
			extra["channel_binding"] = nil
			x, _ = beginChallenge(t, a, hello(methods("cryptosign"), "", extra), auth.Transport{}, auth.MethodCryptosign)
		} else {
			extra["channel_binding"] = "tls-unique"
			tr := auth.Transport{ChannelBinding: map[string][]byte{"tls-unique": unhex(t, cryptosignVectors[3].channelID)}}
			x, _ = beginChallenge(t, a, hello(methods("cryptosign"), "", extra), tr, auth.MethodCryptosign)
		}
		verifyFails(t, x, v.signature)
		a.SetRandForTest(rand.Reader)
	}
}

type keyPair struct {
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
}

func newKey(t testing.TB) keyPair {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{pub, priv}
}

func TestCryptosign(t *testing.T) {
	dev1, dev1b, dev2, stranger := newKey(t), newKey(t), newKey(t), newKey(t)
	a := newAuth(t, auth.Realm{Users: []auth.User{
		{AuthID: "dev1", Role: "device", CryptosignKeys: []ed25519.PublicKey{dev1.pub, dev1b.pub}},
		{AuthID: "dev2", Role: "device", CryptosignKeys: []ed25519.PublicKey{dev2.pub}},
		{AuthID: "alice", Role: "user", Ticket: "t"},
	}})
	ext := func(k keyPair) map[string]any { return map[string]any{"pubkey": hex.EncodeToString(k.pub)} }

	t.Run("authid from key", func(t *testing.T) {
		for _, k := range []keyPair{dev1, dev1b} {
			x, ch := beginChallenge(t, a, hello(methods("cryptosign"), "", ext(k)), auth.Transport{}, auth.MethodCryptosign)
			id := verifyOK(t, x, signChallenge(t, k.priv, ch, nil))
			wantIdentity(t, id, "dev1", "device", "cryptosign", "static")
		}
	})

	t.Run("authid given", func(t *testing.T) {
		x, ch := beginChallenge(t, a, hello(methods("cryptosign"), "dev2", ext(dev2)), auth.Transport{}, auth.MethodCryptosign)
		wantIdentity(t, verifyOK(t, x, signChallenge(t, dev2.priv, ch, nil)), "dev2", "device", "cryptosign", "static")
	})

	t.Run("uppercase hex", func(t *testing.T) {
		e := map[string]any{"pubkey": strings.ToUpper(hex.EncodeToString(dev2.pub))}
		x, ch := beginChallenge(t, a, hello(methods("cryptosign"), "", e), auth.Transport{}, auth.MethodCryptosign)
		verifyOK(t, x, strings.ToUpper(signChallenge(t, dev2.priv, ch, nil)))
	})

	// The reference failure: a wrong signature by a known key.
	x, ch := beginChallenge(t, a, hello(methods("cryptosign"), "", ext(dev1)), auth.Transport{}, auth.MethodCryptosign)
	wrong := verifyFails(t, x, signChallenge(t, dev2.priv, ch, nil))

	shape := func(t *testing.T, ch *wamp.Challenge) {
		t.Helper()
		c, _ := ch.Extra["challenge"].(string)
		if len(ch.Extra) != 1 || len(c) != 64 {
			t.Fatalf("challenge extra %v", ch.Extra)
		}
		if _, err := hex.DecodeString(c); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("unknown key without authid", func(t *testing.T) {
		x, ch := beginChallenge(t, a, hello(methods("cryptosign"), "", ext(stranger)), auth.Transport{}, auth.MethodCryptosign)
		shape(t, ch)
		// The stranger holds its own private key: that must not be enough.
		e := verifyFails(t, x, signChallenge(t, stranger.priv, ch, nil))
		sameFailure(t, wrong, e)
		if e.LogDetail != "unknown public key" {
			t.Fatalf("LogDetail %q", e.LogDetail)
		}
	})

	t.Run("unknown authid", func(t *testing.T) {
		x, ch := beginChallenge(t, a, hello(methods("cryptosign"), "nobody", ext(stranger)), auth.Transport{}, auth.MethodCryptosign)
		shape(t, ch)
		sameFailure(t, wrong, verifyFails(t, x, signChallenge(t, stranger.priv, ch, nil)))
	})

	t.Run("key of another user", func(t *testing.T) {
		x, ch := beginChallenge(t, a, hello(methods("cryptosign"), "dev2", ext(dev1)), auth.Transport{}, auth.MethodCryptosign)
		shape(t, ch)
		sameFailure(t, wrong, verifyFails(t, x, signChallenge(t, dev1.priv, ch, nil)))
	})

	t.Run("user without keys", func(t *testing.T) {
		x, ch := beginChallenge(t, a, hello(methods("cryptosign"), "alice", ext(stranger)), auth.Transport{}, auth.MethodCryptosign)
		sameFailure(t, wrong, verifyFails(t, x, signChallenge(t, stranger.priv, ch, nil)))
	})

	t.Run("valid signature over other bytes", func(t *testing.T) {
		x, _ := beginChallenge(t, a, hello(methods("cryptosign"), "", ext(dev1)), auth.Transport{}, auth.MethodCryptosign)
		other := make([]byte, 32)
		_, _ = rand.Read(other)
		sig := hex.EncodeToString(ed25519.Sign(dev1.priv, other)) + hex.EncodeToString(other)
		sameFailure(t, wrong, verifyFails(t, x, sig))
	})

	t.Run("signature over other bytes with the challenge appended", func(t *testing.T) {
		x, ch := beginChallenge(t, a, hello(methods("cryptosign"), "", ext(dev1)), auth.Transport{}, auth.MethodCryptosign)
		other := make([]byte, 32)
		_, _ = rand.Read(other)
		sig := hex.EncodeToString(ed25519.Sign(dev1.priv, other)) + ch.Extra["challenge"].(string)
		sameFailure(t, wrong, verifyFails(t, x, sig))
	})

	t.Run("right signature with other bytes appended", func(t *testing.T) {
		x, ch := beginChallenge(t, a, hello(methods("cryptosign"), "", ext(dev1)), auth.Transport{}, auth.MethodCryptosign)
		good := signChallenge(t, dev1.priv, ch, nil)
		sameFailure(t, wrong, verifyFails(t, x, good[:128]+strings.Repeat("ab", 32)))
	})

	t.Run("replayed across challenges", func(t *testing.T) {
		x1, ch1 := beginChallenge(t, a, hello(methods("cryptosign"), "", ext(dev1)), auth.Transport{}, auth.MethodCryptosign)
		sig := signChallenge(t, dev1.priv, ch1, nil)
		verifyOK(t, x1, sig)
		verifyFails(t, x1, sig)
		x2, _ := beginChallenge(t, a, hello(methods("cryptosign"), "", ext(dev1)), auth.Transport{}, auth.MethodCryptosign)
		sameFailure(t, wrong, verifyFails(t, x2, sig))
	})

	t.Run("garbage signatures", func(t *testing.T) {
		_, ch := beginChallenge(t, a, hello(methods("cryptosign"), "", ext(dev1)), auth.Transport{}, auth.MethodCryptosign)
		good := signChallenge(t, dev1.priv, ch, nil)
		for _, sig := range []string{
			"",
			"zz" + good[2:],
			good[:190],
			good + "00",
			good[:128], // signature only, no message
			strings.Repeat("0", 192),
			good[:191] + "g",
			" " + good[1:],
		} {
			x, _ := beginChallenge(t, a, hello(methods("cryptosign"), "", ext(dev1)), auth.Transport{}, auth.MethodCryptosign)
			verifyFails(t, x, sig)
		}
	})

	t.Run("bad pubkey makes the method unavailable", func(t *testing.T) {
		for _, e := range []map[string]any{
			nil,
			{},
			{"pubkey": nil},
			{"pubkey": int64(5)},
			{"pubkey": hex.EncodeToString(dev1.pub)[:62]},
			{"pubkey": "zz" + hex.EncodeToString(dev1.pub)[2:]},
		} {
			_, err := a.Begin(hello(methods("cryptosign"), "dev1", e), 1, auth.Transport{})
			authErr(t, err, wamp.ErrNoAuthMethod)
		}
	})
}

func TestCryptosignChannelBinding(t *testing.T) {
	k := newKey(t)
	a := newAuth(t, auth.Realm{Users: []auth.User{{AuthID: "dev", Role: "device", CryptosignKeys: []ed25519.PublicKey{k.pub}}}})
	unique := bytes.Repeat([]byte{0x5a}, 32)
	exporter := bytes.Repeat([]byte{0xa5}, 32)
	tlsTr := auth.Transport{ChannelBinding: map[string][]byte{"tls-unique": unique, "tls-exporter": exporter}}
	ext := func(binding any) map[string]any {
		return map[string]any{"pubkey": hex.EncodeToString(k.pub), "channel_binding": binding}
	}

	for _, tc := range []struct {
		binding string
		id      []byte
	}{{"tls-unique", unique}, {"tls-exporter", exporter}} {
		t.Run(tc.binding, func(t *testing.T) {
			x, ch := beginChallenge(t, a, hello(methods("cryptosign"), "", ext(tc.binding)), tlsTr, auth.MethodCryptosign)
			if ch.Extra["channel_binding"] != tc.binding {
				t.Fatalf("challenge extra %v", ch.Extra)
			}
			verifyOK(t, x, signChallenge(t, k.priv, ch, tc.id))

			// Signing the bare challenge, or with the other id, fails.
			x, ch = beginChallenge(t, a, hello(methods("cryptosign"), "", ext(tc.binding)), tlsTr, auth.MethodCryptosign)
			e := verifyFails(t, x, signChallenge(t, k.priv, ch, nil))
			contains(t, e.LogDetail, "channel binding")
			x, ch = beginChallenge(t, a, hello(methods("cryptosign"), "", ext(tc.binding)), tlsTr, auth.MethodCryptosign)
			other := unique
			if tc.binding == "tls-unique" {
				other = exporter
			}
			verifyFails(t, x, signChallenge(t, k.priv, ch, other))
		})
	}

	t.Run("no binding requested on TLS", func(t *testing.T) {
		for _, b := range []any{nil, ""} {
			x, ch := beginChallenge(t, a, hello(methods("cryptosign"), "", ext(b)), tlsTr, auth.MethodCryptosign)
			if _, ok := ch.Extra["channel_binding"]; ok {
				t.Fatalf("challenge extra %v", ch.Extra)
			}
			verifyOK(t, x, signChallenge(t, k.priv, ch, nil))
		}
	})

	t.Run("binding the transport cannot offer", func(t *testing.T) {
		for name, tr := range map[string]auth.Transport{
			"no TLS":           {},
			"TLS 1.3":          {ChannelBinding: map[string][]byte{"tls-exporter": exporter}},
			"short channel id": {ChannelBinding: map[string][]byte{"tls-unique": unique[:12]}},
		} {
			_, err := a.Begin(hello(methods("cryptosign"), "", ext("tls-unique")), 1, tr)
			e := authErr(t, err, wamp.ErrAuthenticationFailed)
			if !strings.Contains(e.Message, "tls-unique") || !strings.Contains(e.Message, "not available") {
				t.Fatalf("%s: message %q does not explain", name, e.Message)
			}
		}
	})

	t.Run("unsupported binding", func(t *testing.T) {
		for _, b := range []any{"tls-server-end-point", int64(1), true, map[string]any{}} {
			_, err := a.Begin(hello(methods("cryptosign"), "", ext(b)), 1, tlsTr)
			authErr(t, err, wamp.ErrAuthenticationFailed)
		}
	})

	t.Run("unknown key behaves the same with a binding", func(t *testing.T) {
		s := newKey(t)
		e := map[string]any{"pubkey": hex.EncodeToString(s.pub), "channel_binding": "tls-unique"}
		x, ch := beginChallenge(t, a, hello(methods("cryptosign"), "", e), tlsTr, auth.MethodCryptosign)
		if ch.Extra["channel_binding"] != "tls-unique" {
			t.Fatalf("stand-in challenge %v", ch.Extra)
		}
		verifyFails(t, x, signChallenge(t, s.priv, ch, unique))
		_, err := a.Begin(hello(methods("cryptosign"), "", e), 1, auth.Transport{})
		authErr(t, err, wamp.ErrAuthenticationFailed)
	})
}
