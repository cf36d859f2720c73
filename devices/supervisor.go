package devices

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/wampgate/wampgate/devices/discovery"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/serial"
)

// device is one managed device and its supervisor.
type device struct {
	m       *Manager
	cfg     Device            // normalised; immutable
	pc      serial.PortConfig // line settings, defaults applied; immutable
	tcp     bool              // immutable
	invalid bool              // set in New before any goroutine starts
	log     *slog.Logger      // immutable

	mu     sync.Mutex   // guards the fields below
	st     Status       // counters live in totals and link
	totals linkTotals   // counters of links that have ended
	link   *serial.Link // the open link, nil while offline
	conn   *deviceConn  // the attached session, nil while none

	// Set by launchLocked under Manager.mu, before run starts.
	stop    context.CancelFunc // ends this supervisor alone (Remove)
	stopped chan struct{}      // closed when run has returned

	// Owned by run.
	opens      int    // successful opens so far
	claimed    string // port claim held, "" if none
	lastLogged Reason // reason of the last open failure logged at warn level
}

func newDevice(m *Manager, d Device) *device {
	n := d.normalized()
	pc, _ := n.portConfig() // Validate has reported a bad parity
	dv := &device{
		m:   m,
		cfg: n,
		pc:  pc,
		tcp: n.TCP != "",
		log: m.log.With("device", n.Name),
	}
	dv.st = Status{
		Name:     n.Name,
		State:    StateOffline,
		Kind:     n.kind(),
		Source:   n.source(),
		Realm:    n.Realm,
		AuthID:   n.AuthID,
		AuthRole: n.AuthRole,
		Prefix:   n.Prefix,
		Since:    time.Now(),
	}
	return dv
}

// status returns a snapshot with the live link's counters merged in.
func (d *device) status() Status {
	d.mu.Lock()
	st, t := d.st, d.totals
	if d.link != nil {
		t.add(d.link.Stats())
	}
	d.mu.Unlock()
	t.fill(&st)
	return st
}

// transition moves the device to state, records reason and err unless
// reason is ReasonNone, runs update under the lock, and reports online and
// offline transitions to OnChange.
func (d *device) transition(state State, reason Reason, err error, update func()) {
	d.mu.Lock()
	was := d.st.State
	if update != nil {
		update()
	}
	if state != was {
		d.st.State = state
		d.st.Since = time.Now()
	}
	if reason != ReasonNone {
		d.st.Reason = reason
		d.st.Error = ""
		if err != nil {
			d.st.Error = err.Error()
		}
	}
	d.mu.Unlock()
	switch {
	case was != StateOnline && state == StateOnline:
		d.log.Info("device online", "path", d.status().Path)
		d.emit(true, ReasonNone)
	case was == StateOnline && state != StateOnline:
		if err != nil {
			d.log.Info("device offline", "reason", reason.String(), "err", err)
		} else {
			d.log.Info("device offline", "reason", reason.String())
		}
		d.emit(false, reason)
	}
}

func (d *device) emit(online bool, reason Reason) {
	if d.m.cfg.OnChange == nil {
		return
	}
	d.m.cfg.OnChange(Event{Device: d.cfg.Name, Realm: d.cfg.Realm, Online: online, Reason: reason, Status: d.status()})
}

// run is the supervisor goroutine: open, serve the link, back off, reopen,
// until ctx ends.
func (d *device) run(ctx context.Context) {
	defer d.m.wg.Done()
	attempt := 0
	for ctx.Err() == nil {
		rw, path, reason, err := d.open(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			d.openFailed(reason, err)
		} else {
			d.lastLogged = ReasonNone
			if d.runLink(ctx, rw, path) {
				attempt = 0
			}
			if ctx.Err() != nil {
				break
			}
		}
		wait := d.m.backoff(attempt)
		attempt++
		if !sleep(ctx, wait) {
			break
		}
	}
	d.transition(StateOffline, ReasonShutdown, nil, nil)
}

