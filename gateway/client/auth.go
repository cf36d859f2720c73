package client

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// Credentials for the common WAMP authentication methods. Apply one to
// Options with WithTicket, WithWAMPCRA or WithCryptosign.

// WithTicket sets opts up for ticket authentication as authid.
func WithTicket(opts Options, authid, ticket string) Options {
	opts.AuthID = authid
	opts.AuthMethods = []string{"ticket"}
	opts.OnChallenge = func(_ context.Context, c *wamp.Challenge) (string, wamp.Dict, error) {
		if c.AuthMethod != "ticket" {
			return "", nil, fmt.Errorf("client: router asked for %q, only ticket is configured: %w", c.AuthMethod, ErrCannotAuthenticate)
		}
		return ticket, wamp.Dict{}, nil
	}
	return opts
}

// WithWAMPCRA sets opts up for WAMP-CRA as authid. Salted challenges
// (salt, iterations, keylen in the CHALLENGE) derive the key with
// PBKDF2-HMAC-SHA256 and use its base64 text as the HMAC key.
func WithWAMPCRA(opts Options, authid, secret string) Options {
	opts.AuthID = authid
	opts.AuthMethods = []string{"wampcra"}
	opts.OnChallenge = func(_ context.Context, c *wamp.Challenge) (string, wamp.Dict, error) {
		if c.AuthMethod != "wampcra" {
			return "", nil, fmt.Errorf("client: router asked for %q, only wampcra is configured: %w", c.AuthMethod, ErrCannotAuthenticate)
		}
		sig, err := SignWAMPCRA(secret, c.Extra)
		return sig, wamp.Dict{}, err
	}
	return opts
}

// SignWAMPCRA computes the WAMP-CRA signature for a CHALLENGE's Extra.
func SignWAMPCRA(secret string, extra wamp.Dict) (string, error) {
	challenge, ok := extra["challenge"].(string)
	if !ok {
		return "", errors.New("client: wampcra challenge without a challenge string")
	}
	key := []byte(secret)
	if salt, ok := extra["salt"].(string); ok {
		iterations := int(wamp.OptInt(extra, "iterations", 1000))
		keylen := int(wamp.OptInt(extra, "keylen", 32))
		if iterations <= 0 || keylen <= 0 || keylen > 1024 {
			return "", fmt.Errorf("client: bad wampcra parameters (iterations %d, keylen %d)", iterations, keylen)
		}
		derived, err := pbkdf2.Key(sha256.New, secret, []byte(salt), iterations, keylen)
		if err != nil {
			return "", fmt.Errorf("client: derive wampcra key: %w", err)
		}
		key = []byte(base64.StdEncoding.EncodeToString(derived))
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(challenge))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// WithCryptosign sets opts up for WAMP-cryptosign with an Ed25519 key;
// authid may be empty when the router finds the user by public key.
func WithCryptosign(opts Options, authid string, key ed25519.PrivateKey) Options {
	opts.AuthID = authid
	opts.AuthMethods = []string{"cryptosign"}
	pub := key.Public().(ed25519.PublicKey)
	extra := wamp.Dict{}
	for k, v := range opts.AuthExtra {
		extra[k] = v
	}
	extra["pubkey"] = hex.EncodeToString(pub)
	opts.AuthExtra = extra
	opts.OnChallenge = func(_ context.Context, c *wamp.Challenge) (string, wamp.Dict, error) {
		if c.AuthMethod != "cryptosign" {
			return "", nil, fmt.Errorf("client: router asked for %q, only cryptosign is configured: %w", c.AuthMethod, ErrCannotAuthenticate)
		}
		ch, _ := c.Extra["challenge"].(string)
		msg, err := hex.DecodeString(ch)
		if err != nil || len(msg) != 32 {
			return "", nil, errors.New("client: cryptosign challenge is not 32 bytes of hex")
		}
		sig := ed25519.Sign(key, msg)
		return hex.EncodeToString(sig) + hex.EncodeToString(msg), wamp.Dict{}, nil
	}
	return opts
}
