package devices_test

import (
	"testing"
	"time"

	"github.com/wampgate/wampgate/devices"
)

func TestBackoffGrowsAndCaps(t *testing.T) {
	const min, max = 250 * time.Millisecond, 10 * time.Second
	tests := []struct {
		attempt int
		r       float64
		want    time.Duration
	}{
		{0, 0, 125 * time.Millisecond},
		{0, 0.5, 187500 * time.Microsecond},
		{1, 0, 250 * time.Millisecond},
		{2, 0, 500 * time.Millisecond},
		{3, 0.5, 1500 * time.Millisecond},
		{5, 0, 4 * time.Second},
		{6, 0, 5 * time.Second}, // 16 s capped to 10 s
		{6, 0.5, 7500 * time.Millisecond},
		{1000, 0, 5 * time.Second}, // no overflow
		{1000, 0.999999, 10*time.Second - 5*time.Microsecond},
		{2, 1, 500 * time.Millisecond}, // r out of range counts as 0
		{2, -3, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := devices.Backoff(tt.attempt, min, max, tt.r); got != tt.want {
			t.Errorf("Backoff(%d, r=%v) = %v, want %v", tt.attempt, tt.r, got, tt.want)
		}
	}
}

// TestBackoffJitter: the jitter spreads each attempt over [base/2, base),
// and below the cap the spreads of consecutive attempts do not overlap.
func TestBackoffJitter(t *testing.T) {
	const min, max = 10 * time.Millisecond, 640 * time.Millisecond
	for attempt := range 10 {
		lo := devices.Backoff(attempt, min, max, 0)
		hi := devices.Backoff(attempt, min, max, 0.999999)
		mid := devices.Backoff(attempt, min, max, 0.5)
		if !(lo < mid && mid < hi) {
			t.Errorf("attempt %d: r=0 %v, r=0.5 %v, r~1 %v: no spread", attempt, lo, mid, hi)
		}
		if hi > max || lo < min/2 {
			t.Errorf("attempt %d: range [%v, %v] outside [%v, %v]", attempt, lo, hi, min/2, max)
		}
		if hi >= 2*lo+time.Microsecond {
			t.Errorf("attempt %d: range [%v, %v] is wider than [base/2, base)", attempt, lo, hi)
		}
		if min<<(attempt+1) > max {
			continue // capped: every attempt spreads over [max/2, max)
		}
		if next := devices.Backoff(attempt+1, min, max, 0); next < hi {
			t.Errorf("attempt %d: next attempt may wait %v, less than %v", attempt, next, hi)
		}
	}
}

func TestBackoffDegenerateBounds(t *testing.T) {
	if got := devices.Backoff(3, 0, 0, 0); got <= 0 {
		t.Errorf("zero bounds gave %v", got)
	}
	if got := devices.Backoff(3, time.Second, time.Millisecond, 0); got != 500*time.Millisecond {
		t.Errorf("max below min gave %v, want min/2", got)
	}
}
