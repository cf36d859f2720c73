package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// rpcSetup is the callee side shared by rtt and calls: one callee session
// that registers a fresh procedure and answers every INVOCATION with a
// YIELD carrying the same size of payload.
type rpcSetup struct {
	b    *bench
	call *template // CALL of the registered procedure
}

// startCallee connects and registers the callee. With direct set, YIELDs
// are written from the reader goroutine as each INVOCATION arrives (lowest
// latency); otherwise they go through the batching writer.
func startCallee(b *bench, direct bool) (*rpcSetup, error) {
	o := b.o
	proc := uniqueURI("wampbench.echo")
	args := payloadArgs(o.payload)
	yield, err := newTemplate(o.ser, wamp.TypeYield, wamp.Dict{}, args)
	if err != nil {
		return nil, err
	}
	call, err := newTemplate(o.ser, wamp.TypeCall, wamp.Dict{}, proc, args)
	if err != nil {
		return nil, err
	}
	callee, err := b.connect()
	if err != nil {
		return nil, fmt.Errorf("callee: %w", err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, o.timeout)
	defer cancel()
	if _, err := callee.request(ctx, &wamp.Register{Request: 1, Options: wamp.Dict{}, Procedure: proc}, 1, wamp.TypeRegistered); err != nil {
		return nil, fmt.Errorf("callee: register %s: %w", proc, err)
	}
	if direct {
		b.startReader(callee, func(typ wamp.MessageType, id uint64, _ []byte) (bool, error) {
			if typ != wamp.TypeInvocation || id == 0 {
				return false, nil
			}
			return true, callee.writeNow(yield, id)
		})
	} else {
		b.startWriter(callee)
		b.startReader(callee, func(typ wamp.MessageType, id uint64, _ []byte) (bool, error) {
			if typ != wamp.TypeInvocation || id == 0 {
				return false, nil
			}
			callee.queue(yield, id)
			return true, nil
		})
	}
	return &rpcSetup{b: b, call: call}, nil
}

// runRTT measures the round trip of one call at a time.
func runRTT(ctx context.Context, o *options) (*result, error) {
	b, err := newBench(ctx, o, "caller", "callee")
	if err != nil {
		return nil, err
	}
	defer b.teardown()
	rs, err := startCallee(b, true)
	if err != nil {
		return nil, err
	}
	caller, err := b.connect()
	if err != nil {
		return nil, fmt.Errorf("caller: %w", err)
	}
	var h histogram
	start := b.now()
	warmEnd := start + o.warmup
	stopAt := warmEnd + o.duration
	cpu := meterCPU(b, warmEnd, stopAt)
	n, err := rttLoop(b, caller, rs.call, warmEnd, stopAt, &h)
	if err != nil {
		return nil, err
	}
	b.startReader(caller, nil) // so that teardown gets the GOODBYE reply
	r := newResult(o, "calls")
	r.setRate(n, o.duration)
	r.setLatency(&h)
	c0, c1 := cpu.wait()
	r.setCPU(c0, c1, o.duration)
	return r, nil
}

// rttLoop calls, waits for the result and records the round trip, until
// stopAt. Calls sent before warmEnd are not counted.
func rttLoop(b *bench, p *peer, call *template, warmEnd, stopAt time.Duration, h *histogram) (uint64, error) {
	stop := context.AfterFunc(b.ctx, func() { p.conn.Close() })
	defer stop()
	var n uint64
	for id := uint64(1); ; id++ {
		t0 := b.now()
		if t0 >= stopAt {
			return n, nil
		}
		if err := p.writeNow(call, id); err != nil {
			return n, p.ctxErr(b.ctx, err)
		}
		msg, err := p.conn.Read()
		if err != nil {
			if cause := b.err(); cause != nil {
				return n, cause
			}
			return n, fmt.Errorf("wampbench: caller: read: %w", err)
		}
		typ, rid, _, ok := peek(p.ser, msg)
		if !ok || typ != wamp.TypeResult {
			return n, p.unexpected(msg, "RESULT")
		}
		if rid != id {
			return n, fmt.Errorf("wampbench: RESULT for request %d, want %d", rid, id)
		}
		t1 := b.now()
		if t0 >= warmEnd {
			h.record(t1 - t0)
			n++
		}
	}
}

// pipeline is one caller connection keeping slots calls in flight. Request
// IDs encode the slot: slot k sends k+1, k+1+slots, k+1+2*slots...
type pipeline struct {
	p        *peer
	call     *template
	slots    uint64
	warmEnd  time.Duration
	stopAt   time.Duration
	stopping *atomic.Bool

	// Owned by the reader goroutine once started.
	expect      []uint64        // request ID in flight per slot
	sent        []time.Duration // when it was sent
	outstanding int
	count       uint64 // results of calls sent in [warmEnd, stopAt)
	hist        histogram
	drained     chan struct{} // closed when stopping and nothing is in flight
}

func (pl *pipeline) onMessage(b *bench) hotFunc {
	return func(typ wamp.MessageType, id uint64, _ []byte) (bool, error) {
		if typ != wamp.TypeResult || id == 0 {
			return false, nil
		}
		slot := (id - 1) % pl.slots
		if pl.expect[slot] != id {
			return true, fmt.Errorf("wampbench: RESULT for request %d, which is not in flight", id)
		}
		// Calls sent during the measurement count, wherever they end:
		// dropping the ones still in flight at the end would hide the
		// slowest.
		now := b.now()
		if sent := pl.sent[slot]; sent >= pl.warmEnd && sent < pl.stopAt {
			pl.hist.record(now - sent)
			pl.count++
		}
		pl.outstanding--
		if !pl.stopping.Load() {
			next := id + pl.slots
			pl.expect[slot], pl.sent[slot] = next, now
			pl.outstanding++
			pl.p.queue(pl.call, next)
		} else if pl.outstanding == 0 {
			pl.expect[slot] = 0
			close(pl.drained)
		} else {
			pl.expect[slot] = 0
		}
		return true, nil
	}
}

// runCalls measures pipelined call throughput.
func runCalls(ctx context.Context, o *options) (*result, error) {
	b, err := newBench(ctx, o, "caller", "callee")
	if err != nil {
		return nil, err
	}
	defer b.teardown()
	rs, err := startCallee(b, false)
	if err != nil {
		return nil, err
	}
	peers, err := b.connectMany(o.callers, o.callers, nil)
	if err != nil {
		return nil, fmt.Errorf("caller: %w", err)
	}
	var stopping atomic.Bool
	start := b.now()
	warmEnd := start + o.warmup
	stopAt := warmEnd + o.duration
	pls := make([]*pipeline, len(peers))
	for i, p := range peers {
		slots := o.inflight / o.callers
		if i < o.inflight%o.callers {
			slots++
		}
		pl := &pipeline{
			p: p, call: rs.call, slots: uint64(slots), warmEnd: warmEnd, stopAt: stopAt, stopping: &stopping,
			expect: make([]uint64, slots), sent: make([]time.Duration, slots), outstanding: slots,
			drained: make(chan struct{}),
		}
		for k := range pl.expect {
			pl.expect[k], pl.sent[k] = uint64(k+1), start
		}
		pls[i] = pl
		b.startWriter(p)
		b.startReader(p, pl.onMessage(b))
		for k := range slots {
			p.queue(rs.call, uint64(k+1))
		}
	}
	cpu := meterCPU(b, warmEnd, stopAt)
	timer := time.NewTimer(stopAt - b.now())
	select {
	case <-timer.C:
	case <-b.ctx.Done():
		timer.Stop()
		return nil, b.err()
	}
	stopping.Store(true)
	drainTimer := time.NewTimer(o.timeout)
	defer drainTimer.Stop()
	var h histogram
	var n uint64
	for _, pl := range pls {
		select {
		case <-pl.drained:
		case <-b.ctx.Done():
			return nil, b.err()
		case <-drainTimer.C:
			return nil, fmt.Errorf("wampbench: calls still unanswered %v after the end", o.timeout)
		}
		h.merge(&pl.hist)
		n += pl.count
	}
	r := newResult(o, "calls")
	r.Params = fmt.Sprintf("inflight=%d callers=%d", o.inflight, o.callers)
	r.setRate(n, o.duration)
	r.setLatency(&h)
	c0, c1 := cpu.wait()
	r.setCPU(c0, c1, o.duration)
	return r, nil
}

// newResult starts a result for o.
func newResult(o *options, unit string) *result {
	return &result{Scenario: o.scenario, Transport: o.target.kind, Serializer: o.ser.String(), Unit: unit}
}
