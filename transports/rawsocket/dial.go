package rawsocket

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/wampgate/wampgate/transports"
)

// ErrSocketInUse: ListenUnix found a socket file that a live server answers
// on.
var ErrSocketInUse = errors.New("rawsocket: unix socket in use")

// probeTimeout bounds the connect attempt ListenUnix uses to tell a stale
// socket file from a live one.
const probeTimeout = time.Second

// Dial connects to a RawSocket server and performs the client handshake,
// announcing the receive limit derived from opts.MaxMessageSize and asking
// for serializer ser. network is "tcp" (or "tcp4", "tcp6") or "unix".
// ctx bounds the connect and the handshake; the handshake is also bounded by
// opts.HandshakeTimeout. A server's error reply is returned as a
// *HandshakeError.
func Dial(ctx context.Context, network, address string, ser transports.Serializer, opts transports.Options) (transports.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6", "unix":
	default:
		return nil, fmt.Errorf("rawsocket: unsupported network %q", network)
	}
	if err := checkSerializer(ser); err != nil {
		return nil, err
	}
	at := time.Now()
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, fmt.Errorf("rawsocket: dial: %w", err)
	}
	c, err := client(ctx, nc, ser, opts.WithDefaults(), at)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Client performs the client handshake over an existing stream c (a TCP or
// Unix connection, a TLS connection, a pipe...) and returns the RawSocket
// connection running on it. On error c is closed.
func Client(c net.Conn, ser transports.Serializer, opts transports.Options) (transports.Conn, error) {
	if err := checkSerializer(ser); err != nil {
		c.Close()
		return nil, err
	}
	rc, err := client(context.Background(), c, ser, opts.WithDefaults(), time.Now())
	if err != nil {
		return nil, err
	}
	return rc, nil
}

func checkSerializer(ser transports.Serializer) error {
	if ser == 0 || ser > 15 {
		return fmt.Errorf("rawsocket: serializer %d cannot be requested", uint8(ser))
	}
	return nil
}

// client runs the client handshake on nc and closes nc on failure.
func client(ctx context.Context, nc net.Conn, ser transports.Serializer, opts transports.Options, at time.Time) (*conn, error) {
	deadline := time.Now().Add(opts.HandshakeTimeout)
	ctxDeadline := false
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, ctxDeadline = d, true
	}
	fail := func(err error) (*conn, error) {
		nc.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("rawsocket: handshake: %w", ctx.Err())
		}
		if ctxDeadline && errors.Is(err, ErrHandshakeTimeout) {
			// The socket deadline (the context's) fired before the
			// context's own timer.
			return nil, fmt.Errorf("rawsocket: handshake: %w", context.DeadlineExceeded)
		}
		return nil, err
	}
	if err := nc.SetDeadline(deadline); err != nil {
		return fail(fmt.Errorf("rawsocket: set handshake deadline: %w", err))
	}
	// Cancelling ctx aborts the handshake by moving the deadline.
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	ourExp := lenExp(opts.MaxMessageSize)
	peerMax, err := clientHandshake(nc, ser, ourExp)
	if !stop() && err == nil {
		err = ctx.Err() // the deadline may have moved after the handshake
	}
	if err != nil {
		return fail(err)
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		return fail(fmt.Errorf("rawsocket: clear handshake deadline: %w", err))
	}
	return newConn(nc, connConfig{
		ser:          ser,
		kind:         kindOf(nc.LocalAddr().Network()),
		established:  at,
		maxIn:        recvLimit(opts.MaxMessageSize),
		peerMax:      peerMax,
		writeTimeout: opts.WriteTimeout,
		pingInterval: opts.PingInterval,
	}), nil
}

// ListenUnix listens on the Unix socket path. A socket file left behind by a
// dead server is removed first; a live socket (one that accepts a connect)
// or a file that is not a socket is left alone and reported as an error. The
// returned listener removes the socket file when closed.
func ListenUnix(path string) (net.Listener, error) {
	fi, err := os.Lstat(path)
	switch {
	case err == nil:
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("rawsocket: %s exists and is not a socket", path)
		}
		pc, err := net.DialTimeout("unix", path, probeTimeout)
		if err == nil {
			pc.Close()
			return nil, fmt.Errorf("%w: %s", ErrSocketInUse, path)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("rawsocket: probe %s: %w", path, err)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("rawsocket: remove stale socket: %w", err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("rawsocket: %w", err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("rawsocket: listen: %w", err)
	}
	ln.SetUnlinkOnClose(true)
	return ln, nil
}
