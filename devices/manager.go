package devices

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wampgate/wampgate/devices/discovery"
	"github.com/wampgate/wampgate/transports"
)

// Attacher runs WAMP sessions: the router. ServeConn blocks until the
// session on c has ended and c is closed.
type Attacher interface {
	ServeConn(c transports.Conn)
}

// Defaults for zero Config fields.
const (
	DefaultMinBackoff  = 250 * time.Millisecond
	DefaultMaxBackoff  = 10 * time.Second
	DefaultStableAfter = 30 * time.Second
	DefaultDialTimeout = 5 * time.Second
)

// Errors returned by the manager.
var (
	// ErrDuplicate: a device with that name is already managed.
	ErrDuplicate = errors.New("devices: duplicate device name")
	// ErrClosed: the manager has been closed.
	ErrClosed = errors.New("devices: manager closed")
	// ErrNotFound: no port matches the device's USB IDs.
	ErrNotFound = errors.New("devices: no matching port")
	// ErrPortInUse: another device of this manager holds the port.
	ErrPortInUse = errors.New("devices: port in use by another device")
)

// Config configures a Manager.
type Config struct {
	// Devices are managed from the start. An invalid device is kept,
	// never opened, and listed as offline with ReasonInvalidConfig and the
	// validation error; a second device of the same name is logged and
	// left out. Add reports both as errors instead.
	Devices []Device
	// Attacher runs the device sessions (the router). Nil closes every
	// session at once.
	Attacher Attacher
	// Lister finds USB adapters for devices configured by USB match. Nil:
	// discovery.System().
	Lister discovery.Lister
	// Logger receives the manager's and the links' records. Nil: discard.
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the wait before reopening a port
	// (see Backoff). Zero: DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// StableAfter: a port that carried a session and stayed open at least
	// this long restarts the backoff from MinBackoff when it fails. Zero:
	// DefaultStableAfter.
	StableAfter time.Duration
	// DialTimeout bounds dialing a TCP serial server. Zero:
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// Jitter is the random source of the backoff jitter. Nil: the runtime's
	// randomly seeded generator. Tests pass a seeded one.
	Jitter *rand.Rand
	// OnChange, if set, is called when a device comes online (a session is
	// attached) and when it goes offline (the session ended), with the
	// reason. It runs on the device's supervisor goroutine, one call at a
	// time per device and in order; it may call List and Get but must not
	// block for long or call Close.
	OnChange func(Event)
}

// Manager supervises serial devices: for each, one goroutine opens the
// port (or dials the TCP serial server), hands every device session to the
// Attacher, and reopens with jittered exponential backoff when the port
// fails. Create it with New, start it with Start or Run, stop it with
// Close. All methods are safe for concurrent use.
type Manager struct {
	cfg      Config           // defaults applied; immutable
	log      *slog.Logger     // immutable
	attacher Attacher         // immutable
	lister   discovery.Lister // immutable
	ctx      context.Context  // cancelled by Close; immutable
	cancel   context.CancelFunc
	wg       sync.WaitGroup // one per supervisor goroutine

	mu      sync.Mutex         // guards the fields below
	devs    map[string]*device //
	claims  map[string]string  // resolved port path -> device name
	started bool
	closed  bool

	rngMu sync.Mutex // guards cfg.Jitter
}

// New returns a manager for cfg.Devices. Nothing is opened before Start or
// Run.
func New(cfg Config) *Manager {
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = cfg.MinBackoff
	}
	if cfg.StableAfter <= 0 {
		cfg.StableAfter = DefaultStableAfter
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	m := &Manager{
		cfg:      cfg,
		log:      cfg.Logger,
		attacher: cfg.Attacher,
		lister:   cfg.Lister,
		devs:     make(map[string]*device),
		claims:   make(map[string]string),
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.attacher == nil {
		m.attacher = transports.HandlerFunc(func(c transports.Conn) { c.Close() })
	}
	if m.lister == nil {
		m.lister = discovery.System()
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	for _, d := range cfg.Devices {
		if _, dup := m.devs[d.Name]; dup {
			m.log.Error("device left out", "device", d.Name, "reason", ErrDuplicate)
			continue
		}
		dv := newDevice(m, d)
		if err := d.Validate(); err != nil {
			dv.st.Reason, dv.st.Error = ReasonInvalidConfig, err.Error()
			dv.invalid = true
			m.log.Error("device not started", "device", d.Name, "reason", err)
		}
		m.devs[d.Name] = dv
	}
	return m
}

// Start starts one supervisor per valid device and returns. Further calls
// do nothing; after Close it does nothing.
func (m *Manager) Start() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started || m.closed {
		return
	}
	m.started = true
	for _, dv := range m.devs {
		m.launchLocked(dv)
	}
}

func (m *Manager) launchLocked(dv *device) {
	if dv.invalid {
		return
	}
	ctx, cancel := context.WithCancel(m.ctx)
	dv.stop, dv.stopped = cancel, make(chan struct{})
	m.wg.Add(1)
	go func() {
		defer close(dv.stopped)
		dv.run(ctx)
	}()
}

// Remove stops and forgets the device called name, as Close does for all:
// its session ends (the device is sent RESET), its port is released, and
// Remove returns once its supervisor has exited. Reloading a config uses
// it for devices that were removed or changed. It fails with ErrNotFound
// for an unknown name.
func (m *Manager) Remove(name string) error {
	m.mu.Lock()
	dv := m.devs[name]
	if dv == nil {
		m.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	delete(m.devs, name)
	stop, stopped := dv.stop, dv.stopped
	m.mu.Unlock()
	if stop != nil {
		stop()
		<-stopped
	}
	return nil
}

// Run starts the manager if needed, waits until ctx ends or Close is
// called, then closes the manager and returns once every supervisor has
// exited. It returns ErrClosed if the manager was closed before.
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return ErrClosed
	}
	m.Start()
	select {
	case <-ctx.Done():
	case <-m.ctx.Done():
	}
	m.Close()
	return nil
}

