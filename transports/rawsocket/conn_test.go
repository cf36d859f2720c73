package rawsocket

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wampgate/wampgate/transports"
)

// framePair returns a connection after a real handshake over TCP loopback,
// with the raw socket of its peer for writing and reading frames by hand.
// The peer announced 16 MiB; our side uses opts.
func framePair(t *testing.T, opts transports.Options) (*conn, net.Conn) {
	t.Helper()
	ln := listenTCP(t)
	conns := startServer(t, &Server{Options: opts}, ln)
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	raw.SetDeadline(time.Now().Add(testWait))
	if _, err := raw.Write([]byte{0x7F, 0xF1, 0, 0}); err != nil {
		t.Fatal(err)
	}
	var reply [4]byte
	if _, err := io.ReadFull(raw, reply[:]); err != nil {
		t.Fatal(err)
	}
	if reply[1]&0x0f != 1 {
		t.Fatalf("handshake reply % x", reply)
	}
	raw.SetDeadline(time.Time{})
	return recvConn(t, conns).(*conn), raw
}

func frame(typ byte, payload string) []byte {
	h := make([]byte, 4, 4+len(payload))
	putHeader(h, typ, len(payload))
	return append(h, payload...)
}

// readFrame reads one frame from a raw socket.
func readFrame(t *testing.T, r io.Reader) (typ byte, payload []byte) {
	t.Helper()
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		t.Fatalf("reading frame header: %v", err)
	}
	n := int(h[1])<<16 | int(h[2])<<8 | int(h[3])
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		t.Fatalf("reading frame payload: %v", err)
	}
	return h[0], payload
}

type readResult struct {
	msg []byte
	err error
}

func readAsync(c transports.Conn) <-chan readResult {
	ch := make(chan readResult, 1)
	go func() {
		m, err := c.Read()
		ch <- readResult{append([]byte(nil), m...), err}
	}()
	return ch
}

func awaitRead(t *testing.T, ch <-chan readResult) readResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(testWait):
		t.Fatal("Read did not return")
		return readResult{}
	}
}

func TestReadFrameErrors(t *testing.T) {
	for _, tt := range []struct {
		name  string
		input []byte
		want  error
	}{
		{"reserved bits", []byte{0x10, 0, 0, 1, 'x'}, transports.ErrProtocol},
		{"reserved type 3", []byte{0x03, 0, 0, 0}, transports.ErrProtocol},
		{"reserved type 7", []byte{0x07, 0, 0, 0}, transports.ErrProtocol},
		{"X bit with length", []byte{0x08, 0, 0, 1}, transports.ErrProtocol},
		{"over our limit", []byte{0x00, 0x00, 0x10, 0x01}, transports.ErrMessageTooBig},
		{"X bit over our limit", []byte{0x08, 0, 0, 0}, transports.ErrMessageTooBig},
		{"ping over our limit", []byte{0x01, 0x01, 0, 0}, transports.ErrMessageTooBig},
		{"end of stream in header", []byte{0x00, 0}, io.ErrUnexpectedEOF},
		{"end of stream in payload", []byte{0x00, 0, 0, 5, 'a'}, io.ErrUnexpectedEOF},
		{"end of stream between frames", []byte{}, io.EOF},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, raw := framePair(t, transports.Options{MaxMessageSize: 4096})
			if _, err := raw.Write(tt.input); err != nil {
				t.Fatal(err)
			}
			if tt.want == io.EOF || tt.want == io.ErrUnexpectedEOF {
				raw.Close()
			}
			// An oversized header must fail without waiting for the
			// payload, which never comes.
			r := awaitRead(t, readAsync(c))
			if !errors.Is(r.err, tt.want) {
				t.Fatalf("Read: (%q, %v), want %v", r.msg, r.err, tt.want)
			}
			// Errors are sticky.
			if _, err := c.Read(); !errors.Is(err, tt.want) {
				t.Errorf("second Read: %v, want %v", err, tt.want)
			}
		})
	}
}

