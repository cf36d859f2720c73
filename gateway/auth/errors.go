package auth

import (
	"errors"
	"strconv"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// Error is an authentication or authorization failure. URI is the WAMP
// reason for ABORT (or ERROR for denied actions) and Message is a
// human-readable text that is safe to send to the peer as Details.message.
// LogDetail may say more, for example whether the authid exists, and must
// never be sent to the peer.
type Error struct {
	URI       string
	Message   string
	LogDetail string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "auth: " + e.URI
	}
	return "auth: " + e.URI + ": " + e.Message
}

// Is makes errors.Is(err, ErrAuthenticationFailed) and the other sentinels
// match any *Error with the same URI.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.URI == e.URI && t.Message == "" && t.LogDetail == ""
}

// Sentinels for errors.Is; every *Error returned by this package matches the
// one with its URI.
var (
	ErrNoAuthMethod         = &Error{URI: wamp.ErrNoAuthMethod}
	ErrAuthenticationFailed = &Error{URI: wamp.ErrAuthenticationFailed}
	ErrNotAuthorized        = &Error{URI: wamp.ErrNotAuthorized}
)

// Configuration and certificate errors.
var (
	ErrInvalidRealm  = errors.New("auth: invalid realm configuration")
	ErrInvalidRules  = errors.New("auth: invalid authorization rules")
	ErrUntrustedCert = errors.New("auth: untrusted client certificate")
)

// Messages sent to peers. msgInvalid is shared by every "wrong secret" and
// "no such authid" case so that the two cannot be told apart.
const (
	msgInvalid  = "invalid credentials"
	msgReplayed = "challenge already answered"
	msgExpired  = "challenge expired"
	msgNoChal   = "no challenge pending"
)

func failed(msg, detail string) *Error {
	return &Error{URI: wamp.ErrAuthenticationFailed, Message: msg, LogDetail: detail}
}

// Denied builds the error for an action the authorizer refused, for
// ERROR.Error and ERROR.Details.message.
func Denied(role, action, uri string) *Error {
	return &Error{URI: wamp.ErrNotAuthorized, Message: "authrole " + strconv.Quote(role) + " may not " + action + " " + strconv.Quote(uri)}
}
