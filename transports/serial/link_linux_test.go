//go:build linux

package serial

import (
	"errors"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/wampgate/wampgate/transports"
)

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
}

// TestE2ELinkOverPty runs a Link on a real tty (the slave of a pty opened
// with Open) against a fake device on the master, through unplug.
func TestE2ELinkOverPty(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	m, path := openPty(t)
	p, err := Open(path, PortConfig{Baud: 9600})
	if err != nil {
		t.Fatal(err)
	}
	l := NewLink(p, LinkConfig{})
	defer l.Close()
	if got := l.cfg.Baud; got != 9600 {
		t.Fatalf("link baud %d, want the port's 9600", got)
	}
	d := newFakeDevice(t, m)
	d.expect(FrameReset, "")
	d.handshake(1024, transports.MsgPack)
	d.expect(FrameHandshake, handshakeReply(l.MaxMessageSize(), transports.MsgPack))
	c := accept(t, l)
	if info := c.Info(); info.Kind != "serial" || info.Remote.String() != path {
		t.Fatalf("Info = %+v", info)
	}
	d.write([]byte("noise\r\n"))
	d.sendWAMP("hello from the device")
	expectMsg(t, c, "hello from the device")
	if err := c.Write([][]byte{[]byte("welcome"), make([]byte, 1024)}); err != nil {
		t.Fatal(err)
	}
	d.expect(FrameWAMP, "welcome")
	d.expect(FrameWAMP, string(make([]byte, 1024)))

	d.close() // unplug
	expectReadErr(t, c, io.EOF)
	if _, err := l.Accept(t.Context()); !errors.Is(err, io.EOF) {
		t.Fatalf("Accept after unplug: %v, want io.EOF", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitFor(t, 5*time.Second, "goroutines to end", func() bool { return runtime.NumGoroutine() <= goroutines })
}

// TestE2ELinkCloseOverPty: Close unblocks Accept and Read on a real tty and
// leaves no goroutine behind.
func TestE2ELinkCloseOverPty(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	m, path := openPty(t)
	p, err := Open(path, PortConfig{})
	if err != nil {
		t.Fatal(err)
	}
	l := NewLink(p, LinkConfig{PingInterval: 20 * time.Millisecond})
	d := newFakeDevice(t, m)
	d.expect(FrameReset, "")
	d.handshake(512, transports.CBOR)
	d.expect(FrameHandshake, handshakeReply(l.MaxMessageSize(), transports.CBOR))
	c := accept(t, l)
	// A silent device gets pings on the real clock too.
	d.expect(FramePing, "\x00\x00\x00\x01")
	readDone := make(chan error, 1)
	go func() {
		_, err := c.Read()
		readDone <- err
	}()
	acceptDone := make(chan error, 1)
	go func() {
		_, err := l.Accept(t.Context())
		acceptDone <- err
	}()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for name, ch := range map[string]chan error{"Read": readDone, "Accept": acceptDone} {
		select {
		case err := <-ch:
			if !errors.Is(err, transports.ErrClosed) {
				t.Fatalf("%s after Close: %v", name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Close did not unblock %s", name)
		}
	}
	d.close()
	waitFor(t, 5*time.Second, "goroutines to end", func() bool { return runtime.NumGoroutine() <= goroutines })
}
