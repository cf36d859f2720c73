package serial

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wampgate/wampgate/transports"
)

// Errors that end a device session. Conn.Read returns them wrapped.
var (
	// ErrDeviceReset: the device rebooted (it sent a HANDSHAKE, or a RESET,
	// while a session was up). The router ends the session as if a
	// connection had closed; Accept then returns the device's new session.
	ErrDeviceReset = errors.New("serial: device reset")
	// ErrSeqGap: a WAMP frame from the device was lost (strict mode).
	ErrSeqGap = errors.New("serial: sequence gap")
)

// Link defaults and fixed timings of the link rules.
const (
	// DefaultPingInterval is the silence after which the gateway pings.
	DefaultPingInterval = 10 * time.Second
	// DefaultLinkMaxMessageSize is the default receive limit announced to
	// devices.
	DefaultLinkMaxMessageSize = 64 << 10
	// MaxUnansweredPings is how many PINGs may go unanswered before the
	// session ends.
	MaxUnansweredPings = 3
	// ResetInterval is the least time between a RESET sent in answer to a
	// WAMP frame that arrives while no session is up and the RESET before
	// it (of any cause, including the one sent at start).
	ResetInterval = time.Second
	// LeadingZeroSilence is the transmit silence after which a frame is
	// preceded by a leading 0x00.
	LeadingZeroSilence = 500 * time.Millisecond

	// txBacklog is the output the tty may still hold from earlier writes
	// (the kernel's buffer); a write may have to wait for it to drain.
	txBacklog = 4096
	// writeSlack is added to every write deadline for scheduling and USB
	// latency.
	writeSlack = 500 * time.Millisecond
	// inQueue is how many received messages wait for Conn.Read before the
	// link's reader blocks (and stops reading the line).
	inQueue = 16
	// recycleMax is the largest receive buffer kept for reuse.
	recycleMax = 4096
	// wbufKeep is the largest write buffer kept between writes.
	wbufKeep = 64 << 10
)

// LinkConfig configures a Link. The zero value is usable.
type LinkConfig struct {
	// Serializers the gateway accepts from devices. Empty: JSON, MsgPack and
	// CBOR.
	Serializers []transports.Serializer
	// MaxMessageSize is the largest WAMP message accepted from the device,
	// announced in the handshake reply. It is rounded down to a power of two
	// between MinMessageSize and MaxMessageSize. Zero:
	// DefaultLinkMaxMessageSize.
	MaxMessageSize int
	// MinDeviceMessageSize rejects, with handshake error 2 (maximum length
	// unacceptable), devices that announce a smaller receive limit. Zero
	// accepts every device (the smallest limit is 512 bytes).
	MinDeviceMessageSize int
	// Lenient counts sequence gaps and carries on instead of resetting the
	// session (rule 5); for telemetry-only devices.
	Lenient bool
	// PingInterval is the silence after which a PING is sent; the session
	// ends after MaxUnansweredPings unanswered PINGs. Zero:
	// DefaultPingInterval; negative: no pings.
	PingInterval time.Duration
	// Baud and BitsPerChar size write deadlines. Zero: taken from the
	// *Port when the stream is one, else 115200 and 10 (8N1).
	Baud        int
	BitsPerChar int
	// Name identifies the device's end in Info and logs, such as the port
	// path. Zero: the *Port's path or the net.Conn's remote address.
	Name string
	// Logger receives the link's log records. Nil: discard.
	Logger *slog.Logger
}

// LinkStats is a snapshot of a Link's counters.
type LinkStats struct {
	BytesIn, BytesOut   uint64
	FramesIn, FramesOut uint64
	// Dropped counts received frames dropped by the decoder, by reason.
	Dropped [DropReasonCount]uint64
	// SeqGaps counts sequence gaps seen (strict and lenient mode).
	SeqGaps uint64
	// ResetsSent counts RESET frames sent.
	ResetsSent uint64
	// Handshakes counts sessions started; HandshakeErrors error replies.
	Handshakes, HandshakeErrors uint64
	// DeviceResets counts sessions ended by a device reboot.
	DeviceResets uint64
	// NoSession counts WAMP frames that arrived while no session was up.
	NoSession uint64
	// PingsSent and PingTimeouts count liveness probes and sessions ended
	// by unanswered ones.
	PingsSent, PingTimeouts uint64
	// LastSeen is when the last good frame arrived; zero if none has.
	LastSeen time.Time
}

