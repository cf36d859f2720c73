package websocket

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cws "github.com/coder/websocket"

	"github.com/wampgate/wampgate/transports"
)

// rawDial opens a plain coder/websocket client offering protos.
func rawDial(t *testing.T, url string, protos []string, opts *cws.DialOptions) *cws.Conn {
	t.Helper()
	if opts == nil {
		opts = &cws.DialOptions{}
	}
	opts.Subprotocols = protos
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	ws, _, err := cws.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial offering %v: %v", protos, err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

func TestSubprotocolSelection(t *testing.T) {
	for _, tt := range []struct {
		name   string
		sers   []transports.Serializer
		offer  []string
		want   string
		wantSe transports.Serializer
	}{
		{
			name:   "autobahn-python order: batched first",
			offer:  []string{"wamp.2.cbor.batched", "wamp.2.cbor", "wamp.2.msgpack.batched", "wamp.2.msgpack", "wamp.2.json.batched", "wamp.2.json"},
			want:   "wamp.2.cbor",
			wantSe: transports.CBOR,
		},
		{
			name:   "autobahn-js default",
			offer:  []string{"wamp.2.json", "wamp.2.msgpack"},
			want:   "wamp.2.json",
			wantSe: transports.JSON,
		},
		{
			name:   "client preference wins over ours",
			offer:  []string{"wamp.2.msgpack", "wamp.2.json"},
			want:   "wamp.2.msgpack",
			wantSe: transports.MsgPack,
		},
		{
			name:   "only what we serve",
			sers:   []transports.Serializer{transports.JSON},
			offer:  []string{"wamp.2.cbor", "wamp.2.msgpack", "wamp.2.json"},
			want:   "wamp.2.json",
			wantSe: transports.JSON,
		},
		{
			name:   "unknown names skipped",
			offer:  []string{"wamp.2.ubjson", "mqtt", "wamp.2.cbor"},
			want:   "wamp.2.cbor",
			wantSe: transports.CBOR,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url, conns := startServer(t, &Server{Serializers: tt.sers})
			ws := rawDial(t, url, tt.offer, nil)
			if got := ws.Subprotocol(); got != tt.want {
				t.Errorf("selected %q, want %q", got, tt.want)
			}
			if got := recvConn(t, conns).Serializer(); got != tt.wantSe {
				t.Errorf("server serializer %v, want %v", got, tt.wantSe)
			}
		})
	}
}

// upgradeRequest builds a WebSocket upgrade request by hand.
func upgradeRequest(t *testing.T, url string, protos string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", "http"+strings.TrimPrefix(url, "ws"), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	if protos != "" {
		req.Header.Set("Sec-WebSocket-Protocol", protos)
	}
	return req
}

func doRequest(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestRejectedRequests(t *testing.T) {
	var served atomic.Int32
	url, _ := startServer(t, &Server{Handler: transports.HandlerFunc(func(transports.Conn) { served.Add(1) })})

	for _, protos := range []string{"", "wamp.2.json.batched, wamp.2.cbor.batched", "wamp.2.ubjson"} {
		code, body := doRequest(t, upgradeRequest(t, url, protos))
		if code != http.StatusBadRequest {
			t.Errorf("offer %q: status %d, want 400", protos, code)
		}
		for _, name := range []string{"wamp.2.json", "wamp.2.msgpack", "wamp.2.cbor"} {
			if !strings.Contains(body, name) {
				t.Errorf("offer %q: body %q does not name %s", protos, body, name)
			}
		}
	}

	req, err := http.NewRequest("GET", "http"+strings.TrimPrefix(url, "ws"), nil)
	if err != nil {
		t.Fatal(err)
	}
	code, body := doRequest(t, req)
	if code != http.StatusUpgradeRequired || !strings.Contains(body, "WebSocket") || !strings.Contains(body, "wamp.2.json") {
		t.Errorf("plain GET: %d %q, want 426 with an explanation", code, body)
	}
	if n := served.Load(); n != 0 {
		t.Errorf("handler ran %d times for rejected requests", n)
	}
}

func TestDialRequiresSubprotocol(t *testing.T) {
	// A WebSocket server that never selects a subprotocol.
	url, _ := startPlain(t, func(ws *cws.Conn) { ws.CloseRead(context.Background()) })
	if _, err := Dial(context.Background(), url, transports.JSON, transports.Options{}); err == nil {
		t.Fatal("Dial accepted a server that selected no subprotocol")
	}
	url = "ws://127.0.0.1:1/" // nothing listens on port 1
	if _, err := Dial(context.Background(), url, transports.JSON, transports.Options{}); err == nil {
		t.Fatal("Dial to a closed port succeeded")
	}
	if _, err := Dial(context.Background(), url, transports.Serializer(9), transports.Options{}); err == nil {
		t.Fatal("Dial with an unknown serializer succeeded")
	}
}

// startPlain runs a bare coder/websocket server calling fn for each
// connection, for tests that need a misbehaving server.
func startPlain(t *testing.T, fn func(*cws.Conn)) (string, func()) {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := cws.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		fn(ws)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h}
	done := make(chan struct{})
	go func() { hs.Serve(ln); close(done) }()
	stop := func() { hs.Close(); <-done }
	t.Cleanup(stop)
	return "ws://" + ln.Addr().String(), stop
}

func TestDialHandshakeTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	t.Cleanup(func() {
		ln.Close()
		for c := range accepted {
			c.Close()
		}
	})
	_, err = Dial(context.Background(), "ws://"+ln.Addr().String(), transports.JSON, transports.Options{HandshakeTimeout: 50 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial against a silent server: %v, want a deadline error", err)
	}
}

func TestDialContextEndsWithHandshake(t *testing.T) {
	url, conns := startServer(t, &Server{})
	ctx, cancel := context.WithCancel(context.Background())
	client, err := Dial(ctx, url, transports.JSON, transports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	cancel() // must not affect the established connection
	server := recvConn(t, conns)
	if client.(*conn).nc == nil || server.(*conn).nc == nil {
		t.Error("TCP connection not recorded; Close could not be cut short")
	}
	if err := client.Write([][]byte{[]byte(`[1,"r",{}]`)}); err != nil {
		t.Fatal(err)
	}
	if m, err := server.Read(); err != nil || string(m) != `[1,"r",{}]` {
		t.Fatalf("Read after the dial context ended: %q, %v", m, err)
	}
	if client.Info().Remote.String() != server.Info().Local.String() ||
		client.Info().Local.String() != server.Info().Remote.String() {
		t.Errorf("addresses do not match: client %v->%v, server %v<-%v",
			client.Info().Local, client.Info().Remote, server.Info().Local, server.Info().Remote)
	}
}

func TestWrongMessageType(t *testing.T) {
	for _, tt := range []struct {
		proto string
		typ   cws.MessageType
	}{
		{"wamp.2.json", cws.MessageBinary},
		{"wamp.2.msgpack", cws.MessageText},
		{"wamp.2.cbor", cws.MessageText},
	} {
		t.Run(tt.proto, func(t *testing.T) {
			url, conns := startServer(t, &Server{})
			ws := rawDial(t, url, []string{tt.proto}, nil)
			server := recvConn(t, conns)
			peerErr := make(chan error, 1)
			go func() {
				_, _, err := ws.Read(context.Background())
				peerErr <- err
			}()
			if err := ws.Write(context.Background(), tt.typ, []byte("[1]")); err != nil {
				t.Fatal(err)
			}
			if _, err := server.Read(); !errors.Is(err, transports.ErrProtocol) {
				t.Fatalf("Read: %v, want ErrProtocol", err)
			}
			select {
			case err := <-peerErr:
				if got := cws.CloseStatus(err); got != cws.StatusUnsupportedData {
					t.Errorf("peer saw %v, want close 1003", err)
				}
			case <-time.After(testWait):
				t.Fatal("peer not closed")
			}
		})
	}
}

func TestWriteTimeout(t *testing.T) {
	for _, tt := range []struct {
		name       string
		withSocket bool
		size, n    int // each Write sends n messages of size bytes
	}{
		// Messages over batchLimit go straight to the socket.
		{"socket deadline/large messages", true, 1 << 20, 2},
		// Small messages stall in the batch's final write.
		{"socket deadline/batched messages", true, 1000, 60},
		{"context", false, 1 << 20, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conns := make(chan transports.Conn, 1)
			stop := make(chan struct{})
			url, _ := startServer(t, &Server{
				Options: transports.Options{WriteTimeout: 50 * time.Millisecond},
				Handler: transports.HandlerFunc(func(c transports.Conn) {
					if !tt.withSocket {
						c.(*conn).nc = nil
					}
					conns <- c
					<-stop
				}),
			})
			t.Cleanup(func() { close(stop) })
			rawDial(t, url, []string{"wamp.2.cbor"}, nil) // never reads
			server := recvConn(t, conns)
			msg := make([]byte, tt.size)
			batch := make([][]byte, tt.n)
			for i := range batch {
				batch[i] = msg
			}
			var err error
			for range 100000 {
				if err = server.Write(batch); err != nil {
					break
				}
			}
			if !errors.Is(err, transports.ErrWriteTimeout) {
				t.Fatalf("Write to a peer that never reads: %v, want ErrWriteTimeout", err)
			}
			if err := server.Write([][]byte{[]byte("x")}); !errors.Is(err, transports.ErrWriteTimeout) {
				t.Errorf("Write after the timeout: %v", err)
			}
			closed := make(chan struct{})
			go func() { server.Close(); close(closed) }()
			select {
			case <-closed:
			case <-time.After(testWait):
				t.Fatal("Close blocked")
			}
		})
	}
}

func TestCloseBoundedWithSilentPeer(t *testing.T) {
	url, conns := startServer(t, &Server{})
	rawDial(t, url, []string{"wamp.2.json"}, nil) // never reads, never answers the close
	server := recvConn(t, conns)
	res := make(chan error, 1)
	go func() {
		_, err := server.Read()
		res <- err
	}()
	closed := make(chan struct{})
	go func() { server.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(testWait):
		t.Fatal("Close blocked on a peer that does not answer")
	}
	if err := <-res; !errors.Is(err, transports.ErrClosed) {
		t.Errorf("Read after Close: %v, want ErrClosed", err)
	}
}

