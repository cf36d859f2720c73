package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway"
	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/inproc"
	"github.com/wampgate/wampgate/transports/rawsocket"
)

const testTimeout = 10 * time.Second

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// start runs the command in the background; stop cancels it and returns
// its exit code.
func start(t *testing.T, args ...string) (stdout, stderr *syncBuffer, stop func() int) {
	t.Helper()
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() { code <- run(ctx, args, stdout, stderr) }()
	var once sync.Once
	var c int
	stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case c = <-code:
			case <-time.After(testTimeout):
				t.Fatal("firmware-sim did not stop")
			}
		})
		return c
	}
	t.Cleanup(func() { stop() })
	return stdout, stderr, stop
}

// lines waits for n lines on out and returns them.
func lines(t *testing.T, out *syncBuffer, n int) []string {
	t.Helper()
	waitFor(t, "the device lines", func() bool { return strings.Count(out.String(), "\n") >= n })
	return strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
}

func TestRunPty(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ptys need Linux")
	}
	stdout, stderr, stop := start(t, "--count", "2", "--name-prefix", "node", "--baud", "9600", "--ber", "1e-4")
	got := lines(t, stdout, 2)
	re := regexp.MustCompile(`^node[12] /dev/pts/\d+$`)
	for i, l := range got {
		if !re.MatchString(l) || !strings.HasPrefix(l, "node"+string(rune('1'+i))) {
			t.Fatalf("line %d %q", i, l)
		}
		if _, err := os.Stat(strings.Fields(l)[1]); err != nil {
			t.Fatal(err)
		}
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "wampgate call dev.node1.add 2 3") {
		t.Fatalf("no call hint in stderr:\n%s", stderr.String())
	}
}

func TestRunHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &out, &errb); code != 0 {
		t.Fatalf("-h exit %d", code)
	}
	for _, want := range []string{"Usage: firmware-sim", "-count", "-mode mode", "-seed", "-reboot-every", "Config file (JSON)", "mute_pings_after"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--mode", "usb"},
		{"--serializer", "xml"},
		{"--wrong-serializer", "16"},
		{"--log-level", "loud"},
		{"--nope"},
		{"stray"},
		{"--config", filepath.Join(t.TempDir(), "missing.json")},
		{"--ber", "2"}, // rejected when the devices start
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, &out, &errb)
		if code == 0 || out.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q", args, code, out.String())
		}
	}
}

func TestRunConfigFileYAML(t *testing.T) {
	path := filepath.Join(t.TempDir(), "devices.yaml")
	const file = `
defaults:
  mode: tcp-serial
  listen: 127.0.0.1:0
  publishers: []
devices:
  - name: pump1
  - name: valve1
    procedures: [set, get]
`
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, stop := start(t, "--config", path)
	got := lines(t, stdout, 2)
	re := regexp.MustCompile(`^(pump1|valve1) tcp://127\.0\.0\.1:\d+$`)
	if len(got) != 2 || !re.MatchString(got[0]) || !re.MatchString(got[1]) {
		t.Fatalf("lines %q", got)
	}
	for _, l := range got {
		c, err := net.Dial("tcp", strings.TrimPrefix(strings.Fields(l)[1], "tcp://"))
		if err != nil {
			t.Fatalf("dial %s: %v", l, err)
		}
		c.Close()
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

// The binary's devices in RawSocket mode join a real router; a caller
// reaches them under their URI prefix.
func TestRunRawSocketE2E(t *testing.T) {
	r, err := gateway.New(gateway.Config{Realms: []gateway.RealmConfig{{Name: "realm1"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := &rawsocket.Server{Handler: r}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		srv.Serve(ln)
		close(served)
	}()
	defer func() {
		srv.Close()
		<-served
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		r.Shutdown(ctx)
	}()
	url := "tcp://" + ln.Addr().String()
	// The router's WELCOME (about 600 bytes) needs a limit over 512.
	stdout, stderr, stop := start(t, "--mode", "rawsocket", "--url", url, "--count", "2", "--max-message", "1024",
		"--publish-interval", "0", "--log-level", "warn")
	got := lines(t, stdout, 2)
	if got[0] != "sim1 "+url || got[1] != "sim2 "+url {
		t.Fatalf("lines %q", got)
	}

	a, b := inproc.Pipe(transports.CBOR)
	callerDone := make(chan struct{})
	go func() {
		r.ServeConn(a)
		close(callerDone)
	}()
	defer func() { <-callerDone }()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s, err := client.Join(ctx, b, "realm1", client.Options{})
	if err != nil {
		a.Close()
		t.Fatal(err)
	}
	defer func() {
		s.Close()
		<-s.Done()
	}()
	var res *client.Result
	waitFor(t, "dev.sim2.add", func() bool {
		res, err = s.Call(ctx, "dev.sim2.add", wamp.List{2, 3}, nil, nil)
		return err == nil
	})
	if len(res.Args) != 1 || res.Args[0] != int64(5) {
		t.Fatalf("add = %v", res.Args)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "wampgate call --url "+url+" dev.sim1.add 2 3") {
		t.Fatalf("no call hint:\n%s", stderr.String())
	}
}

func TestRunStartFailure(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--mode", "tcp-serial", "--listen", "256.0.0.1:1"}, &out, &errb)
	if code != 1 || out.Len() != 0 {
		t.Fatalf("exit %d, stdout %q", code, out.String())
	}
}
