package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/gateway/wamp/codec"
	"github.com/wampgate/wampgate/transports"
)

// Defaults used when an Options field is zero.
const (
	DefaultJoinTimeout    = 10 * time.Second
	DefaultEventQueueSize = 1024
	DefaultAgent          = "wampgate-client"
)

// ReasonCannotAuthenticate is the ABORT reason sent when the client cannot
// answer a CHALLENGE. It is not in the spec but is what autobahn and
// wampy.js send.
const ReasonCannotAuthenticate = "wamp.error.cannot_authenticate"

// Options configure Connect and Join. The zero value is ready to use.
type Options struct {
	// Serializer used by Connect. Zero picks JSON for ws:// and wss://, CBOR
	// for tcp:// and unix://. Join uses the connection's serializer.
	Serializer transports.Serializer
	// TransportOptions are passed to the dialer.
	TransportOptions transports.Options
	// Logger receives session diagnostics; nil discards them.
	Logger *slog.Logger

	// AuthID, AuthMethods and AuthExtra go into HELLO when set.
	AuthID      string
	AuthMethods []string
	AuthExtra   wamp.Dict
	// OnChallenge answers a CHALLENGE with the AUTHENTICATE signature and
	// extra. Without it a CHALLENGE fails the join (ErrCannotAuthenticate).
	OnChallenge func(ctx context.Context, c *wamp.Challenge) (signature string, extra wamp.Dict, err error)

	// Agent is HELLO.Details.agent; empty means DefaultAgent.
	Agent string
	// JoinTimeout bounds HELLO through WELCOME (including authentication);
	// zero means DefaultJoinTimeout. The ctx given to Join bounds it too.
	JoinTimeout time.Duration
	// EventQueueSize is how many EVENTs may wait for the dispatch goroutine
	// before further ones are dropped; zero means DefaultEventQueueSize.
	EventQueueSize int
}

// Connect dials the router at rawURL and joins realm. Supported URLs:
//
//	ws://host:port/path, wss://host:port/path   WebSocket
//	tcp://host:port                             RawSocket over TCP
//	unix:///path/to.sock, unix:/path/to.sock    RawSocket over a Unix socket
//
// ctx bounds the dial and the join; it does not bound the session's life.
func Connect(ctx context.Context, rawURL, realm string, opts Options) (*Session, error) {
	conn, err := dial(ctx, rawURL, opts)
	if err != nil {
		return nil, err
	}
	return Join(ctx, conn, realm, opts)
}

// Join opens a WAMP session for realm on an established connection: HELLO
// announcing all four client roles, CHALLENGE/AUTHENTICATE rounds through
// Options.OnChallenge, then WELCOME. An ABORT from the router is returned as
// an *Error whose URI is the abort reason.
//
// Join takes ownership of conn: it is closed when Join fails and when the
// returned session ends. ctx and Options.JoinTimeout bound the join only.
func Join(ctx context.Context, conn transports.Conn, realm string, opts Options) (*Session, error) {
	cd, err := codec.ByName(conn.Serializer().String())
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("client: join: %w", err)
	}
	timeout := opts.JoinTimeout
	if timeout <= 0 {
		timeout = DefaultJoinTimeout
	}
	jctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Closing the connection is the only way to unblock Read.
	stop := context.AfterFunc(jctx, func() { conn.Close() })
	welcome, err := handshake(jctx, conn, cd, realm, &opts)
	if stopped := stop(); err == nil && stopped {
		return newSession(conn, cd, welcome, realm, &opts), nil
	}
	conn.Close()
	// The AfterFunc closed the connection only if jctx is done; report the
	// deadline or cancellation rather than the read error it caused.
	if jctx.Err() != nil && !isAbort(err) {
		return nil, fmt.Errorf("client: join %s: %w", realm, jctx.Err())
	}
	return nil, err
}

func isAbort(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

func handshake(ctx context.Context, conn transports.Conn, cd codec.Codec, realm string, opts *Options) (*wamp.Welcome, error) {
	write := func(m wamp.Message) error {
		data, err := cd.Encode(m)
		if err != nil {
			return fmt.Errorf("client: encode %s: %w", m.MessageType(), err)
		}
		if err := conn.Write([][]byte{data}); err != nil {
			return fmt.Errorf("client: join %s: %w: %w", realm, ErrConnectionLost, err)
		}
		return nil
	}
	abort := func(reason, msg string) {
		_ = write(&wamp.Abort{Details: wamp.Dict{"message": msg}, Reason: reason})
	}
	if err := write(&wamp.Hello{Realm: realm, Details: helloDetails(opts)}); err != nil {
		return nil, err
	}
	for {
		data, err := conn.Read()
		if err != nil {
			return nil, fmt.Errorf("client: join %s: %w: %w", realm, ErrConnectionLost, err)
		}
		m, err := cd.Decode(data)
		if err != nil {
			abort(wamp.ErrProtocolViolation, err.Error())
			return nil, fmt.Errorf("client: join %s: %w: %w", realm, ErrProtocolViolation, err)
		}
		switch m := m.(type) {
		case *wamp.Welcome:
			return m, nil
		case *wamp.Abort:
			return nil, errorFromMessage(m.Reason, m.Details, &m.Payload)
		case *wamp.Challenge:
			if opts.OnChallenge == nil {
				abort(ReasonCannotAuthenticate, "no handler for authmethod "+m.AuthMethod)
				return nil, fmt.Errorf("client: join %s: %w: no handler for authmethod %q", realm, ErrCannotAuthenticate, m.AuthMethod)
			}
			sig, extra, err := opts.OnChallenge(ctx, m)
			if err != nil {
				abort(ReasonCannotAuthenticate, err.Error())
				return nil, fmt.Errorf("client: join %s: %w: %w", realm, ErrCannotAuthenticate, err)
			}
			if err := write(&wamp.Authenticate{Signature: sig, Extra: extra}); err != nil {
				return nil, err
			}
		default:
			abort(wamp.ErrProtocolViolation, "unexpected "+m.MessageType().String()+" before WELCOME")
			return nil, fmt.Errorf("client: join %s: %w: unexpected %s before WELCOME", realm, ErrProtocolViolation, m.MessageType())
		}
	}
}

// helloDetails announces the four client roles with the features this
// package implements.
func helloDetails(opts *Options) wamp.Dict {
	features := func(names ...string) wamp.Dict {
		f := make(wamp.Dict, len(names))
		for _, n := range names {
			f[n] = true
		}
		return wamp.Dict{"features": f}
	}
	rpc := []string{"progressive_call_results", "call_canceling", "call_timeout", "caller_identification"}
	d := wamp.Dict{
		"roles": wamp.Dict{
			"caller":     features(rpc...),
			"callee":     features(append(rpc, "pattern_based_registration", "shared_registration")...),
			"publisher":  features("publisher_exclusion", "subscriber_blackwhite_listing", "publisher_identification"),
			"subscriber": features("pattern_based_subscription", "publisher_identification"),
		},
	}
	agent := opts.Agent
	if agent == "" {
		agent = DefaultAgent
	}
	d["agent"] = agent
	if opts.AuthID != "" {
		d["authid"] = opts.AuthID
	}
	if len(opts.AuthMethods) > 0 {
		m := make(wamp.List, len(opts.AuthMethods))
		for i, s := range opts.AuthMethods {
			m[i] = s
		}
		d["authmethods"] = m
	}
	if len(opts.AuthExtra) > 0 {
		d["authextra"] = opts.AuthExtra
	}
	return d
}
