package firmwaresim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/gateway/wamp/codec"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/serial"
)

// Link defaults.
const (
	// DefaultMaxMessage is the receive limit a device announces when
	// LinkConfig.MaxMessage is zero: the smallest the framing allows.
	DefaultMaxMessage = serial.MinMessageSize
	// DefaultBaud is the line rate when LinkConfig.Baud is zero.
	DefaultBaud = serial.DefaultBaud
	// DefaultBitsPerChar is the bit times per byte (8N1).
	DefaultBitsPerChar = 10
)

const (
	// lineWriteTimeout bounds one write to the stream. What cannot be
	// written by then is lost, as on a UART that nobody listens to.
	lineWriteTimeout = 500 * time.Millisecond
	// hangupPoll is how often a pty master is read again while no one has
	// the slave open (the read fails with EIO until someone does).
	hangupPoll = 100 * time.Millisecond
	// paceSlice is the line time of one paced write; paceSlack is how far
	// behind its schedule the pacer may fall before it restarts it.
	paceSlice = 10 * time.Millisecond
	paceSlack = 20 * time.Millisecond
	// inQueue is how many received messages wait for Read before the
	// reader blocks.
	inQueue = 16
	// recycleMax is the largest receive buffer kept for reuse, bufKeep the
	// largest write buffer kept between writes.
	recycleMax = 4096
	bufKeep    = 64 << 10
)

// DefaultHandshakeRetry is the HANDSHAKE retry schedule of rule 1: 1, 2, 4,
// then every 8 seconds.
var DefaultHandshakeRetry = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}

// Errors reported by the simulator. Session errors (the first four) are
// what a device session's Read returns, wrapped.
var (
	// ErrReset: the gateway sent RESET.
	ErrReset = errors.New("firmwaresim: gateway sent reset")
	// ErrSeqGap: a WAMP frame from the gateway was lost.
	ErrSeqGap = errors.New("firmwaresim: sequence gap")
	// ErrRebooted: the device rebooted (a fault).
	ErrRebooted = errors.New("firmwaresim: device rebooted")
	// ErrLinkClosed: the link was closed or its stream failed.
	ErrLinkClosed = errors.New("firmwaresim: link closed")
	// ErrNoSession: the fault needs a session and none is up.
	ErrNoSession = errors.New("firmwaresim: no session")
	// ErrNotSupported: the fault or setting does not apply in this mode.
	ErrNotSupported = errors.New("firmwaresim: not supported")
	// ErrInvalidConfig: a configuration value is out of range.
	ErrInvalidConfig = errors.New("firmwaresim: invalid configuration")
)

// LinkConfig configures a DeviceLink. The zero value is usable.
type LinkConfig struct {
	// Name identifies the device in Info and logs.
	Name string
	// Serializer the device speaks. Zero: CBOR.
	Serializer transports.Serializer
	// MaxMessage is the largest WAMP message the device accepts, announced
	// in its HANDSHAKE (rounded down to a power of two, at least 512).
	// Zero: DefaultMaxMessage.
	MaxMessage int
	// Baud paces what the device sends: bytes leave at this rate on an
	// absolute schedule, as from a UART (ptys and TCP do not pace). Zero:
	// DefaultBaud; negative: no pacing.
	Baud int
	// BitsPerChar is the bit times per byte. Zero: DefaultBitsPerChar (8N1).
	BitsPerChar int
	// HandshakeRetry is the wait after each unanswered HANDSHAKE; the last
	// value repeats. Empty: DefaultHandshakeRetry.
	HandshakeRetry []time.Duration
	// Lenient counts sequence gaps in what the gateway sends and carries on
	// instead of handshaking again.
	Lenient bool
	// Faults to inject. RebootEvery and UnplugEvery are not used by a
	// DeviceLink (a Device schedules them).
	Faults FaultConfig
	// Seed seeds the random sources of the faults.
	Seed int64
	// Logger receives the link's records. Nil: discard.
	Logger *slog.Logger

	// fs, when set, is the fault state of the Device that owns the link,
	// so that its random sequences go on across links.
	fs *faultState
}

// faultState is the random state of a device's faults.
type faultState struct {
	cfg    FaultConfig
	tx, rx *faultStream
	frames *rand.Rand // per-frame decisions, used under the link's wmu

	txSt, rxSt                   dirCounters
	cutFrames, oversize, malform atomic.Uint64
}

func newFaultState(cfg FaultConfig, seed int64) *faultState {
	fs := &faultState{cfg: cfg, frames: newRand(seed, streamFrames)}
	fs.tx = newFaultStream(cfg.TX, newRand(seed, streamTX), &fs.txSt)
	fs.rx = newFaultStream(cfg.RX, newRand(seed, streamRX), &fs.rxSt)
	return fs
}

