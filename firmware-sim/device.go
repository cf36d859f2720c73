package firmwaresim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp/codec"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/rawsocket"
	"github.com/wampgate/wampgate/transports/serial/serialtest"
)

// Mode is how a device reaches the gateway.
type Mode string

// Modes.
const (
	// ModePty: the device owns the master of a new pty; the gateway opens
	// the slave (Device.Path) like a real serial port.
	ModePty Mode = "pty"
	// ModeTCPSerial: the device listens on TCP and speaks the serial
	// framing to whoever connects, like a TCP serial server (ser2net).
	ModeTCPSerial Mode = "tcp-serial"
	// ModeRawSocket: the device dials a router as an ordinary RawSocket
	// client, without the serial framing.
	ModeRawSocket Mode = "rawsocket"
)

// ParseMode parses "pty", "tcp-serial" or "rawsocket".
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModePty, ModeTCPSerial, ModeRawSocket:
		return m, nil
	}
	return "", fmt.Errorf("firmwaresim: unknown mode %q (want pty, tcp-serial or rawsocket): %w", s, ErrInvalidConfig)
}

// Device defaults.
const (
	DefaultRealm       = "realm1"
	DefaultListen      = "127.0.0.1:0"
	DefaultJoinTimeout = 5 * time.Second
	// Agent is HELLO.Details.agent of simulated devices.
	Agent = "wampgate-firmware-sim"
)

// DeviceConfig configures a simulated device. Zero fields take the
// defaults.
type DeviceConfig struct {
	// Name identifies the device in logs and fleets. Default "sim".
	Name string
	// Mode: ModePty (default), ModeTCPSerial or ModeRawSocket.
	Mode Mode
	// Listen is the TCP address a ModeTCPSerial device listens on.
	// Default DefaultListen (a free port).
	Listen string
	// URL is the router a ModeRawSocket device dials: tcp://host:port or
	// unix:///path. Required in that mode.
	URL string
	// Realm the device joins. Default DefaultRealm; a gateway may put
	// device sessions in another realm whatever they ask for.
	Realm string
	// URIPrefix is prepended to every procedure and topic of the device.
	// Behind a gateway that prefixes single-component URIs it stays
	// empty; a RawSocket device sets it, e.g. "dev.sim1.".
	URIPrefix string
	// Serializer the device speaks. Default CBOR.
	Serializer transports.Serializer
	// Baud paces what the device sends (serial modes). Default DefaultBaud;
	// negative: no pacing.
	Baud int
	// MaxMessage is the receive limit the device announces. Default
	// DefaultMaxMessage (512).
	MaxMessage int
	// Procedures registered after each join. Nil: DefaultProcedures with
	// DefaultSlowLatency; empty: none.
	Procedures []Procedure
	// Publishers run while a session is up. Nil: DefaultPublishers with
	// DefaultPublishInterval; empty: none.
	Publishers []Publisher
	// Faults to inject.
	Faults FaultConfig
	// Seed seeds every random choice of the device: faults, reboot and
	// unplug times, publish jitter and readings.
	Seed int64
	// Lenient counts gaps in the gateway's WAMP seq instead of handshaking
	// again.
	Lenient bool
	// HandshakeRetry is the HANDSHAKE retry schedule, also used as the
	// backoff after failed joins and dials. Empty: DefaultHandshakeRetry.
	HandshakeRetry []time.Duration
	// JoinTimeout bounds HELLO to WELCOME and the registrations. Default
	// DefaultJoinTimeout.
	JoinTimeout time.Duration
	// Logger receives the device's records. Nil: discard.
	Logger *slog.Logger
	// OnReplug, if set, is called with the new slave path each time a pty
	// device is plugged in again after an unplug (TCP serial devices keep
	// their address). It runs on the device's goroutine and must not call
	// Close.
	OnReplug func(d *Device, path string)
}

