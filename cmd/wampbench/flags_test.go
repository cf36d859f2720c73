package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/wampgate/wampgate/transports"
)

func TestParseTarget(t *testing.T) {
	cases := []struct {
		in                     string
		kind, network, address string
		bad                    bool
	}{
		{in: "tcp://127.0.0.1:8081", kind: "rawsocket-tcp", network: "tcp", address: "127.0.0.1:8081"},
		{in: "tcp://[::1]:9000/", kind: "rawsocket-tcp", network: "tcp", address: "[::1]:9000"},
		{in: "unix:///run/wampgate.sock", kind: "rawsocket-unix", network: "unix", address: "/run/wampgate.sock"},
		{in: "ws://127.0.0.1:8080/ws", kind: "websocket", address: "ws://127.0.0.1:8080/ws"},
		{in: "wss://example.org/ws", kind: "websocket", address: "wss://example.org/ws"},
		{in: "tcp://127.0.0.1", bad: true},
		{in: "tcp://127.0.0.1:1/path", bad: true},
		{in: "unix://host/path", bad: true},
		{in: "ws:///ws", bad: true},
		{in: "http://127.0.0.1:8080/", bad: true},
		{in: "127.0.0.1:8081", bad: true},
		{in: "tcp://%zz", bad: true},
	}
	for _, tc := range cases {
		got, err := parseTarget(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("parseTarget(%q) = %+v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseTarget(%q): %v", tc.in, err)
			continue
		}
		if got.kind != tc.kind || got.network != tc.network || got.address != tc.address || got.url != tc.in {
			t.Errorf("parseTarget(%q) = %+v", tc.in, got)
		}
	}
}

func TestParseOptionsDefaults(t *testing.T) {
	var stderr bytes.Buffer
	o, err := parseOptions("calls", nil, &stderr)
	if err != nil {
		t.Fatalf("parseOptions: %v (%s)", err, stderr.String())
	}
	if o.target.kind != "rawsocket-tcp" || o.target.address != "127.0.0.1:8081" || o.ser != transports.CBOR ||
		o.realm != "realm1" || o.duration != 10*time.Second || o.warmup != time.Second || o.inflight != 256 ||
		o.callers != 1 || o.payload != 16 || o.json {
		t.Errorf("calls defaults: %+v", o)
	}
	o, err = parseOptions("idle", nil, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if o.sessions != 10000 || o.hold != 10*time.Second || o.routerPID != 0 || o.concurrency < 1 {
		t.Errorf("idle defaults: %+v", o)
	}
	o, err = parseOptions("fanout", nil, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if o.subscribers != 1 || o.window != 16384 {
		t.Errorf("fanout defaults: %+v", o)
	}
}

func TestParseOptionsFlags(t *testing.T) {
	var stderr bytes.Buffer
	o, err := parseOptions("rtt", []string{"--url", "ws://127.0.0.1:8080/ws", "--serializer", "json",
		"--realm", "r2", "--duration", "3s", "--warmup", "0s", "--json", "-payload", "100"}, &stderr)
	if err != nil {
		t.Fatalf("parseOptions: %v (%s)", err, stderr.String())
	}
	if o.target.kind != "websocket" || o.ser != transports.JSON || o.realm != "r2" || o.duration != 3*time.Second ||
		o.warmup != 0 || !o.json || o.payload != 100 {
		t.Errorf("rtt flags: %+v", o)
	}
	if o.inflight != 1 || o.callers != 1 {
		t.Errorf("rtt must run one call in flight on one caller, got inflight %d callers %d", o.inflight, o.callers)
	}
	o, err = parseOptions("fanout", []string{"--subscribers", "1000", "--window", "4000"}, &stderr)
	if err != nil || o.subscribers != 1000 || o.window != 4000 {
		t.Errorf("fanout flags: %+v, %v", o, err)
	}
}

func TestParseOptionsRejects(t *testing.T) {
	cases := []struct {
		scenario string
		args     []string
		msg      string // expected in stderr
	}{
		{"rtt", []string{"--url", "http://x/"}, "scheme"},
		{"rtt", []string{"--serializer", "xml"}, "serializer"},
		{"rtt", []string{"--duration", "0s"}, "--duration"},
		{"rtt", []string{"--realm", ""}, "--realm"},
		{"rtt", []string{"--inflight", "5"}, "not defined"}, // calls only
		{"calls", []string{"--inflight", "2", "--callers", "3"}, "--inflight"},
		{"calls", []string{"--callers", "0"}, "--callers"},
		{"calls", []string{"--payload", "-1"}, "--payload"},
		{"fanout", []string{"--subscribers", "0"}, "--subscribers"},
		{"fanout", []string{"--subscribers", "100", "--window", "10"}, "--window"},
		{"joins", []string{"--concurrency", "0"}, "--concurrency"},
		{"idle", []string{"--sessions", "0"}, "--sessions"},
		{"idle", []string{"--duration", "1s"}, "not defined"}, // idle has --hold
		{"idle", []string{"extra"}, "unexpected argument"},
		{"joins", []string{"--timeout", "0s"}, "--timeout"},
		{"calls", []string{"--router-pid", "-1"}, "--router-pid"},
		{"fanout", []string{"--max-lag", "-1"}, "--max-lag"},
	}
	for _, tc := range cases {
		var stderr bytes.Buffer
		_, err := parseOptions(tc.scenario, tc.args, &stderr)
		if !errors.Is(err, errUsage) {
			t.Errorf("%s %v: err = %v, want errUsage", tc.scenario, tc.args, err)
			continue
		}
		if !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("%s %v: stderr %q does not mention %q", tc.scenario, tc.args, stderr.String(), tc.msg)
		}
	}
}

func TestParseOptionsHelp(t *testing.T) {
	var stderr bytes.Buffer
	_, err := parseOptions("fanout", []string{"-h"}, &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(stderr.String(), "-subscribers") {
		t.Errorf("help does not list -subscribers:\n%s", stderr.String())
	}
}

func TestRunUsageExitCodes(t *testing.T) {
	cases := []struct {
		args []string
		code int
	}{
		{nil, 2},
		{[]string{"nope"}, 2},
		{[]string{"help"}, 0},
		{[]string{"rtt", "-h"}, 0},
		{[]string{"rtt", "--bogus"}, 2},
		{[]string{"table", "/nonexistent/results.jsonl"}, 1},
	}
	for _, tc := range cases {
		var stdout, stderr bytes.Buffer
		if got := run(t.Context(), tc.args, &stdout, &stderr); got != tc.code {
			t.Errorf("run(%q) = %d, want %d (stderr %q)", tc.args, got, tc.code, stderr.String())
		}
	}
}
