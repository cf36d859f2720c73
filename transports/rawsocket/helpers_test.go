package rawsocket

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wampgate/wampgate/transports"
)

// testWait bounds every blocking step in these tests.
const testWait = 10 * time.Second

// startServer serves s on ln and shuts it down at the end of the test. The
// handler hands each connection to the returned channel and keeps the
// session open until the test ends.
func startServer(t *testing.T, s *Server, ln net.Listener) <-chan transports.Conn {
	t.Helper()
	conns := make(chan transports.Conn, 16)
	stop := make(chan struct{})
	if s.Handler == nil {
		s.Handler = transports.HandlerFunc(func(c transports.Conn) {
			conns <- c
			<-stop
		})
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		close(stop)
		if err := s.Close(); err != nil {
			t.Errorf("Server.Close: %v", err)
		}
		s.Wait()
		if err := <-served; err != ErrServerClosed {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return conns
}

func listenTCP(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// socketPath returns a short path for a Unix socket (sun_path is limited
// to about 108 bytes, too short for t.TempDir under long test names).
func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s.sock")
}

func recvConn(t *testing.T, ch <-chan transports.Conn) transports.Conn {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(testWait):
		t.Fatal("no connection reached the handler")
		return nil
	}
}

func dialT(t *testing.T, network, addr string, ser transports.Serializer, opts transports.Options) transports.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	c, err := Dial(ctx, network, addr, ser, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
