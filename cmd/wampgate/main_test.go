package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildBinary compiles wampgate once per test run.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func wampgateBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wampgate-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "wampgate")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// testServer is a running `wampgate serve` on ephemeral ports.
type testServer struct {
	cmd      *exec.Cmd
	ws, tcp  string
	unix     string
	stderr   *syncBuffer
	waitDone chan error
}

func startTestServer(t *testing.T, extra ...string) *testServer {
	t.Helper()
	bin := wampgateBinary(t)
	s := &testServer{unix: filepath.Join(t.TempDir(), "wg.sock"), stderr: &syncBuffer{}, waitDone: make(chan error, 1)}
	args := []string{"serve", "--ws", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--unix", s.unix, "--log-level", "debug"}
	if len(extra) > 0 && extra[0] == "--config" {
		args = []string{"serve", "--log-level", "debug"} // listeners come from the file
	}
	args = append(args, extra...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stderr = s.stderr
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	wsRe := regexp.MustCompile(`websocket\s+(wss?://\S+)`)
	tcpRe := regexp.MustCompile(`rawsocket\s+(tcps?://\S+)`)
	deadline := time.After(10 * time.Second)
	for s.ws == "" || s.tcp == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve exited early: %s", s.stderr)
			}
			if m := wsRe.FindStringSubmatch(l); m != nil {
				s.ws = m[1]
			}
			if m := tcpRe.FindStringSubmatch(l); m != nil {
				s.tcp = m[1]
			}
		case <-deadline:
			t.Fatal("serve did not print its listeners")
		}
	}
	go func() {
		for range lines { // drain the rest of stdout
		}
	}()
	go func() { s.waitDone <- s.cmd.Wait() }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.waitDone
	})
	return s
}

func (s *testServer) stop(t *testing.T) error {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.waitDone:
		s.waitDone <- err
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not exit within 10s of SIGTERM")
	}
	return nil
}

// runCLI runs the binary with args and returns exit code, stdout, stderr.
func runCLI(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, wampgateBinary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return code, out.String(), errb.String()
}

func TestE2ECommandLine(t *testing.T) {
	s := startTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A registered shell command answers calls from any transport.
	reg := exec.CommandContext(ctx, wampgateBinary(t), "register", "--url", s.tcp, "com.example.echo", "--", "echo")
	var regErr bytes.Buffer
	reg.Stderr = &regErr
	if err := reg.Start(); err != nil {
		t.Fatal(err)
	}
	regDone := make(chan error, 1)
	go func() { regDone <- reg.Wait() }()

	var out string
	var code int
	for i := 0; i < 100; i++ { // until the registration is in place
		code, out, _ = runCLI(t, ctx, "call", "--url", s.ws, "com.example.echo", "hello", "42")
		if code == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond) // polling interval while the callee joins
	}
	if code != 0 || strings.TrimSpace(out) != `"hello 42"` {
		t.Fatalf("call: exit %d, stdout %q", code, out)
	}
	code, _, stderr := runCLI(t, ctx, "call", "--url", "unix://"+s.unix, "com.example.missing")
	if code != 1 || !strings.Contains(stderr, "wamp.error.no_such_procedure") {
		t.Fatalf("missing procedure: exit %d, stderr %q", code, stderr)
	}
	code, out, _ = runCLI(t, ctx, "call", "--url", s.tcp, "wamp.session.count")
	if code != 0 || strings.TrimSpace(out) != "2" { // the register session and this caller
		t.Fatalf("session count: exit %d, stdout %q", code, out)
	}
	code, _, stderr = runCLI(t, ctx, "call", "--url", "tcp://127.0.0.1:1", "x.y")
	if code != 3 || stderr == "" {
		t.Fatalf("unreachable router: exit %d, stderr %q", code, stderr)
	}
	code, _, _ = runCLI(t, ctx, "call")
	if code != 2 {
		t.Fatalf("usage error: exit %d", code)
	}

	// subscribe prints events published from another transport, exactly.
	sub := exec.CommandContext(ctx, wampgateBinary(t), "subscribe", "--url", s.ws, "--count", "1", "com.example.news")
	subOut, _ := sub.StdoutPipe()
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(subOut)
		got <- string(b)
	}()
	var line string
	for i := 0; i < 100 && line == ""; i++ { // publish until the subscriber is in place
		runCLI(t, ctx, "publish", "--url", s.tcp, "com.example.news", `{"temp":21.5}`, "9007199254740993")
		select {
		case line = <-got:
		case <-time.After(50 * time.Millisecond):
		}
	}
	_ = sub.Wait()
	if !strings.Contains(line, `"args":[{"temp":21.5},9007199254740993]`) {
		t.Fatalf("subscribe printed %q", line)
	}

	// SIGTERM: the callee is told the router is going away, serve exits 0.
	if err := s.stop(t); err != nil {
		t.Fatalf("serve exit: %v\n%s", err, s.stderr)
	}
	select {
	case <-regDone:
	case <-time.After(10 * time.Second):
		t.Fatal("register did not end after the router shut down")
	}
	if !strings.Contains(regErr.String(), "system_shutdown") {
		t.Errorf("register stderr %q does not mention system_shutdown", regErr.String())
	}
	if !strings.Contains(s.stderr.String(), "stopped") {
		t.Errorf("serve log has no clean stop:\n%s", s.stderr)
	}
}

func TestServeFlagErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, _, stderr := runCLI(t, ctx, "serve", "--log-level", "loud")
	if code != 2 || !strings.Contains(stderr, "--log-level") {
		t.Fatalf("bad log level: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, ctx, "serve", "--ws", "", "--tcp", "", "--unix", "")
	if code != 1 || !strings.Contains(stderr, "no listener") {
		t.Fatalf("no listeners: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, ctx, "serve", "--tcp", "256.0.0.1:99999", "--ws", "", "--unix", "")
	if code != 1 || !strings.Contains(stderr, "rawsocket tcp listener") {
		t.Fatalf("bad address: exit %d, stderr %q", code, stderr)
	}
	code, out, _ := runCLI(t, ctx, "version")
	if code != 0 || !strings.HasPrefix(out, "wampgate ") {
		t.Fatalf("version: exit %d, %q", code, out)
	}
	code, _, _ = runCLI(t, ctx, "frobnicate")
	if code != 2 {
		t.Fatalf("unknown command: exit %d", code)
	}
}
