//go:build linux

package serial

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Open opens the tty at path (symlinks such as /dev/serial0 and
// /dev/serial/by-id/... are fine) and configures it: raw mode, the line
// settings of cfg, receiver on, modem control lines ignored, VMIN=1 VTIME=0,
// and exclusive use (TIOCEXCL). It never calls f.Fd(), so the port stays on
// the netpoller.
//
// Setting the modem lines (DTR and RTS raised) is best effort: ptys and some
// adapters reject those ioctls and the open still succeeds. A non-standard
// baud rate needs TCSETS2; where it is missing (qemu-user returns ENOSYS) Open
// fails with an error wrapping ErrUnsupportedBaud.
func Open(path string, cfg PortConfig) (*Port, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("serial: open %s: %w", path, err)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("serial: open %s: %w", path, err)
	}
	var cfgErr error
	ctlErr := rc.Control(func(fd uintptr) { cfgErr = configure(int(fd), cfg) })
	if err := errors.Join(ctlErr, cfgErr); err != nil {
		f.Close()
		return nil, fmt.Errorf("serial: open %s: %w", path, err)
	}
	return &Port{f: f, path: path, cfg: cfg, conn: rc}, nil
}

// configure applies cfg to the tty fd and takes exclusive use.
func configure(fd int, cfg PortConfig) error {
	code, standard := baudCodes[cfg.Baud]
	get, set := uint(unix.TCGETS), uint(unix.TCSETS)
	if !standard {
		get, set = unix.TCGETS2, unix.TCSETS2
	}
	t, err := unix.IoctlGetTermios(fd, get)
	if err != nil {
		if !standard && errors.Is(err, unix.ENOSYS) {
			return fmt.Errorf("%w: %d baud needs TCGETS2, unavailable here (ENOSYS, as under qemu-user)", ErrUnsupportedBaud, cfg.Baud)
		}
		return fmt.Errorf("get termios: %w", err)
	}
	setTermios(t, cfg, code, standard)
	if err := unix.IoctlSetTermios(fd, set, t); err != nil {
		if !standard && (errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL)) {
			return fmt.Errorf("%w: %d baud: set termios2: %w", ErrUnsupportedBaud, cfg.Baud, err)
		}
		return fmt.Errorf("set termios: %w", err)
	}
	// Drivers (and emulators) may quietly set another rate than asked for;
	// read it back.
	if got, err := unix.IoctlGetTermios(fd, get); err == nil {
		if rate := termiosBaud(got); !baudClose(rate, cfg.Baud) {
			return fmt.Errorf("%w: asked for %d baud, the tty reports %d", ErrUnsupportedBaud, cfg.Baud, rate)
		}
	}
	// Stale input from before the open is not ours to decode.
	if err := unix.IoctlSetInt(fd, unix.TCFLSH, unix.TCIFLUSH); err != nil && !optionalIoctl(err) {
		return fmt.Errorf("flush input: %w", err)
	}
	// USB CDC devices often wait for DTR before they send; the kernel
	// usually raises both lines on open already. Ptys reject the ioctl.
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCMBIS, unix.TIOCM_DTR|unix.TIOCM_RTS); err != nil && !optionalIoctl(err) {
		return fmt.Errorf("raise DTR/RTS: %w", err)
	}
	if err := unix.IoctlSetInt(fd, unix.TIOCEXCL, 0); err != nil {
		return fmt.Errorf("exclusive use (TIOCEXCL): %w", err)
	}
	return nil
}

// setTermios puts t into raw mode with the line settings of cfg. code is the
// classic baud code when standard is true; otherwise the rate goes in the
// speed fields with BOTHER, for TCSETS2.
func setTermios(t *unix.Termios, cfg PortConfig, code uint32, standard bool) {
	makeRaw(t)
	t.Cflag &^= unix.CSIZE | unix.PARENB | unix.PARODD | unix.CSTOPB | unix.CRTSCTS | unix.CBAUD | unix.CIBAUD | unix.CMSPAR
	t.Cflag |= unix.CREAD | unix.CLOCAL | dataBits[cfg.DataBits]
	switch cfg.Parity {
	case ParityEven:
		t.Cflag |= unix.PARENB
		t.Iflag |= unix.INPCK
	case ParityOdd:
		t.Cflag |= unix.PARENB | unix.PARODD
		t.Iflag |= unix.INPCK
	}
	if cfg.StopBits == 2 {
		t.Cflag |= unix.CSTOPB
	}
	if cfg.RTSCTS {
		t.Cflag |= unix.CRTSCTS
	}
	if standard {
		t.Cflag |= code
	} else {
		t.Cflag |= unix.BOTHER
		t.Ispeed = uint32(cfg.Baud)
		t.Ospeed = uint32(cfg.Baud)
	}
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
}

// optionalIoctl reports errors that ttys without the feature return (ptys
// for modem lines, qemu-user for ioctls it does not emulate).
func optionalIoctl(err error) bool {
	return errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP)
}

// makeRaw clears input, output and local processing the way cfmakeraw does,
// and software flow control too.
func makeRaw(t *unix.Termios) {
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL |
		unix.IXON | unix.IXOFF | unix.IXANY | unix.INPCK | unix.IGNPAR
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
}

var dataBits = map[int]uint32{5: unix.CS5, 6: unix.CS6, 7: unix.CS7, 8: unix.CS8}

var baudCodes = map[int]uint32{
	50: unix.B50, 75: unix.B75, 110: unix.B110, 134: unix.B134, 150: unix.B150,
	200: unix.B200, 300: unix.B300, 600: unix.B600, 1200: unix.B1200, 1800: unix.B1800,
	2400: unix.B2400, 4800: unix.B4800, 9600: unix.B9600, 19200: unix.B19200,
	38400: unix.B38400, 57600: unix.B57600, 115200: unix.B115200, 230400: unix.B230400,
	460800: unix.B460800, 500000: unix.B500000, 576000: unix.B576000, 921600: unix.B921600,
	1000000: unix.B1000000, 1152000: unix.B1152000, 1500000: unix.B1500000,
	2000000: unix.B2000000, 2500000: unix.B2500000, 3000000: unix.B3000000,
	3500000: unix.B3500000, 4000000: unix.B4000000,
}

// termiosBaud returns the output rate t encodes: the speed field with
// BOTHER, otherwise the rate of the classic code (0 for B0 or an unknown code).
func termiosBaud(t *unix.Termios) int {
	code := t.Cflag & unix.CBAUD
	if code == unix.BOTHER {
		return int(t.Ospeed)
	}
	for rate, c := range baudCodes {
		if c == code {
			return rate
		}
	}
	return 0
}

// baudClose reports whether the rate a driver set is within 2% of the one
// asked for, the tolerance of a UART; drivers round BOTHER rates to what
// their clock divides to.
func baudClose(got, want int) bool {
	d := got - want
	return d*50 <= want && -d*50 <= want
}

// releaseExclusive clears TIOCEXCL so the next open by a non-root user does
// not fail with EBUSY. Errors are ignored: the port may already be gone.
func releaseExclusive(rc syscall.RawConn) {
	_ = rc.Control(func(fd uintptr) { _ = unix.IoctlSetInt(int(fd), unix.TIOCNXCL, 0) })
}

// Read reads from the port. A hang-up (EIO on Linux ttys) is reported as
// io.EOF.
func (p *Port) Read(b []byte) (int, error) {
	n, err := p.f.Read(b)
	if err != nil && errors.Is(err, unix.EIO) {
		return n, io.EOF
	}
	return n, err
}