func TestReadFrames(t *testing.T) {
	c, raw := framePair(t, transports.Options{})
	big := strings.Repeat("b", 100<<10) // above growStep: read in chunks
	var in []byte
	in = append(in, frame(frameMessage, `[1,"a",{}]`)...)
	in = append(in, frame(frameMessage, "")...)
	in = append(in, frame(framePong, "unsolicited")...)
	in = append(in, frame(frameMessage, big)...)
	in = append(in, frame(frameMessage, "small")...)
	go raw.Write(in)
	for _, want := range []string{`[1,"a",{}]`, "", big, "small"} {
		m, err := c.Read()
		if err != nil {
			t.Fatal(err)
		}
		if string(m) != want {
			t.Fatalf("Read %d bytes, want %d", len(m), len(want))
		}
	}
	if cap(c.buf) > keepMsgBuf {
		t.Errorf("read buffer of %d bytes kept after a small message", cap(c.buf))
	}
}

func TestReadExactly16MiB(t *testing.T) {
	if testing.Short() {
		t.Skip("16 MiB message")
	}
	c, raw := framePair(t, transports.Options{})
	payload := bytes.Repeat([]byte{'x'}, maxLimit)
	go func() {
		raw.Write([]byte{0x08, 0, 0, 0})
		raw.Write(payload)
	}()
	m, err := c.Read()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m, payload) {
		t.Fatalf("read %d bytes, want %d", len(m), len(payload))
	}
}

func TestMaxOutgoingCapped(t *testing.T) {
	c, _ := framePair(t, transports.Options{})
	if got := c.MaxOutgoing(); got != maxLimit-1 {
		t.Errorf("MaxOutgoing = %d, want %d (peer announced 2^24, X bit never sent)", got, maxLimit-1)
	}
	h := make([]byte, 4)
	putHeader(h, frameMessage, maxLimit)
	if !bytes.Equal(h, []byte{0x08, 0, 0, 0}) {
		t.Errorf("header for 2^24 bytes: % x", h)
	}
	putHeader(h, framePing, 300)
	if !bytes.Equal(h, []byte{0x01, 0, 1, 0x2C}) {
		t.Errorf("ping header for 300 bytes: % x", h)
	}
}

func TestPingAnsweredWithPong(t *testing.T) {
	c, raw := framePair(t, transports.Options{})
	res := readAsync(c)
	raw.Write(append(frame(framePing, "abc\x00\xff"), frame(framePing, "")...))
	raw.SetReadDeadline(time.Now().Add(testWait))
	for _, want := range []string{"abc\x00\xff", ""} {
		typ, p := readFrame(t, raw)
		if typ != framePong || string(p) != want {
			t.Fatalf("got frame type %d payload %q, want PONG %q", typ, p, want)
		}
	}
	raw.Write(frame(frameMessage, "after"))
	if r := awaitRead(t, res); r.err != nil || string(r.msg) != "after" {
		t.Fatalf("Read: %q, %v", r.msg, r.err)
	}
}

func TestNoPingsToPeerThatNeverPinged(t *testing.T) {
	const interval = 10 * time.Millisecond
	c, raw := framePair(t, transports.Options{PingInterval: interval})
	res := readAsync(c)
	raw.Write(frame(frameMessage, "hello"))
	if r := awaitRead(t, res); r.err != nil {
		t.Fatal(r.err)
	}
	res = readAsync(c)
	// Stay idle for many intervals: nothing may arrive.
	raw.SetReadDeadline(time.Now().Add(30 * interval))
	var b [1]byte
	n, err := raw.Read(b[:])
	if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("peer that never pinged received %d bytes (%v)", n, err)
	}
	c.mu.Lock()
	armed := c.timer != nil
	c.mu.Unlock()
	if armed {
		t.Error("ping timer armed for a peer that never pinged")
	}
	// Still open.
	raw.Write(frame(frameMessage, "still here"))
	if r := awaitRead(t, res); r.err != nil || string(r.msg) != "still here" {
		t.Fatalf("Read: %q, %v", r.msg, r.err)
	}
}

