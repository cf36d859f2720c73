package websocket

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wampgate/wampgate/transports"
)

// TestServeHTTPReturnsAfterUpgrade checks that ServeHTTP leaves the session
// running in its own goroutine, that Wait waits for it, and that Close
// refuses later upgrades.
func TestServeHTTPReturnsAfterUpgrade(t *testing.T) {
	conns := make(chan transports.Conn, 1)
	stop := make(chan struct{})
	var running, ended atomic.Int32
	s := &Server{Handler: transports.HandlerFunc(func(c transports.Conn) {
		running.Add(1)
		conns <- c
		<-stop
		ended.Add(1)
	})}
	returned := make(chan struct{}, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.ServeHTTP(w, r)
		returned <- struct{}{}
	}))
	defer hs.Close()
	url := "ws" + strings.TrimPrefix(hs.URL, "http")

	client := dialT(t, url, transports.JSON, transports.Options{})
	clientDone := make(chan struct{})
	go func() { // answers the server's close handshake
		defer close(clientDone)
		client.Read()
	}()
	defer func() { <-clientDone }()
	server := recvConn(t, conns)
	select {
	case <-returned:
	case <-time.After(testWait):
		t.Fatal("ServeHTTP still running with the session")
	}
	if ended.Load() != 0 {
		t.Fatal("session ended early")
	}

	waited := make(chan int32, 1)
	go func() {
		s.Wait()
		waited <- ended.Load()
	}()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	code, body := doRequest(t, upgradeRequest(t, url, "wamp.2.json"))
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "closed") {
		t.Errorf("upgrade after Close: %d %q, want 503", code, body)
	}
	if n := running.Load(); n != 1 {
		t.Errorf("%d sessions ran, want only the one before Close", n)
	}
	close(stop)
	select {
	case n := <-waited:
		if n != 1 {
			t.Errorf("Wait returned with %d of 1 sessions ended", n)
		}
	case <-time.After(testWait):
		t.Fatal("Wait did not return after the session ended")
	}
	// The server closed the connection when the session ended.
	if _, err := server.Read(); err == nil {
		t.Error("connection still open after the session")
	}
	s.Wait() // nothing running: returns at once
}

func TestWaitWithoutSessions(t *testing.T) {
	s := &Server{Handler: transports.HandlerFunc(func(transports.Conn) {})}
	done := make(chan struct{})
	go func() {
		s.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(testWait):
		t.Fatal("Wait blocked on a server that never served")
	}
}

// TestFramesWithTheRequest sends messages in the same packet as the upgrade
// request: net/http has read them with the request, and the session must
// still receive them, in order, before what follows.
func TestFramesWithTheRequest(t *testing.T) {
	url, conns := startServer(t, &Server{})
	var early []byte
	for i := range 3 {
		early = append(early, clientFrame(0x2, []byte{byte(i), 'e'})...)
	}
	c, err := rawUpgrade(strings.TrimPrefix(url, "ws://"), "wamp.2.cbor", early)
	if err != nil {
		t.Fatal(err)
	}
	defer c.nc.Close()
	server := recvConn(t, conns)
	if _, err := c.nc.Write(clientFrame(0x2, []byte{3, 'l'})); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		m, err := server.Read()
		if err != nil || len(m) != 2 || m[0] != byte(i) {
			t.Fatalf("message %d: %q, %v", i, m, err)
		}
	}
	// And the server's messages reach the raw client intact.
	if err := server.Write([][]byte{[]byte("one"), []byte("two")}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"one", "two"} {
		op, p, err := readServerFrame(c.nc)
		if err != nil || op != 0x2 || string(p) != want {
			t.Fatalf("frame: op %#x %q %v, want binary %q", op, p, err, want)
		}
	}
}
