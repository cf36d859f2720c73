package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
)

// RealmConfig configures one realm.
type RealmConfig struct {
	// Name is the realm URI clients put in HELLO.
	Name string
	// StrictURIs applies the strict URI rules ([0-9a-z_] components)
	// instead of the loose ones.
	StrictURIs bool
}

// Config configures a Router. Zero fields take the documented defaults.
type Config struct {
	// Realms served. At least one is required.
	Realms []RealmConfig
	// OutQueueBytes bounds each session's outbound queue. Default 1 MiB.
	OutQueueBytes int
	// HandshakeTimeout bounds the time from connection accept to WELCOME.
	// Default 10 s.
	HandshakeTimeout time.Duration
	// GoodbyeTimeout is how long a router-initiated GOODBYE waits for the
	// peer's reply before the connection is closed. Default 2 s.
	GoodbyeTimeout time.Duration
	// Agent is sent in WELCOME.Details.agent. Default "wampgate".
	Agent string
	// Logger receives the router's logs. Default: discard.
	Logger *slog.Logger
}

// Defaults for Config.
const (
	DefaultOutQueueBytes    = 1 << 20
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultGoodbyeTimeout   = 2 * time.Second
)

// ErrShutdown is returned by operations on a router that is shutting down.
var ErrShutdown = errors.New("gateway: router shutting down")

// Router routes WAMP messages between the sessions of its realms.
// Create it with New; it is safe for concurrent use.
type Router struct {
	cfg    Config            // immutable after New
	log    *slog.Logger      // immutable after New
	realms map[string]*realm // immutable after New

	mu       sync.Mutex
	sessions map[*session]struct{} // guarded by mu: every live session, joined or not
	ids      map[wamp.ID]*session  // guarded by mu: joined sessions by ID
	closing  bool                  // guarded by mu
	wg       sync.WaitGroup        // one per ServeConn and per writer goroutine

	stats stats
}

// New validates cfg and returns a router.
func New(cfg Config) (*Router, error) {
	if len(cfg.Realms) == 0 {
		return nil, errors.New("gateway: no realm configured")
	}
	if cfg.OutQueueBytes <= 0 {
		cfg.OutQueueBytes = DefaultOutQueueBytes
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.GoodbyeTimeout <= 0 {
		cfg.GoodbyeTimeout = DefaultGoodbyeTimeout
	}
	if cfg.Agent == "" {
		cfg.Agent = "wampgate"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Router{
		cfg:      cfg,
		log:      log,
		realms:   map[string]*realm{},
		sessions: map[*session]struct{}{},
		ids:      map[wamp.ID]*session{},
	}
	for _, rc := range cfg.Realms {
		if !wamp.ValidURI(rc.Name, false, wamp.MatchExact) {
			return nil, fmt.Errorf("gateway: realm name %q is not a valid URI", rc.Name)
		}
		if _, dup := r.realms[rc.Name]; dup {
			return nil, fmt.Errorf("gateway: realm %q configured twice", rc.Name)
		}
		r.realms[rc.Name] = newRealm(r, rc)
	}
	return r, nil
}

// Realms returns the names of the configured realms.
func (r *Router) Realms() []string {
	out := make([]string, 0, len(r.realms))
	for _, rc := range r.cfg.Realms {
		out = append(out, rc.Name)
	}
	return out
}

// newSessionID returns a random global-scope ID not used by a live session.
// Called with r.mu held.
func (r *Router) newSessionIDLocked() wamp.ID {
	for {
		id := randomID()
		if _, used := r.ids[id]; !used {
			return id
		}
	}
}

// randomID draws uniformly from [1, 2^53].
func randomID() wamp.ID { return wamp.ID(rand.Uint64N(uint64(wamp.MaxID))) + 1 }

// ServeConn runs a session on c until it ends. It implements
// transports.Handler; the calling goroutine becomes the session reader.
func (r *Router) ServeConn(c transports.Conn) {
	s := newSession(r, c)
	r.mu.Lock()
	if r.closing {
		r.mu.Unlock()
		s.abortJoin(wamp.CloseSystemShutdown, "router is shutting down", CloseShutdown)
		return
	}
	r.sessions[s] = struct{}{}
	r.wg.Add(1)
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.sessions, s)
		if s.id != 0 && r.ids[s.id] == s {
			delete(r.ids, s.id)
		}
		r.mu.Unlock()
		r.wg.Done()
	}()
	s.run()
}

// Shutdown stops the router gracefully: new sessions are refused, every
// established session gets GOODBYE wamp.close.system_shutdown and sessions
// still joining get ABORT; Shutdown then waits for the sessions to end (the
// peers' GOODBYE replies, bounded by the goodbye timeout). If ctx ends
// first, remaining connections are closed at once and ctx.Err() is returned
// after their goroutines have exited.
func (r *Router) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closing = true
	all := make([]*session, 0, len(r.sessions))
	for s := range r.sessions {
		all = append(all, s)
	}
	r.mu.Unlock()
	for _, s := range all {
		s.shutdown(wamp.CloseSystemShutdown, "", CloseShutdown)
	}
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	r.mu.Lock()
	for s := range r.sessions {
		s.closeNow(CloseShutdown)
	}
	r.mu.Unlock()
	<-done
	return ctx.Err()
}

// SessionCount returns the number of joined sessions.
func (r *Router) SessionCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ids)
}

// stats are the router's counters, updated atomically on the hot path.
type stats struct {
	sessionsTotal atomic.Uint64
	closed        [numCloseReasons]atomic.Uint64
	violations    [numViolationReasons]atomic.Uint64
	drops         [numDropReasons]atomic.Uint64
	msgsIn        atomic.Uint64
	msgsOut       atomic.Uint64
	bytesOut      atomic.Uint64
	publications  atomic.Uint64
	deliveries    atomic.Uint64
	calls         atomic.Uint64
}

// Stats is a snapshot of the router's counters.
type Stats struct {
	SessionsOpen  int
	SessionsTotal uint64
	Closed        map[string]uint64 // by CloseReason
	Violations    map[string]uint64 // by ViolationReason
	Drops         map[string]uint64 // by DropReason
	MessagesIn    uint64
	MessagesOut   uint64
	BytesOut      uint64
	Publications  uint64
	Deliveries    uint64 // EVENTs queued to subscribers
	Calls         uint64 // CALLs routed to a callee
}

// Stats returns a snapshot of the counters.
func (r *Router) Stats() Stats {
	st := Stats{
		SessionsOpen:  r.SessionCount(),
		SessionsTotal: r.stats.sessionsTotal.Load(),
		Closed:        map[string]uint64{},
		Violations:    map[string]uint64{},
		Drops:         map[string]uint64{},
		MessagesIn:    r.stats.msgsIn.Load(),
		MessagesOut:   r.stats.msgsOut.Load(),
		BytesOut:      r.stats.bytesOut.Load(),
		Publications:  r.stats.publications.Load(),
		Deliveries:    r.stats.deliveries.Load(),
		Calls:         r.stats.calls.Load(),
	}
	for i := CloseReason(1); i < numCloseReasons; i++ {
		st.Closed[i.String()] = r.stats.closed[i].Load()
	}
	for i := ViolationReason(0); i < numViolationReasons; i++ {
		st.Violations[i.String()] = r.stats.violations[i].Load()
	}
	for i := DropReason(0); i < numDropReasons; i++ {
		st.Drops[i.String()] = r.stats.drops[i].Load()
	}
	return st
}
