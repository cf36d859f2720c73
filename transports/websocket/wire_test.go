package websocket

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"testing"
)

// scriptConn is a net.Conn whose reads are served from arrivals, one
// arrival (or what fits of it) per Read, as a socket returns what the peer
// has sent so far, and whose writes are recorded one by one.
type scriptConn struct {
	net.Conn // nil: only Read, Write and Close are used

	arrivals [][]byte
	readErr  error // returned with the last arrival's bytes, then alone
	writes   [][]byte
	writeErr error
	reads    []int // len(p) of every Read that reached the socket
}

func (s *scriptConn) Read(p []byte) (int, error) {
	s.reads = append(s.reads, len(p))
	if len(s.arrivals) == 0 {
		if s.readErr != nil {
			return 0, s.readErr
		}
		return 0, io.EOF
	}
	n := copy(p, s.arrivals[0])
	if s.arrivals[0] = s.arrivals[0][n:]; len(s.arrivals[0]) == 0 {
		s.arrivals = s.arrivals[1:]
		if len(s.arrivals) == 0 && s.readErr != nil {
			return n, s.readErr
		}
	}
	return n, nil
}

func (s *scriptConn) Write(p []byte) (int, error) {
	if s.writeErr != nil {
		return 0, s.writeErr
	}
	s.writes = append(s.writes, bytes.Clone(p))
	return len(p), nil
}

func (s *scriptConn) Close() error { return nil }

func writeAll(t *testing.T, w *wireConn, chunks ...[]byte) {
	t.Helper()
	for _, c := range chunks {
		if n, err := w.Write(c); n != len(c) || err != nil {
			t.Fatalf("Write(%d bytes) = %d, %v", len(c), n, err)
		}
	}
}

