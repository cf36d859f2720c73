package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp"
)

const authConfig = `
listen:
  - {type: rawsocket, address: "127.0.0.1:0"}
  - {type: websocket, address: "127.0.0.2:0", path: /ws}
realms:
  - name: iot
    roles:
      backend:
        - {uri: "", match: prefix, allow: [call, register, subscribe, publish]}
        - {uri: "admin.", match: prefix, deny: [call]}
    users:
%s
`

func writeConfig(t *testing.T, path, users string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Replace(authConfig, "%s", users, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

func ticketOptions(authid, ticket string) client.Options {
	return client.Options{
		AuthID:      authid,
		AuthMethods: []string{"ticket"},
		OnChallenge: func(context.Context, *wamp.Challenge) (string, wamp.Dict, error) { return ticket, wamp.Dict{}, nil },
		JoinTimeout: 5 * time.Second,
	}
}

func TestE2EServeConfigAuthAndReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wampgate.yaml")
	writeConfig(t, path, `      - {authid: alice, role: backend, ticket: "a-secret"}
      - {authid: bob, role: backend, ticket_file: bob.ticket}`)
	if err := os.WriteFile(filepath.Join(dir, "bob.ticket"), []byte("b-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startTestServer(t, "--config", path)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Anonymous is refused; wrong tickets fail; good tickets join.
	if _, err := client.Connect(ctx, s.tcp, "iot", client.Options{JoinTimeout: 5 * time.Second}); err == nil ||
		!strings.Contains(err.Error(), wamp.ErrNoAuthMethod) {
		t.Fatalf("anonymous join: %v", err)
	}
	if _, err := client.Connect(ctx, s.tcp, "iot", ticketOptions("alice", "nope")); err == nil ||
		!strings.Contains(err.Error(), wamp.ErrAuthenticationFailed) {
		t.Fatalf("bad ticket: %v", err)
	}
	alice, err := client.Connect(ctx, s.tcp, "iot", ticketOptions("alice", "a-secret"))
	if err != nil {
		t.Fatalf("alice: %v", err)
	}
	defer alice.Close()
	bob, err := client.Connect(ctx, s.ws, "iot", ticketOptions("bob", "b-secret"))
	if err != nil {
		t.Fatalf("bob (ticket from file): %v", err)
	}
	defer bob.Close()
	_, err = bob.Call(ctx, "admin.reset", nil, nil, nil)
	var werr *client.Error
	if !errors.As(err, &werr) || werr.URI != wamp.ErrNotAuthorized {
		t.Fatalf("denied call: %v", err)
	}
	if _, err := bob.Call(ctx, "wamp.session.count", nil, nil, nil); err != nil {
		t.Fatalf("session still usable after a denied call: %v", err)
	}

	// The CLI authenticates with --authid/--ticket (or $WAMPGATE_TICKET).
	code, out, stderr := runCLI(t, ctx, "call", "--url", s.tcp, "--realm", "iot", "--authid", "alice", "--ticket", "a-secret", "wamp.session.count")
	if code != 0 || strings.TrimSpace(out) != "3" {
		t.Fatalf("cli ticket call: exit %d out %q err %q", code, out, stderr)
	}
	code, _, stderr = runCLI(t, ctx, "call", "--url", s.tcp, "--realm", "iot", "--authid", "alice", "--ticket", "bad", "wamp.session.count")
	if code != 3 || !strings.Contains(stderr, wamp.ErrAuthenticationFailed) {
		t.Fatalf("cli bad ticket: exit %d err %q", code, stderr)
	}

	// An invalid config is rejected on SIGHUP and the old one stays.
	if err := os.WriteFile(path, []byte("realms: [{name: iot, bogus: 1}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.stderr.String(), "reload rejected") {
		if time.Now().After(deadline) {
			t.Fatalf("no rejection logged:\n%s", s.stderr)
		}
		time.Sleep(20 * time.Millisecond) // polling the log of another process
	}
	if _, err := alice.Call(ctx, "wamp.session.count", nil, nil, nil); err != nil {
		t.Fatalf("alice after rejected reload: %v", err)
	}

	// A valid config without bob ends bob's session and keeps alice's.
	writeConfig(t, path, `      - {authid: alice, role: backend, ticket: "a-secret"}`)
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-bob.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("bob still connected after his user was removed:\n%s", s.stderr)
	}
	if _, err := alice.Call(ctx, "wamp.session.count", nil, nil, nil); err != nil {
		t.Fatalf("alice after reload: %v", err)
	}
	if _, err := client.Connect(ctx, s.tcp, "iot", ticketOptions("bob", "b-secret")); err == nil {
		t.Fatal("bob can still join after reload")
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("serve exit: %v", err)
	}
}

func TestServeRejectsBadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("listen:\n  - {type: websocket, adress: \"x\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, _, stderr := runCLI(t, ctx, "serve", "--config", path)
	if code != 1 || !strings.Contains(stderr, path+":2: ") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}
