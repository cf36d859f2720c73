//go:build !linux

package serial

import "syscall"

// Open returns ErrNotSupported: serial ports are implemented for Linux only.
// The framing and Link work on every OS over any byte stream.
func Open(path string, cfg PortConfig) (*Port, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return nil, ErrNotSupported
}

func releaseExclusive(syscall.RawConn) {}

// Read reads from the port.
func (p *Port) Read(b []byte) (int, error) { return p.f.Read(b) }
