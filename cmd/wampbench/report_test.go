package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseVmRSS(t *testing.T) {
	status := "Name:\twampgate\nVmPeak:\t 1234 kB\nVmRSS:\t   20480 kB\nRssAnon:\t 100 kB\n"
	v, err := parseVmRSS([]byte(status))
	if err != nil || v != 20480 {
		t.Errorf("parseVmRSS = %d, %v; want 20480", v, err)
	}
	if _, err := parseVmRSS([]byte("Name:\tx\n")); !errors.Is(err, errNoVmRSS) {
		t.Errorf("no VmRSS line: err = %v", err)
	}
	for _, bad := range []string{"VmRSS:\t12 MB\n", "VmRSS:\tlots kB\n", "VmRSS:\n"} {
		if _, err := parseVmRSS([]byte(bad)); err == nil {
			t.Errorf("parseVmRSS(%q) succeeded", bad)
		}
	}
}

func TestFmtCount(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567", -12345: "-12,345", 100000: "100,000"} {
		if got := fmtCount(in); got != want {
			t.Errorf("fmtCount(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestSingular(t *testing.T) {
	for in, want := range map[string]string{"calls": "call", "deliveries": "delivery", "joins": "join", "sessions": "session", "": ""} {
		if got := singular(in); got != want {
			t.Errorf("singular(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFmtUS(t *testing.T) {
	for in, want := range map[float64]string{52.345: "52.3µs", 1500: "1.50ms", 2.5e6: "2.50s"} {
		if got := fmtUS(in); got != want {
			t.Errorf("fmtUS(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestResultRateAndLatency(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	r := &result{}
	r.setRate(250000, 2500*time.Millisecond)
	r.setLatency(&h)
	if r.Rate != 100000 || r.Seconds != 2.5 || r.Count != 250000 {
		t.Errorf("rate: %+v", r)
	}
	// 500 µs lies in a bucket at most 1/128 wide.
	if r.P50 < 500 || r.P50 > 500*(1+1.0/128) || r.Max != 1000 {
		t.Errorf("latency: p50 %v max %v", r.P50, r.Max)
	}
}

func TestCheckTargets(t *testing.T) {
	cases := []struct {
		r        result
		met, has bool
	}{
		{result{Scenario: "rtt", P50: 99.9}, true, true},
		{result{Scenario: "rtt", P50: 100}, false, true},
		{result{Scenario: "calls", Rate: 100000}, true, true},
		{result{Scenario: "calls", Rate: 99999}, false, true},
		{result{Scenario: "fanout", Params: "subscribers=1000 publications=5", Rate: 600000}, true, true},
		{result{Scenario: "fanout", Params: "subscribers=1000 publications=5", Rate: 600000, Errors: 1}, false, true},
		{result{Scenario: "fanout", Params: "subscribers=1000", Rate: 400000}, false, true},
		{result{Scenario: "fanout", Params: "subscribers=100", Rate: 100}, false, false},
		{result{Scenario: "fanout", Params: "subscribers=10000", Rate: 1e6}, false, false},
		{result{Scenario: "idle", Count: 10000, RSSAfter: 1, RSSPerSession: 23.9}, true, true},
		{result{Scenario: "idle", Count: 10000, RSSAfter: 1, RSSPerSession: 24}, false, true},
		{result{Scenario: "idle", Count: 100, RSSAfter: 1, RSSPerSession: 1}, false, false},
		{result{Scenario: "joins", Rate: 1}, false, false},
	}
	for _, tc := range cases {
		_, met, has := tc.r.check()
		if met != tc.met || has != tc.has {
			t.Errorf("%+v: check = met %v has %v, want %v %v", tc.r, met, has, tc.met, tc.has)
		}
	}
}

func TestSummaryMentionsFigures(t *testing.T) {
	r := &result{Scenario: "fanout", Transport: "websocket", Serializer: "json", Params: "subscribers=100",
		Seconds: 2, Count: 2000000, Unit: "deliveries", Rate: 1000000, Errors: 3}
	s := r.summary()
	for _, want := range []string{"fanout", "websocket/json", "subscribers=100", "2,000,000 deliveries", "1,000,000 deliveries/s", "3 lost"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %q lacks %q", s, want)
		}
	}
	idle := &result{Scenario: "idle", Transport: "rawsocket-tcp", Serializer: "cbor", Count: 10000, Seconds: 2,
		Rate: 5000, RSSBefore: 10240, RSSAfter: 10240 + 200000, RSSPerSession: 20}
	s = idle.summary()
	for _, want := range []string{"10,000 sessions", "20.0 KiB/session", "10.0 MiB"} {
		if !strings.Contains(s, want) {
			t.Errorf("idle summary %q lacks %q", s, want)
		}
	}
}

func TestWriteTable(t *testing.T) {
	rows := []result{
		{Scenario: "rtt", Transport: "rawsocket-tcp", Serializer: "cbor", Count: 100, Rate: 20000, P50: 48.2, P90: 50, P99: 70, Max: 900},
		{Scenario: "calls", Transport: "websocket", Serializer: "json", Params: "inflight=256 callers=1", Unit: "calls", Rate: 80000, P50: 2000,
			RouterCores: 1.25, RouterUSPerOp: 15.63, DriverCores: 0.5},
		{Scenario: "fanout", Transport: "rawsocket-tcp", Serializer: "cbor", Params: "subscribers=1000 publications=9", Rate: 612345, Unit: "deliveries"},
		{Scenario: "idle", Transport: "websocket", Serializer: "json", Count: 10000, RSSAfter: 5, RSSPerSession: 30.25},
	}
	var in bytes.Buffer
	in.WriteString("some human line\n\n")
	for _, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		in.Write(b)
		in.WriteString("\n")
	}
	var out bytes.Buffer
	if err := writeTable(&out, &in); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2+len(rows) {
		t.Fatalf("table has %d lines, want %d:\n%s", len(lines), 2+len(rows), out.String())
	}
	checks := []struct {
		line int
		want []string
	}{
		{2, []string{"| rtt |", "p50 48.2µs", "20,000 calls/s", "900.0µs", "p50 < 100 µs: met"}},
		{3, []string{"| calls |", "80,000 calls/s", "**missed**", "1.25 cores, 15.63 µs/call", "| 0.50 cores |"}},
		{4, []string{"| fanout |", "612,345 deliveries/s", ">= 500,000 deliveries/s: met"}},
		{5, []string{"| idle |", "30.2 KiB/session", "< 24 KiB/session: **missed**"}},
	}
	for _, c := range checks {
		for _, w := range c.want {
			if !strings.Contains(lines[c.line], w) {
				t.Errorf("table line %q lacks %q", lines[c.line], w)
			}
		}
	}
	for i, l := range lines {
		if n := strings.Count(l, "|"); n != 14 {
			t.Errorf("line %d has %d cell separators, want 14: %q", i, n, l)
		}
	}
	if err := writeTable(&out, strings.NewReader("{not json\n")); err == nil {
		t.Error("writeTable accepted a broken JSON line")
	}
}

func TestParseProcStatCPU(t *testing.T) {
	// Field 2 may hold spaces and parentheses; utime=150 stime=50 ticks.
	line := "4242 (wamp (gate) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 150 50 0 0 20 0 7 0 100 1000000 500 18446744073709551615\n"
	got, err := parseProcStatCPU([]byte(line))
	if err != nil || got != 2*time.Second {
		t.Errorf("parseProcStatCPU = %v, %v; want 2s", got, err)
	}
	for _, bad := range []string{"no parenthesis", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 ten 12 13"} {
		if _, err := parseProcStatCPU([]byte(bad)); err == nil {
			t.Errorf("parseProcStatCPU(%q) succeeded", bad)
		}
	}
}

func TestProcessCPUOfSelf(t *testing.T) {
	d, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if d < 0 || d > selfCPU()+time.Second {
		t.Errorf("own CPU from /proc %v, from getrusage %v", d, selfCPU())
	}
}

func TestSetCPU(t *testing.T) {
	r := &result{Count: 200000}
	start := cpuSample{router: 10 * time.Second, self: time.Second, routerOK: true}
	end := cpuSample{router: 13 * time.Second, self: 2 * time.Second, routerOK: true}
	r.setCPU(start, end, 2*time.Second)
	if r.RouterCores != 1.5 || r.DriverCores != 0.5 || r.RouterUSPerOp != 15 {
		t.Errorf("setCPU: router %v cores %v µs/op, driver %v cores", r.RouterCores, r.RouterUSPerOp, r.DriverCores)
	}
	r = &result{Count: 5}
	r.setCPU(cpuSample{self: 1}, cpuSample{self: time.Second}, time.Second) // no router samples
	if r.RouterCores != 0 || r.RouterUSPerOp != 0 || r.DriverCores != 1 {
		t.Errorf("setCPU without router: %+v", r)
	}
}
