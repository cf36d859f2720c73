package auth_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway/auth"
)

func testLimiter(base, maxDelay time.Duration) (*auth.Limiter, *clock) {
	l := auth.NewLimiter(base, maxDelay)
	c := newClock()
	l.SetClockForTest(c.Now)
	return l, c
}

func wantDelay(t *testing.T, l *auth.Limiter, peer string, want time.Duration) {
	t.Helper()
	if got := l.Delay(peer); got != want {
		t.Fatalf("Delay(%q) = %v, want %v", peer, got, want)
	}
}

func TestLimiterGrowsAndResets(t *testing.T) {
	l, c := testLimiter(time.Second, 10*time.Second)
	const p = "192.0.2.1:1000"
	wantDelay(t, l, p, 0)
	for i, want := range []time.Duration{1, 2, 4, 8, 10, 10, 10} {
		l.Failure(p)
		wantDelay(t, l, p, want*time.Second)
		if i == 0 && l.Len() != 1 {
			t.Fatalf("Len = %d", l.Len())
		}
	}
	// What is left of the wait shrinks as time passes.
	c.Advance(3 * time.Second)
	wantDelay(t, l, p, 7*time.Second)
	c.Advance(30 * time.Second)
	wantDelay(t, l, p, 0)
	// The failures are still remembered.
	l.Failure(p)
	wantDelay(t, l, p, 10*time.Second)

	l.Success(p)
	wantDelay(t, l, p, 0)
	if l.Len() != 0 {
		t.Fatalf("Len after success = %d", l.Len())
	}
	l.Failure(p)
	wantDelay(t, l, p, time.Second)
}

func TestLimiterForgetsQuietPeers(t *testing.T) {
	l, c := testLimiter(time.Second, 2*time.Second)
	ttl := l.TTLForTest()
	if ttl != time.Minute {
		t.Fatalf("ttl = %v, want the one-minute floor", ttl)
	}
	const p = "192.0.2.1"
	for range 5 {
		l.Failure(p)
	}
	c.Advance(ttl)
	l.Failure(p) // still within the memory window: keeps counting
	wantDelay(t, l, p, 2*time.Second)
	c.Advance(ttl + time.Nanosecond)
	wantDelay(t, l, p, 0)
	if l.Len() != 0 {
		t.Fatalf("expired peer kept, Len = %d", l.Len())
	}
	l.Failure(p) // starts over
	wantDelay(t, l, p, time.Second)

	// An expired entry that is never asked about restarts on Failure.
	c.Advance(ttl + time.Second)
	l.Failure(p)
	wantDelay(t, l, p, time.Second)
}

func TestLimiterPeerKeys(t *testing.T) {
	l, _ := testLimiter(time.Second, time.Minute)
	same := [][]string{
		{"192.0.2.1:1000", "192.0.2.1:2000", "192.0.2.1", "[::ffff:192.0.2.1]:3000"},
		{"[2001:db8:1:2::1]:443", "2001:db8:1:2::ffff", "[2001:db8:1:2:abcd::1%eth0]:1"},
		{"serial:/dev/ttyUSB0"},
	}
	for i, group := range same {
		for range i + 1 {
			l.Failure(group[0])
		}
		want := time.Duration(1<<i) * time.Second
		for _, p := range group {
			wantDelay(t, l, p, want)
		}
	}
	for _, p := range []string{"192.0.2.2:1000", "[2001:db8:1:3::1]:443", "serial:/dev/ttyUSB1", ""} {
		wantDelay(t, l, p, 0)
	}
	if l.Len() != 3 {
		t.Fatalf("Len = %d, want 3", l.Len())
	}
}

func TestLimiterBoundedMemory(t *testing.T) {
	l, c := testLimiter(time.Second, time.Minute)
	l.SetCapacityForTest(3)
	peer := func(i int) string { return fmt.Sprintf("198.51.100.%d:9", i) }
	for i := range 10 {
		l.Failure(peer(i))
		c.Advance(time.Second)
		if l.Len() > 3 {
			t.Fatalf("Len = %d after %d peers", l.Len(), i+1)
		}
	}
	// The most recent peers are kept, the oldest were evicted.
	for i := range 10 {
		got := l.FailuresForTest(peer(i))
		if kept := got == 1; kept != (i >= 7) {
			t.Fatalf("peer %d: %d failures remembered", i, got)
		}
	}

	// Expired peers go first: a stale entry is dropped rather than the
	// oldest live one.
	l2, c2 := testLimiter(time.Second, time.Minute)
	l2.SetCapacityForTest(2)
	ttl := l2.TTLForTest()
	l2.Failure("a")
	c2.Advance(ttl / 2)
	l2.Failure("b")
	c2.Advance(ttl/2 + time.Second) // a is now expired, b is not
	l2.Failure("c")
	if l2.FailuresForTest("a") != 0 || l2.FailuresForTest("b") != 1 || l2.FailuresForTest("c") != 1 {
		t.Fatalf("a=%d b=%d c=%d", l2.FailuresForTest("a"), l2.FailuresForTest("b"), l2.FailuresForTest("c"))
	}
}

func TestLimiterDisabledAndNil(t *testing.T) {
	var nilLimiter *auth.Limiter
	nilLimiter.Failure("x")
	nilLimiter.Success("x")
	if nilLimiter.Delay("x") != 0 || nilLimiter.Len() != 0 {
		t.Fatal("nil limiter delays")
	}
	l := auth.NewLimiter(0, time.Second)
	l.Failure("x")
	if l.Delay("x") != 0 {
		t.Fatal("disabled limiter delays")
	}
	// max below base is raised to base.
	l2, _ := testLimiter(2*time.Second, time.Second)
	l2.Failure("x")
	l2.Failure("x")
	wantDelay(t, l2, "x", 2*time.Second)
}

func TestLimiterConcurrent(t *testing.T) {
	l := auth.NewLimiter(time.Millisecond, time.Second)
	l.SetCapacityForTest(16)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				p := fmt.Sprintf("203.0.113.%d", (g*200+i)%40)
				l.Failure(p)
				_ = l.Delay(p)
				if i%7 == 0 {
					l.Success(p)
				}
			}
		})
	}
	wg.Wait()
	if n := l.Len(); n > 16 {
		t.Fatalf("Len = %d over capacity", n)
	}
}
