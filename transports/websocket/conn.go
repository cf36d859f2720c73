package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	cws "github.com/coder/websocket"

	"github.com/wampgate/wampgate/transports"
)

const (
	// closeGrace bounds the close handshake; then the TCP connection is
	// dropped.
	closeGrace = time.Second
	// minMsgBuf is the size of a new message buffer.
	minMsgBuf = 512
	// keepMsgBuf is the largest message buffer given back to the pool.
	keepMsgBuf = 8 << 10
	// maxUnanswered is how many pings in a row may fail before the
	// connection is closed.
	maxUnanswered = 2
)

// conn is a WebSocket transports.Conn.
type conn struct {
	// Set before the connection is used, immutable after.
	ws           *cws.Conn
	nc           *wireConn // the connection under ws, for batches, deadlines and a forced close; may be nil
	ser          transports.Serializer
	typ          cws.MessageType
	info         transports.Info
	maxIn        int
	writeTimeout time.Duration
	pingInterval time.Duration
	base         time.Time          // origin of lastRecv (monotonic)
	ctx          context.Context    // cancelled when the connection closes
	cancel       context.CancelFunc //

	// Owned by the reader (Read).
	msg  *msgBuf // buffer of the message last returned, nil between messages
	rerr error   // sticky read error

	lastRecv atomic.Int64 // ns since base of the last message or pong received

	// Guarded by mu.
	mu     sync.Mutex
	closed bool
	reason error       // why the connection closed; read and write errors wrap it
	timer  *time.Timer // idle ping timer, nil without PingInterval
	cbs    sync.WaitGroup
}

// msgBuf holds a message buffer in msgPool.
type msgBuf struct{ b []byte }

// msgPool lends message buffers to Read: a connection holds one only from
// the arrival of a message until the next Read, so idle connections hold
// none.
var msgPool = sync.Pool{New: func() any { return &msgBuf{b: make([]byte, minMsgBuf)} }}

// newConn returns a conn with its liveness clock started; start finishes
// it once the WebSocket exists. The split lets the pong callback, which
// must be passed to Accept or Dial, refer to the conn.
func newConn() *conn {
	return &conn{base: time.Now()}
}

func (c *conn) onPong(context.Context, []byte) { c.touch() }

func (c *conn) touch() { c.lastRecv.Store(int64(time.Since(c.base))) }

func (c *conn) start(ws *cws.Conn, nc *wireConn, ser transports.Serializer, opts transports.Options, info transports.Info) {
	c.ws, c.nc, c.ser, c.info = ws, nc, ser, info
	c.typ = cws.MessageText
	if ser.Binary() {
		c.typ = cws.MessageBinary
	}
	c.maxIn = opts.MaxMessageSize
	c.writeTimeout = opts.WriteTimeout
	c.pingInterval = opts.PingInterval
	c.ctx, c.cancel = context.WithCancel(context.Background())
	ws.SetReadLimit(int64(opts.MaxMessageSize))
	c.touch()
	if c.pingInterval > 0 {
		c.mu.Lock() // the callback takes mu before it uses c.timer
		c.timer = time.AfterFunc(c.pingInterval, c.pingTick)
		c.mu.Unlock()
	}
}

func (c *conn) Serializer() transports.Serializer { return c.ser }

// MaxOutgoing is 0: WebSocket peers announce no limit.
func (c *conn) MaxOutgoing() int      { return 0 }
func (c *conn) Info() transports.Info { return c.info }

// Read returns the next message, read into a pooled buffer that the next
// Read gives back. Errors are sticky.
func (c *conn) Read() ([]byte, error) {
	if c.rerr != nil {
		return nil, c.rerr
	}
	c.releaseMsg()
	typ, r, err := c.ws.Reader(c.readCtx())
	if err != nil {
		return nil, c.readFailed(err)
	}
	if typ != c.typ {
		err := fmt.Errorf("websocket: %v on a %s connection: %w", typ, c.ser.Subprotocol(), transports.ErrProtocol)
		c.rerr = err
		c.closeWith(err, cws.StatusUnsupportedData, "wrong message type for "+c.ser.Subprotocol())
		return nil, err
	}
	c.msg = msgPool.Get().(*msgBuf)
	buf := c.msg.b[:min(cap(c.msg.b), c.maxIn+1)]
	n := 0
	for {
		if n == len(buf) {
			if n > c.maxIn {
				// One byte over: let the library's read limit report
				// it, which also sends the peer close code 1009.
				if _, err := r.Read(buf[n:]); err != nil && err != io.EOF {
					return nil, c.readFailed(err)
				}
				return nil, c.readFailed(fmt.Errorf("message over %d bytes: %w", c.maxIn, cws.ErrMessageTooBig))
			}
			next := make([]byte, min(max(2*len(buf), minMsgBuf), c.maxIn+1))
			copy(next, buf[:n])
			buf = next
			c.msg.b = buf
		}
		m, err := r.Read(buf[n:])
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, c.readFailed(err)
		}
	}
	c.touch()
	return buf[:n], nil
}

// releaseMsg gives the buffer of the last message back to the pool. One
// grown past keepMsgBuf is left to the garbage collector.
func (c *conn) releaseMsg() {
	if c.msg == nil {
		return
	}
	if cap(c.msg.b) <= keepMsgBuf {
		msgPool.Put(c.msg)
	}
	c.msg = nil
}

