package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// maxJoinFailures aborts the joins scenario: past this many failed joins
// the figure means nothing.
const maxJoinFailures = 100

// runJoins measures complete session lifecycles per second: connect and
// transport handshake, HELLO, WELCOME, GOODBYE, GOODBYE, close.
func runJoins(ctx context.Context, o *options) (*result, error) {
	b, err := newBench(ctx, o, "caller")
	if err != nil {
		return nil, err
	}
	defer b.teardown()
	start := b.now()
	warmEnd := start + o.warmup
	stopAt := warmEnd + o.duration
	cpu := meterCPU(b, warmEnd, stopAt)
	hists := make([]histogram, o.concurrency)
	var (
		failures atomic.Int64
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
	)
	for w := range o.concurrency {
		h := &hists[w]
		wg.Go(func() {
			for b.ctx.Err() == nil {
				t0 := b.now()
				if t0 >= stopAt {
					return
				}
				if err := joinOnce(b); err != nil {
					once.Do(func() { firstErr = err })
					if failures.Add(1) >= maxJoinFailures {
						b.fail(fmt.Errorf("wampbench: %d joins failed, first: %w", maxJoinFailures, firstErr))
					}
					continue
				}
				if t0 >= warmEnd {
					h.record(b.now() - t0)
				}
			}
		})
	}
	wg.Wait()
	if err := b.err(); err != nil {
		return nil, err
	}
	var h histogram
	for i := range hists {
		h.merge(&hists[i])
	}
	r := newResult(o, "joins")
	r.Params = fmt.Sprintf("concurrency=%d", o.concurrency)
	r.setRate(h.count(), o.duration)
	r.setLatency(&h)
	c0, c1 := cpu.wait()
	r.setCPU(c0, c1, o.duration)
	r.Errors = uint64(failures.Load())
	if firstErr != nil {
		return r, fmt.Errorf("wampbench: %d joins failed, first: %w", r.Errors, firstErr)
	}
	return r, nil
}

// joinOnce runs one session lifecycle.
func joinOnce(b *bench) error {
	ctx, cancel := context.WithTimeout(b.ctx, b.o.timeout)
	defer cancel()
	p, err := dialPeer(ctx, b.o)
	if err != nil {
		return err
	}
	defer p.conn.Close()
	if err := p.join(ctx, b.hello); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { p.conn.Close() })
	defer stop()
	if err := p.conn.Write([][]byte{b.goodbye}); err != nil {
		return p.ctxErr(ctx, fmt.Errorf("wampbench: send goodbye: %w", err))
	}
	msg, err := p.conn.Read()
	if err != nil {
		return p.ctxErr(ctx, fmt.Errorf("wampbench: wait for goodbye: %w", err))
	}
	if typ, _, _, ok := peek(p.ser, msg); !ok || typ != wamp.TypeGoodbye {
		return p.unexpected(msg, "GOODBYE")
	}
	return nil
}
