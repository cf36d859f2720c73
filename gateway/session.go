package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wampgate/wampgate/gateway/auth"
	"github.com/wampgate/wampgate/gateway/internal/outq"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/gateway/wamp/codec"
	"github.com/wampgate/wampgate/transports"
)

// session is one WAMP session on one transport connection.
type session struct {
	r      *Router
	conn   transports.Conn // immutable
	codec  codec.Codec     // immutable; nil if the serializer is unknown
	ser    transports.Serializer
	maxOut int // immutable: peer's receive limit, 0 = none
	info   transports.Info
	log    *slog.Logger // replaced once during join (owned by the reader until welcomed)
	q      *outq.Queue

	// Set during join, before the session becomes visible to others;
	// immutable afterwards.
	id           wamp.ID
	realm        *realm
	authid       string
	authrole     string
	authmethod   string
	authprovider string
	authextra    wamp.Dict
	feat         features

	quiet       atomic.Bool // killed by kill_all: no meta events, no testaments
	testamentMu sync.Mutex
	testaments  map[string][]testament // guarded by testamentMu, by scope

	welcomed     atomic.Bool
	shuttingDown atomic.Bool   // router sent GOODBYE and waits for the reply
	reason       atomic.Uint32 // CloseReason; the first one set wins
	writerDone   chan struct{}

	// Owned by the reader.
	pubBucket, callBucket bucket
	maxIn                 int // realm's message size limit, 0 = transport's only

	// Guarded by realm.callsMu.
	left     bool // the session has left its realm; no new calls may target it
	nextInv  wamp.ID
	asCaller map[wamp.ID]*pendingCall // by CALL request ID
	asCallee map[wamp.ID]*pendingCall // by INVOCATION request ID
	callMark wamp.ID                  // highest CALL request ID seen (progressive invocations)
}

// features are the client features that change how the router talks to a
// session. Immutable after join.
type features struct {
	calleeCancel   bool // callee announced call_canceling: may receive INTERRUPT
	calleeProgress bool // callee announced progressive_call_results
	calleeInvProg  bool // callee announced progressive_call_invocations
	calleePPT      bool // callee announced payload_passthru_mode
}

func newSession(r *Router, c transports.Conn) *session {
	info := c.Info()
	s := &session{
		r:          r,
		conn:       c,
		ser:        c.Serializer(),
		maxOut:     c.MaxOutgoing(),
		info:       info,
		q:          outq.New(cmp.Or(info.OutQueue, r.cfg.OutQueueBytes)),
		writerDone: make(chan struct{}),
	}
	s.codec, _ = codec.ByName(s.ser.String())
	peer := ""
	if info.Remote != nil {
		peer = info.Remote.String()
	}
	s.log = r.log.With("transport", info.Kind, "peer", peer)
	return s
}

// setReason records why the session ends; the first reason wins.
func (s *session) setReason(cr CloseReason) {
	s.reason.CompareAndSwap(uint32(CloseNone), uint32(cr))
}

// closeNow records the reason and closes the connection, which ends both
// session goroutines.
func (s *session) closeNow(cr CloseReason) {
	s.setReason(cr)
	s.conn.Close()
}

// run is the whole life of the session, on the ServeConn goroutine.
func (s *session) run() {
	s.r.stats.sessionsTotal.Add(1)
	deadline := s.r.cfg.HandshakeTimeout
	if !s.info.Established.IsZero() {
		deadline -= time.Since(s.info.Established)
	}
	hs := time.AfterFunc(max(deadline, 0), func() {
		if !s.welcomed.Load() {
			s.closeNow(CloseHandshakeTimeout)
		}
	})
	ok := s.join()
	hs.Stop()
	if !ok {
		s.conn.Close()
		s.finish()
		return
	}
	s.readLoop()
	s.realm.leave(s)
	s.q.Close()
	switch CloseReason(s.reason.Load()) {
	case CloseTransport, CloseWriteTimeout, ClosePingTimeout, CloseSlowConsumer:
		s.conn.Close() // nobody to flush to
	}
	<-s.writerDone
	s.conn.Close()
	s.finish()
}

