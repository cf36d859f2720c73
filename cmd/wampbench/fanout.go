package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// deliveryCounter counts the events all subscribers received and wakes the
// publisher when the count reaches a target.
type deliveryCounter struct {
	n      atomic.Int64
	target atomic.Int64 // 0: nobody waits
	wake   chan struct{}
}

// add counts one delivery.
func (c *deliveryCounter) add() {
	n := c.n.Add(1)
	if t := c.target.Load(); t > 0 && n >= t && c.target.CompareAndSwap(t, 0) {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// waitFor blocks until at least want deliveries were counted, ctx ends or
// no delivery arrives for stall. It returns the count.
func (c *deliveryCounter) waitFor(ctx context.Context, want int64, stall time.Duration) (int64, error) {
	timer := time.NewTimer(stall)
	defer timer.Stop()
	last := c.n.Load()
	for {
		c.target.Store(want)
		if n := c.n.Load(); n >= want {
			c.target.Store(0)
			return n, nil
		}
		select {
		case <-c.wake:
		case <-ctx.Done():
			return c.n.Load(), context.Cause(ctx)
		case <-timer.C:
			n := c.n.Load()
			if n == last {
				return n, fmt.Errorf("wampbench: no event delivered for %v (%d of %d)", stall, n, want)
			}
			last = n
			timer.Reset(stall)
		}
	}
}

// subscriber counts the events one subscriber session received.
type subscriber struct {
	got atomic.Int64
	_   [56]byte // one cache line each: 1000 readers bump these
}

// waitLag waits until every subscriber has received at least floor events.
// It polls: with the window in place a lagging subscriber is rare, and a
// per-subscriber wake-up would cost every delivery an extra check.
func waitLag(ctx context.Context, subs []subscriber, floor int64, stall time.Duration) error {
	if floor <= 0 {
		return nil
	}
	deadline := time.Now().Add(stall)
	for i := range subs {
		for subs[i].got.Load() < floor {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("wampbench: subscriber %d stuck at %d events, want %d", i+1, subs[i].got.Load(), floor)
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	return nil
}

// eventSize is the size of one EVENT as the router sends it (an estimate:
// the router's IDs and details may differ slightly).
func eventSize(o *options, topic string, args wamp.List) (int, error) {
	c, err := codecFor(o.ser)
	if err != nil {
		return 0, err
	}
	b, err := c.Encode(&wamp.Event{Subscription: wamp.MaxID, Publication: wamp.MaxID, Details: wamp.Dict{"topic": topic}, Payload: wamp.Payload{Args: args}})
	if err != nil {
		return 0, fmt.Errorf("wampbench: encode event: %w", err)
	}
	return len(b) + 4, nil
}

// runFanout measures event deliveries per second from one publisher to
// o.subscribers subscribers, with at most o.window deliveries in flight,
// and checks that every subscriber got every event.
func runFanout(ctx context.Context, o *options) (*result, error) {
	b, err := newBench(ctx, o, "publisher", "subscriber")
	if err != nil {
		return nil, err
	}
	defer b.teardown()
	topic := uniqueURI("wampbench.topic")
	args := payloadArgs(o.payload)
	pub, err := newTemplate(o.ser, wamp.TypePublish, wamp.Dict{}, topic, args)
	if err != nil {
		return nil, err
	}
	counter := &deliveryCounter{wake: make(chan struct{}, 1)}
	subs := make([]subscriber, o.subscribers)
	_, err = b.connectMany(o.subscribers, o.concurrency, func(i int, p *peer) error {
		ctx, cancel := context.WithTimeout(b.ctx, o.timeout)
		defer cancel()
		if _, err := p.request(ctx, &wamp.Subscribe{Request: 1, Options: wamp.Dict{}, Topic: topic}, 1, wamp.TypeSubscribed); err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
		s := &subs[i]
		b.startReader(p, func(typ wamp.MessageType, _ uint64, _ []byte) (bool, error) {
			if typ != wamp.TypeEvent {
				return false, nil
			}
			s.got.Add(1)
			counter.add()
			return true, nil
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("subscriber: %w", err)
	}
	publisher, err := b.connect()
	if err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	b.startReader(publisher, nil)

	// Publish in bursts of `burst` publications, one Write each, keeping
	// published*S - delivered <= window, and no subscriber more than maxLag
	// publications behind (so that no router queue overflows, which a
	// router would rightly treat as a slow consumer).
	s := int64(o.subscribers)
	maxLag := int64(o.maxLag)
	if maxLag == 0 {
		size, err := eventSize(o, topic, args)
		if err != nil {
			return nil, err
		}
		maxLag = max(256<<10/int64(size), 64)
	}
	// The window alone bounds the sum of the lags; a subscriber that falls
	// far behind the others is caught by waitLag.
	window := min(int64(o.window), maxLag*s)
	burst := min(max(window/s/2, 1), 256)
	var (
		published int64
		buf       []byte
		ends      []int
		vec       [][]byte
	)
	c0 := sampleCPU(o.routerPID)
	start := time.Now()
	stopAt := start.Add(o.duration)
	for b.ctx.Err() == nil && time.Now().Before(stopAt) {
		need := (published+burst)*s - window
		if need > 0 {
			if _, err := counter.waitFor(b.ctx, need, o.timeout); err != nil {
				return nil, err
			}
		}
		if err := waitLag(b.ctx, subs, published+burst-maxLag, o.timeout); err != nil {
			return nil, err
		}
		buf, ends, vec = buf[:0], ends[:0], vec[:0]
		for k := range burst {
			buf = pub.appendTo(buf, uint64(published+k+1))
			ends = append(ends, len(buf))
		}
		from := 0
		for _, e := range ends {
			vec = append(vec, buf[from:e])
			from = e
		}
		if err := publisher.conn.Write(vec); err != nil {
			if cause := b.err(); cause != nil {
				return nil, cause
			}
			return nil, fmt.Errorf("wampbench: publish: %w", err)
		}
		published += burst
	}
	if err := b.err(); err != nil {
		return nil, err
	}
	want := published * s
	got, err := counter.waitFor(b.ctx, want, o.timeout)
	elapsed := time.Since(start)
	r := newResult(o, "deliveries")
	r.Params = fmt.Sprintf("subscribers=%d", o.subscribers)
	if err != nil {
		r.setRate(uint64(got), elapsed)
		r.Errors = uint64(want - got)
		return r, fmt.Errorf("%w; %d of %d deliveries missing", err, want-got, want)
	}
	for i := range subs {
		if g := subs[i].got.Load(); g != published {
			return r, fmt.Errorf("wampbench: subscriber %d received %d events, want %d", i+1, g, published)
		}
	}
	if got != want {
		return r, fmt.Errorf("wampbench: %d deliveries, want %d", got, want)
	}
	r.setRate(uint64(got), elapsed)
	r.setCPU(c0, sampleCPU(o.routerPID), elapsed)
	r.Params += fmt.Sprintf(" publications=%d window=%d", published, window)
	return r, nil
}
