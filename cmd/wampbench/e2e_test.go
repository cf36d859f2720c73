package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway"
	"github.com/wampgate/wampgate/transports/rawsocket"
	"github.com/wampgate/wampgate/transports/websocket"
)

// startRouter runs an in-process wampgate router on loopback RawSocket and
// WebSocket listeners and stops it when the test ends. It returns the
// router and its tcp:// and ws:// URLs.
func startRouter(t *testing.T) (router *gateway.Router, tcpURL, wsURL string) {
	t.Helper()
	r, err := gateway.New(gateway.Config{Realms: []gateway.RealmConfig{{Name: "realm1"}}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	rs := &rawsocket.Server{Handler: r}
	hs := &http.Server{Handler: &websocket.Server{Handler: r}, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 2)
	go func() { served <- rs.Serve(ln) }()
	go func() { served <- hs.Serve(wln) }()
	t.Cleanup(func() {
		_ = rs.Close()
		_ = hs.Close()
		<-served
		<-served
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			t.Errorf("router shutdown: %v", err)
		}
		rs.Wait()
	})
	return r, "tcp://" + ln.Addr().String(), "ws://" + wln.Addr().String() + "/ws"
}

// runJSON runs wampbench with --json and returns the decoded result.
func runJSON(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), append(args, "--json"), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("wampbench %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
	var r result
	for line := range strings.Lines(stdout.String()) {
		if strings.HasPrefix(line, "{") {
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("bad JSON line %q: %v", line, err)
			}
			return r
		}
	}
	t.Fatalf("no JSON line in output:\n%s", stdout.String())
	return r
}

func TestE2EScenarios(t *testing.T) {
	combos := []struct{ transport, ser string }{
		{"tcp", "cbor"}, {"tcp", "json"}, {"tcp", "msgpack"}, {"ws", "json"}, {"ws", "cbor"},
	}
	for _, c := range combos {
		ser := c.ser
		t.Run(c.transport+"-"+ser, func(t *testing.T) {
			router, tcpURL, wsURL := startRouter(t)
			url := tcpURL
			if c.transport == "ws" {
				url = wsURL
			}
			// The router runs in this process, so its CPU is ours.
			common := []string{"--url", url, "--serializer", ser, "--timeout", "5s", "--router-pid", strconv.Itoa(os.Getpid())}

			// Without warmup the first call of each scenario always counts,
			// so the results below cannot be empty however slow the machine.
			rtt := runJSON(t, append([]string{"rtt", "--duration", "150ms", "--warmup", "0s"}, common...)...)
			if rtt.Count == 0 || rtt.P50 <= 0 || rtt.P50 > rtt.P99 || rtt.P99 > rtt.Max || rtt.Errors != 0 {
				t.Errorf("rtt result: %+v", rtt)
			}
			callsBefore := router.Stats().Calls
			calls := runJSON(t, append([]string{"calls", "--duration", "200ms", "--warmup", "0s", "--inflight", "33", "--callers", "2"}, common...)...)
			if calls.Count == 0 || calls.Rate <= 0 || calls.Params != "inflight=33 callers=2" {
				t.Errorf("calls result: %+v", calls)
			}
			// The router routed at least every call counted (more: the
			// drained tail is not counted).
			if routed := router.Stats().Calls - callsBefore; routed < calls.Count {
				t.Errorf("router routed %d calls, wampbench counted %d", routed, calls.Count)
			}

			delivBefore := router.Stats().Deliveries
			fan := runJSON(t, append([]string{"fanout", "--duration", "200ms", "--subscribers", "5", "--window", "50"}, common...)...)
			if fan.Count == 0 || fan.Errors != 0 || fan.Unit != "deliveries" {
				t.Errorf("fanout result: %+v", fan)
			}
			pubs := strings.TrimPrefix(strings.Fields(fan.Params)[1], "publications=")
			if n, err := strconv.ParseUint(pubs, 10, 64); err != nil || n*5 != fan.Count {
				t.Errorf("fanout: %s publications do not make %d deliveries to 5 subscribers", pubs, fan.Count)
			}
			if routed := router.Stats().Deliveries - delivBefore; routed != fan.Count {
				t.Errorf("router queued %d deliveries, wampbench received %d", routed, fan.Count)
			}

			joins := runJSON(t, append([]string{"joins", "--duration", "150ms", "--concurrency", "3"}, common...)...)
			if joins.Count == 0 || joins.Errors != 0 {
				t.Errorf("joins result: %+v", joins)
			}

			idle := runJSON(t, append([]string{"idle", "--sessions", "40", "--hold", "10ms", "--concurrency", "4"}, common...)...)
			if idle.Count != 40 || idle.Errors != 0 || idle.RSSBefore == 0 || idle.RSSAfter == 0 {
				t.Errorf("idle result: %+v", idle)
			}
		})
	}
}

func TestE2EWrongRealmFails(t *testing.T) {
	_, url, _ := startRouter(t)
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"rtt", "--url", url, "--realm", "nosuch", "--duration", "50ms", "--timeout", "5s"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "no_such_realm") {
		t.Errorf("stderr does not name the ABORT reason: %q", stderr.String())
	}
}

func TestE2ENoRouterFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"joins", "--url", "tcp://" + addr, "--duration", "50ms", "--concurrency", "1"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "refused") {
		t.Errorf("exit %d, stderr %q; want 1 and a refused connection", code, stderr.String())
	}
}

func TestTableCommand(t *testing.T) {
	dir := t.TempDir()
	line, err := json.Marshal(result{Scenario: "calls", Transport: "rawsocket-tcp", Serializer: "cbor", Unit: "calls", Rate: 123456})
	if err != nil {
		t.Fatal(err)
	}
	path := dir + "/r.jsonl"
	if err := os.WriteFile(path, append(line, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"table", path}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "| calls | rawsocket-tcp | cbor |") || !strings.Contains(stdout.String(), "123,456 calls/s") {
		t.Errorf("table output:\n%s", stdout.String())
	}
}