func (s *session) finish() {
	cr := CloseReason(s.reason.Load())
	if cr == CloseNone {
		cr = CloseTransport
	}
	s.r.stats.closed[cr].Add(1)
	lvl := slog.LevelDebug
	switch cr {
	case CloseProtocolViolation, CloseSlowConsumer, CloseWriteTimeout, CloseHandshakeTimeout, CloseMessageTooBig:
		lvl = slog.LevelWarn
	}
	s.log.Log(context.Background(), lvl, "session closed", "reason", cr.String())
}

// join reads HELLO and answers WELCOME or ABORT. It returns true once the
// session is established and its writer is running.
func (s *session) join() bool {
	if s.codec == nil {
		s.closeNow(CloseJoinRefused)
		return false
	}
	b, err := s.conn.Read()
	if err != nil {
		if errors.Is(err, transports.ErrMessageTooBig) {
			s.r.stats.violations[ViolationTooBig].Add(1)
			s.abortJoin(wamp.ErrProtocolViolation, "message too big", CloseMessageTooBig)
			return false
		}
		s.setReason(readErrReason(err))
		return false
	}
	s.r.stats.msgsIn.Add(1)
	m, err := s.codec.Decode(b)
	if err != nil {
		s.r.stats.violations[decodeViolation(err)].Add(1)
		s.abortJoin(wamp.ErrProtocolViolation, err.Error(), CloseProtocolViolation)
		return false
	}
	hello, ok := m.(*wamp.Hello)
	if !ok {
		s.r.stats.violations[ViolationNotHello].Add(1)
		s.abortJoin(wamp.ErrProtocolViolation, fmt.Sprintf("expected HELLO, got %s", m.MessageType()), CloseProtocolViolation)
		return false
	}
	if s.info.Realm != "" {
		hello.Realm = s.info.Realm
	}
	rm := s.r.realm(hello.Realm)
	if rm == nil {
		s.abortJoin(wamp.ErrNoSuchRealm, fmt.Sprintf("no realm named %q on this router", hello.Realm), CloseJoinRefused)
		return false
	}
	if !hasClientRole(hello.Details) {
		s.r.stats.violations[ViolationInvalid].Add(1)
		s.abortJoin(wamp.ErrProtocolViolation, "HELLO.Details.roles must announce at least one of caller, callee, publisher, subscriber", CloseProtocolViolation)
		return false
	}
	pol := rm.policy.Load()
	if pol.maxSessions > 0 && rm.count() >= pol.maxSessions {
		s.abortJoin(ErrLimitExceeded, fmt.Sprintf("realm %s has reached its limit of %d sessions", rm.name, pol.maxSessions), CloseLimit)
		return false
	}
	// The session ID is reserved before authentication: WAMP-CRA binds its
	// challenge to the ID that WELCOME will carry.
	s.r.mu.Lock()
	if s.r.closing {
		s.r.mu.Unlock()
		s.abortJoin(wamp.CloseSystemShutdown, "router is shutting down", CloseShutdown)
		return false
	}
	s.id = s.r.newSessionIDLocked()
	s.r.ids[s.id] = s
	s.r.mu.Unlock()
	ident, ok := s.authenticate(hello, pol)
	if !ok {
		return false
	}
	s.realm = rm
	s.authid = ident.AuthID
	s.authrole = ident.AuthRole
	s.authmethod = ident.AuthMethod
	s.authprovider = ident.AuthProvider
	s.authextra = ident.AuthExtra
	s.maxIn = pol.maxMessage
	if pol.outQueue > 0 {
		s.q.SetLimit(pol.outQueue)
	}
	s.feat = features{
		calleeCancel:   wamp.HasFeature(hello.Details, "callee", "call_canceling"),
		calleeProgress: wamp.HasFeature(hello.Details, "callee", "progressive_call_results"),
		calleeInvProg:  wamp.HasFeature(hello.Details, "callee", "progressive_call_invocations"),
		calleePPT:      wamp.HasFeature(hello.Details, "callee", "payload_passthru_mode"),
	}

	s.log = s.log.With("session", uint64(s.id), "realm", rm.name)

	welcome := &wamp.Welcome{Session: s.id, Details: s.welcomeDetails()}
	wb, err := s.codec.Encode(welcome)
	if err == nil && s.tooBig(wb) {
		// A small device (512-byte receive limit on a serial line) gets a
		// compact WELCOME: its identity and the router roles without the
		// feature lists (serial framing rule 7).
		welcome.Details = s.compactWelcomeDetails()
		wb, err = s.codec.Encode(welcome)
		if err == nil && s.tooBig(wb) {
			err = fmt.Errorf("WELCOME of %d bytes exceeds the peer's limit of %d", len(wb), s.maxOut)
		}
	}
	if err != nil {
		s.log.Error("encode welcome", "err", err)
		s.setReason(CloseJoinRefused)
		return false
	}
	// WELCOME is the first message in the queue; the session becomes
	// visible to others only after it, so nothing can overtake it.
	s.q.Push(wb)
	// From here a router-initiated GOODBYE is queued behind WELCOME.
	s.welcomed.Store(true)
	// The session is in the realm (and on_join is out) before the peer can
	// see WELCOME, so whatever it does next finds it registered.
	rm.join(s)
	s.r.wg.Add(1)
	go s.writeLoop()
	s.log.Debug("session joined", "authid", s.authid, "authrole", s.authrole)
	return true
}

