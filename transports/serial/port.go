package serial

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

// Errors returned by Open and Port methods.
var (
	// ErrNotSupported: serial ports are not implemented on this OS.
	ErrNotSupported = errors.New("serial: serial ports are not supported on this platform")
	// ErrInvalidConfig: a PortConfig field is out of range.
	ErrInvalidConfig = errors.New("serial: invalid port configuration")
	// ErrUnsupportedBaud: the baud rate cannot be set here, for example a
	// non-standard rate where the kernel or an emulator lacks TCSETS2.
	ErrUnsupportedBaud = errors.New("serial: baud rate not supported")
)

// Parity is the parity bit setting of a port.
type Parity uint8

// Parity settings.
const (
	ParityNone Parity = iota
	ParityEven
	ParityOdd
)

// String returns "none", "even" or "odd".
func (p Parity) String() string {
	switch p {
	case ParityNone:
		return "none"
	case ParityEven:
		return "even"
	case ParityOdd:
		return "odd"
	}
	return fmt.Sprintf("Parity(%d)", uint8(p))
}

// Line setting defaults (rule 8: 115200 8N1, no flow control).
const (
	DefaultBaud     = 115200
	DefaultDataBits = 8
	DefaultStopBits = 1
)

// PortConfig holds the line settings of a port. Zero fields take the
// defaults: 115200 baud, 8 data bits, no parity, 1 stop bit, no flow control.
type PortConfig struct {
	// Baud is the line rate in bits per second. Standard rates use the
	// classic termios codes; any other rate needs TCSETS2 (BOTHER).
	Baud int
	// DataBits is 5, 6, 7 or 8.
	DataBits int
	// Parity is none, even or odd.
	Parity Parity
	// StopBits is 1 or 2.
	StopBits int
	// RTSCTS enables hardware flow control.
	RTSCTS bool
}

// WithDefaults returns c with zero fields set to the defaults.
func (c PortConfig) WithDefaults() PortConfig {
	if c.Baud == 0 {
		c.Baud = DefaultBaud
	}
	if c.DataBits == 0 {
		c.DataBits = DefaultDataBits
	}
	if c.StopBits == 0 {
		c.StopBits = DefaultStopBits
	}
	return c
}

// Validate reports the first out-of-range field, wrapping ErrInvalidConfig.
func (c PortConfig) Validate() error {
	switch {
	case c.Baud <= 0:
		return fmt.Errorf("%w: baud %d", ErrInvalidConfig, c.Baud)
	case c.DataBits < 5 || c.DataBits > 8:
		return fmt.Errorf("%w: data bits %d (want 5 to 8)", ErrInvalidConfig, c.DataBits)
	case c.Parity > ParityOdd:
		return fmt.Errorf("%w: parity %v", ErrInvalidConfig, c.Parity)
	case c.StopBits != 1 && c.StopBits != 2:
		return fmt.Errorf("%w: stop bits %d (want 1 or 2)", ErrInvalidConfig, c.StopBits)
	}
	return nil
}

// BitsPerChar is the number of bit times one character takes on the line:
// start bit, data bits, parity bit and stop bits (10 for 8N1).
func (c PortConfig) BitsPerChar() int {
	c = c.WithDefaults()
	n := 1 + c.DataBits + c.StopBits
	if c.Parity != ParityNone {
		n++
	}
	return n
}

// Port is an open serial port. Read, Write, the deadline methods and Close
// are those of an *os.File on Go's netpoller: deadlines work, Close unblocks
// a pending Read or Write, and the file descriptor may have any number.
// A Port is safe for one reader and one writer at a time plus Close from any
// goroutine.
//
// Read returns io.EOF when the line hangs up: a USB adapter unplugged, or
// the master side of a pty closed (Linux reports EIO there).
type Port struct {
	f    *os.File        // immutable after Open
	path string          // immutable after Open
	cfg  PortConfig      // immutable after Open
	once sync.Once       // guards close
	err  error           // result of the first Close, set inside once
	conn syscall.RawConn // f.SyscallConn(), immutable after Open
}

// Path returns the path the port was opened with.
func (p *Port) Path() string { return p.path }

// Config returns the line settings in effect, defaults filled in.
func (p *Port) Config() PortConfig { return p.cfg }

// Write writes b to the port.
func (p *Port) Write(b []byte) (int, error) { return p.f.Write(b) }

// SetDeadline sets the read and write deadlines.
func (p *Port) SetDeadline(t time.Time) error { return p.f.SetDeadline(t) }

// SetReadDeadline sets the read deadline; a Read past it fails with an error
// wrapping os.ErrDeadlineExceeded.
func (p *Port) SetReadDeadline(t time.Time) error { return p.f.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline; a Write past it fails with an
// error wrapping os.ErrDeadlineExceeded.
func (p *Port) SetWriteDeadline(t time.Time) error { return p.f.SetWriteDeadline(t) }

// Close releases the exclusive-use flag, so that the next open by a non-root
// user does not fail with EBUSY, and closes the port, unblocking a pending
// Read or Write. Further calls return the first result.
func (p *Port) Close() error {
	p.once.Do(func() {
		releaseExclusive(p.conn)
		if err := p.f.Close(); err != nil {
			p.err = fmt.Errorf("serial: close %s: %w", p.path, err)
		}
	})
	return p.err
}