func (fs *faultState) chance(p float64) bool {
	return p > 0 && fs.frames.Float64() < p
}

func (fs *faultState) snapshot() FaultStats {
	return FaultStats{
		TX:        fs.txSt.snapshot(),
		RX:        fs.rxSt.snapshot(),
		CutFrames: fs.cutFrames.Load(),
		Oversize:  fs.oversize.Load(),
		Malformed: fs.malform.Load(),
	}
}

// FaultStats counts the faults injected.
type FaultStats struct {
	TX, RX DirectionStats
	// CutFrames counts frames cut short by a reboot.
	CutFrames uint64
	// Oversize and Malformed count misbehaving WAMP frames sent.
	Oversize, Malformed uint64
}

func (s *FaultStats) add(o FaultStats) {
	s.TX.add(o.TX)
	s.RX.add(o.RX)
	s.CutFrames += o.CutFrames
	s.Oversize += o.Oversize
	s.Malformed += o.Malformed
}

// LinkStats is a snapshot of a DeviceLink's counters.
type LinkStats struct {
	BytesIn, BytesOut   uint64
	FramesIn, FramesOut uint64
	// Dropped counts received frames the decoder dropped, by reason.
	Dropped [serial.DropReasonCount]uint64
	// HandshakesSent counts HANDSHAKE frames sent (retries included);
	// HandshakeErrors the error replies, the last of which is
	// LastHandshakeError.
	HandshakesSent, HandshakeErrors uint64
	LastHandshakeError              serial.HandshakeCode
	// Sessions counts good HANDSHAKE replies.
	Sessions uint64
	// ResetsReceived counts RESET frames; SeqGaps gaps in the gateway's
	// WAMP seq; NoSession WAMP frames that came while no session was up.
	ResetsReceived, SeqGaps, NoSession uint64
	// PingsAnswered and PingsIgnored (muted) count the gateway's PINGs.
	PingsAnswered, PingsIgnored uint64
	// Reboots counts reboots (faults).
	Reboots uint64
	// TxLost counts bytes lost because the stream took no more (nobody
	// reading the pty).
	TxLost uint64
	// Faults counts the faults injected. For the links of a Device it is
	// the device's running total.
	Faults FaultStats
}

func (s *LinkStats) add(o LinkStats) {
	s.BytesIn += o.BytesIn
	s.BytesOut += o.BytesOut
	s.FramesIn += o.FramesIn
	s.FramesOut += o.FramesOut
	for i := range s.Dropped {
		s.Dropped[i] += o.Dropped[i]
	}
	s.HandshakesSent += o.HandshakesSent
	s.HandshakeErrors += o.HandshakeErrors
	if o.LastHandshakeError != 0 {
		s.LastHandshakeError = o.LastHandshakeError
	}
	s.Sessions += o.Sessions
	s.ResetsReceived += o.ResetsReceived
	s.SeqGaps += o.SeqGaps
	s.NoSession += o.NoSession
	s.PingsAnswered += o.PingsAnswered
	s.PingsIgnored += o.PingsIgnored
	s.Reboots += o.Reboots
	s.TxLost += o.TxLost
	s.Faults.add(o.Faults)
}

type linkCounters struct {
	bytesIn, bytesOut, framesIn, framesOut atomic.Uint64
	hsSent, hsErrs, sessions               atomic.Uint64
	lastHsErr                              atomic.Uint32
	resets, seqGaps, noSession             atomic.Uint64
	pongs, mutedPings, reboots, txLost     atomic.Uint64
}

type linkState uint8

const (
	stateHandshaking linkState = iota // sending HANDSHAKE until a reply
	stateUp                           // a session is up
	stateIdle                         // the session was closed locally; waiting for Restart
)

// deadliner is the part of *os.File and net.Conn the link uses.
type deadliner interface {
	SetWriteDeadline(t time.Time) error
}

// errStopped: a wait was cut short because the link ended.
var errStopped = fmt.Errorf("firmwaresim: link stopped: %w", ErrLinkClosed)