type linkCounters struct {
	bytesIn, bytesOut, framesIn, framesOut  atomic.Uint64
	seqGaps, resetsSent, handshakes, hsErrs atomic.Uint64
	deviceResets, noSession                 atomic.Uint64
	pingsSent, pingTimeouts                 atomic.Uint64
	lastSeen                                atomic.Int64 // unix nanoseconds
}

// deadliner is the part of net.Conn, *os.File and *Port that a Link uses
// for timeouts.
type deadliner interface {
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
}

// Link runs the gateway side of the serial link rules over one byte stream
// and hands each device session to the router as a transports.Conn.
//
// On start it sends a leading 0x00 and RESET, so a device that kept a
// session from before answers with a fresh HANDSHAKE. It answers each
// HANDSHAKE with its own or with an error reply; every good handshake starts
// a new session, returned by Accept. A HANDSHAKE while a session is up ends
// that session with ErrDeviceReset. The link itself lives until Close or
// until the stream fails (unplug), which ends the current session and makes
// Accept return the error.
//
// A Link owns one goroutine, the reader, started by NewLink and ended by
// Close; writes, from Conn.Write and from the reader's replies, are
// serialised by a mutex.
//
// Lock order: wmu before mu; mu is never held during I/O.
type Link struct {
	rw       io.ReadWriteCloser             // immutable
	dl       deadliner                      // rw's deadlines, nil if it has none; immutable
	cfg      LinkConfig                     // defaults applied; immutable
	log      *slog.Logger                   // immutable
	ourMax   int                            // receive limit announced to devices; immutable
	local    net.Addr                       // immutable
	remote   net.Addr                       // immutable
	accepted map[transports.Serializer]bool // from cfg.Serializers; immutable

	wmu       sync.Mutex // serialises writes to rw; guards the fields below
	wbuf      []byte     // guarded by wmu
	lastTx    time.Time  // guarded by wmu
	lastReset time.Time  // guarded by wmu

	mu      sync.Mutex // guards the fields below
	cur     *conn      // the session that is up, accepted or not
	pending *conn      // a session not yet returned by Accept
	gen     uint64     // incremented at every HANDSHAKE

	notify    chan struct{} // cap 1: a session became pending
	done      chan struct{} // closed when the reader has exited
	closing   chan struct{} // closed by Close
	closeOnce sync.Once
	closeErr  error // result of rw.Close, set in closeOnce
	err       error // why the link ended, set before done is closed

	// Owned by readLoop.
	dec      *Decoder
	rbuf     []byte
	pingsOut int
	nextPing time.Time
	armed    time.Time // read deadline in effect, unless stale
	stale    bool      // the read deadline expired and must be set again
	pingSeq  uint32

	stats linkCounters
}

