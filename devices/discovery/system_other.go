//go:build !(linux || windows || (darwin && cgo))

package discovery

import "errors"

// ErrNotSupported: port enumeration is not available on this platform (or,
// on macOS, in a build without cgo).
var ErrNotSupported = errors.New("discovery: port enumeration not supported on this platform")

// System returns a Lister that fails with ErrNotSupported: this platform
// has no enumerator without cgo. Devices configured by port path or TCP
// address still work.
func System() Lister {
	return ListerFunc(func() ([]PortInfo, error) { return nil, ErrNotSupported })
}