// DeviceLink runs the device side of the serial link rules
// (docs/serial-framing.md) over one byte stream, such as a pty master or a
// TCP connection from a gateway, and hands each session to a WAMP client as
// a transports.Conn through Accept.
//
// On start it sends a leading 0x00 and HANDSHAKE, retried on the
// HandshakeRetry schedule until the gateway replies. A good reply starts a
// session; RESET, a gap in the gateway's WAMP seq and a reboot fault end it
// and send HANDSHAKE again at once. PINGs are answered with PONG. Everything
// it sends is paced at the configured baud rate and passes through the
// transmit faults; everything it receives through the receive faults.
//
// A DeviceLink owns two goroutines, the reader and the handshake timer,
// both ended by Close. Writes are serialised by a mutex.
//
// Lock order: wmu before mu; mu is never held during I/O.
type DeviceLink struct {
	rw     io.ReadWriteCloser // immutable
	dl     deadliner          // rw's write deadline, nil if it has none
	cfg    LinkConfig         // defaults applied; immutable
	log    *slog.Logger
	ourMax int
	hs     serial.Handshake // the HANDSHAKE we send
	cd     codec.Codec      // of cfg.Serializer, for malformed messages
	fs     *faultState
	local  net.Addr
	remote net.Addr

	wmu   sync.Mutex // serialises writes; guards the fields below and fs.tx, fs.frames
	wbuf  []byte
	fbuf  []byte
	pace  pacer
	timer *time.Timer // pacing waits

	mu            sync.Mutex // guards the fields below
	state         linkState
	cur           *devConn // the session that is up
	pending       *devConn // a session not yet returned by Accept
	pingsAnswered int
	err           error // why the link ended

	kick      chan struct{} // cap 1: restart the handshake schedule
	notify    chan struct{} // cap 1: a session became pending
	stop      chan struct{} // closed when the link ends
	stopOnce  sync.Once
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup

	dec *serial.Decoder // owned by the reader; counters readable anywhere
	st  linkCounters
}

// NewDeviceLink starts a device link over rw, which the link owns from now
// on and closes in Close. rw should have SetWriteDeadline (*os.File,
// net.Conn); without it a write that the peer never takes blocks until
// Close.
func NewDeviceLink(rw io.ReadWriteCloser, cfg LinkConfig) (*DeviceLink, error) {
	if cfg.Serializer == 0 {
		cfg.Serializer = transports.CBOR
	}
	cd, err := codec.ByName(cfg.Serializer.String())
	if err != nil {
		return nil, fmt.Errorf("firmwaresim: serializer %d: %w", cfg.Serializer, ErrInvalidConfig)
	}
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = DefaultMaxMessage
	}
	if cfg.Baud == 0 {
		cfg.Baud = DefaultBaud
	}
	if cfg.BitsPerChar <= 0 {
		cfg.BitsPerChar = DefaultBitsPerChar
	}
	if len(cfg.HandshakeRetry) == 0 {
		cfg.HandshakeRetry = DefaultHandshakeRetry
	}
	for _, d := range cfg.HandshakeRetry {
		if d <= 0 {
			return nil, fmt.Errorf("firmwaresim: handshake retry %v: %w", d, ErrInvalidConfig)
		}
	}
	if cfg.Faults.WrongSerializer > 15 {
		return nil, fmt.Errorf("firmwaresim: wrong serializer %d: %w", cfg.Faults.WrongSerializer, ErrInvalidConfig)
	}
	if cfg.fs == nil {
		cfg.fs = newFaultState(cfg.Faults, cfg.Seed)
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	l := &DeviceLink{
		rw:     rw,
		cfg:    cfg,
		log:    lg.With("transport", "serial-device", "device", cfg.Name),
		ourMax: serial.RoundMessageSize(cfg.MaxMessage),
		cd:     cd,
		fs:     cfg.fs,
		local:  addr(cfg.Name),
		remote: addr("gateway"),
		timer:  time.NewTimer(time.Hour),
		kick:   make(chan struct{}, 1),
		notify: make(chan struct{}, 1),
		stop:   make(chan struct{}),
	}
	l.timer.Stop()
	announce := cfg.Serializer
	if cfg.Faults.WrongSerializer != 0 {
		announce = cfg.Faults.WrongSerializer
	}
	l.hs = serial.NewHandshake(l.ourMax, announce)
	l.dec = serial.NewDecoder(l.ourMax)
	l.dl, _ = rw.(deadliner)
	if nc, ok := rw.(net.Conn); ok {
		l.local, l.remote = nc.LocalAddr(), nc.RemoteAddr()
	}
	l.pace = newPacer(cfg.Baud, cfg.BitsPerChar)
	l.wg.Add(2)
	go l.readLoop()
	go l.handshakeLoop()
	return l, nil
}

// MaxMessage returns the receive limit the device announces.
func (l *DeviceLink) MaxMessage() int { return l.ourMax }

// Accept returns the next session, after a good HANDSHAKE reply. It fails
// when ctx ends or when the link has ended (the error wraps ErrLinkClosed).
// Sessions that ended before they were accepted are skipped.
func (l *DeviceLink) Accept(ctx context.Context) (transports.Conn, error) {
	for {
		l.mu.Lock()
		c := l.pending
		l.pending = nil
		l.mu.Unlock()
		if c != nil && c.ended() == nil {
			return c, nil
		}
		select {
		case <-l.notify:
		case <-l.stop:
			return nil, l.Err()
		case <-ctx.Done():
			return nil, fmt.Errorf("firmwaresim: accept: %w", ctx.Err())
		}
	}
}