// NewLink starts a link over rw, which the Link owns from now on and closes
// in Close. rw should have SetReadDeadline and SetWriteDeadline (*Port,
// *os.File, net.Conn); without them there are no pings and writes have no
// deadline.
func NewLink(rw io.ReadWriteCloser, cfg LinkConfig) *Link {
	port, _ := rw.(*Port)
	if len(cfg.Serializers) == 0 {
		cfg.Serializers = []transports.Serializer{transports.JSON, transports.MsgPack, transports.CBOR}
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultLinkMaxMessageSize
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.Baud <= 0 {
		cfg.Baud = DefaultBaud
		if port != nil {
			cfg.Baud = port.Config().Baud
		}
	}
	if cfg.BitsPerChar <= 0 {
		cfg.BitsPerChar = PortConfig{}.BitsPerChar()
		if port != nil {
			cfg.BitsPerChar = port.Config().BitsPerChar()
		}
	}
	var local, remote net.Addr = addr("gateway"), nil
	if nc, ok := rw.(net.Conn); ok {
		// A TCP serial server: keep its addresses unless named.
		local, remote = nc.LocalAddr(), nc.RemoteAddr()
		if cfg.Name == "" && remote != nil {
			cfg.Name = remote.String()
		}
	}
	if cfg.Name == "" && port != nil {
		cfg.Name = port.Path()
	}
	if remote == nil || remote.String() != cfg.Name {
		remote = addr(cfg.Name)
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	l := &Link{
		rw:       rw,
		cfg:      cfg,
		log:      lg.With("transport", "serial", "device", cfg.Name),
		ourMax:   RoundMessageSize(cfg.MaxMessageSize),
		local:    local,
		remote:   remote,
		accepted: make(map[transports.Serializer]bool),
		notify:   make(chan struct{}, 1),
		done:     make(chan struct{}),
		closing:  make(chan struct{}),
		rbuf:     make([]byte, 4096),
	}
	for _, s := range cfg.Serializers {
		if s != 0 && s <= 0x0F { // 0 never names a serializer
			l.accepted[s] = true
		}
	}
	l.dl, _ = rw.(deadliner)
	l.dec = NewDecoder(l.ourMax)
	go l.readLoop()
	return l
}

// MaxMessageSize returns the receive limit announced to devices.
func (l *Link) MaxMessageSize() int { return l.ourMax }

// Accept returns the next device session, after a good handshake. It returns
// an error when ctx ends, or when the link has ended: wrapping io.EOF when the
// port hung up (unplug), transports.ErrClosed after Close, or the read error.
// Sessions that the device abandoned (it rebooted again) before they were
// accepted are skipped.
func (l *Link) Accept(ctx context.Context) (transports.Conn, error) {
	for {
		l.mu.Lock()
		c := l.pending
		l.pending = nil
		l.mu.Unlock()
		if c != nil {
			return c, nil
		}
		select {
		case <-l.notify:
		case <-l.done:
			return nil, l.err
		case <-ctx.Done():
			return nil, fmt.Errorf("serial: accept: %w", ctx.Err())
		}
	}
}

// Done is closed when the link has ended; Err then says why.
func (l *Link) Done() <-chan struct{} { return l.done }

// Err returns why the link ended, or nil while it runs.
func (l *Link) Err() error {
	select {
	case <-l.done:
		return l.err
	default:
		return nil
	}
}

// Close closes the stream, ends the current session (its Read returns an
// error wrapping transports.ErrClosed) and waits for the reader goroutine to
// exit. It is safe to call more than once and from any goroutine.
func (l *Link) Close() error {
	l.closeOnce.Do(func() {
		close(l.closing)
		if err := l.rw.Close(); err != nil {
			l.closeErr = fmt.Errorf("serial: close: %w", err)
		}
	})
	<-l.done
	return l.closeErr
}

// Stats returns a snapshot of the link's counters. It is safe for
// concurrent use.
func (l *Link) Stats() LinkStats {
	s := LinkStats{
		BytesIn:         l.stats.bytesIn.Load(),
		BytesOut:        l.stats.bytesOut.Load(),
		FramesIn:        l.stats.framesIn.Load(),
		FramesOut:       l.stats.framesOut.Load(),
		SeqGaps:         l.stats.seqGaps.Load(),
		ResetsSent:      l.stats.resetsSent.Load(),
		Handshakes:      l.stats.handshakes.Load(),
		HandshakeErrors: l.stats.hsErrs.Load(),
		DeviceResets:    l.stats.deviceResets.Load(),
		NoSession:       l.stats.noSession.Load(),
		PingsSent:       l.stats.pingsSent.Load(),
		PingTimeouts:    l.stats.pingTimeouts.Load(),
	}
	for r := range s.Dropped {
		s.Dropped[r] = l.dec.Dropped(DropReason(r))
	}
	if ns := l.stats.lastSeen.Load(); ns != 0 {
		s.LastSeen = time.Unix(0, ns)
	}
	return s
}

// readLoop is the link's one goroutine: it reads the stream, handles every
// frame and keeps the liveness timer (as the read deadline).
func (l *Link) readLoop() {
	err := l.run()
	select {
	case <-l.closing:
		err = fmt.Errorf("serial: link closed: %w", transports.ErrClosed)
	default:
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("serial: port closed: %w", err)
		} else {
			err = fmt.Errorf("serial: read: %w", err)
		}
	}
	l.log.Info("link ended", "reason", err)
	l.mu.Lock()
	cur, pend := l.cur, l.pending
	l.cur, l.pending = nil, nil
	l.mu.Unlock()
	for _, c := range []*conn{cur, pend} {
		if c != nil {
			c.end(err)
		}
	}
	l.err = err
	close(l.done)
}

func (l *Link) run() error {
	// Rule 4: a leading zero and RESET whenever the gateway opens a port.
	l.wmu.Lock()
	l.sendResetLocked(false)
	l.wmu.Unlock()
	for {
		l.armReadDeadline()
		n, err := l.rw.Read(l.rbuf)
		if n > 0 {
			l.stats.bytesIn.Add(uint64(n))
			for p := l.rbuf[:n]; len(p) > 0; {
				k, f, ok := l.dec.Feed(p)
				p = p[k:]
				if ok {
					l.handleFrame(f)
				}
			}
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				l.checkLiveness()
				continue
			}
			return err
		}
	}
}