func sizes(writes [][]byte) []int {
	var n []int
	for _, w := range writes {
		n = append(n, len(w))
	}
	return n
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func filled(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

func TestWireWriteBatching(t *testing.T) {
	s := &scriptConn{}
	w := &wireConn{Conn: s}

	writeAll(t, w, []byte("ping"), []byte("pong"))
	if got := sizes(s.writes); !equalInts(got, []int{4, 4}) {
		t.Fatalf("writes outside a batch: sizes %v, want each written at once", got)
	}

	s.writes = nil
	w.begin()
	writeAll(t, w, []byte("ab"), []byte("cd"), []byte("e"))
	if len(s.writes) != 0 {
		t.Fatalf("%d writes reached the socket during the batch", len(s.writes))
	}
	if err := w.end(); err != nil {
		t.Fatal(err)
	}
	if len(s.writes) != 1 || string(s.writes[0]) != "abcde" {
		t.Fatalf("batch written as %q, want one write \"abcde\"", s.writes)
	}
	if w.out != nil || w.outN != 0 {
		t.Error("batch buffer kept after end")
	}

	// Over the bound: what the buffer holds is written first.
	s.writes = nil
	w.begin()
	a, b, c := filled(30000, 'a'), filled(30000, 'b'), filled(30000, 'c')
	writeAll(t, w, a, b, c)
	if err := w.end(); err != nil {
		t.Fatal(err)
	}
	if got := sizes(s.writes); !equalInts(got, []int{60000, 30000}) {
		t.Fatalf("batch over the bound written as %v, want [60000 30000]", got)
	}
	if got := bytes.Join(s.writes, nil); !bytes.Equal(got, bytes.Join([][]byte{a, b, c}, nil)) {
		t.Fatal("bytes reordered or changed")
	}

	// A write of batchLimit or more goes straight to the socket, after
	// what was collected before it.
	s.writes = nil
	w.begin()
	big := filled(batchLimit, 'z')
	writeAll(t, w, []byte("hdr"), big, []byte("next"))
	if err := w.end(); err != nil {
		t.Fatal(err)
	}
	if got := sizes(s.writes); !equalInts(got, []int{3, batchLimit, 4}) {
		t.Fatalf("large write in a batch: sizes %v, want [3 %d 4]", got, batchLimit)
	}

	// An empty batch writes nothing.
	s.writes = nil
	w.begin()
	if err := w.end(); err != nil || len(s.writes) != 0 {
		t.Fatalf("empty batch: %v, %d writes", err, len(s.writes))
	}
}

func TestWireWriteErrorsAreSticky(t *testing.T) {
	errBroken := errors.New("broken pipe")

	// Failing in the batch's final write.
	s := &scriptConn{}
	w := &wireConn{Conn: s}
	w.begin()
	writeAll(t, w, []byte("abc"))
	s.writeErr = errBroken
	if err := w.end(); !errors.Is(err, errBroken) {
		t.Fatalf("end: %v, want the write error", err)
	}
	s.writeErr = nil // the socket "recovers"; the stream is still broken
	if _, err := w.Write([]byte("x")); !errors.Is(err, errBroken) {
		t.Errorf("Write after a failed write: %v, want the first error", err)
	}
	w.begin()
	if _, err := w.Write([]byte("x")); !errors.Is(err, errBroken) {
		t.Errorf("Write in a batch after a failed write: %v", err)
	}
	if err := w.end(); !errors.Is(err, errBroken) {
		t.Errorf("end after a failed write: %v", err)
	}
	if len(s.writes) != 0 {
		t.Errorf("%d writes reached the socket after the failure", len(s.writes))
	}

	// Failing outside a batch.
	s = &scriptConn{writeErr: errBroken}
	w = &wireConn{Conn: s}
	if _, err := w.Write([]byte("x")); !errors.Is(err, errBroken) {
		t.Fatalf("Write: %v", err)
	}
	w.begin()
	if _, err := w.Write([]byte("y")); !errors.Is(err, errBroken) {
		t.Errorf("Write in a batch after a failed write: %v", err)
	}
	if err := w.end(); !errors.Is(err, errBroken) {
		t.Errorf("end: %v", err)
	}
}

func TestWireReadPassThrough(t *testing.T) {
	s := &scriptConn{arrivals: [][]byte{filled(1000, 'a')}}
	w := &wireConn{Conn: s}
	p := make([]byte, 16)
	for range 3 {
		if n, err := w.Read(p); n != 16 || err != nil {
			t.Fatalf("Read = %d, %v", n, err)
		}
	}
	if !equalInts(s.reads, []int{16, 16, 16}) || w.in != nil {
		t.Errorf("client-side reads buffered: socket reads %v", s.reads)
	}
}

func TestWireReadPooled(t *testing.T) {
	s := &scriptConn{}
	w := &wireConn{Conn: s, pooled: true, early: []byte("early")}
	p := make([]byte, libReadBuf)

	// Bytes net/http read past the request come first, without a read.
	if n, err := w.Read(p); err != nil || string(p[:n]) != "early" || len(s.reads) != 0 {
		t.Fatalf("first Read = %q, %v after %d socket reads", p[:n], err, len(s.reads))
	}

	// A quiet connection reads straight into p and keeps no buffer.
	s.arrivals = [][]byte{filled(100, 'q')}
	if n, err := w.Read(p); n != 100 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if w.in != nil || w.hot {
		t.Fatal("buffer taken for a message that fitted")
	}

	// A read that fills p switches to pooled chunks, given back once
	// drained.
	s.arrivals = [][]byte{filled(3000, 'b')}
	if n, err := w.Read(p); n != libReadBuf || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if !w.hot {
		t.Fatal("a full read did not mark the connection busy")
	}
	small := make([]byte, 100)
	got := 0
	for got < 3000-libReadBuf {
		n, err := w.Read(small)
		if err != nil {
			t.Fatal(err)
		}
		got += n
		if drained := got == 3000-libReadBuf; drained != (w.in == nil) {
			t.Fatalf("after %d bytes: chunk held = %v", got, w.in != nil)
		}
	}
	if want := []int{libReadBuf, libReadBuf, readChunk}; !equalInts(s.reads, want) {
		t.Errorf("socket reads %v, want %v", s.reads, want)
	}
	if w.hot {
		t.Error("still busy after a read that did not fill the chunk")
	}

	// A read that fills a large p (the rest of a payload, read exactly)
	// says nothing about what follows: no chunk for the next read.
	s.arrivals, s.reads = [][]byte{filled(1000, 'p')}, nil
	if n, err := w.Read(make([]byte, 1000)); n != 1000 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if w.hot {
		t.Error("an exact payload read marked the connection busy")
	}
	s.arrivals = [][]byte{filled(10, 'h')}
	if n, err := w.Read(p); n != 10 || err != nil || w.in != nil || !equalInts(s.reads, []int{1000, libReadBuf}) {
		t.Errorf("next Read = %d, %v, socket reads %v, chunk held %v", n, err, s.reads, w.in != nil)
	}

	// An error that comes with data is reported after the data.
	errReset := errors.New("connection reset")
	s.arrivals, s.readErr = [][]byte{filled(600, 'c')}, errReset
	w.hot = true
	n1, err := w.Read(small)
	if n1 != 100 || err != nil {
		t.Fatalf("Read = %d, %v; want data first", n1, err)
	}
	total := n1
	for {
		n, err := w.Read(small)
		total += n
		if err != nil {
			if !errors.Is(err, errReset) || total != 600 {
				t.Fatalf("got %d bytes then %v, want 600 then the reset", total, err)
			}
			break
		}
	}
}

// TestWireReadStream checks that the bytes come out unchanged and in order
// whatever the arrival chunking and read sizes.
func TestWireReadStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := rand.NewChaCha8([32]byte{1})
	for round := range 100 {
		var want []byte
		var arrivals [][]byte
		for range 1 + rng.IntN(12) {
			c := make([]byte, 1+rng.IntN(3*readChunk))
			fill.Read(c)
			want = append(want, c...)
			arrivals = append(arrivals, bytes.Clone(c))
		}
		s := &scriptConn{arrivals: arrivals}
		w := &wireConn{Conn: s, pooled: true, early: []byte{0xee, 0xff}}
		want = append([]byte{0xee, 0xff}, want...)
		var got []byte
		for {
			p := make([]byte, 1+rng.IntN(2*readChunk))
			n, err := w.Read(p)
			got = append(got, p[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("round %d: %d bytes out, %d in, or reordered", round, len(got), len(want))
		}
		if w.in != nil {
			t.Fatalf("round %d: chunk kept after the stream ended", round)
		}
	}
}
