package websocket

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cws "github.com/coder/websocket"

	"github.com/wampgate/wampgate/transports"
)

// countingConn counts the writes that reach the socket.
type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// closingConn fails to clear a write deadline, as a connection closed
// right after the last write does.
type closingConn struct{ net.Conn }

func (c closingConn) SetWriteDeadline(t time.Time) error {
	if t.IsZero() {
		return net.ErrClosed
	}
	return c.Conn.SetWriteDeadline(t)
}

// TestWriteSucceedsWhenClosedAfterTheBatch: once the batch is written, the
// connection closing (the peer answered and closed at once) does not turn
// the Write into a failure.
func TestWriteSucceedsWhenClosedAfterTheBatch(t *testing.T) {
	url, conns := startServer(t, &Server{})
	client := dialT(t, url, transports.CBOR, transports.Options{})
	server := recvConn(t, conns)
	w := server.(*conn).nc
	w.Conn = closingConn{w.Conn}
	if err := server.Write([][]byte{[]byte("bye")}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if m, err := client.Read(); err != nil || string(m) != "bye" {
		t.Fatalf("Read: %q, %v", m, err)
	}
	closePair(client, server)
}

// countWrites puts a countingConn under the wireConn of c. Call it while
// nothing reads from or writes to c.
func countWrites(t *testing.T, c transports.Conn) *countingConn {
	t.Helper()
	w := c.(*conn).nc
	if w == nil {
		t.Fatal("connection without its socket")
	}
	cc := &countingConn{Conn: w.Conn}
	w.Conn = cc
	return cc
}

// closePair closes the client with the server reading, so that the close
// handshake completes at once.
func closePair(client, server transports.Conn) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := server.Read(); err != nil {
				return
			}
		}
	}()
	client.Close()
	server.Close()
	<-done
}

// testBatch returns n messages of the given sizes, each distinct, so that a
// lost, reordered or merged message shows.
func testBatch(n int, size func(i int) int) [][]byte {
	msgs := make([][]byte, n)
	for i := range msgs {
		m := fmt.Appendf(nil, "[%d,", i)
		for len(m) < size(i)-1 {
			m = append(m, 'a'+byte((i+len(m))%26))
		}
		msgs[i] = append(m, ']')
	}
	return msgs
}

