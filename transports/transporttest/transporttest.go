// Package transporttest is a conformance suite for transports.Conn
// implementations. Every transport runs it from its tests:
//
//	func TestConformance(t *testing.T) {
//		transporttest.Run(t, func(t *testing.T, opts transports.Options) (client, server transports.Conn) {
//			... // connect a pair configured with opts
//		})
//	}
//
// The package imports testing and is meant for _test.go files only.
package transporttest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wampgate/wampgate/transports"
)

// MakePipe connects a fresh client/server pair. Both ends use opts (zero
// fields take the defaults); the server end is the one a transports.Handler
// would receive. The suite closes both ends when the test ends; MakePipe
// registers its own cleanup (listeners, servers) with t.Cleanup.
type MakePipe = func(t *testing.T, opts transports.Options) (client, server transports.Conn)

// limit is the MaxMessageSize the suite configures: a power of two, so that
// transports announcing 2^n limits announce exactly this value.
const limit = 64 << 10

// wait bounds every blocking step; generous for -race on small boards.
const wait = 10 * time.Second

func options() transports.Options {
	return transports.Options{
		MaxMessageSize:   limit,
		HandshakeTimeout: wait,
		WriteTimeout:     wait,
	}
}

// Run runs the conformance suite against the transport connected by mk.
func Run(t *testing.T, mk MakePipe) {
	cases := []struct {
		name string
		fn   func(t *testing.T, mk MakePipe)
	}{
		{"RoundTrip", testRoundTrip},
		{"Batch", testBatch},
		{"FullDuplex", testFullDuplex},
		{"LargeMessage", testLargeMessage},
		{"OversizeRejectedBySender", testOversizeSender},
		{"OversizeRejectedByReceiver", testOversizeReceiver},
		{"CloseUnblocksRead", testCloseUnblocksRead},
		{"PeerCloseUnblocksRead", testPeerCloseUnblocksRead},
		{"WriteAfterClose", testWriteAfterClose},
		{"ConcurrentClose", testConcurrentClose},
		{"Info", testInfo},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, mk) })
	}
}

// pair connects a pair and closes both ends at the end of the test.
func pair(t *testing.T, mk MakePipe, opts transports.Options) (client, server transports.Conn) {
	t.Helper()
	client, server = mk(t, opts)
	if client == nil || server == nil {
		t.Fatal("MakePipe returned a nil Conn")
	}
	t.Cleanup(func() {
		// Close both ends at once: a close handshake completes only when
		// the peer reads.
		var wg sync.WaitGroup
		wg.Go(func() { client.Close() })
		wg.Go(func() { server.Close() })
		wg.Wait()
	})
	return client, server
}

type readResult struct {
	msg []byte
	err error
}

// readAsync starts one Read; the copy of the message arrives on the channel.
// The goroutine ends when Read returns, at the latest when the test's
// cleanup closes the connection.
func readAsync(c transports.Conn) <-chan readResult {
	ch := make(chan readResult, 1)
	go func() {
		m, err := c.Read()
		ch <- readResult{append([]byte(nil), m...), err}
	}()
	return ch
}

// await waits for a result or fails the test after the suite's timeout.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("%s: no result after %v", what, wait)
		panic("unreachable")
	}
}

// writeAsync runs Write in a goroutine (a Write may block until the peer
// reads) and reports its error on the channel.
func writeAsync(c transports.Conn, msgs [][]byte) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- c.Write(msgs) }()
	return ch
}

func expectRead(t *testing.T, c transports.Conn, want []byte, what string) {
	t.Helper()
	r := await(t, readAsync(c), what)
	if r.err != nil {
		t.Fatalf("%s: Read: %v", what, r.err)
	}
	if !bytes.Equal(r.msg, want) {
		t.Fatalf("%s: read %d bytes %.40q, want %d bytes %.40q", what, len(r.msg), r.msg, len(want), want)
	}
}

func mustWrite(t *testing.T, c transports.Conn, msgs ...[]byte) {
	t.Helper()
	if err := await(t, writeAsync(c, msgs), "Write"); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// payload returns n bytes of a pattern seeded by seed, printable so that
// text-frame transports carry it unchanged.
func payload(n, seed int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte('a' + (i*7+seed)%26)
	}
	return p
}

