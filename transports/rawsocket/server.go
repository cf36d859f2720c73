package rawsocket

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/wampgate/wampgate/transports"
)

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("rawsocket: server closed")

// Accept-loop backoff on temporary errors.
const (
	minAcceptDelay = 5 * time.Millisecond
	maxAcceptDelay = time.Second
)

// maxRejecting bounds how many over-limit connections may sit in their
// handshake at once to be told CodeMaxConnections. Beyond that they are
// closed at once, so a flood cannot pin goroutines for HandshakeTimeout.
const maxRejecting = 64

// Server accepts RawSocket connections and runs Handler.ServeConn for each
// one after a successful handshake, in the connection's own goroutine.
//
// Set the fields before the first Serve call and do not change them after.
// A Server must not be copied after first use.
type Server struct {
	// Handler runs the session of each connection. Required.
	Handler transports.Handler
	// Options are the transport settings; zero fields take the defaults of
	// transports.Options.WithDefaults. MaxMessageSize sets the length we
	// announce (the largest 2^(9+n) not above it) and the limit incoming
	// frames are checked against.
	Options transports.Options
	// Serializers lists the serializers accepted; nil means JSON, MsgPack
	// and CBOR.
	Serializers []transports.Serializer
	// MaxConns limits the connections handled at once (handshaking or
	// running a session); 0 means unlimited. A connection over the limit
	// gets the handshake error reply CodeMaxConnections.
	MaxConns int
	// Logger receives connection-level diagnostics; nil discards them.
	Logger *slog.Logger

	// minPeerExp is the smallest client length exponent accepted. Every
	// announced length (512 B .. 16 MiB) is usable, so it is 0 and
	// CodeMaxLengthUnacceptable is never sent; tests set it.
	minPeerExp byte

	once        sync.Once
	log         *slog.Logger
	done        chan struct{} // closed by Close
	loops       tracker       // Serve loops and handshakes
	conns       tracker       // connection goroutines
	mu          sync.Mutex    // guards the fields below
	closed      bool
	listeners   map[net.Listener]struct{}
	handshaking map[net.Conn]struct{} // connections still in their handshake
	active      int                   // connections holding a MaxConns slot
	rejecting   int                   // over-limit connections being rejected
}

func (s *Server) init() {
	s.once.Do(func() {
		s.log = s.Logger
		if s.log == nil {
			s.log = slog.New(slog.DiscardHandler)
		}
		s.done = make(chan struct{})
		s.loops.init()
		s.conns.init()
		s.listeners = make(map[net.Listener]struct{})
		s.handshaking = make(map[net.Conn]struct{})
	})
}

// Serve accepts connections on ln until Close, then returns ErrServerClosed.
// Serve takes ownership of ln and closes it on return. It may be called for
// several listeners at once. Temporary accept errors are retried with a
// backoff from 5 ms doubling to 1 s; any other accept error is returned.
func (s *Server) Serve(ln net.Listener) error {
	s.init()
	if s.Handler == nil {
		ln.Close()
		return errors.New("rawsocket: Server.Handler is nil")
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.loops.add()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		ln.Close()
		s.loops.done()
	}()

	kind := kindOf(ln.Addr().Network())
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if !temporary(err) {
				return fmt.Errorf("rawsocket: accept: %w", err)
			}
			delay = min(max(2*delay, minAcceptDelay), maxAcceptDelay)
			s.log.Warn("accept failed, retrying", "transport", kind, "reason", err, "delay", delay)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-s.done:
				t.Stop()
				return ErrServerClosed
			}
			continue
		}
		delay = 0
		s.startConn(nc, kind)
	}
}