// armReadDeadline sets the read deadline to the next liveness check while a
// session is up, and clears it otherwise.
func (l *Link) armReadDeadline() {
	if l.dl == nil || l.cfg.PingInterval < 0 {
		return
	}
	var want time.Time
	if l.current() != nil {
		want = l.nextPing
	}
	if l.stale || !want.Equal(l.armed) {
		if err := l.dl.SetReadDeadline(want); err == nil {
			l.armed, l.stale = want, false
		}
	}
}

// checkLiveness runs when the read deadline fires (rule 6).
func (l *Link) checkLiveness() {
	l.stale = true
	c := l.current()
	now := time.Now()
	if c == nil || now.Before(l.nextPing) {
		return
	}
	if l.pingsOut >= MaxUnansweredPings {
		l.stats.pingTimeouts.Add(1)
		l.endSession(c, fmt.Errorf("serial: %d pings unanswered: %w", l.pingsOut, transports.ErrPingTimeout), true)
		return
	}
	l.pingsOut++
	l.nextPing = now.Add(l.cfg.PingInterval)
	l.pingSeq++
	var p [4]byte
	binary.BigEndian.PutUint32(p[:], l.pingSeq)
	l.stats.pingsSent.Add(1)
	l.send(FramePing, p[:])
}

func (l *Link) current() *conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur
}

func (l *Link) handleFrame(f Frame) {
	now := time.Now()
	l.stats.framesIn.Add(1)
	l.stats.lastSeen.Store(now.UnixNano())
	l.pingsOut = 0
	l.nextPing = now.Add(l.cfg.PingInterval)
	switch f.Type {
	case FramePing:
		l.send(FramePong, f.Payload)
	case FramePong:
		// Any good frame proves liveness; nothing else to do.
	case FrameHandshake:
		l.handleHandshake(f.Payload, now)
	case FrameReset:
		if c := l.current(); c != nil {
			l.stats.deviceResets.Add(1)
			l.endSession(c, fmt.Errorf("%w: device sent RESET", ErrDeviceReset), false)
		}
	case FrameWAMP:
		l.handleWAMP(f)
	}
}

// handleHandshake implements rules 2 and 3.
func (l *Link) handleHandshake(p []byte, now time.Time) {
	l.mu.Lock()
	old := l.cur
	l.cur, l.pending = nil, nil
	l.gen++
	l.mu.Unlock()
	if old != nil {
		// Rule 3: the device rebooted. End the old session before the
		// reply goes out, so none of its frames follow the reply.
		l.stats.deviceResets.Add(1)
		old.end(fmt.Errorf("%w: new handshake while a session was up", ErrDeviceReset))
		l.log.Info("device reset", "reason", "handshake during session")
	}
	h, code := ParseHandshake(p)
	if code == 0 {
		switch {
		case !l.accepted[h.Serializer()]:
			code = CodeSerializerUnsupported
		case h.MaxLen() < l.cfg.MinDeviceMessageSize:
			code = CodeMaxLenUnacceptable
		}
	}
	if code != 0 {
		l.stats.hsErrs.Add(1)
		l.log.Warn("handshake refused", "reason", code.String(), "octets", fmt.Sprintf("% x", p))
		reply := NewHandshakeError(code)
		l.send(FrameHandshake, reply[:])
		return
	}
	c := newConn(l, h.Serializer(), h.MaxLen(), now)
	reply := NewHandshake(l.ourMax, h.Serializer())
	l.send(FrameHandshake, reply[:])
	l.mu.Lock()
	l.cur, l.pending = c, c
	l.mu.Unlock()
	select {
	case l.notify <- struct{}{}:
	default:
	}
	l.stats.handshakes.Add(1)
	l.log.Info("device session", "serializer", h.Serializer().String(), "device_max", h.MaxLen())
}

// handleWAMP implements the seq rule (5) and delivers the message.
func (l *Link) handleWAMP(f Frame) {
	c := l.current()
	if c == nil {
		// Rule 4: no session; the device missed a RESET. Rate limited.
		l.stats.noSession.Add(1)
		l.wmu.Lock()
		l.sendResetLocked(true)
		l.wmu.Unlock()
		return
	}
	if f.Seq != c.rxSeq {
		l.stats.seqGaps.Add(1)
		if !l.cfg.Lenient {
			err := fmt.Errorf("%w: got seq %d, want %d", ErrSeqGap, f.Seq, c.rxSeq)
			l.log.Warn("session reset", "reason", err)
			l.endSession(c, err, true)
			return
		}
		l.log.Debug("sequence gap", "got", f.Seq, "want", c.rxSeq)
	}
	c.rxSeq = f.Seq + 1
	c.deliver(f.Payload)
}

