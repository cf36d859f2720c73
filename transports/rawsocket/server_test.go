package rawsocket

import (
	"context"
	"errors"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wampgate/wampgate/transports"
)

// flakyListener fails Accept with errs before handing over to the real
// listener.
type flakyListener struct {
	net.Listener
	errs  chan error
	fails atomic.Int32
}

func (l *flakyListener) Accept() (net.Conn, error) {
	select {
	case err := <-l.errs:
		l.fails.Add(1)
		return nil, err
	default:
		return l.Listener.Accept()
	}
}

func TestServeRetriesTemporaryErrors(t *testing.T) {
	fl := &flakyListener{Listener: listenTCP(t), errs: make(chan error, 3)}
	for range 3 {
		fl.errs <- &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	startServer(t, &Server{}, fl)
	c := dialT(t, "tcp", fl.Addr().String(), transports.JSON, transports.Options{})
	if c.Serializer() != transports.JSON {
		t.Errorf("serializer %v", c.Serializer())
	}
	if got := fl.fails.Load(); got != 3 {
		t.Errorf("%d accept errors consumed, want 3", got)
	}
}

// failingListener fails every Accept.
type failingListener struct {
	err    error
	closed chan struct{}
}

func (l *failingListener) Accept() (net.Conn, error) { return nil, l.err }
func (l *failingListener) Close() error {
	select {
	case <-l.closed:
	default:
		close(l.closed)
	}
	return nil
}
func (l *failingListener) Addr() net.Addr { return &net.TCPAddr{} }

func TestServeStopsOnPermanentError(t *testing.T) {
	boom := errors.New("boom")
	l := &failingListener{err: boom, closed: make(chan struct{})}
	s := &Server{Handler: transports.HandlerFunc(func(transports.Conn) {})}
	if err := s.Serve(l); !errors.Is(err, boom) {
		t.Fatalf("Serve: %v, want boom", err)
	}
	select {
	case <-l.closed:
	default:
		t.Error("Serve did not close its listener")
	}
}

func TestCloseInterruptsBackoff(t *testing.T) {
	l := &failingListener{err: syscall.EMFILE, closed: make(chan struct{})}
	s := &Server{Handler: transports.HandlerFunc(func(transports.Conn) {})}
	s.init() // the test inspects s.listeners
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	pollUntil(t, "Serve to register its listener", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.listeners) == 1
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-served:
		if err != ErrServerClosed {
			t.Fatalf("Serve: %v, want ErrServerClosed", err)
		}
	case <-time.After(testWait):
		t.Fatal("Serve kept backing off after Close")
	}
}

func TestServeAfterClose(t *testing.T) {
	s := &Server{Handler: transports.HandlerFunc(func(transports.Conn) {})}
	s.Close()
	ln := listenTCP(t)
	if err := s.Serve(ln); err != ErrServerClosed {
		t.Fatalf("Serve after Close: %v", err)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("listener still open after Serve returned: %v", err)
	}
	s.Wait()
}

func TestServeNilHandler(t *testing.T) {
	s := &Server{}
	if err := s.Serve(listenTCP(t)); err == nil {
		t.Fatal("Serve without a Handler succeeded")
	}
}

func TestCloseLeavesSessionsToWait(t *testing.T) {
	ln := listenTCP(t)
	entered := make(chan transports.Conn, 1)
	release := make(chan struct{})
	s := &Server{Handler: transports.HandlerFunc(func(c transports.Conn) {
		entered <- c
		<-release
	})}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	c := dialT(t, "tcp", ln.Addr().String(), transports.JSON, transports.Options{})
	srv := recvConn(t, entered)

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != ErrServerClosed {
		t.Fatalf("Serve: %v", err)
	}
	// The session survives Close.
	if err := srv.Write([][]byte{[]byte("still open")}); err != nil {
		t.Fatalf("session Write after Server.Close: %v", err)
	}
	if m, err := c.Read(); err != nil || string(m) != "still open" {
		t.Fatalf("client Read: %q, %v", m, err)
	}
	waited := make(chan struct{})
	go func() { s.Wait(); close(waited) }()
	select {
	case <-waited:
		t.Fatal("Wait returned while a handler was running")
	default:
	}
	close(release)
	select {
	case <-waited:
	case <-time.After(testWait):
		t.Fatal("Wait did not return after the handler ended")
	}
	// The server closed the connection once the handler returned.
	if _, err := c.Read(); err == nil {
		t.Error("client Read succeeded after the handler returned")
	}
}

func TestListenUnix(t *testing.T) {
	t.Run("fresh", func(t *testing.T) {
		path := socketPath(t)
		ln, err := ListenUnix(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(path); err != nil {
			t.Fatalf("socket file missing: %v", err)
		}
		ln.Close()
		if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket file left after Close: %v", err)
		}
	})
	t.Run("stale socket removed", func(t *testing.T) {
		path := socketPath(t)
		old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		old.SetUnlinkOnClose(false)
		old.Close()
		ln, err := ListenUnix(path)
		if err != nil {
			t.Fatalf("ListenUnix over a stale socket: %v", err)
		}
		startServer(t, &Server{}, ln)
		dialT(t, "unix", path, transports.CBOR, transports.Options{})
	})
	t.Run("live socket kept", func(t *testing.T) {
		path := socketPath(t)
		live, err := ListenUnix(path)
		if err != nil {
			t.Fatal(err)
		}
		defer live.Close()
		if _, err := ListenUnix(path); !errors.Is(err, ErrSocketInUse) {
			t.Fatalf("ListenUnix over a live socket: %v, want ErrSocketInUse", err)
		}
		if _, err := os.Lstat(path); err != nil {
			t.Fatalf("live socket file removed: %v", err)
		}
	})
	t.Run("regular file kept", func(t *testing.T) {
		path := socketPath(t)
		if err := os.WriteFile(path, []byte("data"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ListenUnix(path); err == nil {
			t.Fatal("ListenUnix replaced a regular file")
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != "data" {
			t.Fatalf("regular file changed: %q, %v", b, err)
		}
	})
}

func TestDialUnixKind(t *testing.T) {
	path := socketPath(t)
	ln, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	startServer(t, &Server{}, ln)
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	c, err := Dial(ctx, "unix", path, transports.MsgPack, transports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.Info().Kind; got != "rawsocket-unix" {
		t.Errorf("Kind %q, want rawsocket-unix", got)
	}
}