// Restart makes a link whose session was closed locally (by the WAMP
// client) send HANDSHAKE again, as firmware does after its session ends.
// It does nothing while a session is up or a handshake is under way.
func (l *DeviceLink) Restart() {
	l.mu.Lock()
	idle := l.state == stateIdle && l.err == nil
	if idle {
		l.state = stateHandshaking
	}
	l.mu.Unlock()
	if idle {
		l.sendHandshake()
		l.kickSchedule()
	}
}

// idle reports whether the session was closed locally and no handshake is
// under way.
func (l *DeviceLink) idle() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state == stateIdle && l.err == nil
}

// Reboot simulates a reboot: with midFrame, half a frame goes out first;
// then the session ends (its Read returns an error wrapping ErrRebooted)
// and a leading 0x00 and HANDSHAKE follow at once.
func (l *DeviceLink) Reboot(midFrame bool) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.stopped() {
		return
	}
	var cut []byte
	if midFrame {
		seq := uint8(0)
		l.mu.Lock()
		if l.cur != nil {
			seq = l.cur.txSeq
		}
		l.mu.Unlock()
		// What the firmware was sending: a WAMP frame of random content.
		payload := make([]byte, 8+l.fs.frames.IntN(56))
		for i := range payload {
			payload[i] = byte(l.fs.frames.Uint32())
		}
		frame := serial.AppendFrame(nil, serial.FrameWAMP, seq, payload, l.needLeadLocked(time.Now()))
		cut = frame[:len(frame)/2]
	}
	l.rebootLocked(cut)
}

// Inject triggers one fault now: FaultReboot, FaultGarbage, FaultStall,
// FaultOversize or FaultMalformed (the last two need a session, else
// ErrNoSession). FaultUnplug is a Device's and returns ErrNotSupported.
func (l *DeviceLink) Inject(f Fault) error {
	switch f {
	case FaultReboot:
		l.Reboot(true)
		return nil
	case FaultUnplug:
		return fmt.Errorf("firmwaresim: inject %s on a link: %w", f, ErrNotSupported)
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.stopped() {
		return l.Err()
	}
	switch f {
	case FaultGarbage:
		l.fbuf = l.fs.tx.garbage(l.fbuf[:0])
		return l.writeLineLocked(l.fbuf)
	case FaultStall:
		l.stallLocked(l.fs.tx.cfg.StallDuration)
		return nil
	case FaultOversize, FaultMalformed:
		c := l.current()
		if c == nil {
			return fmt.Errorf("firmwaresim: inject %s: %w", f, ErrNoSession)
		}
		if f == FaultOversize {
			return l.sendOversizeLocked(c)
		}
		return l.sendMalformedLocked(c)
	}
	return fmt.Errorf("firmwaresim: inject %s: %w", f, ErrNotSupported)
}

// Done is closed when the link has ended, by Close or a stream error.
func (l *DeviceLink) Done() <-chan struct{} { return l.stop }

// Err returns why the link ended, nil while it runs. It wraps
// ErrLinkClosed, and the stream's error when that ended it.
func (l *DeviceLink) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Close ends the link: the current session ends (its Read returns an
// error wrapping ErrLinkClosed), the stream is closed and Close waits for
// the link's goroutines. It is safe to call more than once.
func (l *DeviceLink) Close() error {
	l.closeOnce.Do(func() {
		l.fail(fmt.Errorf("firmwaresim: link closed: %w", ErrLinkClosed))
		if err := l.rw.Close(); err != nil {
			l.closeErr = fmt.Errorf("firmwaresim: close: %w", err)
		}
	})
	l.wg.Wait()
	return l.closeErr
}

// Stats returns a snapshot of the link's counters.
func (l *DeviceLink) Stats() LinkStats {
	s := LinkStats{
		BytesIn:            l.st.bytesIn.Load(),
		BytesOut:           l.st.bytesOut.Load(),
		FramesIn:           l.st.framesIn.Load(),
		FramesOut:          l.st.framesOut.Load(),
		HandshakesSent:     l.st.hsSent.Load(),
		HandshakeErrors:    l.st.hsErrs.Load(),
		LastHandshakeError: serial.HandshakeCode(l.st.lastHsErr.Load()),
		Sessions:           l.st.sessions.Load(),
		ResetsReceived:     l.st.resets.Load(),
		SeqGaps:            l.st.seqGaps.Load(),
		NoSession:          l.st.noSession.Load(),
		PingsAnswered:      l.st.pongs.Load(),
		PingsIgnored:       l.st.mutedPings.Load(),
		Reboots:            l.st.reboots.Load(),
		TxLost:             l.st.txLost.Load(),
		Faults:             l.fs.snapshot(),
	}
	for r := range s.Dropped {
		s.Dropped[r] = l.dec.Dropped(serial.DropReason(r))
	}
	return s
}

// fail ends the link with err (the first cause wins) and its sessions.
func (l *DeviceLink) fail(err error) {
	l.mu.Lock()
	if l.err == nil {
		l.err = err
	}
	err = l.err
	c, p := l.cur, l.pending
	l.cur, l.pending = nil, nil
	l.state = stateIdle
	l.mu.Unlock()
	l.stopOnce.Do(func() { close(l.stop) })
	for _, s := range []*devConn{c, p} {
		if s != nil {
			s.end(err)
		}
	}
}

func (l *DeviceLink) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

// wait sleeps for d unless the link ends first; it reports whether the
// link is still running. For rare waits outside wmu.
func (l *DeviceLink) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.stop:
		return false
	}
}