// methodPort is the authmethod of sessions whose identity comes from the
// transport (configured device ports); anonymousRole is the role of
// anonymous sessions in realms without an authenticator.
const (
	methodPort    = "port"
	anonymousRole = "anonymous"
)

// Error URIs of wampgate's own limits.
const (
	ErrLimitExceeded = "wampgate.error.limit_exceeded"
	ErrRateLimited   = "wampgate.error.rate_limited"
)

// authenticate runs the authentication exchange for hello. On failure it
// has answered ABORT and returns false.
func (s *session) authenticate(hello *wamp.Hello, pol *policy) (*auth.Identity, bool) {
	if s.info.AuthID != "" {
		return &auth.Identity{AuthID: s.info.AuthID, AuthRole: s.info.AuthRole, AuthMethod: methodPort, AuthProvider: "device"}, true
	}
	peer := ""
	if s.info.Remote != nil {
		peer = s.info.Remote.String()
	}
	if d := s.r.cfg.AuthLimiter.Delay(peer); d > 0 {
		// Slow down a peer that keeps failing. The handshake deadline still
		// applies: it closes the connection if the wait outlasts it.
		t := time.NewTimer(d)
		<-t.C
	}
	tr := auth.Transport{Peer: peer}
	if st := s.info.TLS; st != nil {
		tr.ChannelBinding = auth.ChannelBindings(st)
		if len(st.VerifiedChains) > 0 && len(st.VerifiedChains[0]) > 0 {
			tr.ClientCert = st.VerifiedChains[0][0]
		}
	}
	x, err := pol.authn.Begin(hello, s.id, tr)
	if err != nil {
		s.authFailed(err)
		return nil, false
	}
	ch := x.Challenge()
	if ch == nil {
		return x.Identity(), true
	}
	b, err := s.codec.Encode(ch)
	if err != nil {
		s.authFailed(err)
		return nil, false
	}
	if err := s.conn.Write([][]byte{b}); err != nil {
		s.setReason(writeErrReason(err))
		return nil, false
	}
	raw, err := s.conn.Read()
	if err != nil {
		s.setReason(readErrReason(err))
		return nil, false
	}
	s.r.stats.msgsIn.Add(1)
	m, err := s.codec.Decode(raw)
	if err != nil {
		s.r.stats.violations[ViolationInvalid].Add(1)
		s.abortJoin(wamp.ErrProtocolViolation, err.Error(), CloseProtocolViolation)
		return nil, false
	}
	switch m := m.(type) {
	case *wamp.Authenticate:
		id, err := x.Verify(m)
		if err != nil {
			s.authFailed(err)
			return nil, false
		}
		return id, true
	case *wamp.Abort:
		s.setReason(CloseAbort)
		return nil, false
	}
	s.r.stats.violations[ViolationUnexpected].Add(1)
	s.abortJoin(wamp.ErrProtocolViolation, fmt.Sprintf("expected AUTHENTICATE, got %s", m.MessageType()), CloseProtocolViolation)
	return nil, false
}