func testRoundTrip(t *testing.T, mk MakePipe) {
	client, server := pair(t, mk, options())
	if client.Serializer() != server.Serializer() {
		t.Fatalf("serializers differ: client %v, server %v", client.Serializer(), server.Serializer())
	}
	ping := []byte(`[1,"realm1",{}]`)
	mustWrite(t, client, ping)
	expectRead(t, server, ping, "client to server")
	pong := []byte(`[2,123,{}]`)
	mustWrite(t, server, pong)
	expectRead(t, client, pong, "server to client")
}

// readN reads n messages on c and checks them against want(i).
func readN(t *testing.T, c transports.Conn, n int, want func(i int) []byte) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		for i := range n {
			m, err := c.Read()
			if err != nil {
				done <- fmt.Errorf("message %d: Read: %w", i, err)
				return
			}
			if w := want(i); !bytes.Equal(m, w) {
				done <- fmt.Errorf("message %d: got %.40q, want %.40q", i, m, w)
				return
			}
		}
		done <- nil
	}()
	if err := await(t, done, "reading the batch"); err != nil {
		t.Fatal(err)
	}
}

func batchMsg(i int) []byte {
	return fmt.Appendf(payload(i%97, i), "#%d", i)
}

func testBatch(t *testing.T, mk MakePipe) {
	client, server := pair(t, mk, options())
	for _, dir := range []struct {
		name     string
		from, to transports.Conn
		n        int
	}{
		{"client to server", client, server, 1000},
		{"server to client", server, client, 300},
	} {
		msgs := make([][]byte, dir.n)
		for i := range msgs {
			msgs[i] = batchMsg(i)
		}
		werr := writeAsync(dir.from, msgs)
		readN(t, dir.to, dir.n, batchMsg)
		if err := await(t, werr, dir.name+" Write"); err != nil {
			t.Fatalf("%s: Write: %v", dir.name, err)
		}
	}
}

