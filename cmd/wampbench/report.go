package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// result is what one scenario run measured. It is printed as one human
// line and, with --json, as one JSON line that `wampbench table` reads.
type result struct {
	Scenario   string  `json:"scenario"`
	Transport  string  `json:"transport"`
	Serializer string  `json:"serializer"`
	Params     string  `json:"params,omitempty"` // scenario parameters, "k=v k=v"
	Seconds    float64 `json:"seconds"`          // measurement time
	Count      uint64  `json:"count"`            // units completed in Seconds
	Unit       string  `json:"unit"`             // "calls", "deliveries", "joins", "sessions"
	Rate       float64 `json:"rate"`             // Count per second
	Errors     uint64  `json:"errors"`           // lost events, unanswered calls, failed joins, sessions closed early

	// Latency percentiles in microseconds (rtt, calls, joins).
	P50 float64 `json:"p50_us,omitempty"`
	P90 float64 `json:"p90_us,omitempty"`
	P99 float64 `json:"p99_us,omitempty"`
	Max float64 `json:"max_us,omitempty"`

	// CPU used during the measurement, in cores (CPU seconds per second):
	// the router's with --router-pid, and wampbench's own. RouterUSPerOp is
	// router CPU time per counted unit.
	RouterCores   float64 `json:"router_cores,omitempty"`
	RouterUSPerOp float64 `json:"router_cpu_us_per_op,omitempty"`
	DriverCores   float64 `json:"driver_cores,omitempty"`

	// Router memory (idle): VmRSS before opening the sessions and with all
	// of them open, in KiB, and the difference per session.
	RSSBefore     uint64  `json:"rss_before_kib,omitempty"`
	RSSAfter      uint64  `json:"rss_after_kib,omitempty"`
	RSSPerSession float64 `json:"rss_per_session_kib,omitempty"`
}

// setLatency copies the percentiles of h into r.
func (r *result) setLatency(h *histogram) {
	if h.count() == 0 {
		return
	}
	us := func(d time.Duration) float64 { return math.Round(float64(d)/10) / 100 }
	r.P50, r.P90, r.P99, r.Max = us(h.quantile(0.50)), us(h.quantile(0.90)), us(h.quantile(0.99)), us(h.maximum())
}

// setRate fills Seconds, Count and Rate.
func (r *result) setRate(count uint64, elapsed time.Duration) {
	r.Count = count
	r.Seconds = math.Round(elapsed.Seconds()*1000) / 1000
	if elapsed > 0 {
		r.Rate = math.Round(float64(count) / elapsed.Seconds())
	}
}

// singular names one unit: "calls" -> "call", "deliveries" -> "delivery".
func singular(unit string) string {
	if u, ok := strings.CutSuffix(unit, "ies"); ok {
		return u + "y"
	}
	return strings.TrimSuffix(unit, "s")
}

// fmtUS formats microseconds for humans.
func fmtUS(us float64) string {
	switch {
	case us >= 1e6:
		return strconv.FormatFloat(us/1e6, 'f', 2, 64) + "s"
	case us >= 1e3:
		return strconv.FormatFloat(us/1e3, 'f', 2, 64) + "ms"
	}
	return strconv.FormatFloat(us, 'f', 1, 64) + "µs"
}

