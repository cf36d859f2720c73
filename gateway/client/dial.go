package client

import (
	"context"
	"fmt"
	"net/url"

	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/rawsocket"
	"github.com/wampgate/wampgate/transports/websocket"
)

func dial(ctx context.Context, rawURL string, opts Options) (transports.Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrUnsupportedURL, rawURL, err)
	}
	ser := opts.Serializer
	var conn transports.Conn
	switch u.Scheme {
	case "ws", "wss":
		if ser == 0 {
			ser = transports.JSON
		}
		conn, err = websocket.Dial(ctx, rawURL, ser, opts.TransportOptions)
	case "tcp":
		if u.Host == "" || u.Port() == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("%w %q: want tcp://host:port", ErrUnsupportedURL, rawURL)
		}
		if ser == 0 {
			ser = transports.CBOR
		}
		conn, err = rawsocket.Dial(ctx, "tcp", u.Host, ser, opts.TransportOptions)
	case "unix":
		path := u.Path
		if path == "" {
			path = u.Opaque
		}
		if u.Host != "" || path == "" {
			return nil, fmt.Errorf("%w %q: want unix:///path/to.sock", ErrUnsupportedURL, rawURL)
		}
		if ser == 0 {
			ser = transports.CBOR
		}
		conn, err = rawsocket.Dial(ctx, "unix", path, ser, opts.TransportOptions)
	default:
		return nil, fmt.Errorf("%w %q: scheme must be ws, wss, tcp or unix", ErrUnsupportedURL, rawURL)
	}
	if err != nil {
		return nil, wrapOp("dial "+rawURL, err)
	}
	return conn, nil
}
