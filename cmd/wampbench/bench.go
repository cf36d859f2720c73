package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// bench is the state every scenario shares: the options, a context that
// the first failure cancels, and the peers to tear down at the end. Every
// scenario defers teardown right after newBench.
type bench struct {
	o       *options
	ctx     context.Context
	cancel  context.CancelCauseFunc
	base    time.Time // origin of now()
	closing atomic.Bool

	hello   []byte // encoded HELLO (roles set by newBench's caller)
	goodbye []byte

	mu    sync.Mutex
	peers []*peer
}

func newBench(ctx context.Context, o *options, roles ...string) (*bench, error) {
	c, err := codecFor(o.ser)
	if err != nil {
		return nil, err
	}
	b := &bench{o: o, base: time.Now()}
	if b.hello, err = helloBytes(c, o.realm, roles...); err != nil {
		return nil, err
	}
	if b.goodbye, err = goodbyeBytes(c); err != nil {
		return nil, err
	}
	b.ctx, b.cancel = context.WithCancelCause(ctx)
	return b, nil
}

// now is the monotonic time since the bench started.
func (b *bench) now() time.Duration { return time.Since(b.base) }

// fail records the first error and cancels the run.
func (b *bench) fail(err error) { b.cancel(err) }

// err returns why the run was cancelled, nil while it runs.
func (b *bench) err() error {
	if b.ctx.Err() == nil {
		return nil
	}
	return context.Cause(b.ctx)
}

// connect dials and joins one session, bounded by the setup timeout.
func (b *bench) connect() (*peer, error) {
	ctx, cancel := context.WithTimeout(b.ctx, b.o.timeout)
	defer cancel()
	p, err := dialPeer(ctx, b.o)
	if err != nil {
		return nil, err
	}
	if err := p.join(ctx, b.hello); err != nil {
		p.conn.Close()
		return nil, err
	}
	b.mu.Lock()
	b.peers = append(b.peers, p)
	b.mu.Unlock()
	return p, nil
}

// connectMany opens n sessions with workers goroutines and calls setup (if
// not nil) on each before it is returned. It stops at the first error.
func (b *bench) connectMany(n, workers int, setup func(i int, p *peer) error) ([]*peer, error) {
	peers := make([]*peer, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || b.ctx.Err() != nil {
					return
				}
				p, err := b.connect()
				if err == nil && setup != nil {
					if err = setup(i, p); err != nil {
						p.conn.Close()
					}
				}
				if err != nil {
					once.Do(func() { first = fmt.Errorf("session %d of %d: %w", i+1, n, err) })
					b.fail(err)
					return
				}
				peers[i] = p
			}
		})
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := b.err(); err != nil {
		return nil, err
	}
	return peers, nil
}

// startReader runs p's read loop in a goroutine. An error before teardown
// fails the run.
func (b *bench) startReader(p *peer, hot hotFunc) {
	p.rdone = make(chan struct{})
	go func() {
		defer close(p.rdone)
		err := p.readLoop(hot)
		if b.closing.Load() {
			return
		}
		if errors.Is(err, errGoodbye) {
			err = errors.New("wampbench: the router said GOODBYE")
		}
		b.fail(fmt.Errorf("session %d: %w", p.id, err))
	}()
}

// startWriter starts p's batching writer. A write error before teardown
// fails the run.
func (b *bench) startWriter(p *peer) {
	p.startWriter(func(err error) {
		if !b.closing.Load() {
			b.fail(fmt.Errorf("session %d: %w", p.id, err))
		}
	})
}

// teardown says GOODBYE on every session, waits briefly for the replies and
// closes every connection. Reader errors are ignored from here on.
func (b *bench) teardown() {
	b.closing.Store(true)
	b.mu.Lock()
	peers := b.peers
	b.peers = nil
	b.mu.Unlock()
	for _, p := range peers {
		switch {
		case p.rdone == nil:
			// No reader: nobody would see the reply.
		case p.kick != nil:
			p.queueBytes(b.goodbye)
			_ = p.stopWriter()
		default:
			_ = p.conn.Write([][]byte{b.goodbye})
		}
	}
	deadline := time.NewTimer(2 * time.Second)
	defer deadline.Stop()
	expired := false
	for _, p := range peers {
		if p.rdone != nil && !expired {
			select {
			case <-p.rdone:
			case <-deadline.C:
				expired = true // do not wait for the others either
			}
		}
		p.conn.Close()
		if p.rdone != nil {
			<-p.rdone
		}
	}
	b.cancel(nil) // ends helpers still waiting on the run (CPU meters)
}

// payloadArgs returns the Arguments list carrying an n-byte string.
func payloadArgs(n int) wamp.List {
	return wamp.List{strings.Repeat("x", n)}
}

// uniqueURI returns a URI under prefix that no other wampbench run uses.
func uniqueURI(prefix string) string {
	return fmt.Sprintf("%s.%d", prefix, time.Now().UnixNano())
}