// authFailed answers a failed authentication with ABORT. The peer sees the
// error's public message only; details go to the log.
func (s *session) authFailed(err error) {
	s.r.stats.authFailures.Add(1)
	uri, msg, detail := wamp.ErrAuthenticationFailed, "authentication failed", err.Error()
	var ae *auth.Error
	if errors.As(err, &ae) {
		uri, msg, detail = ae.URI, ae.Message, ae.LogDetail
	}
	s.log.Info("authentication failed", "reason", uri, "detail", detail)
	s.abortJoin(uri, msg, CloseJoinRefused)
}

// bucket is a token bucket for per-session rate limits.
type bucket struct {
	tokens float64
	last   time.Time
}

// take reports whether one more action fits rate r now.
func (b *bucket) take(r Rate) bool {
	if r.PerSecond <= 0 {
		return true
	}
	now := time.Now()
	burst := float64(max(r.Burst, 1))
	if b.last.IsZero() {
		b.tokens = burst
	} else {
		b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*r.PerSecond)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func hasClientRole(details wamp.Dict) bool {
	for _, role := range []string{"caller", "callee", "publisher", "subscriber"} {
		if wamp.HasRole(details, role) {
			return true
		}
	}
	return false
}

// abortJoin answers a HELLO with ABORT, written directly because the writer
// goroutine does not run yet, and closes the connection.
func (s *session) abortJoin(reason, message string, cr CloseReason) {
	s.setReason(cr)
	if s.codec != nil {
		if b, err := s.codec.Encode(&wamp.Abort{Details: wamp.Dict{"message": message}, Reason: reason}); err == nil {
			_ = s.conn.Write([][]byte{b})
		}
	}
	s.log.Debug("join refused", "reason", reason, "message", message)
	s.conn.Close()
}

// writeLoop owns every write after WELCOME. It drains the queue in batches
// and exits when the queue is closed and empty, or on a write error.
func (s *session) writeLoop() {
	defer s.r.wg.Done()
	defer close(s.writerDone)
	defer s.conn.Close()
	var batch [][]byte
	for {
		var closed bool
		batch, closed = s.q.Pop(batch)
		if len(batch) == 0 {
			if closed {
				return
			}
			<-s.q.Ready()
			continue
		}
		n := 0
		for _, b := range batch {
			n += len(b)
		}
		if err := s.conn.Write(batch); err != nil {
			s.setReason(writeErrReason(err))
			s.q.Close()
			return
		}
		// Counted per batch, not per message, to keep shared cache lines
		// quiet on the fan-out path.
		s.r.stats.msgsOut.Add(uint64(len(batch)))
		s.r.stats.bytesOut.Add(uint64(n))
		clear(batch)
	}
}

// decodeViolation classifies a codec error: bytes the serializer cannot
// decode, or a decodable document that is not a valid WAMP message.
func decodeViolation(err error) ViolationReason {
	if errors.Is(err, codec.ErrMalformed) {
		return ViolationMalformed
	}
	return ViolationInvalid
}

func readErrReason(err error) CloseReason {
	switch {
	case errors.Is(err, transports.ErrMessageTooBig):
		return CloseMessageTooBig
	case errors.Is(err, transports.ErrPingTimeout):
		return ClosePingTimeout
	case errors.Is(err, transports.ErrProtocol):
		return CloseProtocolViolation
	}
	return CloseTransport
}

func writeErrReason(err error) CloseReason {
	if errors.Is(err, transports.ErrWriteTimeout) {
		return CloseWriteTimeout
	}
	return CloseTransport
}

// readLoop reads, decodes and routes messages until the session ends.
func (s *session) readLoop() {
	for {
		b, err := s.conn.Read()
		if err != nil {
			if errors.Is(err, transports.ErrMessageTooBig) {
				s.r.stats.violations[ViolationTooBig].Add(1)
				s.abort(wamp.ErrProtocolViolation, "message exceeds the receive limit", CloseMessageTooBig)
				return
			}
			if errors.Is(err, transports.ErrProtocol) {
				s.r.stats.violations[ViolationMalformed].Add(1)
			}
			s.setReason(readErrReason(err))
			return
		}
		s.r.stats.msgsIn.Add(1)
		if s.maxIn > 0 && len(b) > s.maxIn {
			s.r.stats.violations[ViolationTooBig].Add(1)
			s.abort(wamp.ErrProtocolViolation, fmt.Sprintf("message of %d bytes exceeds the realm's limit of %d", len(b), s.maxIn), CloseMessageTooBig)
			return
		}
		m, err := s.codec.Decode(b)
		if err != nil {
			s.violation(decodeViolation(err), err.Error())
			return
		}
		if s.shuttingDown.Load() {
			// After our GOODBYE only the peer's GOODBYE matters.
			if _, ok := m.(*wamp.Goodbye); ok {
				return
			}
			continue
		}
		if !s.handle(m) {
			return
		}
	}
}

// absURI applies the transport's URI prefix (see transports.Info.URIPrefix).
func (s *session) absURI(uri string) string {
	if s.info.URIPrefix == "" || uri == "" || strings.IndexByte(uri, '.') >= 0 {
		return uri
	}
	return s.info.URIPrefix + uri
}

// handle routes one message; false ends the session.
func (s *session) handle(m wamp.Message) bool {
	if s.info.URIPrefix != "" {
		switch m := m.(type) {
		case *wamp.Publish:
			m.Topic = s.absURI(m.Topic)
		case *wamp.Subscribe:
			m.Topic = s.absURI(m.Topic)
		case *wamp.Call:
			m.Procedure = s.absURI(m.Procedure)
		case *wamp.Register:
			m.Procedure = s.absURI(m.Procedure)
		}
	}
	switch m := m.(type) {
	case *wamp.Publish:
		s.realm.handlePublish(s, m)
	case *wamp.Subscribe:
		s.realm.handleSubscribe(s, m)
	case *wamp.Unsubscribe:
		s.realm.handleUnsubscribe(s, m)
	case *wamp.Call:
		s.realm.handleCall(s, m)
	case *wamp.Yield:
		s.realm.handleYield(s, m)
	case *wamp.Cancel:
		s.realm.handleCancel(s, m)
	case *wamp.Register:
		s.realm.handleRegister(s, m)
	case *wamp.Unregister:
		s.realm.handleUnregister(s, m)
	case *wamp.Error:
		if m.RequestType != wamp.TypeInvocation {
			s.violation(ViolationBadErrorType, fmt.Sprintf("ERROR from a client must answer INVOCATION, not request type %d", m.RequestType))
			return false
		}
		s.realm.handleInvocationError(s, m)
	case *wamp.Goodbye:
		s.setReason(CloseGoodbye)
		s.send(&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseGoodbyeAndOut})
		return false
	case *wamp.Abort:
		s.setReason(CloseAbort)
		return false
	default:
		s.violation(ViolationUnexpected, fmt.Sprintf("%s is not allowed from a client after WELCOME", m.MessageType()))
		return false
	}
	return true
}