func (l *DeviceLink) current() *devConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state != stateUp {
		return nil
	}
	return l.cur
}

func (l *DeviceLink) kickSchedule() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// handshakeLoop sends the first HANDSHAKE and retries it on the schedule
// while no reply has come (rule 1).
func (l *DeviceLink) handshakeLoop() {
	defer l.wg.Done()
	l.sendHandshake()
	attempt := 0
	t := time.NewTimer(l.retryDelay(attempt))
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-l.kick:
			attempt = 0
			t.Reset(l.retryDelay(attempt))
		case <-t.C:
			l.mu.Lock()
			again := l.state == stateHandshaking
			l.mu.Unlock()
			if again { // else the timer waits for the next kick
				l.sendHandshake()
				attempt++
				t.Reset(l.retryDelay(attempt))
			}
		}
	}
}

func (l *DeviceLink) retryDelay(attempt int) time.Duration {
	r := l.cfg.HandshakeRetry
	return r[min(attempt, len(r)-1)]
}

// restartSession ends the current session with err and sends HANDSHAKE
// at once (after RESET, a seq gap).
func (l *DeviceLink) restartSession(err error) {
	l.mu.Lock()
	if l.err != nil {
		l.mu.Unlock()
		return
	}
	c, p := l.cur, l.pending
	l.cur, l.pending = nil, nil
	l.state = stateHandshaking
	l.mu.Unlock()
	for _, s := range []*devConn{c, p} {
		if s != nil {
			s.end(err)
		}
	}
	l.sendHandshake()
	l.kickSchedule()
}

// rebootLocked sends cut (part of a frame) if any, ends the session and
// sends HANDSHAKE. The caller holds wmu.
func (l *DeviceLink) rebootLocked(cut []byte) {
	if len(cut) > 0 {
		l.fs.cutFrames.Add(1)
		if err := l.txLocked(cut); err != nil {
			l.log.Debug("cut frame not sent", "reason", err)
		}
	}
	l.st.reboots.Add(1)
	l.mu.Lock()
	c, p := l.cur, l.pending
	l.cur, l.pending = nil, nil
	stopped := l.err != nil
	if !stopped {
		l.state = stateHandshaking
	}
	l.mu.Unlock()
	err := fmt.Errorf("firmwaresim: session ended: %w", ErrRebooted)
	for _, s := range []*devConn{c, p} {
		if s != nil {
			s.end(err)
		}
	}
	if stopped {
		return
	}
	l.log.Info("device rebooted", "mid_frame", len(cut) > 0)
	l.sendHandshakeLocked()
	l.kickSchedule()
}

// readLoop reads the stream, applies the receive faults and handles every
// frame.
func (l *DeviceLink) readLoop() {
	defer l.wg.Done()
	buf := make([]byte, 1024)
	var mbuf []byte
	for {
		n, err := l.rw.Read(buf)
		if n > 0 {
			l.st.bytesIn.Add(uint64(n))
			if !l.feed(buf[:n], &mbuf) {
				return
			}
		}
		if err == nil {
			continue
		}
		if l.stopped() {
			return
		}
		switch {
		case errors.Is(err, syscall.EIO):
			// A pty master whose slave nobody has open: no gateway
			// attached. A device does not notice; keep listening.
			if !l.wait(hangupPoll) {
				return
			}
		case errors.Is(err, os.ErrDeadlineExceeded):
		default:
			l.log.Info("link ended", "reason", err)
			l.fail(fmt.Errorf("firmwaresim: read: %w: %w", ErrLinkClosed, err))
			return
		}
	}
}

