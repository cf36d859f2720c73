//go:build linux

package devices_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wampgate/wampgate/devices"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/serial"
)

// nonRootEnv carries the pty path to the re-executed test binary.
const nonRootEnv = "WAMPGATE_DEVICES_NONROOT_PTY"

// nobody is the uid and gid the child runs as when the tests run as root.
const nobody = 65534

// TestNonRoot runs the manager as an unprivileged user on a tty it was
// given access to, through two manager lifetimes on the same port (a
// gateway restart). Root ignores exclusive-use and permission bits, so this
// catches ports left in exclusive mode (the second open fails with EBUSY)
// and other bugs root hides. Run as root, it re-executes the test binary
// as nobody via setpriv or su; it skips when neither can drop privileges.
func TestNonRoot(t *testing.T) {
	if path := os.Getenv(nonRootEnv); path != "" {
		nonRootChild(t, path)
		return
	}
	master, path := openPty(t)
	// Hold the slave open so that the line does not hang up between the
	// child's two opens (a master reads EIO while no one has the slave).
	hold, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()

	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Under qemu-user (the ARM test run) the binary cannot be started
	// directly: there is no binfmt handler for a foreign architecture.
	if err := exec.Command(bin, "-test.run=^$").Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Skipf("cannot re-execute the test binary here (foreign architecture under qemu-user?): %v", err)
		}
	}
	args := []string{"-test.run=^TestNonRoot$", "-test.count=1", "-test.v"}
	var argv []string
	if os.Getuid() != 0 {
		argv = append([]string{bin}, args...)
	} else {
		if err := os.Chown(path, nobody, nobody); err != nil {
			t.Skipf("cannot hand the pty to nobody: %v", err)
		}
		// The test binary sits in a directory only root may enter: give
		// nobody a copy.
		dir, err := os.MkdirTemp("", "wampgate-devices-nonroot-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		copyBin := filepath.Join(dir, "devices.test")
		if err := copyFile(bin, copyBin); err != nil {
			t.Fatal(err)
		}
		argv, err = dropPrivileges(append([]string{copyBin}, args...))
		if err != nil {
			t.Skipf("running as root and cannot drop privileges to nobody: %v", err)
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), 3*waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), nonRootEnv+"="+path, "GOCOVERDIR=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64)
	var out strings.Builder
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	waitLine := func(want string) {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					<-readDone
					t.Fatalf("child ended before %q:\n%s%s", want, out.String(), stderr.String())
				}
				if strings.Contains(l, want) {
					return
				}
			case <-time.After(waitTimeout):
				t.Fatalf("child did not report %q", want)
			}
		}
	}
	finish := func() error {
		<-readDone
		return cmd.Wait()
	}
	defer func() {
		if cmd.ProcessState == nil {
			cancel()
			_ = finish()
		}
		if t.Failed() {
			t.Logf("child output:\n%s%s", out.String(), stderr.String())
		}
	}()

	d := newFakeDevice(t, master)
	d.connect(transports.CBOR)
	if err := d.sendWAMP([]byte("round-1")); err != nil {
		t.Fatal(err)
	}
	d.expectWAMP("echo:round-1")
	waitLine("nonroot: round 1 closed")

	// The gateway restarted: the device handshakes until answered, as
	// firmware does (the port flushes input when it is opened).
	handshakeUntilAnswered(t, d, transports.CBOR)
	if err := d.sendWAMP([]byte("round-2")); err != nil {
		t.Fatal(err)
	}
	d.expectWAMP("echo:round-2")
	waitLine("nonroot: done")
	if err := finish(); err != nil {
		t.Fatalf("child failed: %v\n%s%s", err, out.String(), stderr.String())
	}
	t.Logf("child: %s", strings.TrimSpace(lastLine(out.String(), "nonroot: done")))
}

// nonRootChild is the unprivileged side: two manager lifetimes on path.
func nonRootChild(t *testing.T, path string) {
	if os.Getuid() == 0 {
		t.Fatal("the child still runs as root")
	}
	for round := 1; round <= 2; round++ {
		a, r := newFakeAttacher(), newRecorder()
		cfg := fastConfig(a, r, devices.Device{Name: "nr", Port: path, PingInterval: -1})
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		m := devices.New(cfg)
		m.Start()
		s := a.next(t)
		r.expect(t, "nr", true, devices.ReasonNone)
		s.expectMsg(t, fmt.Sprintf("round-%d", round))
		m.Close()
		if st := status(t, m, "nr"); st.State != devices.StateOffline || st.Reason != devices.ReasonShutdown || st.Sessions != 1 {
			t.Fatalf("round %d: status %+v", round, st)
		}
		fmt.Fprintf(os.Stdout, "nonroot: round %d closed\n", round)
	}
	fmt.Fprintf(os.Stdout, "nonroot: done as uid %d gid %d\n", os.Getuid(), os.Getgid())
}

// handshakeUntilAnswered sends HANDSHAKE every 250 ms until the gateway
// answers, as firmware does after boot.
func handshakeUntilAnswered(t *testing.T, d *fakeDevice, s transports.Serializer) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		if err := d.sendHandshake(1024, s); err != nil {
			t.Fatal(err)
		}
		retry := time.Now().Add(250 * time.Millisecond)
		for {
			f, err := d.next(retry)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Type == serial.FrameHandshake {
				if h, code := serial.ParseHandshake(f.Payload); code != 0 || h.Serializer() != s {
					t.Fatalf("handshake reply % x", f.Payload)
				}
				return
			}
		}
	}
	t.Fatal("no handshake reply")
}

// dropPrivileges returns argv wrapped to run as nobody, with setpriv or su,
// after checking that the wrapper works here.
func dropPrivileges(argv []string) ([]string, error) {
	var errs []error
	if sp, err := exec.LookPath("setpriv"); err == nil {
		wrap := []string{sp, fmt.Sprintf("--reuid=%d", nobody), fmt.Sprintf("--regid=%d", nobody), "--clear-groups"}
		if out, err := exec.Command(wrap[0], append(wrap[1:], "true")...).CombinedOutput(); err == nil {
			return append(wrap, argv...), nil
		} else {
			errs = append(errs, fmt.Errorf("setpriv: %v: %s", err, out))
		}
	} else {
		errs = append(errs, err)
	}
	if su, err := exec.LookPath("su"); err == nil {
		if out, err := exec.Command(su, "nobody", "-s", "/bin/sh", "-c", "true").CombinedOutput(); err == nil {
			return append([]string{su, "nobody", "-s", "/bin/sh", "-c", `exec "$0" "$@"`}, argv...), nil
		} else {
			errs = append(errs, fmt.Errorf("su: %v: %s", err, out))
		}
	} else {
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func lastLine(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, prefix) {
			return l
		}
	}
	return ""
}
