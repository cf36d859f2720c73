package auth

import (
	"io"
	"time"
)

// Test hooks. Call them before the value is shared between goroutines.

func (a *Authenticator) SetClockForTest(now func() time.Time) { a.now = now }

func (a *Authenticator) SetRandForTest(r io.Reader) { a.rand = r }

func (l *Limiter) SetClockForTest(now func() time.Time) { l.now = now }

func (l *Limiter) SetCapacityForTest(n int) { l.capacity = n }

// TTLForTest returns how long a quiet peer is remembered.
func (l *Limiter) TTLForTest() time.Duration { return l.ttl }

// FailuresForTest returns the remembered failure count of peer.
func (l *Limiter) FailuresForTest(peer string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p := l.peers[peerKey(peer)]; p != nil {
		return p.failures
	}
	return 0
}
