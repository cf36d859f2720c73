package websocket

import (
	"bufio"
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	cws "github.com/coder/websocket"

	"github.com/wampgate/wampgate/transports"
)

// defaultSerializers are offered when Server.Serializers is nil.
var defaultSerializers = []transports.Serializer{transports.JSON, transports.MsgPack, transports.CBOR}

// Server is an http.Handler that upgrades WAMP WebSocket requests and runs
// Handler.ServeConn on each connection in a goroutine of its own. Set the
// exported fields before use and do not change them after. A Server must
// not be copied after first use.
type Server struct {
	// Handler runs the session of each connection. Required.
	Handler transports.Handler
	// Options are the transport settings; zero fields take the defaults of
	// transports.Options.WithDefaults.
	Options transports.Options
	// Serializers lists the serializers offered; nil means JSON, MsgPack
	// and CBOR.
	Serializers []transports.Serializer
	// Logger receives diagnostics about failed upgrades; nil discards them.
	Logger *slog.Logger

	mu       sync.Mutex
	sessions int       // running session goroutines
	idle     sync.Cond // signalled when sessions drops to 0; L is &mu once Wait ran
	closed   bool
}

// ServeHTTP upgrades the request and starts the session. A request that is
// not a WebSocket upgrade gets 426, one that offers no supported WAMP
// subprotocol gets 400, both with a plain-text explanation, and any request
// after Close gets 503. The upgrade is bounded by Options.HandshakeTimeout.
//
// After a successful upgrade ServeHTTP returns at once, so that net/http
// can free the request and its connection buffers, while Handler.ServeConn
// runs in a new goroutine; the connection is closed when ServeConn
// returns. Middleware that expects a handler to last as long as its
// connection should use Wait instead.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if s.Handler == nil {
		http.Error(w, "websocket: no handler configured", http.StatusInternalServerError)
		return
	}
	sers := s.Serializers
	if sers == nil {
		sers = defaultSerializers
	}
	if !hasToken(r.Header, "Connection", "upgrade") || !hasToken(r.Header, "Upgrade", "websocket") {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "websocket: this endpoint serves WAMP over WebSocket only; open a WebSocket with one of the subprotocols "+names(sers), http.StatusUpgradeRequired)
		return
	}
	ser, ok := pickSerializer(r.Header, sers)
	if !ok {
		http.Error(w, "websocket: no supported WAMP subprotocol offered; supported: "+names(sers), http.StatusBadRequest)
		return
	}
	if !s.track() {
		http.Error(w, "websocket: server closed", http.StatusServiceUnavailable)
		return
	}
	opts := s.Options.WithDefaults()
	// Bound writing the 101 response. Hijacking clears the deadline.
	_ = http.NewResponseController(w).SetWriteDeadline(at.Add(opts.HandshakeTimeout))

	c := newConn()
	hw := &hijackWriter{ResponseWriter: w}
	ws, err := cws.Accept(hw, r, &cws.AcceptOptions{
		Subprotocols: []string{ser.Subprotocol()},
		// Any Origin is accepted for now: WAMP clients are rarely
		// browsers on a gateway. Origin patterns arrive with the security
		// configuration.
		InsecureSkipVerify: true,
		OnPongReceived:     c.onPong,
	})
	if err != nil {
		s.untrack()
		s.logger().Debug("websocket upgrade failed", "transport", "websocket", "peer", r.RemoteAddr, "reason", err)
		return
	}
	if hw.br != nil && hw.br.Buffered() == 0 {
		// The library put a reader of the bytes our bufio.Reader held
		// (none) in front of the connection; read the connection directly.
		hw.br.Reset(hw.nc)
	}
	info := transports.Info{Kind: "websocket", Established: at, TLS: r.TLS}
	if hw.nc != nil {
		info.Local, info.Remote = hw.nc.LocalAddr(), hw.nc.RemoteAddr()
	} else {
		info.Remote = parseAddr(r.RemoteAddr)
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			info.Local = a
		}
	}
	c.start(ws, hw.nc, ser, opts, info)
	go s.serve(c)
}

// serve runs the session of c and closes c after it.
func (s *Server) serve(c *conn) {
	defer s.untrack()
	defer c.Close()
	s.Handler.ServeConn(c)
}

// Close makes ServeHTTP refuse upgrades from now on with 503 Service
// Unavailable. Sessions already running keep running (the router ends
// them); Wait waits for them. Close may be called more than once and
// always returns nil.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

// Wait blocks until no upgrade and no session is in progress: every
// Handler.ServeConn started by ServeHTTP has returned and its connection is
// closed. Sessions may still start while Wait blocks; call Close first to
// wait for the last one.
func (s *Server) Wait() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idle.L == nil {
		s.idle.L = &s.mu
	}
	for s.sessions > 0 {
		s.idle.Wait()
	}
}

// track registers a session about to start, unless the server is closed.
func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.sessions++
	return true
}

func (s *Server) untrack() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions--; s.sessions == 0 {
		s.idle.Broadcast()
	}
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// pickSerializer returns the client's most preferred subprotocol that we
// support. Only exact names match, so ".batched" variants never do.
func pickSerializer(h http.Header, sers []transports.Serializer) (transports.Serializer, bool) {
	for _, v := range h.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			p = strings.TrimSpace(p)
			for _, s := range sers {
				if strings.EqualFold(p, s.Subprotocol()) {
					return s, true
				}
			}
		}
	}
	return 0, false
}

// hasToken reports whether the comma-separated header key contains token
// (case-insensitive).
func hasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func names(sers []transports.Serializer) string {
	var b strings.Builder
	for i, s := range sers {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.Subprotocol())
	}
	return b.String()
}

// hijackWriter hands the library the hijacked connection wrapped in a
// wireConn, with small bufio buffers of its own, and remembers it so that
// Close can drop it when the close handshake stalls. net/http's 4 KiB
// hijack buffers are left behind: the bytes its reader holds beyond the
// upgrade request are copied into the wireConn, and its writer is empty
// (the 101 response was flushed before the hijack).
type hijackWriter struct {
	http.ResponseWriter
	nc *wireConn
	br *bufio.Reader // the library's reader, over nc
}

func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if brw.Writer.Buffered() > 0 {
		if err := brw.Writer.Flush(); err != nil {
			nc.Close()
			return nil, nil, err
		}
	}
	w := &wireConn{Conn: nc, pooled: true}
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		w.early = bytes.Clone(b)
	}
	h.nc, h.br = w, bufio.NewReaderSize(w, libReadBuf)
	return w, bufio.NewReadWriter(h.br, bufio.NewWriterSize(w, libWriteBuf)), nil
}

func (h *hijackWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// addr is a net.Addr for an address known only as a string.
type addr string

func (a addr) Network() string { return "tcp" }
func (a addr) String() string  { return string(a) }

func parseAddr(s string) net.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return net.TCPAddrFromAddrPort(ap)
	}
	return addr(s)
}
