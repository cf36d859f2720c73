package websocket

import (
	"net"
	"sync"
)

// Buffer sizes between the library and the socket.
const (
	// batchLimit bounds the bytes a batch holds before they are written
	// early. A single write at least this large bypasses the buffer.
	batchLimit = 64 << 10
	// readChunk is the size of the pooled buffer that reads go into while
	// data streams in on a server connection.
	readChunk = 8 << 10
	// libReadBuf and libWriteBuf size the bufio.Reader and bufio.Writer the
	// server hands the library at the upgrade, which stay with the
	// connection for its whole life. A small message arriving on an idle
	// connection fits libReadBuf; any control frame (at most 10 header
	// and 125 payload bytes from a server) fits libWriteBuf, so pongs and
	// close frames leave in one write.
	libReadBuf  = 256
	libWriteBuf = 128
)

var (
	batchPool = sync.Pool{New: func() any { return new([batchLimit]byte) }}
	chunkPool = sync.Pool{New: func() any { return new([readChunk]byte) }}
)

// wireConn is the connection under the library. It lets a whole Write
// batch reach the socket in one system call, and on the server side it
// reads through a pooled buffer so that an idle connection holds no read
// buffer of its own.
//
// Between begin and end (one batch, called by conn.Write) the library's
// writes are collected in a pooled buffer of up to batchLimit bytes and
// written by end, or earlier when the buffer fills. Writes outside a batch,
// such as the pongs and close frames the library writes from other
// goroutines, go straight to the socket; one made during a batch joins it.
// Every write takes mu, and
// buffered bytes are always written before any later write, so bytes reach
// the socket in the order the library wrote them. The library writes each
// frame under its own lock, so frames from different goroutines never
// interleave. Write deadlines set on the connection bound the batch's
// writes as they would the library's own.
type wireConn struct {
	net.Conn

	// Write side, guarded by mu.
	mu       sync.Mutex
	batching bool
	out      *[batchLimit]byte // pooled while a batch holds bytes, else nil
	outN     int
	werr     error // sticky: after a failed write the stream is broken

	// Read side, used by the library's reader only (it reads under its
	// own lock).
	pooled bool   // read through pooled chunks; false reads straight through
	early  []byte // bytes net/http read past the upgrade request
	in     *[readChunk]byte
	inPos  int
	inEnd  int
	inErr  error // error of the read that filled in, reported once it drains
	hot    bool  // the last socket read filled the bufio.Reader or a chunk: more is likely queued
}

// begin starts a batch.
func (w *wireConn) begin() {
	w.mu.Lock()
	w.batching = true
	w.mu.Unlock()
}

// end finishes a batch, writing what it collected. It reports the first
// write error of the connection, if any.
func (w *wireConn) end() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.batching = false
	err := w.flushLocked()
	if w.out != nil {
		batchPool.Put(w.out)
		w.out = nil
	}
	return err
}

// Write collects p while a batch is in progress and writes it otherwise.
func (w *wireConn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.werr != nil {
		return 0, w.werr
	}
	if !w.batching {
		return w.writeLocked(p)
	}
	if w.outN+len(p) > batchLimit {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) >= batchLimit {
			return w.writeLocked(p)
		}
	}
	if w.out == nil {
		w.out = batchPool.Get().(*[batchLimit]byte)
	}
	w.outN += copy(w.out[w.outN:], p)
	return len(p), nil
}

func (w *wireConn) flushLocked() error {
	if w.werr != nil || w.outN == 0 {
		return w.werr
	}
	_, err := w.writeLocked(w.out[:w.outN])
	w.outN = 0
	return err
}

func (w *wireConn) writeLocked(p []byte) (int, error) {
	n, err := w.Conn.Write(p)
	if err != nil {
		w.werr = err
	}
	return n, err
}

// Read reads from the socket. With pooled set, a read on a quiet connection
// goes straight into p (the library's small bufio.Reader, or the rest of a
// message payload), so that a connection waiting for its next message
// holds no buffer. A read that fills the bufio.Reader suggests that more
// data is queued; the next small read then goes into a pooled chunk, which
// is served from until it drains and is then returned to the pool.
func (w *wireConn) Read(p []byte) (int, error) {
	if !w.pooled {
		return w.Conn.Read(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if len(w.early) > 0 {
		n := copy(p, w.early)
		w.early = w.early[n:]
		if len(w.early) == 0 {
			w.early = nil
		}
		return n, nil
	}
	if w.in != nil {
		n := copy(p, w.in[w.inPos:w.inEnd])
		w.inPos += n
		if w.inPos == w.inEnd {
			chunkPool.Put(w.in)
			w.in = nil
		}
		return n, nil
	}
	if err := w.inErr; err != nil {
		w.inErr = nil
		return 0, err
	}
	if !w.hot || len(p) >= readChunk {
		n, err := w.Conn.Read(p)
		// Only a full bufio fill says more is queued: a larger p is
		// the exact remainder of a payload, which a read fills even when
		// nothing follows.
		w.hot = n == len(p) && len(p) <= libReadBuf
		return n, err
	}
	in := chunkPool.Get().(*[readChunk]byte)
	n, err := w.Conn.Read(in[:])
	w.hot = n == len(in)
	m := copy(p, in[:n])
	if m == n {
		chunkPool.Put(in)
		return m, err
	}
	w.in, w.inPos, w.inEnd, w.inErr = in, m, n, err
	return m, nil
}
