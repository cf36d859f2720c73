package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDeliveryCounterWaitFor(t *testing.T) {
	c := &deliveryCounter{wake: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 5000 {
			c.add()
		}
	}()
	n, err := c.waitFor(t.Context(), 5000, 5*time.Second)
	<-done
	if err != nil || n != 5000 {
		t.Fatalf("waitFor = %d, %v; want 5000", n, err)
	}
	if c.target.Load() != 0 {
		t.Errorf("target left at %d after the wait", c.target.Load())
	}
	// Already reached: returns at once.
	if n, err := c.waitFor(t.Context(), 10, time.Millisecond); err != nil || n != 5000 {
		t.Errorf("waitFor below the count = %d, %v", n, err)
	}
}

func TestDeliveryCounterStall(t *testing.T) {
	c := &deliveryCounter{wake: make(chan struct{}, 1)}
	c.add()
	n, err := c.waitFor(t.Context(), 3, 20*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "no event delivered") || n != 1 {
		t.Errorf("waitFor on a stalled counter = %d, %v", n, err)
	}
}

func TestDeliveryCounterCancel(t *testing.T) {
	c := &deliveryCounter{wake: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancelCause(t.Context())
	why := errors.New("subscriber 3 closed")
	cancel(why)
	if _, err := c.waitFor(ctx, 1, time.Minute); !errors.Is(err, why) {
		t.Errorf("waitFor after cancel = %v, want the cause", err)
	}
}

func TestWaitLag(t *testing.T) {
	subs := make([]subscriber, 4)
	for i := range subs {
		subs[i].got.Store(int64(10 + i))
	}
	if err := waitLag(t.Context(), subs, 10, time.Millisecond); err != nil {
		t.Errorf("no subscriber behind: %v", err)
	}
	if err := waitLag(t.Context(), subs, -5, time.Millisecond); err != nil {
		t.Errorf("negative floor: %v", err)
	}
	err := waitLag(t.Context(), subs, 12, 10*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "subscriber 1 stuck at 10") {
		t.Errorf("lagging subscriber: err = %v", err)
	}
	// A subscriber catching up ends the wait.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range subs {
			subs[i].got.Add(5)
		}
	}()
	if err := waitLag(t.Context(), subs, 15, 5*time.Second); err != nil {
		t.Errorf("catching up: %v", err)
	}
	<-done
}