// Pacing of sessions that the router closes as soon as they start.
const (
	quickSession     = time.Second
	maxSessionPacing = 2 * time.Second
)

// sleep waits for dur or until ctx ends; it reports whether ctx is live.
func sleep(ctx context.Context, dur time.Duration) bool {
	return sleepUnlessDone(ctx, nil, dur)
}

// sleepUnlessDone waits for dur, or until ctx ends or done is closed; it
// reports whether the whole wait passed.
func sleepUnlessDone(ctx context.Context, done <-chan struct{}, dur time.Duration) bool {
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-done:
		return false
	}
}

func (d *device) openFailed(reason Reason, err error) {
	if reason != d.lastLogged {
		d.log.Warn("device not available", "reason", reason.String(), "err", err)
		d.lastLogged = reason
	} else {
		d.log.Debug("device not available", "reason", reason.String(), "err", err)
	}
	d.transition(StateOffline, reason, err, nil)
}

// open finds and opens the device's port, or dials its TCP serial server.
// On success the port is claimed (d.claimed) until runLink releases it.
func (d *device) open(ctx context.Context) (io.ReadWriteCloser, string, Reason, error) {
	if d.tcp {
		dl := net.Dialer{Timeout: d.m.cfg.DialTimeout}
		c, err := dl.DialContext(ctx, "tcp", d.cfg.TCP)
		if err != nil {
			return nil, "", ReasonDialFailed, fmt.Errorf("devices: dial %s: %w", d.cfg.TCP, err)
		}
		return c, "tcp://" + d.cfg.TCP, ReasonNone, nil
	}
	candidates := []string{d.cfg.Port}
	if d.cfg.USB != nil {
		ports, err := d.m.lister.Ports()
		if err != nil {
			return nil, "", ReasonNotFound, fmt.Errorf("devices: list ports: %w", err)
		}
		candidates = discovery.Candidates(ports, *d.cfg.USB)
		if len(candidates) == 0 {
			return nil, "", ReasonNotFound, fmt.Errorf("%w: usb %s", ErrNotFound, d.cfg.USB)
		}
	}
	key, err := d.m.claim(d.cfg.Name, candidates...)
	if err != nil {
		return nil, "", ReasonOpenFailed, err
	}
	path := candidates[0]
	for _, c := range candidates {
		if claimKey(c) == key {
			path = c
			break
		}
	}
	p, err := serial.Open(path, d.pc)
	if err != nil {
		d.m.release(d.cfg.Name, key)
		reason := ReasonOpenFailed
		if errors.Is(err, fs.ErrNotExist) {
			reason = ReasonNotFound
		}
		return nil, "", reason, fmt.Errorf("devices: %w", err)
	}
	d.claimed = key
	return p, path, ReasonNone, nil
}

func (d *device) linkConfig(path string) serial.LinkConfig {
	lc := serial.LinkConfig{
		MaxMessageSize: d.cfg.MaxMessage,
		Lenient:        d.cfg.Lenient,
		PingInterval:   d.cfg.PingInterval,
		Baud:           d.pc.Baud,
		BitsPerChar:    d.pc.BitsPerChar(),
		Logger:         d.m.log,
	}
	if !d.tcp {
		lc.Name = path // a TCP link names itself after the server's address
	}
	return lc
}

