package websocket

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wampgate/wampgate/transports"
)

const testWait = 10 * time.Second

// startServer runs s on an httptest server. The default handler hands each
// connection to the returned channel and keeps the session open until the
// test ends; the cleanup then waits for every session to end. It returns
// the ws:// URL.
func startServer(t *testing.T, s *Server) (string, <-chan transports.Conn) {
	t.Helper()
	conns := make(chan transports.Conn, 16)
	stop := make(chan struct{})
	if s.Handler == nil {
		s.Handler = transports.HandlerFunc(func(c transports.Conn) {
			conns <- c
			<-stop
		})
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		close(stop)
		hs.Close()
		s.Close()
		s.Wait()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http"), conns
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

func dialT(t *testing.T, url string, ser transports.Serializer, opts transports.Options) transports.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	c, err := Dial(ctx, url, ser, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