// violation counts a protocol violation and aborts the session.
func (s *session) violation(v ViolationReason, message string) {
	s.r.stats.violations[v].Add(1)
	s.abort(wamp.ErrProtocolViolation, message, CloseProtocolViolation)
}

// abort queues ABORT; the session ends when the reader returns.
func (s *session) abort(reason, message string, cr CloseReason) {
	s.setReason(cr)
	s.log.Debug("aborting session", "reason", reason, "message", message)
	s.send(&wamp.Abort{Details: wamp.Dict{"message": message}, Reason: reason})
}

// shutdown starts a router-initiated close: GOODBYE now, then wait for the
// peer's GOODBYE for at most the goodbye timeout.
func (s *session) shutdown(reason, message string, cr CloseReason) {
	if !s.welcomed.Load() {
		s.closeNow(cr)
		return
	}
	if !s.shuttingDown.CompareAndSwap(false, true) {
		return
	}
	s.setReason(cr)
	d := wamp.Dict{}
	if message != "" {
		d["message"] = message
	}
	s.send(&wamp.Goodbye{Details: d, Reason: reason})
	// Closing an already closed connection is harmless, so the timer is
	// left to fire even when the peer answers in time.
	time.AfterFunc(s.r.cfg.GoodbyeTimeout, func() { s.conn.Close() })
}