// feed passes p through the receive faults into the decoder. It reports
// false if the link ended during a receive stall.
func (l *DeviceLink) feed(p []byte, mbuf *[]byte) bool {
	rx := l.fs.rx
	for len(p) > 0 {
		q := p
		var stall time.Duration
		if rx.active() {
			var n int
			*mbuf, n, stall = rx.mangle((*mbuf)[:0], p)
			q, p = *mbuf, p[n:]
		} else {
			p = nil
		}
		for len(q) > 0 {
			k, f, ok := l.dec.Feed(q)
			q = q[k:]
			if ok {
				l.handleFrame(f)
			}
		}
		if stall > 0 && !l.wait(stall) {
			return false
		}
	}
	return true
}

func (l *DeviceLink) handleFrame(f serial.Frame) {
	l.st.framesIn.Add(1)
	switch f.Type {
	case serial.FramePing:
		l.handlePing(f.Payload)
	case serial.FramePong:
	case serial.FrameHandshake:
		l.handleHandshake(f.Payload)
	case serial.FrameReset:
		l.st.resets.Add(1)
		l.log.Debug("reset received")
		l.restartSession(fmt.Errorf("firmwaresim: session ended: %w", ErrReset))
	case serial.FrameWAMP:
		l.handleWAMP(f)
	}
}

func (l *DeviceLink) handlePing(p []byte) {
	l.mu.Lock()
	muted := l.cfg.Faults.MutePings && l.pingsAnswered >= l.cfg.Faults.MutePingsAfter
	if !muted {
		l.pingsAnswered++
	}
	l.mu.Unlock()
	if muted {
		l.st.mutedPings.Add(1)
		return
	}
	l.st.pongs.Add(1)
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err := l.sendFrameLocked(serial.FramePong, 0, p, false); err != nil {
		l.log.Debug("pong not sent", "reason", err)
	}
}

// handleHandshake takes the gateway's reply (rule 2). Replies while no
// handshake is under way are duplicates and ignored.
func (l *DeviceLink) handleHandshake(p []byte) {
	h, code := serial.ParseHandshake(p)
	if code == 0 {
		code = h.Code()
	}
	if code == 0 && h.Serializer() != l.hs.Serializer() {
		code = serial.CodeSerializerUnsupported
	}
	l.mu.Lock()
	if l.state != stateHandshaking {
		l.mu.Unlock()
		return
	}
	if code != 0 {
		l.mu.Unlock()
		l.st.hsErrs.Add(1)
		l.st.lastHsErr.Store(uint32(code))
		l.log.Warn("handshake refused", "reason", code.String())
		return // the retry schedule goes on
	}
	c := newDevConn(l, h.MaxLen())
	l.cur, l.pending = c, c
	l.state = stateUp
	l.mu.Unlock()
	l.st.sessions.Add(1)
	select {
	case l.notify <- struct{}{}:
	default:
	}
	l.log.Debug("session up", "gateway_max", h.MaxLen())
}

// handleWAMP checks the seq (rule 5) and delivers the message.
func (l *DeviceLink) handleWAMP(f serial.Frame) {
	c := l.current()
	if c == nil {
		l.st.noSession.Add(1)
		return
	}
	if f.Seq != c.rxSeq {
		l.st.seqGaps.Add(1)
		if !l.cfg.Lenient {
			err := fmt.Errorf("%w: got seq %d, want %d", ErrSeqGap, f.Seq, c.rxSeq)
			l.log.Info("handshaking again", "reason", err)
			l.restartSession(err)
			return
		}
	}
	c.rxSeq = f.Seq + 1
	c.deliver(f.Payload, l.stop)
}

// sendHandshake sends HANDSHAKE if a handshake is under way. The state is
// checked under wmu, so a HANDSHAKE never follows a WAMP frame of the
// session its reply would end: once the session is up, its frames need
// wmu too.
func (l *DeviceLink) sendHandshake() {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.mu.Lock()
	ok := l.state == stateHandshaking
	l.mu.Unlock()
	if ok {
		l.sendHandshakeLocked()
	}
}

func (l *DeviceLink) sendHandshakeLocked() {
	if l.stopped() {
		return
	}
	l.st.hsSent.Add(1)
	if err := l.sendFrameLocked(serial.FrameHandshake, 0, l.hs[:], true); err != nil {
		l.log.Debug("handshake not sent", "reason", err)
	}
}

// sendFrameLocked encodes one frame and sends it. The caller holds wmu.
func (l *DeviceLink) sendFrameLocked(t serial.FrameType, seq uint8, payload []byte, lead bool) error {
	lead = lead || l.needLeadLocked(time.Now())
	l.wbuf = serial.AppendFrame(l.wbuf[:0], t, seq, payload, lead)
	err := l.txLocked(l.wbuf)
	if cap(l.wbuf) > bufKeep {
		l.wbuf = nil
	}
	if err == nil {
		l.st.framesOut.Add(1)
	}
	return err
}

