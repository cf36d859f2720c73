package websocket

import (
	"bufio"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	cws "github.com/coder/websocket"

	"github.com/wampgate/wampgate/transports"
)

// defaultSerializers are offered when Server.Serializers is nil.
var defaultSerializers = []transports.Serializer{transports.JSON, transports.MsgPack, transports.CBOR}

// Server is an http.Handler that upgrades WAMP WebSocket requests and runs
// Handler.ServeConn on each connection in the request goroutine. Set the
// fields before use and do not change them after.
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
}

// ServeHTTP upgrades the request and runs the session. A request that is
// not a WebSocket upgrade gets 426, one that offers no supported WAMP
// subprotocol gets 400, both with a plain-text explanation. The upgrade is
// bounded by Options.HandshakeTimeout; the connection is closed when
// Handler.ServeConn returns.
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
		s.logger().Debug("websocket upgrade failed", "transport", "websocket", "peer", r.RemoteAddr, "reason", err)
		return
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
	defer c.Close()
	s.Handler.ServeConn(c)
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

// hijackWriter remembers the connection the library hijacks, so that Close
// can drop it when the close handshake stalls.
type hijackWriter struct {
	http.ResponseWriter
	nc net.Conn
}

func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	h.nc = nc
	return nc, brw, err
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
