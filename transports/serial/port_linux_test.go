//go:build linux

package serial

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wampgate/wampgate/transports/serial/serialtest"
)

// openPty returns a pty master and slave path, closing the master at the
// end of the test.
func openPty(t *testing.T) (*os.File, string) {
	t.Helper()
	m, path, err := serialtest.OpenPty()
	if err != nil {
		t.Skipf("no pty available: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m, path
}

func openPort(t *testing.T, path string, cfg PortConfig) *Port {
	t.Helper()
	p, err := Open(path, cfg)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// slaveTermios reads the slave's settings through the master (termios
// ioctls on a pty master act on the slave).
func slaveTermios(t *testing.T, m *os.File, req uint) *unix.Termios {
	t.Helper()
	rc, err := m.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var tio *unix.Termios
	var ioErr error
	if err := rc.Control(func(fd uintptr) { tio, ioErr = unix.IoctlGetTermios(int(fd), req) }); err != nil {
		t.Fatal(err)
	}
	if ioErr != nil {
		t.Fatalf("get termios: %v", ioErr)
	}
	return tio
}

var termiosTests = []struct {
	name     string
	cfg      PortConfig
	baudCode uint32
	cflag    uint32 // expected bits among CSIZE|PARENB|PARODD|CSTOPB|CRTSCTS
}{
	{"defaults 115200 8N1", PortConfig{}, unix.B115200, unix.CS8},
	{"9600 7E2 rtscts", PortConfig{Baud: 9600, DataBits: 7, Parity: ParityEven, StopBits: 2, RTSCTS: true}, unix.B9600, unix.CS7 | unix.PARENB | unix.CSTOPB | unix.CRTSCTS},
	{"300 5O1", PortConfig{Baud: 300, DataBits: 5, Parity: ParityOdd}, unix.B300, unix.CS5 | unix.PARENB | unix.PARODD},
	{"921600 6N1", PortConfig{Baud: 921600, DataBits: 6}, unix.B921600, unix.CS6},
}

const cflagMask = unix.CSIZE | unix.PARENB | unix.PARODD | unix.CSTOPB | unix.CRTSCTS

// setTermios computes every field; ptys keep only some of them (they force
// CS8 and no parity), so the full set is checked here without a tty.
func TestSetTermios(t *testing.T) {
	for _, tt := range termiosTests {
		t.Run(tt.name, func(t *testing.T) {
			tio := &unix.Termios{
				Iflag: unix.ICRNL | unix.IXON | unix.ISTRIP, Oflag: unix.OPOST,
				Lflag: unix.ICANON | unix.ECHO | unix.ISIG, Cflag: unix.CS7 | unix.PARENB | unix.B38400 | unix.HUPCL,
			}
			cfg := tt.cfg.WithDefaults()
			setTermios(tio, cfg, baudCodes[cfg.Baud], true)
			if got := tio.Cflag & cflagMask; got != tt.cflag {
				t.Errorf("cflag bits = %#x, want %#x", got, tt.cflag)
			}
			if got := tio.Cflag & unix.CBAUD; got != tt.baudCode {
				t.Errorf("baud code = %#x, want %#x", got, tt.baudCode)
			}
			wantInpck := tt.cfg.Parity != ParityNone
			if (tio.Iflag&unix.INPCK != 0) != wantInpck {
				t.Errorf("INPCK = %v, want %v", tio.Iflag&unix.INPCK != 0, wantInpck)
			}
			if tio.Cflag&unix.HUPCL == 0 {
				t.Errorf("unrelated flag HUPCL was cleared")
			}
			if tio.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 || tio.Oflag&unix.OPOST != 0 || tio.Iflag&(unix.ICRNL|unix.IXON|unix.ISTRIP) != 0 {
				t.Errorf("not raw: iflag %#x oflag %#x lflag %#x", tio.Iflag, tio.Oflag, tio.Lflag)
			}
		})
	}
	tio := &unix.Termios{Cflag: unix.B9600}
	setTermios(tio, PortConfig{Baud: 250000}.WithDefaults(), 0, false)
	if tio.Cflag&unix.CBAUD != unix.BOTHER || tio.Ispeed != 250000 || tio.Ospeed != 250000 || tio.Cflag&unix.CIBAUD != 0 {
		t.Errorf("non-standard rate: cflag %#x ispeed %d ospeed %d", tio.Cflag, tio.Ispeed, tio.Ospeed)
	}
}

func TestOpenConfiguresTermios(t *testing.T) {
	for _, tt := range termiosTests {
		t.Run(tt.name, func(t *testing.T) {
			m, path := openPty(t)
			p, err := Open(path, tt.cfg)
			if errors.Is(err, ErrUnsupportedBaud) {
				// qemu-user maps the high rates to B0; Open notices.
				t.Skipf("rate not supported here: %v", err)
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer p.Close()
			tio := slaveTermios(t, m, unix.TCGETS)
			// Ptys force CS8 without parity; stop bits and flow control stick.
			const mask = unix.CSTOPB | unix.CRTSCTS
			if got := tio.Cflag & mask; got != tt.cflag&mask {
				t.Errorf("cflag bits = %#x, want %#x", got, tt.cflag&mask)
			}
			if got := tio.Cflag & unix.CBAUD; got != tt.baudCode {
				t.Errorf("baud code = %#x, want %#x", got, tt.baudCode)
			}
			if tio.Cflag&(unix.CREAD|unix.CLOCAL) != unix.CREAD|unix.CLOCAL {
				t.Errorf("CREAD|CLOCAL not set: cflag %#x", tio.Cflag)
			}
			if tio.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG|unix.IEXTEN) != 0 || tio.Oflag&unix.OPOST != 0 ||
				tio.Iflag&(unix.ICRNL|unix.IXON|unix.ISTRIP) != 0 {
				t.Errorf("not raw: iflag %#x oflag %#x lflag %#x", tio.Iflag, tio.Oflag, tio.Lflag)
			}
			if tio.Cc[unix.VMIN] != 1 || tio.Cc[unix.VTIME] != 0 {
				t.Errorf("VMIN %d VTIME %d, want 1 0", tio.Cc[unix.VMIN], tio.Cc[unix.VTIME])
			}
			if p.Config() != tt.cfg.WithDefaults() || p.Path() != path {
				t.Errorf("Config() = %+v Path() = %q", p.Config(), p.Path())
			}
		})
	}
}

func TestOpenNonStandardBaud(t *testing.T) {
	m, path := openPty(t)
	p, err := Open(path, PortConfig{Baud: 250000})
	if errors.Is(err, ErrUnsupportedBaud) {
		// qemu-user has no TCSETS2: the error must say so clearly.
		if !strings.Contains(err.Error(), "250000") {
			t.Fatalf("error does not name the rate: %v", err)
		}
		t.Skipf("TCSETS2 unavailable: %v", err)
	}
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer p.Close()
	tio := slaveTermios(t, m, unix.TCGETS2)
	if tio.Cflag&unix.CBAUD != unix.BOTHER || tio.Ospeed != 250000 {
		t.Fatalf("cflag baud %#x ospeed %d, want BOTHER and 250000", tio.Cflag&unix.CBAUD, tio.Ospeed)
	}
}

func TestTermiosBaud(t *testing.T) {
	tests := []struct {
		t    unix.Termios
		want int
	}{
		{unix.Termios{Cflag: unix.B9600 | unix.CS8}, 9600},
		{unix.Termios{Cflag: unix.B921600}, 921600},
		{unix.Termios{Cflag: unix.B0}, 0},
		{unix.Termios{Cflag: unix.BOTHER, Ospeed: 250000}, 250000},
	}
	for _, tt := range tests {
		if got := termiosBaud(&tt.t); got != tt.want {
			t.Errorf("termiosBaud(cflag %#x ospeed %d) = %d, want %d", tt.t.Cflag, tt.t.Ospeed, got, tt.want)
		}
	}
	for _, c := range []struct {
		got, want int
		ok        bool
	}{{250000, 250000, true}, {245000, 250000, true}, {244999, 250000, false}, {0, 9600, false}, {9792, 9600, true}, {9793, 9600, false}} {
		if baudClose(c.got, c.want) != c.ok {
			t.Errorf("baudClose(%d, %d) = %v", c.got, c.want, !c.ok)
		}
	}
}

func TestOpenInvalidConfig(t *testing.T) {
	for _, cfg := range []PortConfig{
		{Baud: -1}, {DataBits: 4}, {DataBits: 9}, {StopBits: 3}, {Parity: 7},
	} {
		if _, err := Open("/dev/null-never-opened", cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("Open with %+v: %v, want ErrInvalidConfig", cfg, err)
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing"), PortConfig{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want ErrNotExist", err)
	}
	// A regular file is not a tty: termios fails and Open reports it.
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if p, err := Open(f, PortConfig{}); err == nil {
		p.Close()
		t.Fatal("Open(regular file) succeeded")
	}
}

func TestPortReadWrite(t *testing.T) {
	m, path := openPty(t)
	p := openPort(t, path, PortConfig{})
	// Bytes that a cooked tty would mangle: CR, NL, ^C, ^S, 0x00, 0xFF.
	msg := []byte{'\r', '\n', 0x03, 0x13, 0x00, 0xFF, 'x'}
	if _, err := p.Write(msg); err != nil {
		t.Fatal(err)
	}
	m.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(m, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("master read % x, %v; want % x", got, err, msg)
	}
	if _, err := m.Write(msg); err != nil {
		t.Fatal(err)
	}
	p.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(p, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("port read % x, %v; want % x", got, err, msg)
	}
}

func TestPortReadDeadline(t *testing.T) {
	_, path := openPty(t)
	p := openPort(t, path, PortConfig{})
	p.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	if _, err := p.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	p.SetDeadline(time.Time{})
}

func TestPortCloseUnblocksRead(t *testing.T) {
	_, path := openPty(t)
	p := openPort(t, path, PortConfig{})
	done := make(chan error, 1)
	go func() {
		_, err := p.Read(make([]byte, 8))
		done <- err
	}()
	// The Read may not have started yet; Close must unblock it either way.
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) {
			t.Fatalf("Read after Close: %v, want os.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Read")
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestPortHangupIsEOF(t *testing.T) {
	m, path := openPty(t)
	p := openPort(t, path, PortConfig{})
	done := make(chan error, 1)
	go func() {
		_, err := p.Read(make([]byte, 8))
		done <- err
	}()
	m.Close() // unplug
	select {
	case err := <-done:
		if err != io.EOF {
			t.Fatalf("Read after hang-up: %v, want io.EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("hang-up did not unblock Read")
	}
}

// Exclusive use: a second open fails with EBUSY for non-root users, and Close
// clears the flag so the port can be reopened. Root bypasses TIOCEXCL, so as
// root the flag itself is read back with TIOCGEXCL through a second fd.
func TestPortExclusive(t *testing.T) {
	_, path := openPty(t)
	p := openPort(t, path, PortConfig{})
	if os.Geteuid() != 0 {
		checkExclusiveNonRoot(t, p)
		return
	}
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	excl := func() int {
		rc, err := f.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var v int
		var ioErr error
		rc.Control(func(fd uintptr) { v, ioErr = unix.IoctlGetInt(int(fd), unix.TIOCGEXCL) })
		if ioErr != nil {
			t.Skipf("TIOCGEXCL: %v", ioErr)
		}
		return v
	}
	if excl() == 0 {
		t.Fatal("exclusive flag not set after Open")
	}
	p.Close()
	if excl() != 0 {
		t.Fatal("exclusive flag still set after Close")
	}
}

func checkExclusiveNonRoot(t *testing.T, p *Port) {
	t.Helper()
	if q, err := Open(p.Path(), PortConfig{}); !errors.Is(err, syscall.EBUSY) {
		if err == nil {
			q.Close()
		}
		t.Fatalf("second Open: %v, want EBUSY", err)
	}
	p.Close()
	q, err := Open(p.Path(), PortConfig{})
	if err != nil {
		t.Fatalf("Open after Close: %v (exclusive flag not cleared?)", err)
	}
	q.Close()
}

const nonRootEnv = "WAMPGATE_SERIAL_TEST_NONROOT"

// TestPortExclusiveNonRoot runs the non-root path when the tests run as root:
// it re-executes this test binary as user nobody.
func TestPortExclusiveNonRoot(t *testing.T) {
	if os.Getenv(nonRootEnv) == "1" {
		_, path := openPty(t)
		checkExclusiveNonRoot(t, openPort(t, path, PortConfig{}))
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("already non-root: TestPortExclusive covers it")
	}
	// The build directory is private to root; copy the binary somewhere
	// nobody can execute it.
	dir, err := os.MkdirTemp("", "serialtest")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "serial.test")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestPortExclusiveNonRoot$", "-test.count=1", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), nonRootEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		if !strings.Contains(string(out), "--- PASS: TestPortExclusiveNonRoot") {
			t.Fatalf("child did not run the test:\n%s", out)
		}
	case errors.As(err, &ee):
		t.Fatalf("non-root run failed: %v\n%s", err, out)
	default:
		// No way to run the binary as another user here (no setuid
		// permission, or a foreign architecture under qemu-user).
		t.Skipf("cannot re-execute as nobody: %v", err)
	}
}
