package rawsocket

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/wampgate/wampgate/transports"
)

func TestLenExp(t *testing.T) {
	for _, tt := range []struct {
		size int
		want byte
	}{
		{0, 0}, {100, 0}, {511, 0}, {512, 0}, {1023, 0}, {1024, 1},
		{64 << 10, 7}, {1<<20 - 1, 10}, {1 << 20, 11},
		{16<<20 - 1, 14}, {16 << 20, 15}, {1 << 30, 15},
	} {
		if got := lenExp(tt.size); got != tt.want {
			t.Errorf("lenExp(%d) = %d, want %d", tt.size, got, tt.want)
		}
	}
	for _, tt := range []struct{ size, want int }{
		{0, 512}, {100, 512}, {1000, 1000}, {16 << 20, 16 << 20}, {1 << 30, 16 << 20},
	} {
		if got := recvLimit(tt.size); got != tt.want {
			t.Errorf("recvLimit(%d) = %d, want %d", tt.size, got, tt.want)
		}
	}
}

// rawHandshake connects to addr, sends hs and returns the server's reply.
// closed reports whether the server closed the connection after an error
// reply (or without any reply); an accepted handshake leaves it open.
func rawHandshake(t *testing.T, addr string, hs []byte) (reply []byte, closed bool) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write(hs); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(testWait))
	buf := make([]byte, 4)
	n, err := io.ReadFull(nc, buf)
	switch {
	case err == nil && buf[1]&0x0f != 0:
		return buf, false
	case err == nil:
		var more [1]byte
		_, err = nc.Read(more[:])
		return buf, isClosed(err)
	case isClosed(err):
		return buf[:n], true
	}
	t.Fatalf("reading handshake reply: %v", err)
	return nil, false
}

// isClosed reports whether a read error means the peer closed.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

func TestHandshakeReplies(t *testing.T) {
	for _, tt := range []struct {
		name       string
		srv        *Server
		hs         []byte
		want       []byte
		wantClosed bool
	}{
		{
			name: "json 16MiB accepted, we announce 1MiB",
			srv:  &Server{Options: transports.Options{MaxMessageSize: 1 << 20}},
			hs:   []byte{0x7F, 0xF1, 0, 0},
			want: []byte{0x7F, 0xB1, 0, 0},
		},
		{
			name: "cbor 512B accepted with default limit",
			hs:   []byte{0x7F, 0x03, 0, 0},
			want: []byte{0x7F, 0xF3, 0, 0},
		},
		{
			name:       "serializer 0",
			hs:         []byte{0x7F, 0xF0, 0, 0},
			want:       []byte{0x7F, 0x10, 0, 0},
			wantClosed: true,
		},
		{
			name:       "ubjson not supported",
			hs:         []byte{0x7F, 0xF4, 0, 0},
			want:       []byte{0x7F, 0x10, 0, 0},
			wantClosed: true,
		},
		{
			name:       "cbor not configured",
			srv:        &Server{Serializers: []transports.Serializer{transports.JSON}},
			hs:         []byte{0x7F, 0xF3, 0, 0},
			want:       []byte{0x7F, 0x10, 0, 0},
			wantClosed: true,
		},
		{
			name:       "reserved third octet",
			hs:         []byte{0x7F, 0xF1, 1, 0},
			want:       []byte{0x7F, 0x30, 0, 0},
			wantClosed: true,
		},
		{
			name:       "reserved fourth octet",
			hs:         []byte{0x7F, 0xF2, 0, 0x80},
			want:       []byte{0x7F, 0x30, 0, 0},
			wantClosed: true,
		},
		{
			name:       "max length unacceptable",
			srv:        &Server{minPeerExp: 4},
			hs:         []byte{0x7F, 0x31, 0, 0},
			want:       []byte{0x7F, 0x20, 0, 0},
			wantClosed: true,
		},
		{
			name:       "http request closed without reply",
			hs:         []byte("GET / HTTP/1.1\r\n\r\n"),
			want:       []byte{},
			wantClosed: true,
		},
		{
			name:       "short handshake times out without reply",
			srv:        &Server{Options: transports.Options{HandshakeTimeout: 50 * time.Millisecond}},
			hs:         []byte{0x7F, 0xF1},
			want:       []byte{},
			wantClosed: true,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ln := listenTCP(t)
			s := tt.srv
			if s == nil {
				s = &Server{}
			}
			startServer(t, s, ln)
			got, closed := rawHandshake(t, ln.Addr().String(), tt.hs)
			if !bytes.Equal(got, tt.want) {
				t.Errorf("reply % x, want % x", got, tt.want)
			}
			if closed != tt.wantClosed {
				t.Errorf("closed = %v, want %v", closed, tt.wantClosed)
			}
		})
	}
}

// pollUntil retries cond until it holds or testWait passes.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond) // polling interval, not synchronisation
	}
}

