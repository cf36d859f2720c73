package auth

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// deriveCRA validates a WAMP-CRA credential and returns its HMAC key: the
// secret itself for plain CRA, or the ASCII bytes of
// base64(PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen)) for salted
// CRA, which is what autobahn-js, autobahn-python and wampy derive.
func deriveCRA(c *CRA) ([]byte, craProfile, error) {
	if c.Secret == "" {
		return nil, craProfile{}, errors.New("secret is empty")
	}
	if c.Salt == "" {
		if c.Iterations != 0 || c.KeyLen != 0 {
			return nil, craProfile{}, errors.New("iterations and keylen need a salt")
		}
		return []byte(c.Secret), craProfile{}, nil
	}
	prof := craProfile{salted: true, iterations: c.Iterations, keyLen: c.KeyLen}
	if prof.iterations == 0 {
		prof.iterations = DefaultCRAIterations
	}
	if prof.keyLen == 0 {
		prof.keyLen = DefaultCRAKeyLen
	}
	if prof.iterations < 0 || prof.keyLen < 0 || prof.keyLen > maxCRAKeyLen {
		return nil, craProfile{}, fmt.Errorf("iterations %d / keylen %d out of range (keylen at most %d)", c.Iterations, c.KeyLen, maxCRAKeyLen)
	}
	dk, err := pbkdf2.Key(sha256.New, c.Secret, []byte(c.Salt), prof.iterations, prof.keyLen)
	if err != nil {
		return nil, craProfile{}, fmt.Errorf("derive key: %w", err)
	}
	return []byte(base64.StdEncoding.EncodeToString(dk)), prof, nil
}

// craChallengeJSON fixes the key order of the challenge object.
type craChallengeJSON struct {
	AuthID       string  `json:"authid"`
	AuthRole     string  `json:"authrole"`
	AuthMethod   string  `json:"authmethod"`
	AuthProvider string  `json:"authprovider"`
	Nonce        string  `json:"nonce"`
	Timestamp    string  `json:"timestamp"`
	Session      wamp.ID `json:"session"`
}

// craTimeFormat is ISO 8601 UTC with milliseconds, e.g. 2014-06-22T16:51:41.643Z.
const craTimeFormat = "2006-01-02T15:04:05.000Z"

func (a *Authenticator) craChallenge(authid, role string, sessionID wamp.ID) string {
	var nonce [18]byte
	a.random(nonce[:])
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// Encoding a struct of strings and an integer cannot fail.
	_ = enc.Encode(craChallengeJSON{
		AuthID:       authid,
		AuthRole:     role,
		AuthMethod:   MethodWAMPCRA,
		AuthProvider: a.provider,
		Nonce:        base64.RawURLEncoding.EncodeToString(nonce[:]),
		Timestamp:    a.now().UTC().Format(craTimeFormat),
		Session:      sessionID,
	})
	return strings.TrimSuffix(buf.String(), "\n")
}

// decodeCRASignature accepts standard base64 with or without padding and
// requires exactly one HMAC-SHA256 (32 bytes).
func decodeCRASignature(sig string, out *[sha256.Size]byte) bool {
	if len(sig) != 44 && len(sig) != 43 {
		return false
	}
	enc := base64.StdEncoding
	if len(sig) == 43 {
		enc = base64.RawStdEncoding
	}
	var buf [33]byte
	n, err := enc.Decode(buf[:], []byte(sig))
	if err != nil || n != sha256.Size {
		return false
	}
	copy(out[:], buf[:n])
	return true
}
