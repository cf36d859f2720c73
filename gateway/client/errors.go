package client

import (
	"errors"
	"strings"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// Sentinel errors. Errors returned by this package wrap them with %w.
var (
	// ErrClosed: the session has ended. Requests that were pending when it
	// ended, and requests made afterwards, fail with an error wrapping
	// ErrClosed and, when there is one, the reason reported by Err.
	ErrClosed = errors.New("client: session closed")
	// ErrConnectionLost: the transport failed or the router closed it.
	ErrConnectionLost = errors.New("client: connection lost")
	// ErrProtocolViolation: the router sent something the client cannot
	// make sense of (undecodable message, unexpected message during join).
	ErrProtocolViolation = errors.New("client: protocol violation")
	// ErrUnsupportedURL: Connect was given a URL it cannot dial.
	ErrUnsupportedURL = errors.New("client: unsupported router URL")
	// ErrCannotAuthenticate: the router sent a CHALLENGE and no
	// Options.OnChallenge was set, or it failed.
	ErrCannotAuthenticate = errors.New("client: cannot authenticate")
	// ErrInterrupted is the context cause seen by an invocation handler
	// whose call was cancelled by the router (INTERRUPT).
	ErrInterrupted = errors.New("client: invocation interrupted")
	// ErrInvocationDone: Invocation.Progress was called after the handler
	// returned.
	ErrInvocationDone = errors.New("client: invocation already answered")
)

// Error is a WAMP error: an ERROR reply from the router or a callee, or an
// ABORT during or after the join. Invocation handlers return an *Error to
// answer with a specific error URI.
type Error struct {
	URI     string
	Args    wamp.List
	Kwargs  wamp.Dict
	Details wamp.Dict
}

// Error returns "client: URI" followed by the first argument when it is a
// string (the usual human-readable message), else by Details.message.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("client: ")
	b.WriteString(e.URI)
	msg := ""
	if len(e.Args) > 0 {
		msg, _ = e.Args[0].(string)
	}
	if msg == "" {
		msg = wamp.OptString(e.Details, "message", "")
	}
	if msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	return b.String()
}

// Is reports whether target is an *Error with the same URI, so that
// errors.Is(err, &client.Error{URI: wamp.ErrCanceled}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.URI == e.URI
}

// GoodbyeError is the reason reported by Session.Err when the router ended
// the session with GOODBYE.
type GoodbyeError struct {
	Reason  string
	Details wamp.Dict
}

func (e *GoodbyeError) Error() string {
	return "client: router closed the session: " + e.Reason
}

// closedError returns the error for a request that cannot complete because
// the session ended with cause.
func closedError(cause error) error {
	if cause == nil || errors.Is(cause, ErrClosed) {
		return ErrClosed
	}
	return &sessionEndedError{cause: cause}
}

func errorFromMessage(uri string, details wamp.Dict, p *wamp.Payload) *Error {
	return &Error{URI: uri, Args: p.Args, Kwargs: p.Kwargs, Details: details}
}

// opError adds the operation to an error: "client: call x: session closed"
// rather than repeating the package prefix of the wrapped error.
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string {
	return "client: " + e.op + ": " + strings.TrimPrefix(e.err.Error(), "client: ")
}

func (e *opError) Unwrap() error { return e.err }

func wrapOp(op string, err error) error { return &opError{op: op, err: err} }
