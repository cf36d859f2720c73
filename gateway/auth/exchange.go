package auth

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"maps"
	"sync/atomic"
	"time"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// Exchange is one authentication in progress, created by Begin. It is either
// done (Identity is non-nil) or waits for the AUTHENTICATE answering
// Challenge. Verify may be called once; it is safe to call concurrently
// and at most one call can succeed.
type Exchange struct {
	a         *Authenticator
	method    string
	peer      string
	issued    time.Time
	challenge *wamp.Challenge // nil when done at Begin
	identity  *Identity       // granted on success; nil for stand-ins
	fake      bool            // stand-in for an unknown principal: never succeeds
	detail    string          // LogDetail for failures
	used      atomic.Bool

	ticket   [sha256.Size]byte // ticket: SHA-256 of the expected ticket
	mac      [sha256.Size]byte // wampcra: expected HMAC
	pub      ed25519.PublicKey // cryptosign: key to verify with
	expected [32]byte          // cryptosign: message that must be signed
}

// Method returns the authentication method chosen by Begin.
func (x *Exchange) Method() string { return x.method }

// Challenge returns the CHALLENGE to send, or nil when the exchange is
// already done. Each call returns a fresh copy.
func (x *Exchange) Challenge() *wamp.Challenge {
	if x.challenge == nil {
		return nil
	}
	return &wamp.Challenge{AuthMethod: x.challenge.AuthMethod, Extra: maps.Clone(x.challenge.Extra)}
}

// Identity returns the granted identity when the exchange was done at Begin
// (anonymous, TLS client certificate), else nil.
func (x *Exchange) Identity() *Identity {
	if x.challenge != nil {
		return nil
	}
	return x.identity.clone()
}

// Verify checks the AUTHENTICATE that answers Challenge and returns the
// granted identity. Only the first call can succeed: a second one is a
// replay and fails. Errors are *Error with URI wamp.error.authentication_failed;
// an unknown principal fails exactly like a wrong secret.
func (x *Exchange) Verify(m *wamp.Authenticate) (*Identity, error) {
	if x.challenge == nil {
		return nil, failed(msgNoChal, "exchange needed no challenge")
	}
	if !x.used.CompareAndSwap(false, true) {
		return x.fail(msgReplayed, "second AUTHENTICATE for one challenge")
	}
	if m == nil {
		return x.fail("missing AUTHENTICATE", "")
	}
	if x.a.now().Sub(x.issued) > x.a.timeout {
		return x.fail(msgExpired, "AUTHENTICATE after "+x.a.timeout.String())
	}

	var ok bool
	detail := x.detail
	switch x.method {
	case MethodTicket:
		got := sha256.Sum256([]byte(m.Signature))
		ok = subtle.ConstantTimeCompare(got[:], x.ticket[:]) == 1
	case MethodWAMPCRA:
		var got [sha256.Size]byte
		if !decodeCRASignature(m.Signature, &got) {
			return x.fail("signature must be a base64-encoded HMAC-SHA256", "")
		}
		ok = hmac.Equal(got[:], x.mac[:])
	case MethodCryptosign:
		var signed [ed25519.SignatureSize + 32]byte
		if len(m.Signature) != 2*len(signed) {
			return x.fail("signature must be 192 hex characters: a 64-byte Ed25519 signature and the 32 signed bytes", "")
		}
		if _, err := hex.Decode(signed[:], []byte(m.Signature)); err != nil {
			return x.fail("signature must be 192 hex characters: a 64-byte Ed25519 signature and the 32 signed bytes", "")
		}
		msgOK := subtle.ConstantTimeCompare(signed[ed25519.SignatureSize:], x.expected[:]) == 1
		sigOK := ed25519.Verify(x.pub, x.expected[:], signed[:ed25519.SignatureSize])
		ok = msgOK && sigOK
		if !msgOK && detail == "" {
			detail = "signed message is not the challenge (wrong channel binding?)"
		}
	}
	if !ok || x.fake || x.identity == nil {
		if detail == "" {
			detail = "wrong secret"
		}
		return x.fail(msgInvalid, detail)
	}
	x.a.limiter.Success(x.peer)
	return x.identity.clone(), nil
}

func (x *Exchange) fail(msg, detail string) (*Identity, error) {
	x.a.limiter.Failure(x.peer)
	return nil, failed(msg, detail)
}