func TestMaxConns(t *testing.T) {
	ln := listenTCP(t)
	s := &Server{
		MaxConns: 1,
		Handler: transports.HandlerFunc(func(c transports.Conn) {
			for {
				if _, err := c.Read(); err != nil {
					return
				}
			}
		}),
	}
	startServer(t, s, ln)
	addr := ln.Addr().String()

	first := dialT(t, "tcp", addr, transports.JSON, transports.Options{})
	got, closed := rawHandshake(t, addr, []byte{0x7F, 0xF1, 0, 0})
	if want := []byte{0x7F, 0x40, 0, 0}; !bytes.Equal(got, want) || !closed {
		t.Fatalf("second connection: reply % x closed %v, want % x and close", got, closed, want)
	}
	_, err := Dial(context.Background(), "tcp", addr, transports.JSON, transports.Options{})
	var he *HandshakeError
	if !errors.As(err, &he) || he.Code != CodeMaxConnections {
		t.Fatalf("Dial over the limit: %v, want HandshakeError code 4", err)
	}

	// Closing the first session frees its slot.
	first.Close()
	pollUntil(t, "the slot to be released", func() bool {
		c, err := Dial(context.Background(), "tcp", addr, transports.JSON, transports.Options{})
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

func TestDialRejected(t *testing.T) {
	ln := listenTCP(t)
	startServer(t, &Server{Serializers: []transports.Serializer{transports.JSON}}, ln)
	_, err := Dial(context.Background(), "tcp", ln.Addr().String(), transports.MsgPack, transports.Options{})
	var he *HandshakeError
	if !errors.As(err, &he) || he.Code != CodeSerializerUnsupported {
		t.Fatalf("Dial: %v, want HandshakeError code 1", err)
	}
	if got := he.Error(); got != "rawsocket: handshake rejected: serializer unsupported" {
		t.Errorf("error text %q", got)
	}
}

func TestDialArguments(t *testing.T) {
	if _, err := Dial(context.Background(), "udp", "127.0.0.1:1", transports.JSON, transports.Options{}); err == nil {
		t.Error("Dial over udp succeeded")
	}
	if _, err := Dial(context.Background(), "tcp", "127.0.0.1:1", 0, transports.Options{}); err == nil {
		t.Error("Dial with serializer 0 succeeded")
	}
}

// fakeServer answers one handshake on a pipe with reply and keeps its end
// open until the test ends, or closes it at once when the reply is short.
func fakeServer(t *testing.T, reply []byte) net.Conn {
	t.Helper()
	cli, srv := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		var hs [4]byte
		if _, err := io.ReadFull(srv, hs[:]); err != nil {
			return
		}
		srv.Write(reply)
		if len(reply) < 4 {
			srv.Close()
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return cli
}

func TestClientChecksReply(t *testing.T) {
	for _, tt := range []struct {
		name  string
		reply []byte
		check func(error) bool
	}{
		{"bad magic", []byte{0x7E, 0xF1, 0, 0}, func(err error) bool { return errors.Is(err, ErrBadReply) }},
		{"other serializer", []byte{0x7F, 0xF2, 0, 0}, func(err error) bool { return errors.Is(err, ErrBadReply) }},
		{"reserved octets", []byte{0x7F, 0xF1, 0, 1}, func(err error) bool { return errors.Is(err, ErrBadReply) }},
		{"short reply", []byte{0x7F, 0xF1}, func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
		{"reserved error code", []byte{0x7F, 0x90, 0, 0}, func(err error) bool {
			var he *HandshakeError
			return errors.As(err, &he) && he.Code == 9
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Client(fakeServer(t, tt.reply), transports.JSON, transports.Options{})
			if err == nil || !tt.check(err) {
				t.Fatalf("Client: %v", err)
			}
		})
	}
	c, err := Client(fakeServer(t, []byte{0x7F, 0x41, 0, 0}), transports.JSON, transports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.MaxOutgoing(); got != 8192 {
		t.Errorf("MaxOutgoing = %d, want 8192", got)
	}
}

func TestDialContext(t *testing.T) {
	// A listener that accepts and never answers.
	ln := listenTCP(t)
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for c := range accepted {
			c.Close()
		}
	})
	addr := ln.Addr().String()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Dial(ctx, "tcp", addr, transports.JSON, transports.Options{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial with expiring context: %v, want DeadlineExceeded", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := Dial(ctx, "tcp", addr, transports.JSON, transports.Options{})
		errc <- err
	}()
	select {
	case c := <-accepted:
		accepted <- c // keep it for cleanup
	case <-time.After(testWait):
		t.Fatal("no connection")
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Dial after cancel: %v, want Canceled", err)
		}
	case <-time.After(testWait):
		t.Fatal("Dial did not return after cancel")
	}

	_, err := Dial(context.Background(), "tcp", addr, transports.JSON, transports.Options{HandshakeTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrHandshakeTimeout) {
		t.Errorf("Dial against a silent server: %v, want ErrHandshakeTimeout", err)
	}
}

func TestCloseAbortsHandshake(t *testing.T) {
	ln := listenTCP(t)
	s := &Server{Options: transports.Options{HandshakeTimeout: time.Hour}}
	s.init() // the test inspects s.handshaking
	startServer(t, s, ln)
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	pollUntil(t, "the connection to enter its handshake", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.handshaking) == 1
	})
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(testWait):
		t.Fatal("Close waited for a handshake")
	}
	nc.SetReadDeadline(time.Now().Add(testWait))
	var b [1]byte
	if n, err := nc.Read(b[:]); n != 0 || !isClosed(err) {
		t.Errorf("client read after Close: %d, %v; want EOF", n, err)
	}
}
