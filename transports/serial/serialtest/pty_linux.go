//go:build linux

package serialtest

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

// OpenPty opens a new pseudo-terminal pair through /dev/ptmx and returns the
// master and the path of the slave (/dev/pts/N). The slave's line discipline
// is set to raw mode, so bytes pass unchanged both ways even before the slave
// is opened.
//
// The master is non-blocking and on Go's netpoller: its deadlines work and
// Close unblocks a pending Read. Closing the master hangs up the slave, which
// is how tests simulate unplugging a device. The caller closes the master.
func OpenPty() (master *os.File, slavePath string, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, "", fmt.Errorf("serialtest: open /dev/ptmx: %w", err)
	}
	rc, err := m.SyscallConn()
	if err != nil {
		m.Close()
		return nil, "", fmt.Errorf("serialtest: %w", err)
	}
	var n uint32
	var ioErr error
	ctlErr := rc.Control(func(fd uintptr) { n, ioErr = setupMaster(fd) })
	if err := errors.Join(ctlErr, ioErr); err != nil {
		m.Close()
		return nil, "", fmt.Errorf("serialtest: %w", err)
	}
	return m, "/dev/pts/" + strconv.FormatUint(uint64(n), 10), nil
}

// setupMaster unlocks the slave, returns its number and puts it in raw mode.
// It uses the syscall package only, so the package needs nothing outside
// the standard library.
func setupMaster(fd uintptr) (uint32, error) {
	var unlock int32
	if err := ioctl(fd, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		return 0, fmt.Errorf("unlock pty (TIOCSPTLCK): %w", err)
	}
	var n uint32
	if err := ioctl(fd, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		return 0, fmt.Errorf("pty number (TIOCGPTN): %w", err)
	}
	// Termios ioctls on the master act on the slave's settings.
	var t syscall.Termios
	if err := ioctl(fd, syscall.TCGETS, unsafe.Pointer(&t)); err != nil {
		return 0, fmt.Errorf("get termios: %w", err)
	}
	t.Iflag &^= syscall.IGNBRK | syscall.BRKINT | syscall.PARMRK | syscall.ISTRIP | syscall.INLCR |
		syscall.IGNCR | syscall.ICRNL | syscall.IXON
	t.Oflag &^= syscall.OPOST
	t.Lflag &^= syscall.ECHO | syscall.ECHONL | syscall.ICANON | syscall.ISIG | syscall.IEXTEN
	t.Cflag &^= syscall.CSIZE | syscall.PARENB
	t.Cflag |= syscall.CS8
	t.Cc[syscall.VMIN] = 1
	t.Cc[syscall.VTIME] = 0
	if err := ioctl(fd, syscall.TCSETS, unsafe.Pointer(&t)); err != nil {
		return 0, fmt.Errorf("set termios: %w", err)
	}
	return n, nil
}

func ioctl(fd uintptr, req uintptr, arg unsafe.Pointer) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
}