func testFullDuplex(t *testing.T, mk MakePipe) {
	client, server := pair(t, mk, options())
	const n = 200
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = batchMsg(i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, c := range []transports.Conn{client, server} {
		wg.Go(func() {
			for i := 0; i < n; i += 10 {
				if err := c.Write(msgs[i : i+10]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	readN(t, server, n, batchMsg)
	readN(t, client, n, batchMsg)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Write: %v", err)
	}
}

func testLargeMessage(t *testing.T, mk MakePipe) {
	client, server := pair(t, mk, options())
	for _, dir := range []struct {
		name     string
		from, to transports.Conn
	}{
		{"client to server", client, server},
		{"server to client", server, client},
	} {
		size := limit
		if m := dir.from.MaxOutgoing(); m > 0 && m < size {
			t.Fatalf("%s: MaxOutgoing %d below the configured limit %d", dir.name, m, size)
		}
		for _, n := range []int{size, size - 1} {
			msg := payload(n, n)
			werr := writeAsync(dir.from, [][]byte{msg})
			expectRead(t, dir.to, msg, fmt.Sprintf("%s, %d bytes", dir.name, n))
			if err := await(t, werr, "Write"); err != nil {
				t.Fatalf("%s, %d bytes: Write: %v", dir.name, n, err)
			}
		}
	}
}

func testOversizeSender(t *testing.T, mk MakePipe) {
	client, server := pair(t, mk, options())
	max := client.MaxOutgoing()
	if max == 0 {
		t.Skip("transport announces no outgoing limit")
	}
	small := []byte(`[1,"first",{}]`)
	err := await(t, writeAsync(client, [][]byte{small, payload(max+1, 1)}), "oversized Write")
	if !errors.Is(err, transports.ErrMessageTooBig) {
		t.Fatalf("Write of %d bytes (limit %d): got %v, want ErrMessageTooBig", max+1, max, err)
	}
	// Nothing of the failed batch may have been sent.
	next := []byte(`[1,"second",{}]`)
	mustWrite(t, client, next)
	expectRead(t, server, next, "message after the refused batch")
}

func testOversizeReceiver(t *testing.T, mk MakePipe) {
	client, server := pair(t, mk, options())
	if server.Info().Kind == "inproc" {
		t.Skip("inproc passes messages in memory and has no receive limit")
	}
	if m := client.MaxOutgoing(); m > 0 && m <= limit {
		t.Skipf("the client refuses to send more than the %d bytes the server announced; the transport's own tests feed the server an oversized frame directly", m)
	}
	werr := writeAsync(client, [][]byte{payload(limit+1, 2)})
	r := await(t, readAsync(server), "server Read of an oversized message")
	if !errors.Is(r.err, transports.ErrMessageTooBig) {
		t.Fatalf("server Read: got (%d bytes, %v), want ErrMessageTooBig", len(r.msg), r.err)
	}
	// The client's Write may succeed or fail (the server may close first);
	// it must not hang. Its reader sees the server end the connection or,
	// at the latest, the client's own Close.
	clientRead := readAsync(client)
	client.Close()
	await(t, werr, "client Write after the server rejected its message")
	await(t, clientRead, "client Read after the server rejected its message")
}

func testCloseUnblocksRead(t *testing.T, mk MakePipe) {
	for _, end := range []string{"client", "server"} {
		t.Run(end, func(t *testing.T) {
			client, server := pair(t, mk, options())
			c, peer := server, client
			if end == "client" {
				c, peer = client, server
			}
			res := readAsync(c)
			// The peer reads too, as a session always does, so that
			// transports with a close handshake can complete it.
			peerRes := readAsync(peer)
			closed := make(chan error, 1)
			go func() { closed <- c.Close() }()
			r := await(t, res, "Read after Close from another goroutine")
			if r.err == nil {
				t.Fatalf("Read returned %q after Close, want an error", r.msg)
			}
			if !errors.Is(r.err, transports.ErrClosed) {
				t.Errorf("Read after local Close: %v, want ErrClosed", r.err)
			}
			if err := await(t, closed, "Close"); err != nil {
				t.Errorf("Close: %v", err)
			}
			if r := await(t, peerRes, "peer Read after Close"); r.err == nil {
				t.Errorf("peer Read returned %q after Close, want an error", r.msg)
			}
		})
	}
}

func testPeerCloseUnblocksRead(t *testing.T, mk MakePipe) {
	client, server := pair(t, mk, options())
	res := readAsync(server)
	if err := client.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	r := await(t, res, "server Read after the client closed")
	if r.err == nil {
		t.Fatalf("server Read returned %q after the peer closed, want an error", r.msg)
	}
}

func testWriteAfterClose(t *testing.T, mk MakePipe) {
	client, server := pair(t, mk, options())
	reads := []<-chan readResult{readAsync(client), readAsync(server)}
	for _, c := range []transports.Conn{client, server} {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		err := await(t, writeAsync(c, [][]byte{[]byte(`[6,{},"x"]`)}), "Write after Close")
		if !errors.Is(err, transports.ErrClosed) {
			t.Errorf("%s: Write after Close: %v, want ErrClosed", c.Info().Kind, err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	}
	for _, r := range reads {
		await(t, r, "Read after Close")
	}
}

func testConcurrentClose(t *testing.T, mk MakePipe) {
	client, server := pair(t, mk, options())
	readClient, readServer := readAsync(client), readAsync(server)
	werr := writeAsync(client, [][]byte{[]byte(`[1,"realm1",{}]`)})
	var wg sync.WaitGroup
	for range 8 {
		for _, c := range []transports.Conn{client, server} {
			wg.Go(func() { c.Close() })
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	await(t, done, "concurrent Close calls")
	await(t, readClient, "client Read")
	await(t, readServer, "server Read")
	await(t, werr, "Write racing with Close")
}

func testInfo(t *testing.T, mk MakePipe) {
	before := time.Now()
	client, server := pair(t, mk, options())
	after := time.Now()
	for _, end := range []struct {
		name string
		c    transports.Conn
	}{{"client", client}, {"server", server}} {
		info := end.c.Info()
		if info.Kind == "" {
			t.Errorf("%s: Info().Kind is empty", end.name)
		}
		if info.Local == nil || info.Remote == nil {
			t.Errorf("%s: Info() addresses not set: local %v, remote %v", end.name, info.Local, info.Remote)
		}
		if info.Established.Before(before) || info.Established.After(after) {
			t.Errorf("%s: Info().Established %v not within the connect call (%v .. %v)", end.name, info.Established, before, after)
		}
	}
	if client.Info().Kind != server.Info().Kind {
		t.Errorf("kinds differ: client %q, server %q", client.Info().Kind, server.Info().Kind)
	}
}
