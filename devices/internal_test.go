package devices

import (
	"fmt"
	"io"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/serial"
)

// TestManagerBackoffUsesJitter: the supervisors' waits come from Backoff
// with the configured random source, so a seeded source repeats them.
func TestManagerBackoffUsesJitter(t *testing.T) {
	mk := func() *Manager {
		return New(Config{Lister: nil, MinBackoff: 100 * time.Millisecond, MaxBackoff: 3 * time.Second, Jitter: rand.New(rand.NewPCG(1, 2))})
	}
	m1, m2 := mk(), mk()
	defer m1.Close()
	defer m2.Close()
	ref := rand.New(rand.NewPCG(1, 2))
	seen := map[time.Duration]bool{}
	for attempt := range 8 {
		got1, got2 := m1.backoff(attempt), m2.backoff(attempt)
		want := Backoff(attempt, 100*time.Millisecond, 3*time.Second, ref.Float64())
		if got1 != want || got2 != want {
			t.Fatalf("attempt %d: %v and %v, want %v", attempt, got1, got2, want)
		}
		seen[got1] = true
	}
	if len(seen) != 8 {
		t.Fatalf("waits repeat: %v", seen)
	}
	// Unseeded managers still jitter.
	m3 := New(Config{})
	defer m3.Close()
	first := m3.backoff(5)
	differs := false
	for range 20 {
		if m3.backoff(5) != first {
			differs = true
			break
		}
	}
	if !differs {
		t.Fatal("default jitter source gives a constant")
	}
}

func TestClassify(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("serial: read: %w", err) }
	tests := []struct {
		err  error
		tcp  bool
		want Reason
	}{
		{nil, false, ReasonNone},
		{wrap(io.EOF), false, ReasonUnplugged},
		{wrap(io.EOF), true, ReasonDisconnected},
		{wrap(syscall.ECONNRESET), true, ReasonDisconnected},
		{wrap(syscall.ENODEV), false, ReasonUnplugged},
		{fmt.Errorf("%w: new handshake", serial.ErrDeviceReset), false, ReasonDeviceReset},
		{fmt.Errorf("%w: got 3 want 1", serial.ErrSeqGap), false, ReasonSeqGap},
		{fmt.Errorf("serial: 3 pings: %w", transports.ErrPingTimeout), false, ReasonPingTimeout},
		{fmt.Errorf("serial: write: %w", transports.ErrWriteTimeout), false, ReasonWriteTimeout},
		{fmt.Errorf("serial: session closed: %w", transports.ErrClosed), false, ReasonClosed},
		{wrap(syscall.EIO), false, ReasonLinkError},
	}
	for _, tt := range tests {
		if got := classify(tt.err, tt.tcp); got != tt.want {
			t.Errorf("classify(%v, tcp=%v) = %v, want %v", tt.err, tt.tcp, got, tt.want)
		}
	}
	seen := map[string]bool{}
	for r := range reasonCount {
		s := r.String()
		if s == "" || seen[s] {
			t.Errorf("reason %d has label %q", r, s)
		}
		seen[s] = true
	}
	if got := Reason(200).String(); got != "reason(200)" {
		t.Errorf("unknown reason label %q", got)
	}
	if StateOnline.String() != "online" || State(9).String() != "state(9)" {
		t.Error("state labels")
	}
}
