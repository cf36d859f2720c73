// Package transports defines what the router needs from a transport: a Conn
// that reads and writes whole WAMP messages with a negotiated serializer.
//
// Transports never import the router. They carry opaque message bytes plus
// the Serializer agreed in their handshake; the router picks the codec.
// Implementations live in the subpackages websocket, rawsocket and inproc
// (serial framing comes later in serial).
package transports

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// Serializer identifies a WAMP serializer. The values are the RawSocket
// serializer IDs.
type Serializer uint8

// Serializers supported by wampgate.
const (
	JSON    Serializer = 1
	MsgPack Serializer = 2
	CBOR    Serializer = 3
)

// String returns the serializer name used by codecs: json, msgpack or cbor.
func (s Serializer) String() string {
	switch s {
	case JSON:
		return "json"
	case MsgPack:
		return "msgpack"
	case CBOR:
		return "cbor"
	}
	return fmt.Sprintf("serializer(%d)", uint8(s))
}

// Subprotocol returns the WebSocket subprotocol name, e.g. "wamp.2.json".
func (s Serializer) Subprotocol() string { return "wamp.2." + s.String() }

// Binary reports whether the serializer produces binary data.
func (s Serializer) Binary() bool { return s != JSON }

// ParseSerializer parses "json", "msgpack" or "cbor".
func ParseSerializer(name string) (Serializer, error) {
	switch name {
	case "json":
		return JSON, nil
	case "msgpack":
		return MsgPack, nil
	case "cbor":
		return CBOR, nil
	}
	return 0, fmt.Errorf("transports: unknown serializer %q", name)
}

// Errors shared by transports. Implementations wrap them with %w.
var (
	// ErrMessageTooBig: an incoming message exceeded the receive limit.
	ErrMessageTooBig = errors.New("transports: message too big")
	// ErrClosed: the connection was closed locally.
	ErrClosed = errors.New("transports: connection closed")
	// ErrWriteTimeout: a write did not complete within the write timeout.
	ErrWriteTimeout = errors.New("transports: write timeout")
	// ErrPingTimeout: the peer stopped answering liveness pings.
	ErrPingTimeout = errors.New("transports: ping timeout")
	// ErrProtocol: the peer broke the transport's framing rules.
	ErrProtocol = errors.New("transports: framing error")
)

// Info describes a connection for logs, metrics and the session meta API.
type Info struct {
	// Kind is "websocket", "rawsocket", "rawsocket-unix", "serial" or "inproc".
	Kind string
	// Local and Remote addresses; either may be nil.
	Local, Remote net.Addr
	// Established is when the transport connection was accepted, before any
	// transport handshake. Routers measure their handshake deadline from it.
	Established time.Time
	// TLS is the connection state of a TLS transport, nil otherwise.
	TLS *tls.ConnectionState
	// AuthID and AuthRole, when AuthID is set, are an identity the transport
	// established by itself (a configured serial device port): the router
	// grants it without an authentication exchange.
	AuthID, AuthRole string
	// Realm, when set, is the realm the session joins whatever its HELLO
	// names (devices often do not know the gateway's realm names).
	Realm string
	// URIPrefix, when set, is prepended to every single-component URI (one
	// without a dot, such as "set" or "temp") that the peer uses in
	// REGISTER, SUBSCRIBE, PUBLISH and CALL, so that devices running
	// identical firmware can be addressed one by one. URIs with a dot are
	// used as they are.
	URIPrefix string
	// OutQueue, when set, is the outbound queue budget in bytes for the
	// session on this connection (a listener's setting); a realm's own
	// setting still overrides it after the join.
	OutQueue int
	// Trusted marks an in-process session of the gateway itself (device
	// meta procedures, uplink): the router skips authorization for it.
	// Network transports never set it.
	Trusted bool
}

// Conn is one transport connection carrying whole WAMP messages.
//
// Read is called by one goroutine (the session reader) and Write by one
// other goroutine (the session writer); Close may be called from anywhere,
// any number of times, and unblocks both.
type Conn interface {
	// Serializer is the serializer negotiated in the transport handshake.
	Serializer() Serializer
	// Read blocks until one whole message arrives and returns it. The slice
	// is only valid until the next Read. Transport control frames (pings)
	// are handled inside. A message over the receive limit returns an error
	// wrapping ErrMessageTooBig, checked before the message is allocated.
	Read() ([]byte, error)
	// Write sends the messages in order, batched into as few system calls
	// as the transport allows, within the transport's write timeout.
	Write(msgs [][]byte) error
	// MaxOutgoing is the largest message the peer accepts, 0 for no limit.
	MaxOutgoing() int
	// Close closes the connection. It is safe for concurrent use.
	Close() error
	// Info describes the connection.
	Info() Info
}

// Handler runs a session on an established connection. It returns once the
// session is over; the connection is closed by then.
type Handler interface {
	ServeConn(c Conn)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(c Conn)

// ServeConn calls f(c).
func (f HandlerFunc) ServeConn(c Conn) { f(c) }

// Options are the settings every transport server honours.
type Options struct {
	// MaxMessageSize is the largest incoming message accepted (bytes).
	MaxMessageSize int
	// HandshakeTimeout bounds the transport handshake (RawSocket octets,
	// WebSocket upgrade).
	HandshakeTimeout time.Duration
	// WriteTimeout bounds each Write call.
	WriteTimeout time.Duration
	// PingInterval is the idle time after which a liveness ping is sent,
	// where the transport has pings and the peer can answer them. The
	// connection closes after two unanswered pings. Zero disables pings.
	PingInterval time.Duration
}

// Defaults used when an Options field is zero.
const (
	DefaultMaxMessageSize   = 16 << 20
	DefaultHandshakeTimeout = 5 * time.Second
	DefaultWriteTimeout     = 10 * time.Second
)

// WithDefaults fills zero fields (except PingInterval) with defaults.
func (o Options) WithDefaults() Options {
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	return o
}