// withDefaults fills zero fields and checks the rest.
func (c DeviceConfig) withDefaults() (DeviceConfig, error) {
	if c.Name == "" {
		c.Name = "sim"
	}
	if c.Mode == "" {
		c.Mode = ModePty
	}
	if _, err := ParseMode(string(c.Mode)); err != nil {
		return c, err
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Realm == "" {
		c.Realm = DefaultRealm
	}
	if c.Serializer == 0 {
		c.Serializer = transports.CBOR
	}
	if _, err := codec.ByName(c.Serializer.String()); err != nil {
		return c, fmt.Errorf("firmwaresim: device %s: serializer %d: %w", c.Name, c.Serializer, ErrInvalidConfig)
	}
	if c.Baud == 0 {
		c.Baud = DefaultBaud
	}
	if c.MaxMessage < 0 {
		return c, fmt.Errorf("firmwaresim: device %s: negative max message: %w", c.Name, ErrInvalidConfig)
	}
	if c.MaxMessage == 0 {
		c.MaxMessage = DefaultMaxMessage
	}
	if c.Procedures == nil {
		c.Procedures = DefaultProcedures(DefaultSlowLatency)
	}
	if c.Publishers == nil {
		c.Publishers = DefaultPublishers(DefaultPublishInterval)
	}
	if err := validateProcedures(c.Procedures); err != nil {
		return c, err
	}
	if err := validatePublishers(c.Publishers); err != nil {
		return c, err
	}
	if len(c.HandshakeRetry) == 0 {
		c.HandshakeRetry = DefaultHandshakeRetry
	}
	for _, d := range c.HandshakeRetry {
		if d <= 0 {
			return c, fmt.Errorf("firmwaresim: device %s: handshake retry %v: %w", c.Name, d, ErrInvalidConfig)
		}
	}
	if c.JoinTimeout <= 0 {
		c.JoinTimeout = DefaultJoinTimeout
	}
	if err := c.Faults.validate(); err != nil {
		return c, fmt.Errorf("firmwaresim: device %s: %w", c.Name, err)
	}
	if c.Mode == ModeRawSocket {
		if _, _, err := parseRouterURL(c.URL); err != nil {
			return c, fmt.Errorf("firmwaresim: device %s: %w", c.Name, err)
		}
	}
	return c, nil
}

func (f FaultConfig) validate() error {
	probs := []float64{
		f.TX.BitErrorRate, f.TX.DropRate, f.TX.GarbageRate, f.TX.StallRate,
		f.RX.BitErrorRate, f.RX.DropRate, f.RX.GarbageRate, f.RX.StallRate,
		f.RebootProb, f.OversizeProb, f.MalformedProb,
	}
	for _, p := range probs {
		if p < 0 || p > 1 || math.IsNaN(p) {
			return fmt.Errorf("fault rate %v not within [0, 1]: %w", p, ErrInvalidConfig)
		}
	}
	durs := []time.Duration{f.TX.StallDuration, f.RX.StallDuration, f.RebootEvery, f.UnplugEvery, f.UnplugFor}
	for _, d := range durs {
		if d < 0 {
			return fmt.Errorf("negative fault duration %v: %w", d, ErrInvalidConfig)
		}
	}
	if f.TX.GarbageLen < 0 || f.RX.GarbageLen < 0 || f.MutePingsAfter < 0 {
		return fmt.Errorf("negative garbage length or ping count: %w", ErrInvalidConfig)
	}
	if f.WrongSerializer > 15 {
		return fmt.Errorf("wrong serializer %d over 15: %w", f.WrongSerializer, ErrInvalidConfig)
	}
	return nil
}

// parseRouterURL splits a tcp:// or unix:// URL into network and address.
func parseRouterURL(raw string) (network, address string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("router URL %q: %w: %w", raw, ErrInvalidConfig, err)
	}
	switch u.Scheme {
	case "tcp":
		if u.Host == "" {
			break
		}
		return "tcp", u.Host, nil
	case "unix":
		p := u.Path
		if p == "" {
			p = u.Opaque
		}
		if p == "" {
			break
		}
		return "unix", p, nil
	}
	return "", "", fmt.Errorf("router URL %q: want tcp://host:port or unix:///path: %w", raw, ErrInvalidConfig)
}

