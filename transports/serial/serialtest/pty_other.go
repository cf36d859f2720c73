//go:build !linux

package serialtest

import (
	"errors"
	"os"
)

// OpenPty is implemented on Linux only; elsewhere it returns an error.
func OpenPty() (master *os.File, slavePath string, err error) {
	return nil, "", errors.New("serialtest: ptys are only supported on linux")
}