// temporary reports whether an accept error is worth retrying.
func temporary(err error) bool {
	for _, errno := range []syscall.Errno{
		syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EPROTO,
		syscall.EAGAIN, syscall.EINTR, syscall.EPERM,
	} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// startConn registers nc and starts its goroutine.
func (s *Server) startConn(nc net.Conn, kind string) {
	at := time.Now()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	over := s.MaxConns > 0 && s.active >= s.MaxConns
	if over {
		if s.rejecting >= maxRejecting {
			s.mu.Unlock()
			nc.Close()
			s.log.Debug("connection limit reached, closing without handshake", "transport", kind, "peer", nc.RemoteAddr())
			return
		}
		s.rejecting++
	} else {
		s.active++
	}
	s.handshaking[nc] = struct{}{}
	s.loops.add()
	s.conns.add()
	s.mu.Unlock()
	go s.serveConn(nc, kind, at, over)
}

// serveConn runs the handshake and then the session of one connection.
func (s *Server) serveConn(nc net.Conn, kind string, at time.Time, over bool) {
	defer s.conns.done()
	c, err := s.handshake(nc, kind, at, over)

	s.mu.Lock()
	delete(s.handshaking, nc)
	closed := s.closed
	if over {
		s.rejecting--
	}
	s.mu.Unlock()
	s.loops.done()

	if !over {
		defer func() {
			s.mu.Lock()
			s.active--
			s.mu.Unlock()
		}()
	}
	if err != nil {
		nc.Close()
		s.log.Debug("rawsocket handshake failed", "transport", kind, "peer", nc.RemoteAddr(), "reason", err)
		return
	}
	if closed {
		c.Close()
		return
	}
	s.Handler.ServeConn(c)
	c.Close()
}

// handshake runs the server handshake on nc under the handshake timeout.
func (s *Server) handshake(nc net.Conn, kind string, at time.Time, over bool) (*conn, error) {
	opts := s.Options.WithDefaults()
	sers := s.Serializers
	if sers == nil {
		sers = []transports.Serializer{transports.JSON, transports.MsgPack, transports.CBOR}
	}
	h := hsConfig{serializers: sers, ourExp: lenExp(opts.MaxMessageSize), minPeerExp: s.minPeerExp}
	if over {
		h.reject = CodeMaxConnections
	}
	if err := nc.SetDeadline(at.Add(opts.HandshakeTimeout)); err != nil {
		return nil, fmt.Errorf("rawsocket: set handshake deadline: %w", err)
	}
	ser, peerMax, err := serverHandshake(nc, &h)
	if err != nil {
		return nil, err
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		return nil, fmt.Errorf("rawsocket: clear handshake deadline: %w", err)
	}
	return newConn(nc, connConfig{
		ser:          ser,
		kind:         kind,
		established:  at,
		maxIn:        recvLimit(opts.MaxMessageSize),
		peerMax:      peerMax,
		writeTimeout: opts.WriteTimeout,
		pingInterval: opts.PingInterval,
	}), nil
}

// Close closes every listener, stops accepting, aborts connections still in
// their handshake and waits for the Serve loops and handshakes to end.
// Sessions already running keep running; the router ends them, and Wait
// waits for them. Close may be called more than once.
func (s *Server) Close() error {
	s.init()
	var first error
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	for ln := range s.listeners {
		if err := ln.Close(); err != nil && first == nil && !errors.Is(err, net.ErrClosed) {
			first = fmt.Errorf("rawsocket: close listener: %w", err)
		}
	}
	for nc := range s.handshaking {
		nc.Close()
	}
	s.mu.Unlock()
	s.loops.wait()
	return first
}

// Wait blocks until every connection goroutine, including running
// Handler.ServeConn calls, has returned. Call it after Close.
func (s *Server) Wait() {
	s.init()
	s.conns.wait()
}

// tracker counts running goroutines. Unlike sync.WaitGroup it may be waited
// on while new goroutines are still being added.
type tracker struct {
	mu   sync.Mutex
	cond sync.Cond
	n    int
}

func (t *tracker) init() { t.cond.L = &t.mu }

func (t *tracker) add() {
	t.mu.Lock()
	t.n++
	t.mu.Unlock()
}

func (t *tracker) done() {
	t.mu.Lock()
	t.n--
	if t.n == 0 {
		t.cond.Broadcast()
	}
	t.mu.Unlock()
}

func (t *tracker) wait() {
	t.mu.Lock()
	for t.n > 0 {
		t.cond.Wait()
	}
	t.mu.Unlock()
}