// Stats is a snapshot of a device's counters.
type Stats struct {
	// Link sums the counters of the device's serial links (zero in
	// ModeRawSocket).
	Link LinkStats
	// Sessions counts WAMP sessions joined, Registrations the sessions
	// that registered every procedure, JoinFailures failed joins or
	// registrations.
	Sessions, Registrations, JoinFailures uint64
	// Calls counts invocations handled, Events readings published.
	Calls, Events uint64
	// Reboots counts reboots (in the serial modes the same as
	// Link.Reboots), Unplugs unplugs.
	Reboots, Unplugs uint64
	// Ready reports whether a session is up with every procedure
	// registered.
	Ready bool
}

// Device is one simulated device: a WAMP client with procedures and
// publishers, reaching the gateway over a pty, as a TCP serial server or
// over RawSocket, and injecting the faults of its configuration.
//
// A Device runs a few goroutines (the mode's loop, the current link's two,
// the session's, one per publisher and one for timed faults); Close ends
// them all.
type Device struct {
	cfg    DeviceConfig // defaults applied; immutable
	log    *slog.Logger
	fs     *faultState // serial modes
	pubRng []*rand.Rand
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	unplug chan struct{} // cap 1

	mu     sync.Mutex // guards the fields below
	path   string
	link   *DeviceLink     // current link (serial modes)
	raw    transports.Conn // current connection (ModeRawSocket)
	prev   LinkStats       // totals of the links closed so far
	ready  chan struct{}   // closed while a registered session is up
	isUp   bool
	state  any // actuator state (set/get)
	closed bool

	sessions, registrations, joinFailures atomic.Uint64
	calls, events, rawReboots, unplugs    atomic.Uint64
}

// StartDevice starts a device. In ModePty the pty and in ModeTCPSerial the
// listener exist when it returns, so Path is valid at once.
func StartDevice(cfg DeviceConfig) (*Device, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Device{
		cfg:    cfg,
		log:    lg.With("device", cfg.Name),
		fs:     newFaultState(cfg.Faults, cfg.Seed),
		ctx:    ctx,
		cancel: cancel,
		unplug: make(chan struct{}, 1),
		ready:  make(chan struct{}),
	}
	for i := range cfg.Publishers {
		d.pubRng = append(d.pubRng, newRand(cfg.Seed, streamPublishers+uint64(i)))
	}
	switch cfg.Mode {
	case ModePty:
		m, path, err := serialtest.OpenPty()
		if err != nil {
			cancel()
			return nil, fmt.Errorf("firmwaresim: device %s: %w", cfg.Name, err)
		}
		d.path = path
		d.wg.Add(1)
		go d.runPty(m)
	case ModeTCPSerial:
		ln, err := net.Listen("tcp", cfg.Listen)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("firmwaresim: device %s: %w", cfg.Name, err)
		}
		d.path = "tcp://" + ln.Addr().String()
		d.wg.Add(1)
		go d.runTCPSerial(ln)
	case ModeRawSocket:
		d.path = cfg.URL
		d.wg.Add(1)
		go d.runRawSocket()
	}
	if cfg.Faults.RebootEvery > 0 || cfg.Faults.UnplugEvery > 0 {
		d.wg.Add(1)
		go d.faultLoop()
	}
	d.log.Info("device started", "mode", string(cfg.Mode), "path", d.path)
	return d, nil
}

// Name returns the device's name.
func (d *Device) Name() string { return d.cfg.Name }

// Config returns the device's configuration with defaults applied.
func (d *Device) Config() DeviceConfig { return d.cfg }

// Path returns where the gateway attaches the device: the pty slave path
// (/dev/pts/N; it changes at each replug), "tcp://host:port" of a TCP
// serial device, or the router URL of a RawSocket device.
func (d *Device) Path() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.path
}

// State returns the actuator state last stored by the set procedure.
func (d *Device) State() any {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state
}

// WaitReady waits until the device has a session with every procedure
// registered, or ctx ends.
func (d *Device) WaitReady(ctx context.Context) error {
	d.mu.Lock()
	ch := d.ready
	d.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-d.ctx.Done():
		return fmt.Errorf("firmwaresim: device %s closed: %w", d.cfg.Name, ErrLinkClosed)
	case <-ctx.Done():
		return fmt.Errorf("firmwaresim: device %s not ready: %w", d.cfg.Name, ctx.Err())
	}
}

