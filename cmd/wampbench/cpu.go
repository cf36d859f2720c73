package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// CPU accounting: with --router-pid, scenarios report how much CPU the
// router and wampbench itself used during the measurement. CPU time per
// operation is the figure that survives a noisy machine: throughput drops
// when other processes take the cores, the cost of one call much less.

// userHZ is the unit of the utime and stime fields of /proc/PID/stat
// (USER_HZ, 100 on every Linux architecture Go supports).
const userHZ = 100

// parseProcStatCPU returns utime+stime of a /proc/PID/stat line.
func parseProcStatCPU(stat []byte) (time.Duration, error) {
	// The command name (field 2) is in parentheses and may contain spaces
	// and parentheses: the fields resume after the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("wampbench: malformed /proc stat line")
	}
	f := bytes.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("wampbench: short /proc stat line")
	}
	var ticks uint64
	for _, s := range f[11:13] {
		v, err := strconv.ParseUint(string(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("wampbench: malformed /proc stat line: %w", err)
		}
		ticks += v
	}
	return time.Duration(ticks) * (time.Second / userHZ), nil
}

// processCPU returns the CPU time used so far by process pid.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("wampbench: %w", err)
	}
	return parseProcStatCPU(b)
}

// selfCPU returns the CPU time used so far by this process.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuSample is the CPU time of the router (if known) and of wampbench.
type cpuSample struct {
	router, self time.Duration
	routerOK     bool
}

func sampleCPU(pid int) cpuSample {
	s := cpuSample{self: selfCPU()}
	if pid > 0 {
		if d, err := processCPU(pid); err == nil {
			s.router, s.routerOK = d, true
		}
	}
	return s
}

// cpuMeter samples CPU at two instants in the background.
type cpuMeter struct {
	done       chan struct{}
	start, end cpuSample
}

// meterCPU samples at the bench times from and to (see bench.now).
func meterCPU(b *bench, from, to time.Duration) *cpuMeter {
	m := &cpuMeter{done: make(chan struct{})}
	go func() {
		defer close(m.done)
		t := time.NewTimer(from - b.now())
		defer t.Stop()
		select {
		case <-t.C:
		case <-b.ctx.Done():
			return
		}
		m.start = sampleCPU(b.o.routerPID)
		t.Reset(to - b.now())
		select {
		case <-t.C:
		case <-b.ctx.Done():
			return
		}
		m.end = sampleCPU(b.o.routerPID)
	}()
	return m
}

// wait returns the two samples once taken.
func (m *cpuMeter) wait() (start, end cpuSample) {
	<-m.done
	return m.start, m.end
}

// setCPU fills the CPU fields of r from two samples taken elapsed apart.
func (r *result) setCPU(start, end cpuSample, elapsed time.Duration) {
	if elapsed <= 0 || end.self == 0 {
		return
	}
	cores := func(d time.Duration) float64 { return float64(int64(d.Seconds()/elapsed.Seconds()*100+0.5)) / 100 }
	r.DriverCores = cores(end.self - start.self)
	if start.routerOK && end.routerOK {
		used := end.router - start.router
		r.RouterCores = cores(used)
		if r.Count > 0 {
			r.RouterUSPerOp = float64(int64(float64(used.Nanoseconds())/float64(r.Count)/10+0.5)) / 100
		}
	}
}