// Close stops every supervisor: the attached sessions end (the devices are
// sent RESET, and the Attacher's ServeConn returns as for a closed
// connection), the ports are closed, and Close returns once every
// supervisor goroutine and link reader has exited. Devices that were online
// get an offline event with ReasonShutdown. Calling Close again does
// nothing.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
	return nil
}

// Add adds a device, and starts its supervisor if the manager runs. It
// fails with an error wrapping ErrInvalidDevice for an invalid device,
// ErrDuplicate for a name in use, and ErrClosed after Close. The
// `--serial PATH` flag of wampgate serve uses it.
func (m *Manager) Add(d Device) error {
	if err := d.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if _, dup := m.devs[d.Name]; dup {
		return fmt.Errorf("%w: %q", ErrDuplicate, d.Name)
	}
	dv := newDevice(m, d)
	m.devs[d.Name] = dv
	if m.started {
		m.launchLocked(dv)
	}
	return nil
}

// List returns the status of every device, sorted by name.
func (m *Manager) List() []Status {
	m.mu.Lock()
	devs := make([]*device, 0, len(m.devs))
	for _, dv := range m.devs {
		devs = append(devs, dv)
	}
	m.mu.Unlock()
	out := make([]Status, len(devs))
	for i, dv := range devs {
		out[i] = dv.status()
	}
	slices.SortFunc(out, func(a, b Status) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Get returns the status of the named device.
func (m *Manager) Get(name string) (Status, bool) {
	m.mu.Lock()
	dv := m.devs[name]
	m.mu.Unlock()
	if dv == nil {
		return Status{}, false
	}
	return dv.status(), true
}

// backoff returns the jittered wait before retry number attempt.
func (m *Manager) backoff(attempt int) time.Duration {
	var r float64
	m.rngMu.Lock()
	if m.cfg.Jitter != nil {
		r = m.cfg.Jitter.Float64()
	} else {
		r = rand.Float64()
	}
	m.rngMu.Unlock()
	return Backoff(attempt, m.cfg.MinBackoff, m.cfg.MaxBackoff, r)
}

// claim reserves the first of paths that no other device holds, for name.
// Paths are compared after resolving symlinks.
func (m *Manager) claim(name string, paths ...string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var err error
	for _, p := range paths {
		key := claimKey(p)
		if owner, held := m.claims[key]; held && owner != name {
			err = fmt.Errorf("%w: %s is held by %q", ErrPortInUse, p, owner)
			continue
		}
		m.claims[key] = name
		return key, nil
	}
	return "", err
}

// release drops a claim made by claim.
func (m *Manager) release(name, key string) {
	m.mu.Lock()
	if m.claims[key] == name {
		delete(m.claims, key)
	}
	m.mu.Unlock()
}

func claimKey(path string) string {
	if p, err := discovery.Resolve(path); err == nil {
		return p
	}
	return filepath.Clean(path)
}

// NameForPath derives a device name from a port path for devices attached
// without a configuration file (`--serial PATH`): the path's last element,
// with characters that names may not hold replaced by '_'
// ("/dev/ttyUSB0" gives "ttyUSB0").
func NameForPath(path string) string {
	base := filepath.Base(strings.TrimPrefix(path, "tcp://"))
	if base == "." || base == "/" {
		base = "device"
	}
	b := []byte(base)
	for i, c := range b {
		if !validNameRune(rune(c)) || c >= 0x80 {
			b[i] = '_'
		}
	}
	return string(b)
}