// Inject triggers one fault now. FaultUnplug and FaultReboot work in every
// mode (a RawSocket device closes its connection); the others need a
// serial mode and a link (ErrNotSupported, ErrNoSession).
func (d *Device) Inject(f Fault) error {
	if f == FaultUnplug {
		select {
		case d.unplug <- struct{}{}:
		default:
		}
		return nil
	}
	d.mu.Lock()
	l, raw := d.link, d.raw
	d.mu.Unlock()
	if d.cfg.Mode == ModeRawSocket {
		if f != FaultReboot {
			return fmt.Errorf("firmwaresim: inject %s in rawsocket mode: %w", f, ErrNotSupported)
		}
		if raw == nil {
			return fmt.Errorf("firmwaresim: inject %s: %w", f, ErrNoSession)
		}
		d.rawReboots.Add(1)
		return raw.Close()
	}
	if l == nil {
		return fmt.Errorf("firmwaresim: inject %s: unplugged: %w", f, ErrNoSession)
	}
	return l.Inject(f)
}

// Stats returns a snapshot of the device's counters.
func (d *Device) Stats() Stats {
	d.mu.Lock()
	ls := d.prev
	if d.link != nil {
		ls.add(d.link.Stats())
	}
	ready := d.isUp
	d.mu.Unlock()
	ls.Faults = d.fs.snapshot()
	return Stats{
		Link:          ls,
		Sessions:      d.sessions.Load(),
		Registrations: d.registrations.Load(),
		JoinFailures:  d.joinFailures.Load(),
		Calls:         d.calls.Load(),
		Events:        d.events.Load(),
		Reboots:       ls.Reboots + d.rawReboots.Load(),
		Unplugs:       d.unplugs.Load(),
		Ready:         ready,
	}
}

// Close stops the device and waits for all its goroutines. A pty device
// closes its master, so the gateway's port hangs up. Close is safe to call
// more than once.
func (d *Device) Close() error {
	d.mu.Lock()
	first := !d.closed
	d.closed = true
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
	if first {
		d.log.Info("device stopped")
	}
	return nil
}

