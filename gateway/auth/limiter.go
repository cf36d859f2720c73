package auth

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// DefaultLimiterPeers is how many peers a Limiter remembers at most.
const DefaultLimiterPeers = 4096

// Limiter slows down peers that keep failing to authenticate. After n
// consecutive failures the next attempt should be answered no earlier than
// base·2^(n-1) (at most max) after the last failure; Delay returns what is
// left of that wait. A success forgets the peer, and so does a quiet period
// of ten times max (at least a minute). Memory is bounded: when the table is
// full, expired peers are dropped first, then the one that failed longest
// ago.
//
// Peers are keyed by host: a port is ignored, IPv6 addresses are grouped by
// /64, and anything that is not an address (a serial device path) is used
// as is. A nil *Limiter does nothing. A Limiter is safe for concurrent use.
type Limiter struct {
	base, max, ttl time.Duration
	capacity       int
	now            func() time.Time

	mu    sync.Mutex
	peers map[string]*peerState
}

type peerState struct {
	failures int
	last     time.Time
}

// NewLimiter returns a Limiter with the given first and largest delay. A
// base of zero or less disables it; max below base is raised to base.
func NewLimiter(base, maxDelay time.Duration) *Limiter {
	maxDelay = max(maxDelay, base)
	ttl := max(10*maxDelay, time.Minute)
	return &Limiter{base: base, max: maxDelay, ttl: ttl, capacity: DefaultLimiterPeers, now: time.Now, peers: map[string]*peerState{}}
}

// Delay returns how long to wait before answering this peer's next attempt.
func (l *Limiter) Delay(peer string) time.Duration {
	if l == nil || l.base <= 0 {
		return 0
	}
	key := peerKey(peer)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.peers[key]
	if p == nil {
		return 0
	}
	since := now.Sub(p.last)
	if since > l.ttl {
		delete(l.peers, key)
		return 0
	}
	d := l.base
	for i := 1; i < p.failures && d < l.max; i++ {
		d *= 2
	}
	d = min(d, l.max)
	if since > 0 {
		d -= since
	}
	return max(d, 0)
}

// Failure records a failed attempt by peer.
func (l *Limiter) Failure(peer string) {
	if l == nil || l.base <= 0 {
		return
	}
	key := peerKey(peer)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.peers[key]
	if p != nil && now.Sub(p.last) > l.ttl {
		p.failures = 0
	}
	if p == nil {
		if len(l.peers) >= l.capacity {
			l.evictLocked(now)
		}
		p = &peerState{}
		l.peers[key] = p
	}
	p.failures++
	p.last = now
}

// Success forgets peer's failures.
func (l *Limiter) Success(peer string) {
	if l == nil || l.base <= 0 {
		return
	}
	key := peerKey(peer)
	l.mu.Lock()
	delete(l.peers, key)
	l.mu.Unlock()
}

// Len returns the number of peers currently remembered.
func (l *Limiter) Len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.peers)
}

// evictLocked makes room for one entry: it drops every expired peer, and if
// none was expired, the one with the oldest failure.
func (l *Limiter) evictLocked(now time.Time) {
	var oldestKey string
	var oldest time.Time
	found, dropped := false, false
	for k, p := range l.peers {
		if now.Sub(p.last) > l.ttl {
			delete(l.peers, k)
			dropped = true
			continue
		}
		if !found || p.last.Before(oldest) {
			oldestKey, oldest, found = k, p.last, true
		}
	}
	if !dropped && found {
		delete(l.peers, oldestKey)
	}
}

// peerKey reduces a peer address to the host that is rate limited.
func peerKey(peer string) string {
	host := peer
	if h, _, err := net.SplitHostPort(peer); err == nil {
		host = h
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return peer
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		pfx, _ := addr.Prefix(64)
		return pfx.String()
	}
	return addr.String()
}
