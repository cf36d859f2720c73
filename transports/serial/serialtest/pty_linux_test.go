//go:build linux

package serialtest_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wampgate/wampgate/transports/serial"
	"github.com/wampgate/wampgate/transports/serial/serialtest"
)

func openPair(t *testing.T) (*os.File, *serial.Port) {
	t.Helper()
	m, path, err := serialtest.OpenPty()
	if err != nil {
		t.Fatalf("OpenPty: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if !strings.HasPrefix(path, "/dev/pts/") {
		t.Fatalf("slave path %q", path)
	}
	p, err := serial.Open(path, serial.PortConfig{Baud: 9600})
	if err != nil {
		t.Fatalf("serial.Open(%s): %v", path, err)
	}
	t.Cleanup(func() { p.Close() })
	return m, p
}

type deadlineReader interface {
	Read([]byte) (int, error)
	SetReadDeadline(time.Time) error
}

// readFrame reads from r until the decoder yields a frame.
func readFrame(t *testing.T, r deadlineReader, d *serial.Decoder) serial.Frame {
	t.Helper()
	if err := r.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64) // small, so frames span reads
	for {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		p := buf[:n]
		for len(p) > 0 {
			k, f, ok := d.Feed(p)
			p = p[k:]
			if ok {
				if len(p) != 0 {
					t.Fatalf("%d bytes after the frame", len(p))
				}
				f.Payload = bytes.Clone(f.Payload)
				return f
			}
		}
	}
}

func TestPtyFramesBothWays(t *testing.T) {
	m, p := openPair(t)
	payload := bytes.Repeat([]byte{0, 1, 2, '\n', '\r', 0x03, 0x11, 0x13, 0xFF}, 100)

	// Gateway (slave) to device (master).
	if _, err := p.Write(serial.AppendFrame(nil, serial.FrameWAMP, 5, payload, true)); err != nil {
		t.Fatal(err)
	}
	f := readFrame(t, m, serial.NewDecoder(1024))
	if f.Type != serial.FrameWAMP || f.Seq != 5 || !bytes.Equal(f.Payload, payload) {
		t.Fatalf("device got %v seq %d, %d bytes", f.Type, f.Seq, len(f.Payload))
	}

	// Device to gateway.
	if _, err := m.Write(serial.AppendFrame(nil, serial.FramePing, 0, []byte{1, 2, 3, 4}, true)); err != nil {
		t.Fatal(err)
	}
	f = readFrame(t, p, serial.NewDecoder(1024))
	if f.Type != serial.FramePing || !bytes.Equal(f.Payload, []byte{1, 2, 3, 4}) {
		t.Fatalf("gateway got %v % x", f.Type, f.Payload)
	}
}

func TestPtyMasterDeadline(t *testing.T) {
	m, _ := openPair(t)
	m.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	if _, err := m.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("master Read past deadline: %v, want os.ErrDeadlineExceeded", err)
	}
}

func TestPtyPortDeadline(t *testing.T) {
	_, p := openPair(t)
	p.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	if _, err := p.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("port Read past deadline: %v, want os.ErrDeadlineExceeded", err)
	}
}

func TestPtyCloseUnblocksRead(t *testing.T) {
	// Each side is closed while the other stays open: closing the slave
	// would otherwise hang up the master's Read with EIO, and the reverse.
	t.Run("port", func(t *testing.T) {
		_, p := openPair(t)
		expectClosedRead(t, p.Read, p.Close)
	})
	t.Run("master", func(t *testing.T) {
		m, _ := openPair(t)
		expectClosedRead(t, m.Read, m.Close)
	})
}

func expectClosedRead(t *testing.T, read func([]byte) (int, error), closeFn func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := read(make([]byte, 8))
		done <- err
	}()
	if err := closeFn(); err != nil {
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
}

// Closing the master is an unplug: the port's Read sees io.EOF.
func TestPtyUnplug(t *testing.T) {
	m, p := openPair(t)
	m.Close()
	p.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := p.Read(make([]byte, 8)); err != io.EOF {
		t.Fatalf("Read after unplug: %v, want io.EOF", err)
	}
}
