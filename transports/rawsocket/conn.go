package rawsocket

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wampgate/wampgate/transports"
)

// Buffer sizes, chosen for many idle sessions on a small board.
const (
	// readBufSize is the bufio.Reader size: big enough to pick up several
	// small frames per system call, small enough for thousands of idle
	// sessions.
	readBufSize = 1024
	// writeBufSize is the write buffer of streams without writev.
	writeBufSize = 4096
	// minMsgBuf is the smallest message buffer allocated, so that small
	// messages of varying size reuse one buffer.
	minMsgBuf = 512
	// keepMsgBuf is the largest message buffer kept between messages; a
	// larger one is dropped at the next Read.
	keepMsgBuf = 8 << 10
	// growStep is the size up to which a payload buffer is allocated in one
	// go. Bigger payloads grow as their bytes arrive, so a header that lies
	// about its length cannot make us allocate the whole limit up front.
	growStep = 64 << 10
	// maxWriteFrames is the most messages sent in one vectored write; it
	// bounds the write scratch kept per connection (about 3 KiB).
	maxWriteFrames = 64
	// maxUnanswered is how many of our PINGs may go unanswered; the next
	// tick closes the connection.
	maxUnanswered = 2
)

// pingPrefix starts the payload of our PINGs. It is ASCII, because some
// peers echo the payload through a UTF-8 string round trip.
const pingPrefix = "wampgate-ping-"

// conn is a RawSocket transports.Conn.
type conn struct {
	// Immutable after construction.
	nc           net.Conn
	vectored     bool // nc supports writev (TCP, Unix)
	ser          transports.Serializer
	info         transports.Info
	maxIn        int // largest incoming payload accepted
	maxOut       int // largest outgoing message (peer limit, capped)
	writeTimeout time.Duration
	pingInterval time.Duration
	base         time.Time // origin of lastRecv (monotonic)

	// Owned by the reader (Read).
	br   *bufio.Reader
	hdr  [4]byte
	buf  []byte
	rerr error // sticky read error

	// Guarded by wmu: every write on nc.
	wmu   sync.Mutex
	whdr  []byte        // frame headers of a Write chunk
	wvec  [][]byte      // iovec scratch, at most 2*maxWriteFrames
	wbufs net.Buffers   // consumed by WriteTo
	bw    *bufio.Writer // for streams without writev; allocated on first use
	chdr  [4]byte       // control frame header
	cvec  [2][]byte     // control frame iovecs

	// Liveness, touched by the reader and the ping timer.
	lastRecv   atomic.Int64 // ns since base of the last frame received
	unanswered atomic.Int32 // our PINGs sent since the last frame received
	peerPinged atomic.Bool  // the peer has sent us a PING
	pingSeq    uint64       // owned by the timer callback (runs one at a time)
	cpay       []byte       // our PING payload, owned by the timer callback

	// Guarded by mu.
	mu     sync.Mutex
	closed bool
	reason error       // why the connection closed; read and write errors wrap it
	timer  *time.Timer // ping timer, nil until the peer pinged
	cbs    sync.WaitGroup
}

type connConfig struct {
	ser          transports.Serializer
	kind         string
	established  time.Time
	maxIn        int
	peerMax      int
	writeTimeout time.Duration
	pingInterval time.Duration
}

func newConn(nc net.Conn, cfg connConfig) *conn {
	c := &conn{
		nc:  nc,
		ser: cfg.ser,
		info: transports.Info{
			Kind:        cfg.kind,
			Local:       nc.LocalAddr(),
			Remote:      nc.RemoteAddr(),
			Established: cfg.established,
		},
		maxIn:        cfg.maxIn,
		maxOut:       min(cfg.peerMax, maxSend),
		writeTimeout: cfg.writeTimeout,
		pingInterval: cfg.pingInterval,
		base:         time.Now(),
		br:           bufio.NewReaderSize(nc, readBufSize),
	}
	switch nc.(type) {
	case *net.TCPConn, *net.UnixConn:
		c.vectored = true
	}
	if tc, ok := nc.(*tls.Conn); ok {
		// The RawSocket handshake ran over it, so the TLS handshake is done.
		st := tc.ConnectionState()
		c.info.TLS = &st
	}
	return c
}

// kindOf names the transport kind for Info from the socket's network.
func kindOf(network string) string {
	if network == "unix" || network == "unixpacket" {
		return "rawsocket-unix"
	}
	return "rawsocket"
}

func (c *conn) Serializer() transports.Serializer { return c.ser }
func (c *conn) MaxOutgoing() int                  { return c.maxOut }
func (c *conn) Info() transports.Info             { return c.info }