// readFailed maps a library error to the sticky error Read returns.
func (c *conn) readFailed(err error) error {
	c.releaseMsg()
	switch status := cws.CloseStatus(err); {
	case c.closeReason() != nil:
		err = fmt.Errorf("websocket: read: %w", c.closeReason())
	case errors.Is(err, cws.ErrMessageTooBig):
		err = fmt.Errorf("websocket: read: %w: %w", transports.ErrMessageTooBig, err)
	case status == cws.StatusNormalClosure || status == cws.StatusGoingAway:
		err = fmt.Errorf("websocket: peer closed: %w: %w", io.EOF, err)
	default:
		err = fmt.Errorf("websocket: read: %w", err)
	}
	c.rerr = err
	return err
}

// readCtx is the context for reads. With the connection at hand it is
// Background, which spares the library a timer per frame; Close then ends a
// blocked Read by closing the connection. Without it, the connection's
// context lets Close cancel the Read.
func (c *conn) readCtx() context.Context {
	if c.nc != nil {
		return context.Background()
	}
	return c.ctx
}

// Write sends each message as one WebSocket message, all under one write
// timeout and, with the connection at hand, in one batch: the frames reach
// the socket in one write (more when the batch exceeds batchLimit). A
// failed write closes the connection.
func (c *conn) Write(msgs [][]byte) error {
	if reason := c.closeReason(); reason != nil {
		return fmt.Errorf("websocket: write: %w", reason)
	}
	if len(msgs) == 0 {
		return nil
	}
	if c.nc == nil {
		return c.writeCtx(msgs)
	}
	// A deadline on the socket bounds the whole call, including the
	// batch's writes, without a timer per frame inside the library.
	if err := c.nc.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil {
		return c.writeFailed(err, false)
	}
	c.nc.begin()
	for _, m := range msgs {
		if err := c.ws.Write(context.Background(), c.typ, m); err != nil {
			// Still write what the batch holds: a close frame the
			// library queued behind our frames (Close from another
			// goroutine) must leave.
			_ = c.nc.end()
			return c.writeFailed(err, errors.Is(err, os.ErrDeadlineExceeded))
		}
	}
	if err := c.nc.end(); err != nil {
		return c.writeFailed(err, errors.Is(err, os.ErrDeadlineExceeded))
	}
	// Clear it, so that pongs and close frames written later by the
	// library are not cut off by a stale deadline. The messages are
	// written by now: if this fails, the connection was closed meanwhile
	// (say the peer answered at once and closed), which is for the next
	// call to report.
	_ = c.nc.SetWriteDeadline(time.Time{})
	return nil
}

// writeCtx is Write bounded by a context, for connections whose socket is
// unknown.
func (c *conn) writeCtx(msgs [][]byte) error {
	ctx, cancel := context.WithTimeout(c.ctx, c.writeTimeout)
	defer cancel()
	for _, m := range msgs {
		if err := c.ws.Write(ctx, c.typ, m); err != nil {
			return c.writeFailed(err, errors.Is(ctx.Err(), context.DeadlineExceeded))
		}
	}
	return nil
}

func (c *conn) writeFailed(err error, timeout bool) error {
	if reason := c.closeReason(); reason != nil {
		return fmt.Errorf("websocket: write: %w", reason)
	}
	if timeout {
		err = fmt.Errorf("websocket: write: %w: %w", transports.ErrWriteTimeout, err)
	} else {
		err = fmt.Errorf("websocket: write: %w", err)
	}
	c.closeWith(err, cws.StatusGoingAway, "write failed")
	return err
}

// pingTick runs on the idle timer. It pings an idle peer, trying again at
// once when a ping fails, and closes the connection after maxUnanswered
// failures in a row. A message or pong arriving meanwhile counts as an
// answer.
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
	for failures := 0; ; {
		seen := c.lastRecv.Load()
		ctx, cancel := context.WithTimeout(c.ctx, c.pingInterval)
		err := c.ws.Ping(ctx)
		cancel()
		if err == nil || c.lastRecv.Load() != seen {
			break
		}
		if c.closeReason() != nil {
			return
		}
		if failures++; failures >= maxUnanswered {
			c.closeWith(fmt.Errorf("websocket: %d pings failed: %w: %w", failures, transports.ErrPingTimeout, err), cws.StatusGoingAway, "ping timeout")
			return
		}
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

func (c *conn) closeReason() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason
}

// closeWith closes the connection for reason unless it is already closed:
// a close handshake with code and text, cut short after closeGrace.
func (c *conn) closeWith(reason error, code cws.StatusCode, text string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.reason = reason
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()

	force := time.AfterFunc(closeGrace, c.forceClose)
	c.ws.Close(code, text)
	force.Stop()
	c.cancel()
}

// forceClose drops the connection under a close handshake that takes too
// long. Cancelling ctx also makes the library close it when a Read, Write
// or Ping is in progress.
func (c *conn) forceClose() {
	if c.nc != nil {
		c.nc.Close()
	}
	c.cancel()
}

// Close closes the connection with a normal close handshake bounded by one
// second, unblocking Read and Write. It is safe for concurrent use; calls
// after the first return at once.
func (c *conn) Close() error {
	c.closeWith(transports.ErrClosed, cws.StatusNormalClosure, "")
	c.cbs.Wait()
	return nil
}
