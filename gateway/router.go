package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wampgate/wampgate/gateway/auth"
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
	// Auth authenticates HELLOs. Nil admits anonymous sessions only, with
	// the role "anonymous" (an anonymous-only auth.Authenticator).
	Auth *auth.Authenticator
	// Authorizer checks every call, register, subscribe and publish, and
	// every event delivery. Nil allows everything.
	Authorizer *auth.Authorizer
	// MaxSessions bounds the realm's concurrent sessions; 0 = no bound.
	MaxSessions int
	// PublishRate and CallRate bound each session's PUBLISHes and CALLs
	// (token bucket); zero values mean no bound.
	PublishRate, CallRate Rate
	// MaxMessage, when set, is the largest message a session of this realm
	// may send, on top of its transport's limit; larger ones end the
	// session with a protocol violation. 0: the transport's limit only.
	MaxMessage int
	// OutQueueBytes, when set, replaces Config.OutQueueBytes for sessions
	// of this realm.
	OutQueueBytes int
}

// Rate is a token-bucket rate: PerSecond sustained, Burst at once.
type Rate struct {
	PerSecond float64
	Burst     int
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
	// AuthLimiter, when set, slows down peers with repeated authentication
	// failures: the router waits Delay(peer) before answering a HELLO.
	// Pass the same limiter to the realms' auth.Realm so Verify feeds it.
	AuthLimiter *auth.Limiter
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
	cfg Config       // immutable after New (realm policies live in the realms)
	log *slog.Logger // immutable after New

	mu       sync.Mutex
	realms   map[string]*realm     // guarded by mu; realms are added, never removed
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
	policies, err := realmPolicies(cfg.Realms)
	if err != nil {
		return nil, err
	}
	for i, rc := range cfg.Realms {
		r.realms[rc.Name] = newRealm(r, rc, policies[i])
	}
	return r, nil
}

// realmPolicies checks rcs and builds their policies, in order.
func realmPolicies(rcs []RealmConfig) ([]*policy, error) {
	if err := checkRealmConfigs(rcs); err != nil {
		return nil, err
	}
	out := make([]*policy, 0, len(rcs))
	for _, rc := range rcs {
		p, err := newPolicy(rc)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func checkRealmConfigs(rcs []RealmConfig) error {
	seen := map[string]bool{}
	for _, rc := range rcs {
		if !wamp.ValidURI(rc.Name, false, wamp.MatchExact) {
			return fmt.Errorf("gateway: realm name %q is not a valid URI", rc.Name)
		}
		if seen[rc.Name] {
			return fmt.Errorf("gateway: realm %q configured twice", rc.Name)
		}
		seen[rc.Name] = true
	}
	return nil
}

// Realms returns the names of the realms that accept sessions.
func (r *Router) Realms() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.realms))
	for name, rm := range r.realms {
		if rm.policy.Load().open {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// realm returns the open realm with that name, or nil.
func (r *Router) realm(name string) *realm {
	r.mu.Lock()
	rm := r.realms[name]
	r.mu.Unlock()
	if rm == nil || !rm.policy.Load().open {
		return nil
	}
	return rm
}

// Reload applies new realm configurations without dropping sessions that
// are still allowed: policies (authentication, authorization, limits) are
// swapped atomically, new realms open, realms missing from rcs close, and
// every session whose identity or role the new configuration no longer
// grants gets GOODBYE wamp.close.killed. On error nothing changes.
func (r *Router) Reload(rcs []RealmConfig) error {
	policies, err := realmPolicies(rcs)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	r.mu.Lock()
	for i, rc := range rcs {
		keep[rc.Name] = true
		if rm := r.realms[rc.Name]; rm != nil {
			rm.policy.Store(policies[i])
		} else {
			r.realms[rc.Name] = newRealm(r, rc, policies[i])
		}
	}
	var all []*realm
	for name, rm := range r.realms {
		if !keep[name] {
			p := *rm.policy.Load()
			p.open = false
			rm.policy.Store(&p)
		}
		all = append(all, rm)
	}
	r.mu.Unlock()
	for _, rm := range all {
		rm.revalidate()
	}
	return nil
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
	denied        atomic.Uint64
	rateLimited   atomic.Uint64
	authFailures  atomic.Uint64
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
	Denied        uint64 // actions refused by authorization
	RateLimited   uint64 // publishes and calls refused by a rate limit
	AuthFailures  uint64 // joins refused by authentication
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
		Denied:        r.stats.denied.Load(),
		RateLimited:   r.stats.rateLimited.Load(),
		AuthFailures:  r.stats.authFailures.Load(),
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
