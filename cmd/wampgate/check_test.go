package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkRun runs `wampgate check` with args and returns its exit code,
// stdout and stderr.
func checkRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := runCheck(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func checkWrite(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckValid(t *testing.T) {
	dir := t.TempDir()
	path := checkWrite(t, dir, "wampgate.yaml", `listen:
  - {type: rawsocket, address: "127.0.0.1:0"}
realms:
  - name: iot
    roles:
      device:
        - {uri: "dev.", match: prefix, allow: [publish]}
devices:
  - {name: pump1, port: /dev/ttyUSB0, realm: iot, role: device}
`)
	code, stdout, stderr := checkRun(t, "--config", path)
	if code != 0 || stdout != path+": ok (1 realm, 1 listener, 1 device)\n" || stderr != "" {
		t.Errorf("check = %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	// An empty file is the default config; -c is short for --config.
	empty := checkWrite(t, dir, "empty.yaml", "")
	code, stdout, _ = checkRun(t, "-c", empty)
	if code != 0 || stdout != empty+": ok (1 realm, 3 listeners, 0 devices)\n" {
		t.Errorf("check empty = %d, %q", code, stdout)
	}
}

func TestCheckListsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	path := checkWrite(t, dir, "bad.yaml", `limits:
  handshake_timeout: 30
listen:
  - {type: websocket, adress: "127.0.0.1:8080"}
realms:
  - name: iot
    anonymous: guest
    roles:
      device: []
`)
	code, stdout, stderr := checkRun(t, "--config", path)
	want := []string{
		path + `:2: limits.handshake_timeout: duration "30" has no unit; write "30s" (units: ms, s, m, h)`,
		path + `:4: listen[0].adress: unknown key (did you mean "address"?)`,
		path + `:4: listen[0].address: missing (host:port, such as "127.0.0.1:8080")`,
		path + `:7: realms[0].anonymous: role "guest" is not defined in realms[0].roles (expected one of: device)`,
	}
	if code != 1 || stdout != "" || stderr != strings.Join(want, "\n")+"\n" {
		t.Errorf("check = %d, stdout %q\nstderr:\n%s\nwant:\n%s", code, stdout, stderr, strings.Join(want, "\n"))
	}
}

func TestCheckUnreadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.yaml")
	code, _, stderr := checkRun(t, "--config", path)
	if code != 1 || stderr != path+": cannot read config: no such file or directory\n" {
		t.Errorf("check = %d, stderr %q", code, stderr)
	}
}

func TestCheckUsage(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{nil, 2, "--config FILE is required"},
		{[]string{"--config"}, 2, "flag needs an argument"},
		{[]string{"--bogus"}, 2, "flag provided but not defined"},
		{[]string{"--config", "a.yaml", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"a.yaml"}, 2, `unexpected argument "a.yaml"`},
		{[]string{"-h"}, 0, "Usage: wampgate check --config FILE"},
	} {
		code, stdout, stderr := checkRun(t, tt.args...)
		if code != tt.code || stdout != "" || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("check %q = %d, stdout %q, stderr %q; want %d and %q", tt.args, code, stdout, stderr, tt.code, tt.stderr)
		}
	}
}

// TestCheckExample checks the annotated example in the repository, with
// the placeholder files and variables its secrets and TLS keys come from.
func TestCheckExample(t *testing.T) {
	data, err := os.ReadFile("../../examples/wampgate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := checkWrite(t, dir, "wampgate.yaml", string(data))
	for _, f := range []string{"server.crt", "server.key", "ca.crt", "secrets/svc-ticket", "secrets/svc-salted"} {
		checkWrite(t, dir, f, "placeholder\n")
	}
	t.Setenv("WAMPGATE_TICKET", "t")
	t.Setenv("WAMPGATE_CRA_SECRET", "s")
	code, stdout, stderr := checkRun(t, "--config", path)
	if code != 0 || stdout != path+": ok (2 realms, 5 listeners, 3 devices)\n" {
		t.Errorf("check example = %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}

	// Without the secrets, every missing one is reported.
	t.Setenv("WAMPGATE_TICKET", "")
	if err := os.Remove(filepath.Join(dir, "secrets/svc-salted")); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = checkRun(t, "--config", path)
	if code != 1 || strings.Count(stderr, "\n") != 2 ||
		!strings.Contains(stderr, "realms[1].users[2].ticket_env: environment variable WAMPGATE_TICKET is empty") ||
		!strings.Contains(stderr, "realms[1].users[5].wampcra.secret_file: cannot read secret file") {
		t.Errorf("check example without secrets = %d, stderr:\n%s", code, stderr)
	}
}