// endSession ends c if it is the current session and, if reset is set,
// tells the device with RESET.
func (l *Link) endSession(c *conn, err error, reset bool) {
	l.mu.Lock()
	if l.cur == c {
		l.cur = nil
	}
	if l.pending == c {
		l.pending = nil
	}
	l.mu.Unlock()
	c.end(err)
	if reset {
		l.wmu.Lock()
		l.sendResetLocked(false)
		l.wmu.Unlock()
	}
}

// send writes one control frame. Write errors are logged only: a dead port
// shows up on the read side, and a stalled one in the liveness check.
func (l *Link) send(t FrameType, payload []byte) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.sendLocked(t, payload)
}

func (l *Link) sendLocked(t FrameType, payload []byte) {
	now := time.Now()
	l.wbuf = AppendFrame(l.wbuf[:0], t, 0, payload, l.needLeadingZeroLocked(now))
	if err := l.writeLocked(l.wbuf, now); err != nil {
		l.log.Debug("control frame not sent", "frame", t.String(), "reason", err)
		return
	}
	l.stats.framesOut.Add(1)
}

// sendResetLocked sends a leading zero and RESET. With limited set it sends
// nothing if a RESET went out less than ResetInterval ago.
func (l *Link) sendResetLocked(limited bool) {
	now := time.Now()
	if limited && !l.lastReset.IsZero() && now.Sub(l.lastReset) < ResetInterval {
		return
	}
	l.lastReset = now
	l.stats.resetsSent.Add(1)
	l.wbuf = AppendFrame(l.wbuf[:0], FrameReset, 0, nil, true)
	if err := l.writeLocked(l.wbuf, now); err != nil {
		l.log.Debug("reset not sent", "reason", err)
		return
	}
	l.stats.framesOut.Add(1)
}

func (l *Link) needLeadingZeroLocked(now time.Time) bool {
	return l.lastTx.IsZero() || now.Sub(l.lastTx) > LeadingZeroSilence
}

// writeLocked writes b under a deadline sized by the line rate: the time b
// and a full kernel buffer ahead of it take on the wire, plus slack.
func (l *Link) writeLocked(b []byte, now time.Time) error {
	if l.dl != nil {
		if err := l.dl.SetWriteDeadline(now.Add(l.lineTime(len(b)))); err != nil {
			return err
		}
	}
	n, err := l.rw.Write(b)
	l.stats.bytesOut.Add(uint64(n))
	l.lastTx = time.Now()
	if cap(l.wbuf) > wbufKeep {
		l.wbuf = nil
	}
	return err
}

// lineTime is the write deadline for n bytes.
func (l *Link) lineTime(n int) time.Duration {
	bits := int64(n+txBacklog) * int64(l.cfg.BitsPerChar)
	return time.Duration(bits*int64(time.Second)/int64(l.cfg.Baud)) + writeSlack
}

// addr is the net.Addr of a serial line end.
type addr string

func (a addr) Network() string { return "serial" }
func (a addr) String() string  { return string(a) }

// conn is one device session.
type conn struct {
	l       *Link                 // immutable
	ser     transports.Serializer // immutable
	peerMax int                   // device's receive limit; immutable
	at      time.Time             // handshake time; immutable

	in   chan []byte   // received messages, readLoop to Read
	free chan []byte   // buffers returned by Read for reuse
	last []byte        // owned by Read: the slice returned last
	done chan struct{} // closed when the session ends
	once sync.Once
	err  error // why the session ended; set in once before done is closed

	txSeq   uint8       // guarded by l.wmu
	rxSeq   uint8       // owned by readLoop: next expected seq
	writing atomic.Bool // a Write is in progress
}

func newConn(l *Link, s transports.Serializer, peerMax int, at time.Time) *conn {
	return &conn{
		l: l, ser: s, peerMax: peerMax, at: at,
		in:   make(chan []byte, inQueue),
		free: make(chan []byte, 4),
		done: make(chan struct{}),
	}
}

// end marks the session over with err; only the first call counts.
func (c *conn) end(err error) {
	c.once.Do(func() {
		c.err = err
		close(c.done)
	})
}