// Read returns the next WAMP message. PING frames are answered and PONG
// frames only refresh liveness. Errors are sticky.
func (c *conn) Read() ([]byte, error) {
	if c.rerr != nil {
		return nil, c.rerr
	}
	if cap(c.buf) > keepMsgBuf {
		c.buf = nil
	}
	for {
		typ, n, err := c.readHeader()
		if err != nil {
			return nil, c.readFailed(err)
		}
		p, err := c.readPayload(n)
		if err != nil {
			return nil, c.readFailed(err)
		}
		if c.pingInterval > 0 {
			c.lastRecv.Store(int64(time.Since(c.base)))
			c.unanswered.Store(0)
		}
		switch typ {
		case frameMessage:
			return p, nil
		case framePing:
			if err := c.writeControl(framePong, p); err != nil {
				c.rerr = err
				return nil, err
			}
			if !c.peerPinged.Load() {
				c.peerPinged.Store(true)
				c.startPinging()
			}
		case framePong:
			// Liveness only; recorded above.
		}
	}
}

// readHeader reads and validates one frame header.
func (c *conn) readHeader() (typ byte, n int, err error) {
	if _, err := io.ReadFull(c.br, c.hdr[:]); err != nil {
		return 0, 0, err
	}
	b0 := c.hdr[0]
	n = int(c.hdr[1])<<16 | int(c.hdr[2])<<8 | int(c.hdr[3])
	if b0&0xf0 != 0 {
		return 0, 0, fmt.Errorf("rawsocket: reserved header bits 0x%02x: %w", b0, transports.ErrProtocol)
	}
	typ = b0 & 0x07
	if typ > framePong {
		return 0, 0, fmt.Errorf("rawsocket: reserved frame type %d: %w", typ, transports.ErrProtocol)
	}
	if b0&0x08 != 0 {
		if n != 0 {
			return 0, 0, fmt.Errorf("rawsocket: length bit X with non-zero length: %w", transports.ErrProtocol)
		}
		n = maxLimit
	}
	if n > c.maxIn {
		return 0, 0, fmt.Errorf("rawsocket: frame of %d bytes over the limit of %d: %w", n, c.maxIn, transports.ErrMessageTooBig)
	}
	return typ, n, nil
}

// readPayload reads n bytes into the reusable buffer. Payloads above
// growStep are read in growing chunks.
func (c *conn) readPayload(n int) ([]byte, error) {
	if n == 0 {
		return c.hdr[:0], nil
	}
	if cap(c.buf) >= n {
		p := c.buf[:n]
		return p, readFull(c.br, p)
	}
	if n <= growStep {
		c.buf = make([]byte, max(n, minMsgBuf))
		p := c.buf[:n]
		return p, readFull(c.br, p)
	}
	// Large payload: grow as bytes arrive.
	buf := make([]byte, growStep)
	got := 0
	for {
		if err := readFull(c.br, buf[got:]); err != nil {
			return nil, err
		}
		got = len(buf)
		if got == n {
			break
		}
		next := make([]byte, min(2*got, n))
		copy(next, buf)
		buf = next
	}
	c.buf = buf
	return buf, nil
}

