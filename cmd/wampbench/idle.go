package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// errNoVmRSS: /proc/PID/status has no VmRSS line.
var errNoVmRSS = errors.New("wampbench: no VmRSS line")

// parseVmRSS returns the VmRSS value, in KiB, of a /proc/PID/status text.
func parseVmRSS(status []byte) (uint64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		line := sc.Bytes()
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("wampbench: malformed VmRSS line %q", line)
		}
		v, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("wampbench: malformed VmRSS line %q: %w", line, err)
		}
		return v, nil
	}
	return 0, errNoVmRSS
}

// readVmRSS samples the resident set size of process pid, in KiB.
func readVmRSS(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("wampbench: %w", err)
	}
	return parseVmRSS(b)
}

// raiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit, so that
// thousands of connections fit. (The Go runtime does the same at startup
// since Go 1.19; doing it here keeps the tool correct on its own and lets
// it report the limit it got.)
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("wampbench: getrlimit: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, fmt.Errorf("wampbench: setrlimit: %w", err)
		}
	}
	return lim.Cur, nil
}

// runIdle opens o.sessions sessions, holds them for o.hold and samples the
// router's VmRSS before and while they are open.
func runIdle(ctx context.Context, o *options) (*result, error) {
	b, err := newBench(ctx, o, "subscriber")
	if err != nil {
		return nil, err
	}
	defer b.teardown()
	if limit, err := raiseFileLimit(); err == nil && limit < uint64(o.sessions)+64 {
		return nil, fmt.Errorf("wampbench: RLIMIT_NOFILE is %d, too low for %d sessions", limit, o.sessions)
	}
	var before uint64
	if o.routerPID > 0 {
		if before, err = readVmRSS(o.routerPID); err != nil {
			return nil, err
		}
	}
	var (
		closedEarly atomic.Int64
		mu          sync.Mutex
		firstClose  error // guarded by mu
	)
	start := time.Now()
	_, err = b.connectMany(o.sessions, o.concurrency, func(_ int, p *peer) error {
		// A reader per session answers transport pings and notices a
		// router that drops idle sessions.
		p.rdone = make(chan struct{})
		go func() {
			defer close(p.rdone)
			err := p.readLoop(nil)
			if !b.closing.Load() {
				mu.Lock()
				if firstClose == nil {
					firstClose = err
				}
				mu.Unlock()
				closedEarly.Add(1)
			}
		}()
		return nil
	})
	if err != nil {
		return nil, err
	}
	opened := time.Since(start)
	fmt.Fprintf(o.progress, "idle: ready: %d sessions open after %.1fs, holding for %v\n", o.sessions, opened.Seconds(), o.hold)
	var after uint64
	sample := func() error {
		if o.routerPID == 0 {
			return nil
		}
		v, err := readVmRSS(o.routerPID)
		after = max(after, v)
		return err
	}
	if err := sample(); err != nil {
		return nil, err
	}
	timer := time.NewTimer(o.hold)
	select {
	case <-timer.C:
	case <-b.ctx.Done():
		timer.Stop()
		return nil, b.err()
	}
	if err := sample(); err != nil {
		return nil, err
	}
	b.closing.Store(true) // from here on, closes are ours
	r := newResult(o, "sessions")
	r.Params = fmt.Sprintf("sessions=%d hold=%v", o.sessions, o.hold)
	r.setRate(uint64(o.sessions), opened)
	r.Errors = uint64(closedEarly.Load())
	if o.routerPID > 0 {
		r.RSSBefore, r.RSSAfter = before, after
		r.RSSPerSession = math.Round(float64(int64(after)-int64(before))/float64(o.sessions)*10) / 10
	}
	if r.Errors > 0 {
		mu.Lock()
		defer mu.Unlock()
		return r, fmt.Errorf("wampbench: %d sessions closed while idle, first: %w", r.Errors, firstClose)
	}
	return r, nil
}