// send encodes m for this session and queues it. It reports false when the
// message could not be queued (too big for the peer, encode failure, or the
// session is closing); the caller decides whether that needs an answer.
func (s *session) send(m wamp.Message) bool {
	b, err := s.codec.Encode(m)
	if err != nil {
		s.r.stats.drops[DropEncode].Add(1)
		s.log.Warn("cannot encode message", "type", m.MessageType().String(), "err", err)
		return false
	}
	if s.maxOut > 0 && len(b) > s.maxOut {
		s.r.stats.drops[DropTooBigForPeer].Add(1)
		return false
	}
	return s.push(b)
}

// tooBig reports whether b exceeds the peer's receive limit.
func (s *session) tooBig(b []byte) bool { return s.maxOut > 0 && len(b) > s.maxOut }

// push queues encoded bytes. A full queue closes the session as a slow
// consumer: its reader then fails everything pending on it.
func (s *session) push(b []byte) bool {
	switch s.q.Push(b) {
	case outq.Queued:
		return true
	case outq.Full:
		if s.reason.Load() == uint32(CloseNone) {
			s.log.Warn("closing slow consumer", "queued_bytes", s.q.Len())
		}
		s.closeNow(CloseSlowConsumer)
		s.q.Close()
	}
	s.r.stats.drops[DropSessionClosed].Add(1)
	return false
}

// compactWelcomeDetails is the WELCOME for peers with a tiny receive limit.
func (s *session) compactWelcomeDetails() wamp.Dict {
	return wamp.Dict{
		"authid":     s.authid,
		"authrole":   s.authrole,
		"authmethod": s.authmethod,
		"roles": wamp.Dict{
			"broker": wamp.Dict{"features": wamp.Dict{}},
			"dealer": wamp.Dict{"features": wamp.Dict{"progressive_call_results": true, "call_canceling": true}},
		},
	}
}

// welcomeDetails lists the router roles with exactly the features that work.
func (s *session) welcomeDetails() wamp.Dict {
	d := wamp.Dict{
		"realm":        s.realm.name,
		"agent":        s.r.cfg.Agent,
		"authid":       s.authid,
		"authrole":     s.authrole,
		"authmethod":   s.authmethod,
		"authprovider": s.authprovider,
		"roles": wamp.Dict{
			"broker": wamp.Dict{"features": wamp.Dict{
				"publisher_exclusion":           true,
				"publisher_identification":      true,
				"subscriber_blackwhite_listing": true,
				"pattern_based_subscription":    true,
				"session_meta_api":              true,
				"subscription_meta_api":         true,
				"event_retention":               true,
				"payload_passthru_mode":         true,
			}},
			"dealer": wamp.Dict{"features": wamp.Dict{
				"caller_identification":        true,
				"call_canceling":               true,
				"call_timeout":                 true,
				"progressive_call_results":     true,
				"pattern_based_registration":   true,
				"shared_registration":          true,
				"session_meta_api":             true,
				"registration_meta_api":        true,
				"testament_meta_api":           true,
				"progressive_call_invocations": true,
				"payload_passthru_mode":        true,
			}},
		},
	}
	if len(s.authextra) > 0 {
		d["authextra"] = s.authextra
	}
	return d
}