// fmtCount formats an integer with thousands separators.
func fmtCount(v float64) string {
	s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// summary is the one-line human form of r.
func (r *result) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-6s %s/%s", r.Scenario, r.Transport, r.Serializer)
	if r.Params != "" {
		fmt.Fprintf(&b, " (%s)", r.Params)
	}
	switch r.Scenario {
	case "idle":
		fmt.Fprintf(&b, ": %s sessions opened in %.1fs (%s/s)", fmtCount(float64(r.Count)), r.Seconds, fmtCount(r.Rate))
		if r.RSSAfter > 0 {
			fmt.Fprintf(&b, ", router RSS %.1f MiB -> %.1f MiB = %.1f KiB/session",
				float64(r.RSSBefore)/1024, float64(r.RSSAfter)/1024, r.RSSPerSession)
		}
		fmt.Fprintf(&b, ", %d closed early", r.Errors)
		return b.String()
	default:
		fmt.Fprintf(&b, ": %s %s in %.1fs = %s %s/s", fmtCount(float64(r.Count)), r.Unit, r.Seconds, fmtCount(r.Rate), r.Unit)
	}
	if r.P50 > 0 || r.Max > 0 {
		fmt.Fprintf(&b, ", p50 %s p90 %s p99 %s max %s", fmtUS(r.P50), fmtUS(r.P90), fmtUS(r.P99), fmtUS(r.Max))
	}
	if r.RouterCores > 0 {
		fmt.Fprintf(&b, ", router %.2f cores (%.2f µs/%s)", r.RouterCores, r.RouterUSPerOp, singular(r.Unit))
	}
	if r.DriverCores > 0 {
		fmt.Fprintf(&b, ", wampbench %.2f cores", r.DriverCores)
	}
	switch r.Scenario {
	case "fanout":
		fmt.Fprintf(&b, ", %d lost", r.Errors)
	case "joins":
		fmt.Fprintf(&b, ", %d failed", r.Errors)
	default:
		fmt.Fprintf(&b, ", %d unanswered", r.Errors)
	}
	return b.String()
}

// targets are the figures the router is held to on a 2-core machine.
// check reports whether r meets its target, and the target's text; ok is
// false when no target applies to r.
func (r *result) check() (target string, met, ok bool) {
	switch r.Scenario {
	case "rtt":
		return "p50 < 100 µs", r.P50 > 0 && r.P50 < 100, true
	case "calls":
		return ">= 100,000 calls/s", r.Rate >= 100000, true
	case "fanout":
		if strings.Contains(" "+r.Params+" ", " subscribers=1000 ") {
			return ">= 500,000 deliveries/s", r.Rate >= 500000 && r.Errors == 0, true
		}
	case "idle":
		if r.Count >= 10000 && r.RSSAfter > 0 {
			return "< 24 KiB/session", r.RSSPerSession < 24, true
		}
	}
	return "", false, false
}

// headline is the main figure of r for the table.
func (r *result) headline() string {
	switch r.Scenario {
	case "rtt":
		return "p50 " + fmtUS(r.P50)
	case "idle":
		if r.RSSAfter == 0 {
			return fmtCount(float64(r.Count)) + " sessions"
		}
		return strconv.FormatFloat(r.RSSPerSession, 'f', 1, 64) + " KiB/session"
	}
	return fmtCount(r.Rate) + " " + r.Unit + "/s"
}

// writeTable reads JSON result lines from in (other lines are skipped) and
// writes a markdown table.
func writeTable(w io.Writer, in io.Reader) error {
	var rows []result
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var r result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return fmt.Errorf("wampbench: table: %w", err)
		}
		if r.Scenario == "" {
			continue
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("wampbench: table: %w", err)
	}
	fmt.Fprintln(w, "| scenario | transport | serializer | parameters | result | p50 | p90 | p99 | max | router CPU | wampbench CPU | errors | target |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
	for _, r := range rows {
		lat := [4]string{"", "", "", ""}
		if r.P50 > 0 || r.Max > 0 {
			lat = [4]string{fmtUS(r.P50), fmtUS(r.P90), fmtUS(r.P99), fmtUS(r.Max)}
		}
		tgt := ""
		if text, met, ok := r.check(); ok {
			verdict := "met"
			if !met {
				verdict = "**missed**"
			}
			tgt = text + ": " + verdict
		}
		routerCPU, driverCPU := "", ""
		if r.RouterCores > 0 {
			routerCPU = fmt.Sprintf("%.2f cores, %.2f µs/%s", r.RouterCores, r.RouterUSPerOp, singular(r.Unit))
		}
		if r.DriverCores > 0 {
			driverCPU = fmt.Sprintf("%.2f cores", r.DriverCores)
		}
		params := r.Params
		if r.Scenario == "rtt" {
			params = strings.TrimSpace(params + " " + fmtCount(r.Rate) + " calls/s")
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %s |\n",
			r.Scenario, r.Transport, r.Serializer, params, r.headline(), lat[0], lat[1], lat[2], lat[3], routerCPU, driverCPU, r.Errors, tgt)
	}
	return nil
}