// sleep waits d unless the device closes first.
func (d *Device) sleep(dur time.Duration) bool {
	return sleepCtx(d.ctx, dur)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (d *Device) retryDelay(attempt int) time.Duration {
	r := d.cfg.HandshakeRetry
	return r[min(attempt, len(r)-1)]
}

func (d *Device) unplugFor() time.Duration {
	if d.cfg.Faults.UnplugFor > 0 {
		return d.cfg.Faults.UnplugFor
	}
	return DefaultUnplugFor
}

// linkRun is a DeviceLink with its session loop.
type linkRun struct {
	l      *DeviceLink
	cancel context.CancelFunc
	done   chan struct{}
}

// startLink starts a link over rw and the session loop on it. It returns
// nil (and closes rw) only if the link cannot be made, which the
// validation in StartDevice rules out.
func (d *Device) startLink(rw io.ReadWriteCloser) *linkRun {
	l, err := NewDeviceLink(rw, LinkConfig{
		Name:           d.cfg.Name,
		Serializer:     d.cfg.Serializer,
		MaxMessage:     d.cfg.MaxMessage,
		Baud:           d.cfg.Baud,
		HandshakeRetry: d.cfg.HandshakeRetry,
		Lenient:        d.cfg.Lenient,
		Faults:         d.cfg.Faults,
		Seed:           d.cfg.Seed,
		Logger:         d.cfg.Logger,
		fs:             d.fs,
	})
	if err != nil {
		d.log.Error("cannot start link", "reason", err)
		rw.Close()
		return nil
	}
	ctx, cancel := context.WithCancel(d.ctx)
	r := &linkRun{l: l, cancel: cancel, done: make(chan struct{})}
	d.mu.Lock()
	d.link = l
	d.mu.Unlock()
	go func() {
		defer close(r.done)
		d.sessionLoop(ctx, l)
	}()
	return r
}

// stop ends the link and its session loop and books its counters.
func (d *Device) stopLink(r *linkRun) {
	if r == nil {
		return
	}
	r.cancel()
	r.l.Close()
	<-r.done
	st := r.l.Stats()
	d.mu.Lock()
	if d.link == r.l {
		d.link = nil
	}
	d.prev.add(st)
	d.mu.Unlock()
}

func (r *linkRun) ended() <-chan struct{} {
	if r == nil {
		return nil
	}
	return r.l.Done()
}

// runPty is the loop of a pty device: serve the master until unplugged,
// then open a new pty after the pause.
func (d *Device) runPty(m io.ReadWriteCloser) {
	defer d.wg.Done()
	cur := d.startLink(m)
	for {
		select {
		case <-d.ctx.Done():
			d.stopLink(cur)
			return
		case <-d.unplug:
			d.unplugs.Add(1)
			d.log.Info("device unplugged", "for", d.unplugFor())
		case <-cur.ended():
			d.log.Warn("pty failed; replugging", "reason", cur.l.Err())
		}
		d.stopLink(cur)
		cur = nil
		for cur == nil {
			if !d.sleep(d.unplugFor()) {
				return
			}
			m, path, err := serialtest.OpenPty()
			if err != nil {
				d.log.Error("cannot open pty", "reason", err)
				continue
			}
			d.mu.Lock()
			d.path = path
			d.mu.Unlock()
			d.log.Info("device plugged in", "path", path)
			if d.cfg.OnReplug != nil {
				d.cfg.OnReplug(d, path)
			}
			cur = d.startLink(m)
		}
	}
}

// runTCPSerial is the loop of a TCP serial server: one connection at a
// time, a newer one replacing the older.
func (d *Device) runTCPSerial(ln net.Listener) {
	defer d.wg.Done()
	conns := make(chan net.Conn)
	var accept sync.WaitGroup
	accept.Add(1)
	go func() {
		defer accept.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					d.log.Warn("accept failed", "reason", err)
				}
				return
			}
			select {
			case conns <- c:
			case <-d.ctx.Done():
				c.Close()
				return
			}
		}
	}()
	var cur *linkRun
	var away time.Time // unplugged until then
	defer func() {
		d.stopLink(cur)
		ln.Close()
		accept.Wait()
	}()
	for {
		select {
		case <-d.ctx.Done():
			return
		case c := <-conns:
			if time.Now().Before(away) {
				c.Close()
				continue
			}
			d.stopLink(cur)
			d.log.Info("gateway connected", "peer", c.RemoteAddr().String())
			cur = d.startLink(c)
		case <-d.unplug:
			d.unplugs.Add(1)
			d.log.Info("device unplugged", "for", d.unplugFor())
			d.stopLink(cur)
			cur = nil
			away = time.Now().Add(d.unplugFor())
		case <-cur.ended():
			d.log.Info("gateway disconnected", "reason", cur.l.Err())
			d.stopLink(cur)
			cur = nil
		}
	}
}

// runRawSocket is the loop of a RawSocket device: dial, run a session,
// redial.
func (d *Device) runRawSocket() {
	defer d.wg.Done()
	network, address, _ := parseRouterURL(d.cfg.URL) // checked in StartDevice
	failures := 0
	for d.ctx.Err() == nil {
		conn, err := rawsocket.Dial(d.ctx, network, address, d.cfg.Serializer,
			transports.Options{MaxMessageSize: d.cfg.MaxMessage, HandshakeTimeout: d.cfg.JoinTimeout})
		if err != nil {
			if d.ctx.Err() != nil {
				return
			}
			d.log.Debug("dial failed", "reason", err)
			if !d.sleep(d.retryDelay(failures)) {
				return
			}
			failures++
			continue
		}
		d.mu.Lock()
		d.raw = conn
		d.mu.Unlock()
		sessDone := make(chan struct{})
		unplugged := make(chan bool, 1)
		go func() {
			select {
			case <-d.unplug:
				conn.Close()
				unplugged <- true
			case <-sessDone:
				unplugged <- false
			}
		}()
		ok := d.runSession(d.ctx, conn)
		close(sessDone)
		d.mu.Lock()
		d.raw = nil
		d.mu.Unlock()
		if <-unplugged {
			d.unplugs.Add(1)
			d.log.Info("device unplugged", "for", d.unplugFor())
			if !d.sleep(d.unplugFor()) {
				return
			}
		} else if !ok {
			if !d.sleep(d.retryDelay(failures)) {
				return
			}
			failures++
			continue
		}
		failures = 0
	}
}