func TestPingsPeerThatPinged(t *testing.T) {
	const interval = 20 * time.Millisecond
	c, raw := framePair(t, transports.Options{PingInterval: interval})
	res := readAsync(c)
	raw.Write(frame(framePing, "1"))
	raw.SetReadDeadline(time.Now().Add(testWait))
	if typ, _ := readFrame(t, raw); typ != framePong {
		t.Fatalf("got frame type %d, want PONG", typ)
	}
	// Never answer: two PINGs, then the connection closes.
	for i := range 2 {
		typ, p := readFrame(t, raw)
		if typ != framePing {
			t.Fatalf("frame %d: type %d, want PING", i, typ)
		}
		for _, ch := range p {
			if ch < 0x20 || ch > 0x7e {
				t.Fatalf("PING payload %q is not printable ASCII", p)
			}
		}
	}
	var b [1]byte
	if n, err := raw.Read(b[:]); n != 0 || !isClosed(err) {
		t.Fatalf("after two unanswered pings: read %d bytes, %v; want close", n, err)
	}
	r := awaitRead(t, res)
	if !errors.Is(r.err, transports.ErrPingTimeout) {
		t.Fatalf("Read: %v, want ErrPingTimeout", r.err)
	}
	if err := c.Write([][]byte{[]byte("x")}); !errors.Is(err, transports.ErrPingTimeout) {
		t.Errorf("Write after ping timeout: %v, want ErrPingTimeout", err)
	}
}

func TestAnsweredPingsKeepConnection(t *testing.T) {
	const interval = 10 * time.Millisecond
	c, raw := framePair(t, transports.Options{PingInterval: interval})
	res := readAsync(c)
	raw.Write(frame(framePing, "hi"))
	raw.SetReadDeadline(time.Now().Add(testWait))
	if typ, _ := readFrame(t, raw); typ != framePong {
		t.Fatalf("got frame type %d, want PONG", typ)
	}
	for i := range 5 {
		typ, p := readFrame(t, raw)
		if typ != framePing {
			t.Fatalf("frame %d: type %d, want PING", i, typ)
		}
		raw.Write(frame(framePong, string(p)))
	}
	raw.Write(frame(frameMessage, "alive"))
	if r := awaitRead(t, res); r.err != nil || string(r.msg) != "alive" {
		t.Fatalf("Read after answered pings: %q, %v", r.msg, r.err)
	}
}

func TestWriteTimeout(t *testing.T) {
	c, raw := framePair(t, transports.Options{WriteTimeout: 50 * time.Millisecond})
	_ = raw // never reads
	msg := make([]byte, 1<<20)
	var err error
	for range 1000 {
		if err = c.Write([][]byte{msg, msg}); err != nil {
			break
		}
	}
	if !errors.Is(err, transports.ErrWriteTimeout) {
		t.Fatalf("Write to a peer that never reads: %v, want ErrWriteTimeout", err)
	}
	if err := c.Write([][]byte{[]byte("x")}); !errors.Is(err, transports.ErrWriteTimeout) {
		t.Errorf("Write after the timeout: %v, want the connection closed for ErrWriteTimeout", err)
	}
	if _, err := c.Read(); !errors.Is(err, transports.ErrWriteTimeout) {
		t.Errorf("Read after the write timeout: %v", err)
	}
}

func TestWriteFrames(t *testing.T) {
	c, raw := framePair(t, transports.Options{})
	msgs := [][]byte{[]byte("one"), {}, []byte(strings.Repeat("z", 70000))}
	werr := make(chan error, 1)
	go func() { werr <- c.Write(msgs) }()
	raw.SetReadDeadline(time.Now().Add(testWait))
	for i, want := range msgs {
		typ, p := readFrame(t, raw)
		if typ != frameMessage || !bytes.Equal(p, want) {
			t.Fatalf("frame %d: type %d, %d bytes; want message of %d bytes", i, typ, len(p), len(want))
		}
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.wbufs != nil || (len(c.wvec[:cap(c.wvec)]) > 0 && c.wvec[:cap(c.wvec)][1] != nil) {
		t.Error("write scratch still references the messages")
	}
}

func TestReadWriteAllocs(t *testing.T) {
	c, raw := framePair(t, transports.Options{})
	msg := bytes.Repeat([]byte{'m'}, 100)
	const runs = 200
	var in []byte
	for range runs + 1 {
		in = append(in, frame(frameMessage, string(msg))...)
	}
	go raw.Write(in)
	if _, err := c.Read(); err != nil { // warm up the buffer
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(runs-1, func() {
		if _, err := c.Read(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Read allocates %.1f times per message, want 0", allocs)
	}

	go io.Copy(io.Discard, raw)
	batch := [][]byte{msg, msg, msg, msg}
	allocs = testing.AllocsPerRun(100, func() {
		if err := c.Write(batch); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Write allocates %.1f times per batch, want 0", allocs)
	}
}
