package websocket

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	cws "github.com/coder/websocket"

	"github.com/wampgate/wampgate/transports"
)

// dialClient is the HTTP client used for upgrades. Its dialer wraps the
// TCP connection in a wireConn (reads pass straight through; the library
// buffers them on the client side) and records it for the Dial call that
// asked for it (see connSlot). Idle connections are never pooled, so every
// upgrade dials afresh.
var dialClient = &http.Client{
	Transport: &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dialAndRecord,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: -1,
	},
}

// connSlot receives the connection dialled for one Dial call.
type connSlot struct {
	mu sync.Mutex
	nc *wireConn
}

type slotKey struct{}

func dialAndRecord(ctx context.Context, network, address string) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	w := &wireConn{Conn: nc}
	if slot, ok := ctx.Value(slotKey{}).(*connSlot); ok {
		slot.mu.Lock()
		slot.nc = w
		slot.mu.Unlock()
	}
	return w, nil
}

// Dial opens a WebSocket to url (ws://, wss://, http:// or https://),
// asking for the subprotocol of ser only. The upgrade is bounded by ctx and
// by opts.HandshakeTimeout. The server must select that subprotocol.
func Dial(ctx context.Context, url string, ser transports.Serializer, opts transports.Options) (transports.Conn, error) {
	switch ser {
	case transports.JSON, transports.MsgPack, transports.CBOR:
	default:
		return nil, fmt.Errorf("websocket: unsupported serializer %v", ser)
	}
	opts = opts.WithDefaults()
	at := time.Now()
	hctx, cancel := context.WithTimeout(ctx, opts.HandshakeTimeout)
	defer cancel()
	slot := &connSlot{}
	hctx = context.WithValue(hctx, slotKey{}, slot)

	c := newConn()
	ws, resp, err := cws.Dial(hctx, url, &cws.DialOptions{
		HTTPClient:     dialClient,
		Subprotocols:   []string{ser.Subprotocol()},
		OnPongReceived: c.onPong,
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("websocket: dial %s: %w", url, ctx.Err())
		}
		if resp != nil {
			return nil, fmt.Errorf("websocket: dial %s: server answered %q%s: %w", url, resp.Status, bodyText(resp), err)
		}
		return nil, fmt.Errorf("websocket: dial %s: %w", url, err)
	}
	if got := ws.Subprotocol(); !strings.EqualFold(got, ser.Subprotocol()) {
		ws.CloseNow()
		return nil, fmt.Errorf("websocket: dial %s: server selected subprotocol %q, want %q", url, got, ser.Subprotocol())
	}
	slot.mu.Lock()
	nc := slot.nc
	slot.mu.Unlock()
	info := transports.Info{Kind: "websocket", Established: at, Local: addr("unknown"), Remote: addr(url), TLS: resp.TLS}
	if nc != nil {
		info.Local, info.Remote = nc.LocalAddr(), nc.RemoteAddr()
	}
	c.start(ws, nc, ser, opts, info)
	return c, nil
}

// bodyText returns the start of a refused upgrade's response body (the
// library keeps up to 1 KiB), for the error message.
func bodyText(resp *http.Response) string {
	if resp.Body == nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	text := strings.TrimSpace(string(b))
	if text == "" {
		return ""
	}
	return fmt.Sprintf(" (%s)", text)
}