func TestBatchInFewWrites(t *testing.T) {
	for _, tt := range []struct {
		name string
		size func(i int) int
	}{
		// Sizes cross the 7-bit and 16-bit frame length forms and the
		// library's bufio.Writer size; 25 KB in all.
		{"mixed sizes", func(i int) int { return 5 + i*5 }},
		// 150 KB: more than batchLimit, so the batch is written early.
		{"over the bound", func(int) int { return 1500 }},
	} {
		msgs := testBatch(100, tt.size)
		total := 0
		for _, m := range msgs {
			total += len(m) + 4 // upper bound on a server frame header here
		}
		maxWrites := int64(total/batchLimit + 1)
		for _, dir := range []string{"server to client", "client to server"} {
			t.Run(tt.name+"/"+dir, func(t *testing.T) {
				url, conns := startServer(t, &Server{})
				client := dialT(t, url, transports.MsgPack, transports.Options{})
				server := recvConn(t, conns)
				from, to := server, client
				if dir == "client to server" {
					from, to = client, server
				}
				cc := countWrites(t, from)
				werr := make(chan error, 1)
				go func() { werr <- from.Write(msgs) }()
				for i, want := range msgs {
					got, err := to.Read()
					if err != nil {
						t.Fatalf("message %d: %v", i, err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("message %d: got %d bytes %.20q..., want %d bytes %.20q...", i, len(got), got, len(want), want)
					}
				}
				if err := <-werr; err != nil {
					t.Fatal(err)
				}
				if n := cc.writes.Load(); n < 1 || n > maxWrites {
					t.Errorf("batch of %d messages (%d bytes) took %d writes, want 1 to %d", len(msgs), total, n, maxWrites)
				}
				closePair(client, server)
			})
		}
	}
}

func TestBatchOverTLS(t *testing.T) {
	conns := make(chan transports.Conn, 1)
	stop := make(chan struct{})
	s := &Server{Handler: transports.HandlerFunc(func(c transports.Conn) {
		conns <- c
		<-stop
	})}
	hs := httptest.NewTLSServer(s)
	t.Cleanup(func() {
		close(stop)
		hs.Close()
		s.Close()
		s.Wait()
	})
	ws := rawDial(t, "wss"+strings.TrimPrefix(hs.URL, "https"), []string{"wamp.2.msgpack"}, &cws.DialOptions{HTTPClient: hs.Client()})
	server := recvConn(t, conns)
	if server.Info().TLS == nil {
		t.Error("Info().TLS missing")
	}
	cc := countWrites(t, server)
	msgs := testBatch(100, func(i int) int { return 10 + i })
	if err := server.Write(msgs); err != nil {
		t.Fatal(err)
	}
	if n := cc.writes.Load(); n != 1 {
		t.Errorf("batch took %d writes to the TLS connection, want 1", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	for i, want := range msgs {
		typ, got, err := ws.Read(ctx)
		if err != nil || typ != cws.MessageBinary || !bytes.Equal(got, want) {
			t.Fatalf("message %d: %v %q %v, want %q", i, typ, got, err, want)
		}
	}
}

// TestPongsBetweenBatches has the peer ping the server while the server
// writes batches: the pongs, written by the server's reader outside or in
// the middle of a batch, must neither corrupt nor reorder the messages.
func TestPongsBetweenBatches(t *testing.T) {
	const batches, perBatch = 50, 40
	batch := func(b int) [][]byte {
		return testBatch(perBatch, func(i int) int { return 20 + (b*perBatch+i)%300 })
	}
	writerDone := make(chan error, 1)
	url, _ := startServer(t, &Server{Handler: transports.HandlerFunc(func(c transports.Conn) {
		readerDone := make(chan struct{})
		go func() { // the session's reader answers pings
			defer close(readerDone)
			for {
				if _, err := c.Read(); err != nil {
					return
				}
			}
		}()
		var err error
		for b := 0; b < batches && err == nil; b++ {
			err = c.Write(batch(b))
		}
		writerDone <- err
		<-readerDone // until the peer closes
	})})
	ws := rawDial(t, url, []string{"wamp.2.json"}, nil)

	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	readErr := make(chan error, 1)
	go func() {
		for b := range batches {
			for i, want := range batch(b) {
				_, got, err := ws.Read(ctx)
				if err != nil {
					readErr <- err
					return
				}
				if !bytes.Equal(got, want) {
					readErr <- fmt.Errorf("batch %d message %d: %q, want %q", b, i, got, want)
					return
				}
			}
		}
		ws.CloseRead(ctx) // keeps reading control frames for the pings
		readErr <- nil
	}()
	for i := range 20 {
		if err := ws.Ping(ctx); err != nil {
			t.Fatalf("ping %d: %v", i, err)
		}
	}
	if err := <-readErr; err != nil {
		t.Fatal(err)
	}
	if err := <-writerDone; err != nil {
		t.Fatal(err)
	}
	ws.Close(cws.StatusNormalClosure, "")
}

// TestPongWithoutBatch checks that a library write outside any batch (a
// pong) reaches the peer without waiting for a Write.
func TestPongWithoutBatch(t *testing.T) {
	url, conns := startServer(t, &Server{})
	ws := rawDial(t, url, []string{"wamp.2.json"}, nil)
	server := recvConn(t, conns)
	readDone := make(chan struct{})
	go func() { // answers pings; ends when the connection closes
		defer close(readDone)
		server.Read()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	ws.CloseRead(ctx)
	for i := range 5 {
		if err := ws.Ping(ctx); err != nil {
			t.Fatalf("ping %d unanswered: %v", i, err)
		}
	}
	server.Close()
	<-readDone
}