// ended returns the session's end error, or nil while it is up.
func (c *conn) ended() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// deliver queues a copy of p for Read. It blocks while the queue is full,
// which stops the reader: backpressure onto the line.
func (c *conn) deliver(p []byte) {
	var b []byte
	select {
	case b = <-c.free:
	default:
	}
	b = append(b[:0], p...)
	select {
	case c.in <- b:
	case <-c.done:
	case <-c.l.closing:
	}
}

func (c *conn) Serializer() transports.Serializer { return c.ser }

// Read returns the next WAMP message from the device. After the session
// ends it returns the messages received before the end, then the error:
// wrapping ErrDeviceReset, ErrSeqGap, transports.ErrPingTimeout, io.EOF
// (unplug) or transports.ErrClosed.
func (c *conn) Read() ([]byte, error) {
	if c.last != nil {
		if cap(c.last) <= recycleMax {
			select {
			case c.free <- c.last:
			default:
			}
		}
		c.last = nil
	}
	select {
	case m := <-c.in:
		c.last = m
		return m, nil
	default:
	}
	select {
	case m := <-c.in:
		c.last = m
		return m, nil
	case <-c.done:
	}
	if !errors.Is(c.err, transports.ErrClosed) {
		select {
		case m := <-c.in:
			c.last = m
			return m, nil
		default:
		}
	}
	return nil, c.err
}

// Write sends msgs as WAMP frames with consecutive seq numbers, in one write
// to the stream. A message over the device's limit fails the whole call,
// before anything is sent, with an error wrapping
// transports.ErrMessageTooBig. Each call has a deadline sized by the line
// rate (see LinkConfig.Baud); a failed or timed-out write (wrapping
// transports.ErrWriteTimeout) ends the session, as frames may have been cut.
func (c *conn) Write(msgs [][]byte) error {
	for _, m := range msgs {
		if len(m) > c.peerMax {
			return fmt.Errorf("serial: message of %d bytes exceeds the device limit of %d: %w", len(m), c.peerMax, transports.ErrMessageTooBig)
		}
	}
	l := c.l
	c.writing.Store(true)
	defer c.writing.Store(false)
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err := c.ended(); err != nil {
		return err
	}
	if len(msgs) == 0 {
		return nil
	}
	now := time.Now()
	lead := l.needLeadingZeroLocked(now)
	buf := l.wbuf[:0]
	for i, m := range msgs {
		buf = AppendFrame(buf, FrameWAMP, c.txSeq, m, lead && i == 0)
		c.txSeq++
	}
	l.wbuf = buf
	err := l.writeLocked(buf, now)
	if err == nil {
		l.stats.framesOut.Add(uint64(len(msgs)))
		return nil
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = fmt.Errorf("serial: write: %w: %w", transports.ErrWriteTimeout, err)
	} else {
		err = fmt.Errorf("serial: write: %w", err)
	}
	if c.ended() != nil {
		// Closed while writing (Close aborts a pending write).
		return c.ended()
	}
	// Frames may have been cut, so the session cannot go on. No RESET here:
	// the line is stalled or gone. The device's next WAMP frame will get
	// one (rule 4), and a cut frame fails its CRC on the device.
	l.mu.Lock()
	if l.cur == c {
		l.cur = nil
	}
	l.mu.Unlock()
	c.end(err)
	return err
}

// MaxOutgoing returns the device's receive limit from its handshake.
func (c *conn) MaxOutgoing() int { return c.peerMax }

// Close ends the session. If it was the link's current session, the device
// gets RESET so it drops its session state and handshakes again, the way a
// closed TCP connection makes a client reconnect. A pending Write is
// aborted; Read returns an error wrapping transports.ErrClosed.
func (c *conn) Close() error {
	l := c.l
	l.mu.Lock()
	wasCur := l.cur == c
	if wasCur {
		l.cur = nil
	}
	if l.pending == c {
		l.pending = nil
	}
	gen := l.gen
	l.mu.Unlock()
	c.end(fmt.Errorf("serial: session closed: %w", transports.ErrClosed))
	if !wasCur {
		return nil
	}
	if c.writing.Load() && l.dl != nil {
		_ = l.dl.SetWriteDeadline(time.Now()) // abort the pending write
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.mu.Lock()
	stale := l.gen != gen // the device has handshaken again meanwhile
	l.mu.Unlock()
	select {
	case <-l.closing:
		stale = true
	default:
	}
	if !stale {
		l.sendResetLocked(false)
	}
	return nil
}

func (c *conn) Info() transports.Info {
	return transports.Info{Kind: "serial", Local: c.l.local, Remote: c.l.remote, Established: c.at}
}