// sendOversizeLocked sends a WAMP frame one byte over the gateway's limit.
func (l *DeviceLink) sendOversizeLocked(c *devConn) error {
	payload := make([]byte, c.peerMax+1)
	for i := range payload {
		payload[i] = byte(i%251) + 1
	}
	l.fs.oversize.Add(1)
	err := l.sendFrameLocked(serial.FrameWAMP, c.txSeq, payload, false)
	c.txSeq++
	return err
}

// sendMalformedLocked sends a WAMP frame holding a well-formed document of
// the serializer that is not a valid WAMP message (a PUBLISH without a
// request ID).
func (l *DeviceLink) sendMalformedLocked(c *devConn) error {
	payload, err := l.cd.EncodeValue(wamp.List{int64(wamp.TypePublish), "not-an-id"})
	if err != nil {
		payload = []byte{0xff}
	}
	l.fs.malform.Add(1)
	err = l.sendFrameLocked(serial.FrameWAMP, c.txSeq, payload, false)
	c.txSeq++
	return err
}

// needLeadLocked reports whether a frame sent now needs a leading 0x00:
// after more than serial.LeadingZeroSilence of silence.
func (l *DeviceLink) needLeadLocked(now time.Time) bool {
	return !l.pace.sent || now.Sub(l.pace.lineFree()) > serial.LeadingZeroSilence
}

// txLocked passes b through the transmit faults onto the line.
func (l *DeviceLink) txLocked(b []byte) error {
	tx := l.fs.tx
	if !tx.active() {
		return l.writeLineLocked(b)
	}
	for len(b) > 0 {
		out, n, stall := tx.mangle(l.fbuf[:0], b)
		l.fbuf = out
		if len(out) > 0 {
			if err := l.writeLineLocked(out); err != nil {
				return err
			}
		}
		if stall > 0 && !l.stallLocked(stall) {
			return errStopped
		}
		b = b[n:]
	}
	if cap(l.fbuf) > bufKeep {
		l.fbuf = nil
	}
	return nil
}

// stallLocked keeps the line silent for d.
func (l *DeviceLink) stallLocked(d time.Duration) bool {
	if !l.pace.paced() {
		return l.sleepLocked(d)
	}
	l.pace.stall(time.Now(), d)
	return true
}

// sleepLocked waits d on the link's reusable timer unless the link ends.
func (l *DeviceLink) sleepLocked(d time.Duration) bool {
	if d <= 0 {
		return !l.stopped()
	}
	l.timer.Reset(d)
	select {
	case <-l.timer.C:
		return true
	case <-l.stop:
		l.timer.Stop()
		return false
	}
}

// writeLineLocked writes p to the stream, paced at the baud rate in slices
// of paceSlice line time. Bytes the stream does not take within
// lineWriteTimeout are lost and counted; other write errors are returned.
func (l *DeviceLink) writeLineLocked(p []byte) error {
	for len(p) > 0 {
		k := len(p)
		if l.pace.paced() {
			k = min(k, l.pace.chunk)
			now := time.Now()
			if w := l.pace.next.Sub(now); w > 0 {
				if !l.sleepLocked(w) {
					return errStopped
				}
			} else if now.Sub(l.pace.next) > paceSlack {
				// The line was idle: a new schedule starts. (Not -w: Sub
				// saturates, and the zero time is far enough to overflow.)
				l.pace.next = now
			}
		}
		if l.dl != nil {
			_ = l.dl.SetWriteDeadline(time.Now().Add(lineWriteTimeout))
		}
		n, err := l.rw.Write(p[:k])
		l.st.bytesOut.Add(uint64(n))
		l.pace.sentBytes(k, time.Now())
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				l.st.txLost.Add(uint64(len(p) - n))
				return nil
			}
			if l.stopped() {
				return errStopped
			}
			return fmt.Errorf("firmwaresim: write: %w", err)
		}
		p = p[k:]
	}
	return nil
}

// pacer keeps the absolute transmit schedule of a UART.
type pacer struct {
	baud, bits int64 // baud <= 0: unpaced
	chunk      int   // bytes per paced write
	next       time.Time
	last       time.Time // when the last write returned
	sent       bool
}

func newPacer(baud, bits int) pacer {
	p := pacer{baud: int64(baud), bits: int64(bits)}
	if p.baud > 0 {
		p.chunk = max(1, min(512, int(p.baud*int64(paceSlice)/(p.bits*int64(time.Second)))))
	}
	return p
}

func (p *pacer) paced() bool { return p.baud > 0 }

// dur is the line time of n bytes.
func (p *pacer) dur(n int) time.Duration {
	return time.Duration(int64(n) * p.bits * int64(time.Second) / p.baud)
}