// sessionLoop runs WAMP sessions on a link until ctx ends or the link does.
func (d *Device) sessionLoop(ctx context.Context, l *DeviceLink) {
	failures := 0
	for {
		conn, err := l.Accept(ctx)
		if err != nil {
			return
		}
		ok := d.runSession(ctx, conn)
		if ctx.Err() != nil {
			return
		}
		switch {
		case ok:
			failures = 0
		case l.idle():
			// The join or a registration failed on a working link (an
			// ABORT, a timeout): back off before trying again. When
			// the link itself failed (RESET, seq gap, reboot) it is
			// already handshaking again.
			if !sleepCtx(ctx, d.retryDelay(failures)) {
				return
			}
			failures++
		}
		l.Restart()
	}
}

// runSession joins on conn, registers the procedures, runs the publishers
// and returns when the session ends. It reports whether the join and the
// registrations succeeded.
func (d *Device) runSession(ctx context.Context, conn transports.Conn) bool {
	sess, err := client.Join(ctx, conn, d.cfg.Realm, client.Options{
		Logger:      d.cfg.Logger,
		Agent:       Agent,
		JoinTimeout: d.cfg.JoinTimeout,
	})
	if err != nil {
		d.joinFailures.Add(1)
		if ctx.Err() == nil {
			d.log.Info("join failed", "reason", err)
		}
		return false
	}
	d.sessions.Add(1)
	defer func() {
		sess.Close()
		<-sess.Done()
	}()
	rctx, cancel := context.WithTimeout(ctx, d.cfg.JoinTimeout)
	for _, p := range d.cfg.Procedures {
		if _, err := sess.Register(rctx, d.cfg.URIPrefix+p.Name, nil, d.handler(p)); err != nil {
			cancel()
			d.joinFailures.Add(1)
			if ctx.Err() == nil {
				d.log.Info("register failed", "uri", d.cfg.URIPrefix+p.Name, "reason", err)
			}
			return false
		}
	}
	cancel()
	d.registrations.Add(1)
	d.setReady(true)
	defer d.setReady(false)
	d.log.Info("session up", "session", uint64(sess.ID()), "realm", sess.Realm())

	pctx, pcancel := context.WithCancel(ctx)
	var pubs sync.WaitGroup
	for i, p := range d.cfg.Publishers {
		pubs.Add(1)
		go func() {
			defer pubs.Done()
			d.publish(pctx, sess, p, d.pubRng[i])
		}()
	}
	select {
	case <-sess.Done():
	case <-ctx.Done():
	}
	pcancel()
	pubs.Wait()
	if err := sess.Err(); err != nil && ctx.Err() == nil {
		d.log.Info("session ended", "reason", err)
	}
	return true
}

func (d *Device) setReady(up bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if up == d.isUp {
		return
	}
	d.isUp = up
	if up {
		close(d.ready)
	} else {
		d.ready = make(chan struct{})
	}
}

// faultLoop injects the timed faults: reboots and unplugs. Each kind has
// its own random source, so the times of one do not depend on the other.
func (d *Device) faultLoop() {
	defer d.wg.Done()
	f := d.cfg.Faults
	rebootRng, unplugRng := newRand(d.cfg.Seed, streamReboots), newRand(d.cfg.Seed, streamUnplugs)
	var rebootT, unplugT *time.Timer
	var rebootC, unplugC <-chan time.Time
	if f.RebootEvery > 0 {
		rebootT = time.NewTimer(jitter(rebootRng, f.RebootEvery))
		defer rebootT.Stop()
		rebootC = rebootT.C
	}
	if f.UnplugEvery > 0 {
		unplugT = time.NewTimer(jitter(unplugRng, f.UnplugEvery))
		defer unplugT.Stop()
		unplugC = unplugT.C
	}
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-rebootC:
			if err := d.Inject(FaultReboot); err != nil {
				d.log.Debug("reboot skipped", "reason", err)
			}
			rebootT.Reset(jitter(rebootRng, f.RebootEvery))
		case <-unplugC:
			_ = d.Inject(FaultUnplug)
			// The next interval starts when the device is back.
			unplugT.Reset(d.unplugFor() + jitter(unplugRng, f.UnplugEvery))
		}
	}
}