// readFull reads len(p) bytes of a payload whose header was already read, so
// a clean end of stream is unexpected.
func readFull(r io.Reader, p []byte) error {
	_, err := io.ReadFull(r, p)
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readFailed turns a read error into the sticky error Read returns. After a
// local close (or a close for a ping or write timeout) the close reason is
// reported instead of the socket error.
func (c *conn) readFailed(err error) error {
	if reason := c.closeReason(); reason != nil {
		err = fmt.Errorf("rawsocket: read: %w", reason)
	} else if !errors.Is(err, transports.ErrProtocol) && !errors.Is(err, transports.ErrMessageTooBig) {
		err = fmt.Errorf("rawsocket: read: %w", err)
	}
	c.rerr = err
	return err
}

// Write sends msgs as WAMP message frames with vectored writes (one per
// maxWriteFrames messages), all bounded by one write timeout. A message
// larger than MaxOutgoing fails the whole call before anything is written.
// A failed or timed-out write closes the connection, since a frame may have
// been cut short.
func (c *conn) Write(msgs [][]byte) error {
	for _, m := range msgs {
		if len(m) > c.maxOut {
			return fmt.Errorf("rawsocket: message of %d bytes over the peer's limit of %d: %w", len(m), c.maxOut, transports.ErrMessageTooBig)
		}
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if reason := c.closeReason(); reason != nil {
		return fmt.Errorf("rawsocket: write: %w", reason)
	}
	if len(msgs) == 0 {
		return nil
	}
	if err := c.nc.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil {
		return c.writeFailed(err)
	}
	for len(msgs) > 0 {
		chunk := msgs[:min(len(msgs), maxWriteFrames)]
		msgs = msgs[len(chunk):]
		if need := 4 * len(chunk); cap(c.whdr) < need {
			c.whdr = make([]byte, need)
		}
		vec := c.wvec[:0]
		for i, m := range chunk {
			h := c.whdr[4*i : 4*i+4]
			putHeader(h, frameMessage, len(m))
			vec = append(vec, h)
			if len(m) > 0 {
				vec = append(vec, m)
			}
		}
		err := c.writeBufs(vec)
		clear(vec) // do not keep the caller's messages alive
		c.wvec = vec[:0]
		if err != nil {
			return err
		}
	}
	return nil
}

// writeControl sends one PING or PONG frame.
func (c *conn) writeControl(typ byte, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if reason := c.closeReason(); reason != nil {
		return fmt.Errorf("rawsocket: write: %w", reason)
	}
	if err := c.nc.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil {
		return c.writeFailed(err)
	}
	putHeader(c.chdr[:], typ, len(payload))
	c.cvec[0], c.cvec[1] = c.chdr[:], payload
	vec := c.cvec[:]
	if len(payload) == 0 {
		vec = vec[:1]
	}
	err := c.writeBufs(vec)
	c.cvec[1] = nil
	return err
}

// writeBufs writes vec in one vectored write. Streams without writev
// (TLS, pipes) get the frames through a small buffer instead, so that a
// batch is not split into a record or system call per header. Caller holds
// wmu and has set the write deadline.
func (c *conn) writeBufs(vec [][]byte) error {
	var err error
	if c.vectored {
		c.wbufs = vec
		_, err = c.wbufs.WriteTo(c.nc)
		c.wbufs = nil
	} else {
		if c.bw == nil {
			c.bw = bufio.NewWriterSize(c.nc, writeBufSize)
		}
		for _, b := range vec {
			if _, err = c.bw.Write(b); err != nil {
				break
			}
		}
		if err == nil {
			err = c.bw.Flush()
		}
	}
	if err != nil {
		return c.writeFailed(err)
	}
	return nil
}

// writeFailed closes the connection after a failed write and returns the
// error for the caller.
func (c *conn) writeFailed(err error) error {
	if reason := c.closeReason(); reason != nil {
		return fmt.Errorf("rawsocket: write: %w", reason)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = fmt.Errorf("rawsocket: write: %w: %w", transports.ErrWriteTimeout, err)
	} else {
		err = fmt.Errorf("rawsocket: write: %w", err)
	}
	c.shutdown(err)
	return err
}

// putHeader encodes a frame header. n must be at most 2^24.
func putHeader(h []byte, typ byte, n int) {
	if n == maxLimit {
		h[0], h[1], h[2], h[3] = typ|0x08, 0, 0, 0
		return
	}
	h[0], h[1], h[2], h[3] = typ, byte(n>>16), byte(n>>8), byte(n)
}

// startPinging arms the idle ping timer once the peer proved it handles
// PINGs.
func (c *conn) startPinging() {
	if c.pingInterval <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.timer != nil {
		return
	}
	c.timer = time.AfterFunc(c.pingInterval, c.pingTick)
}

// pingTick runs on the timer: it pings an idle peer, and closes the
// connection when maxUnanswered pings went unanswered.
func (c *conn) pingTick() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.cbs.Add(1)
	c.mu.Unlock()
	defer c.cbs.Done()

	idle := time.Since(c.base) - time.Duration(c.lastRecv.Load())
	if idle < c.pingInterval {
		c.rearm(c.pingInterval - idle)
		return
	}
	if c.unanswered.Load() >= maxUnanswered {
		c.shutdown(fmt.Errorf("rawsocket: %d pings unanswered: %w", maxUnanswered, transports.ErrPingTimeout))
		return
	}
	c.pingSeq++
	c.cpay = strconv.AppendUint(append(c.cpay[:0], pingPrefix...), c.pingSeq, 10)
	c.unanswered.Add(1)
	if err := c.writeControl(framePing, c.cpay); err != nil {
		return // writeControl closed the connection
	}
	c.rearm(c.pingInterval)
}

func (c *conn) rearm(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.timer.Reset(d)
	}
}

// closeReason returns why the connection closed, or nil while it is open.
func (c *conn) closeReason() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason
}

// shutdown closes the connection for reason unless it is already closed.
// It does not wait for timer callbacks, so they may call it.
func (c *conn) shutdown(reason error) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.reason = reason
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	return c.nc.Close()
}

// Close closes the connection, unblocking Read and Write, and waits for a
// running ping callback to finish. It is safe for concurrent use.
func (c *conn) Close() error {
	err := c.shutdown(transports.ErrClosed)
	c.cbs.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