func (p *pacer) sentBytes(n int, now time.Time) {
	p.sent = true
	p.last = now
	if p.paced() {
		p.next = p.next.Add(p.dur(n))
	}
}

// lineFree is when the last byte sent leaves the line.
func (p *pacer) lineFree() time.Time {
	if p.next.After(p.last) {
		return p.next
	}
	return p.last
}

func (p *pacer) stall(now time.Time, d time.Duration) {
	if p.next.Before(now) {
		p.next = now
	}
	p.next = p.next.Add(d)
}

// addr is the net.Addr of a serial line end.
type addr string

func (a addr) Network() string { return "serial" }
func (a addr) String() string  { return string(a) }

// devConn is one device session, the transports.Conn a WAMP client runs
// on.
type devConn struct {
	l       *DeviceLink // immutable
	peerMax int         // the gateway's receive limit; immutable
	at      time.Time   // immutable

	in   chan []byte
	free chan []byte
	last []byte // owned by Read
	done chan struct{}
	once sync.Once
	err  error // set in once before done is closed

	txSeq uint8 // guarded by l.wmu
	rxSeq uint8 // owned by the reader
}

var _ transports.Conn = (*devConn)(nil)

func newDevConn(l *DeviceLink, peerMax int) *devConn {
	return &devConn{
		l: l, peerMax: peerMax, at: time.Now(),
		in:   make(chan []byte, inQueue),
		free: make(chan []byte, 4),
		done: make(chan struct{}),
	}
}

func (c *devConn) end(err error) {
	c.once.Do(func() {
		c.err = err
		close(c.done)
	})
}

func (c *devConn) ended() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// deliver queues a copy of p for Read, blocking while the queue is full.
func (c *devConn) deliver(p []byte, stop <-chan struct{}) {
	var b []byte
	select {
	case b = <-c.free:
	default:
	}
	b = append(b[:0], p...)
	select {
	case c.in <- b:
	case <-c.done:
	case <-stop:
	}
}

func (c *devConn) Serializer() transports.Serializer { return c.l.cfg.Serializer }

// Read returns the next WAMP message from the gateway. After the session
// ends it returns what was received before, then the error (wrapping
// ErrReset, ErrSeqGap, ErrRebooted, ErrLinkClosed or
// transports.ErrClosed).
func (c *devConn) Read() ([]byte, error) {
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

// Write sends msgs as WAMP frames with consecutive seq numbers. A message
// over the gateway's limit fails the call before anything is sent, with an
// error wrapping transports.ErrMessageTooBig. The per-frame faults
// (misbehaviour, reboot mid-frame) are decided here.
func (c *devConn) Write(msgs [][]byte) error {
	for _, m := range msgs {
		if len(m) > c.peerMax {
			return fmt.Errorf("firmwaresim: message of %d bytes exceeds the gateway limit of %d: %w", len(m), c.peerMax, transports.ErrMessageTooBig)
		}
	}
	l := c.l
	l.wmu.Lock()
	defer l.wmu.Unlock()
	fs := l.fs
	for _, m := range msgs {
		if err := c.ended(); err != nil {
			return err
		}
		var err error
		if fs.chance(fs.cfg.MalformedProb) {
			err = l.sendMalformedLocked(c)
		}
		if err == nil && fs.chance(fs.cfg.OversizeProb) {
			err = l.sendOversizeLocked(c)
		}
		if err == nil && fs.chance(fs.cfg.RebootProb) {
			frame := serial.AppendFrame(nil, serial.FrameWAMP, c.txSeq, m, l.needLeadLocked(time.Now()))
			l.rebootLocked(frame[:len(frame)/2])
			return c.ended()
		}
		if err == nil {
			err = l.sendFrameLocked(serial.FrameWAMP, c.txSeq, m, false)
			c.txSeq++
		}
		if err != nil {
			if e := c.ended(); e != nil {
				return e
			}
			c.end(err)
			return err
		}
	}
	return nil
}

// MaxOutgoing returns the gateway's receive limit from its HANDSHAKE reply.
func (c *devConn) MaxOutgoing() int { return c.peerMax }

// Close ends the session locally. The link then waits for Restart before
// it handshakes again.
func (c *devConn) Close() error {
	l := c.l
	l.mu.Lock()
	if l.cur == c {
		l.cur = nil
		if l.state == stateUp {
			l.state = stateIdle
		}
	}
	if l.pending == c {
		l.pending = nil
	}
	l.mu.Unlock()
	c.end(fmt.Errorf("firmwaresim: session closed: %w", transports.ErrClosed))
	return nil
}

func (c *devConn) Info() transports.Info {
	return transports.Info{Kind: "serial-device", Local: c.l.local, Remote: c.l.remote, Established: c.at}
}