func TestPingsKeepAnsweringPeer(t *testing.T) {
	const interval = 20 * time.Millisecond
	url, conns := startServer(t, &Server{Options: transports.Options{PingInterval: interval}})
	pings := make(chan struct{}, 100)
	ws := rawDial(t, url, []string{"wamp.2.json"}, &cws.DialOptions{
		OnPingReceived: func(context.Context, []byte) bool {
			pings <- struct{}{}
			return true
		},
	})
	server := recvConn(t, conns)
	// The session reads, as a router does; the peer's reader answers pings.
	res := make(chan error, 1)
	go func() {
		m, err := server.Read()
		if err == nil && string(m) != "alive" {
			err = errors.New("unexpected message " + string(m))
		}
		res <- err
	}()
	peer := make(chan error, 1)
	go func() {
		_, _, err := ws.Read(context.Background())
		peer <- err
	}()
	for i := range 4 {
		select {
		case <-pings:
		case <-time.After(testWait):
			t.Fatalf("ping %d never came", i)
		}
	}
	if err := ws.Write(context.Background(), cws.MessageText, []byte("alive")); err != nil {
		t.Fatalf("connection closed although pings were answered: %v", err)
	}
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	server.Close()
	<-peer
}

func TestPingTimeout(t *testing.T) {
	const interval = 20 * time.Millisecond
	url, conns := startServer(t, &Server{Options: transports.Options{PingInterval: interval}})
	rawDial(t, url, []string{"wamp.2.json"}, nil) // never reads: pings go unanswered
	server := recvConn(t, conns)
	res := make(chan error, 1)
	go func() {
		_, err := server.Read()
		res <- err
	}()
	select {
	case err := <-res:
		if !errors.Is(err, transports.ErrPingTimeout) {
			t.Fatalf("Read: %v, want ErrPingTimeout", err)
		}
	case <-time.After(testWait):
		t.Fatal("connection with an unresponsive peer not closed")
	}
	if err := server.Write([][]byte{[]byte("x")}); !errors.Is(err, transports.ErrPingTimeout) {
		t.Errorf("Write after ping timeout: %v", err)
	}
}

func TestNoPingsWithoutInterval(t *testing.T) {
	url, conns := startServer(t, &Server{})
	server := recvConn(t, func() <-chan transports.Conn {
		rawDial(t, url, []string{"wamp.2.json"}, nil)
		return conns
	}())
	c := server.(*conn)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		t.Error("ping timer armed with PingInterval 0")
	}
}

func TestReadReusesBuffer(t *testing.T) {
	url, conns := startServer(t, &Server{})
	ws := rawDial(t, url, []string{"wamp.2.msgpack"}, nil)
	server := recvConn(t, conns)
	msgs := [][]byte{bytes.Repeat([]byte{1}, 100), bytes.Repeat([]byte{2}, 20000), bytes.Repeat([]byte{3}, 100)}
	go func() {
		for _, m := range msgs {
			if err := ws.Write(context.Background(), cws.MessageBinary, m); err != nil {
				return
			}
		}
	}()
	for i, want := range msgs {
		m, err := server.Read()
		if err != nil || !bytes.Equal(m, want) {
			t.Fatalf("message %d: %d bytes, %v", i, len(m), err)
		}
	}
	if c := server.(*conn); c.msg == nil || cap(c.msg.b) > keepMsgBuf {
		t.Errorf("buffer of the last message: %v, want one of at most %d bytes", c.msg, keepMsgBuf)
	}
}

func TestDialReportsRefusal(t *testing.T) {
	url, _ := startServer(t, &Server{Serializers: []transports.Serializer{transports.JSON}})
	_, err := Dial(context.Background(), url, transports.CBOR, transports.Options{})
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "wamp.2.json") {
		t.Fatalf("Dial refused by the server: %v, want the status and the server's explanation", err)
	}
	t.Log(err)
}

func TestServerTLSInfo(t *testing.T) {
	conns := make(chan transports.Conn, 1)
	stop := make(chan struct{})
	hs := httptest.NewTLSServer(&Server{Handler: transports.HandlerFunc(func(c transports.Conn) {
		conns <- c
		<-stop
	})})
	t.Cleanup(func() {
		close(stop)
		hs.Close()
	})
	rawDial(t, "wss"+strings.TrimPrefix(hs.URL, "https"), []string{"wamp.2.json"}, &cws.DialOptions{HTTPClient: hs.Client()})
	server := recvConn(t, conns)
	if st := server.Info().TLS; st == nil || !st.HandshakeComplete {
		t.Errorf("Info().TLS = %v, want the request's TLS state", st)
	}
	if server.Info().Remote == nil || server.Info().Local == nil {
		t.Errorf("addresses missing: %+v", server.Info())
	}
}