// runLink runs a link over the opened port until it fails or ctx ends,
// handing each device session to the Attacher. It reports whether the
// link was stable: it carried a session and lasted StableAfter.
func (d *device) runLink(ctx context.Context, rw io.ReadWriteCloser, path string) (stable bool) {
	link := serial.NewLink(rw, d.linkConfig(path))
	start := time.Now()
	d.transition(StateConnecting, ReasonNone, nil, func() {
		d.link = link
		d.st.Path = path
		if d.opens > 0 {
			d.st.Reconnects++
		}
		d.opens++
	})
	// On shutdown: end the attached session first, which sends the device
	// RESET, then close the link, which unblocks Accept.
	stopped := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(stopped)
		d.mu.Lock()
		c := d.conn
		d.mu.Unlock()
		if c != nil {
			c.Close()
		}
		link.Close()
	})
	sessions, refused := 0, 0
	var err error
	for {
		var c transports.Conn
		c, err = link.Accept(ctx)
		if err != nil {
			break
		}
		sessions++
		began := time.Now()
		if d.serve(ctx, link, c) != ReasonClosed || time.Since(began) >= quickSession {
			refused = 0
			continue
		}
		// The router closed the session at once (it refused the join, or
		// is shutting down). The device, sent RESET, handshakes again at
		// once: pace the sessions handed to the router. The device's next
		// session waits in the link meanwhile, so the wait stays well
		// inside the router's handshake deadline.
		wait := min(d.m.backoff(refused), maxSessionPacing)
		refused++
		if !sleepUnlessDone(ctx, link.Done(), wait) && ctx.Err() != nil {
			err = ctx.Err()
			break
		}
	}
	if !stop() {
		<-stopped
	}
	link.Close()
	reason := classify(err, d.tcp)
	if ctx.Err() != nil {
		reason, err = ReasonShutdown, nil
	}
	d.transition(StateOffline, reason, err, func() {
		d.totals.add(link.Stats())
		d.link = nil
	})
	if d.claimed != "" {
		d.m.release(d.cfg.Name, d.claimed)
		d.claimed = ""
	}
	if reason != ReasonShutdown {
		d.log.Info("port closed", "path", path, "reason", reason.String(), "err", err)
	} else {
		d.log.Debug("port closed", "path", path, "reason", reason.String())
	}
	return sessions > 0 && time.Since(start) >= d.m.cfg.StableAfter
}

// serve hands one device session to the Attacher, waits for its end and
// returns why it ended.
func (d *device) serve(ctx context.Context, link *serial.Link, c transports.Conn) Reason {
	dc := &deviceConn{Conn: c, info: d.info(c.Info())}
	d.transition(StateOnline, ReasonNone, nil, func() {
		d.conn = dc
		d.st.Sessions++
	})
	if ctx.Err() != nil {
		dc.Close() // shutdown began before d.conn was set
	}
	d.m.attacher.ServeConn(dc)
	dc.Close()
	reason, err := dc.endReason(ctx, link, d.tcp)
	d.transition(StateConnecting, reason, err, func() { d.conn = nil })
	return reason
}

// info is the Info the router sees for the device's sessions.
func (d *device) info(base transports.Info) transports.Info {
	base.Kind = d.cfg.kind()
	base.AuthID = d.cfg.AuthID
	base.AuthRole = d.cfg.AuthRole
	base.Realm = d.cfg.Realm
	base.URIPrefix = d.cfg.Prefix
	return base
}

// deviceConn is a device session as the router sees it: the link's Conn
// with the device's identity in Info, remembering why reading ended.
type deviceConn struct {
	transports.Conn
	info transports.Info // immutable

	mu      sync.Mutex
	readErr error // first error Read returned; guarded by mu
}

// Read passes through, recording the first error.
func (c *deviceConn) Read() ([]byte, error) {
	b, err := c.Conn.Read()
	if err != nil {
		c.mu.Lock()
		if c.readErr == nil {
			c.readErr = err
		}
		c.mu.Unlock()
	}
	return b, err
}

// Info returns the link's Info with the device's kind, identity, realm and
// URI prefix.
func (c *deviceConn) Info() transports.Info { return c.info }

// endReason says why the session ended, once the Attacher is done with it.
func (c *deviceConn) endReason(ctx context.Context, link *serial.Link, tcp bool) (Reason, error) {
	c.mu.Lock()
	err := c.readErr
	c.mu.Unlock()
	if err != nil && !errors.Is(err, transports.ErrClosed) {
		return classify(err, tcp), err
	}
	if ctx.Err() != nil {
		return ReasonShutdown, nil
	}
	if lerr := link.Err(); lerr != nil && !errors.Is(lerr, transports.ErrClosed) {
		return classify(lerr, tcp), lerr
	}
	return ReasonClosed, err
}
