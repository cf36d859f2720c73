package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/gateway/wamp/codec"
	"github.com/wampgate/wampgate/transports"
)

// Session is a joined WAMP session. All methods are safe for concurrent use.
//
// Lock order: wmu → mu → leaf locks (eventQueue.mu, progressQueue.mu,
// Invocation.mu). The reader never holds mu while writing.
type Session struct {
	// Immutable after newSession.
	conn      transports.Conn
	codec     codec.Codec
	log       *slog.Logger
	id        wamp.ID
	details   wamp.Dict
	realm     string
	canCancel bool            // router announced dealer.call_canceling
	ctx       context.Context // cancelled when the session ends
	cancel    context.CancelCauseFunc
	ended     chan struct{} // closed by end
	done      chan struct{} // closed by readLoop once every goroutine returned
	events    eventQueue
	dropped   atomic.Uint64

	wmu    sync.Mutex
	lastID wamp.ID   // guarded by wmu: last session-scope request ID sent
	wbuf   [1][]byte // guarded by wmu

	mu          sync.Mutex
	closed      bool                        // guarded by mu
	err         error                       // guarded by mu: why the session ended
	leaving     bool                        // guarded by mu: GOODBYE sent by us
	pending     map[wamp.ID]*request        // guarded by mu
	subs        map[wamp.ID][]*Subscription // guarded by mu; slices are copy-on-write
	regs        map[wamp.ID]*Registration   // guarded by mu
	invocations map[wamp.ID]*Invocation     // guarded by mu

	// wg counts the dispatcher and invocation goroutines. Add is only
	// called by newSession and readLoop, Wait only by readLoop.
	wg sync.WaitGroup
}

// request is one outstanding client request awaiting its reply.
type request struct {
	id  wamp.ID
	typ wamp.MessageType
	// final receives the terminating reply (RESULT, ERROR, PUBLISHED, ...).
	// It is written at most once, by the reader, while holding Session.mu.
	final chan wamp.Message
	// abandoned: the requester stopped waiting (ctx done). Guarded by
	// Session.mu.
	abandoned bool
	sub       *Subscription  // SUBSCRIBE: installed by the reader on SUBSCRIBED
	reg       *Registration  // REGISTER: installed by the reader on REGISTERED
	progress  *progressQueue // CALL with receive_progress
}

func newRequest(t wamp.MessageType) *request {
	return &request{typ: t, final: make(chan wamp.Message, 1)}
}

func newSession(conn transports.Conn, cd codec.Codec, w *wamp.Welcome, realm string, opts *Options) *Session {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	qsize := opts.EventQueueSize
	if qsize <= 0 {
		qsize = DefaultEventQueueSize
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	s := &Session{
		conn:        conn,
		codec:       cd,
		log:         log.With("session", uint64(w.Session), "realm", realm),
		id:          w.Session,
		details:     w.Details,
		realm:       realm,
		canCancel:   wamp.HasFeature(w.Details, "dealer", "call_canceling"),
		ctx:         ctx,
		cancel:      cancel,
		ended:       make(chan struct{}),
		done:        make(chan struct{}),
		pending:     make(map[wamp.ID]*request),
		subs:        make(map[wamp.ID][]*Subscription),
		regs:        make(map[wamp.ID]*Registration),
		invocations: make(map[wamp.ID]*Invocation),
	}
	s.events.init(qsize)
	s.wg.Add(1)
	go s.dispatchLoop()
	go s.readLoop()
	return s
}

// ID returns the session ID from WELCOME.
func (s *Session) ID() wamp.ID { return s.id }

// Realm returns the realm joined.
func (s *Session) Realm() string { return s.realm }

// Details returns WELCOME.Details (router roles and features, authid,
// authrole, ...). The caller must not modify it.
func (s *Session) Details() wamp.Dict { return s.details }

// Done is closed when the session has ended and its reader, event
// dispatcher and invocation handlers have all returned.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err reports why the session ended, nil while it runs: ErrClosed after
// Close or Leave, a *GoodbyeError after a router GOODBYE, an *Error after an
// ABORT, or an error wrapping ErrConnectionLost or ErrProtocolViolation.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// DroppedEvents returns how many EVENTs were dropped because the event
// queue was full.
func (s *Session) DroppedEvents() uint64 { return s.dropped.Load() }

// Close ends the session at once, without the GOODBYE handshake (see Leave),
// and closes the connection. Pending requests fail with ErrClosed. It does
// not wait for handlers; wait on Done for that. Close is idempotent.
func (s *Session) Close() error {
	s.end(ErrClosed)
	return nil
}

// Leave says GOODBYE with reason (wamp.close.close_realm when empty), waits
// for the router's GOODBYE until ctx is done, then closes the connection.
func (s *Session) Leave(ctx context.Context, reason string) error {
	if reason == "" {
		reason = wamp.CloseRealm
	}
	s.mu.Lock()
	if s.closed {
		err := s.err
		s.mu.Unlock()
		return closedError(err)
	}
	s.leaving = true
	s.mu.Unlock()
	// A failed write ends the session; Err then says why. (A write may
	// also fail after the router's GOODBYE already arrived and closed the
	// connection, which is a successful leave.)
	_ = s.send(&wamp.Goodbye{Reason: reason})
	select {
	case <-s.ended:
	case <-ctx.Done():
		s.end(ErrClosed)
		return wrapOp("leave", ctx.Err())
	}
	if err := s.Err(); !errors.Is(err, ErrClosed) {
		return wrapOp("leave", closedError(err))
	}
	return nil
}

// end records cause, fails every pending request, cancels handler contexts
// and closes the connection. Only the first call has an effect.
func (s *Session) end(cause error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.err = cause
	s.pending = nil
	s.mu.Unlock()
	close(s.ended)
	s.cancel(closedError(cause))
	_ = s.conn.Close()
	if errors.Is(cause, ErrClosed) {
		s.log.Debug("session closed")
	} else {
		s.log.Info("session ended", "reason", cause.Error())
	}
}

func (s *Session) isEnded() bool {
	select {
	case <-s.ended:
		return true
	default:
		return false
	}
}

// errEncode marks a message the codec could not encode (a value outside the
// value model in a payload); the session stays usable.
var errEncode = errors.New("client: cannot encode message")

// send writes one message that carries no new request ID.
func (s *Session) send(m wamp.Message) error {
	data, err := s.codec.Encode(m)
	if err != nil {
		return fmt.Errorf("%w %s: %w", errEncode, m.MessageType(), err)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.isEnded() {
		return closedError(s.Err())
	}
	return s.writeLocked(data)
}

// sendRequest assigns the next session-scope request ID to m, registers r
// (if not nil) as pending under that ID and writes m. The ID is taken and
// the message written under wmu, so IDs reach the router in order and
// without gaps.
func (s *Session) sendRequest(r *request, m wamp.Message) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	id := s.lastID + 1
	if id > wamp.MaxID {
		id = 1
	}
	setRequestID(m, id)
	data, err := s.codec.Encode(m)
	if err != nil {
		return fmt.Errorf("%w %s: %w", errEncode, m.MessageType(), err)
	}
	s.mu.Lock()
	if s.closed {
		err := s.err
		s.mu.Unlock()
		return closedError(err)
	}
	if r != nil {
		r.id = id
		s.pending[id] = r
	}
	s.mu.Unlock()
	s.lastID = id
	return s.writeLocked(data)
}

func setRequestID(m wamp.Message, id wamp.ID) {
	switch m := m.(type) {
	case *wamp.Call:
		m.Request = id
	case *wamp.Publish:
		m.Request = id
	case *wamp.Subscribe:
		m.Request = id
	case *wamp.Unsubscribe:
		m.Request = id
	case *wamp.Register:
		m.Request = id
	case *wamp.Unregister:
		m.Request = id
	}
}

// writeLocked writes one encoded message; the caller holds wmu. A write
// error ends the session.
func (s *Session) writeLocked(data []byte) error {
	s.wbuf[0] = data
	err := s.conn.Write(s.wbuf[:])
	s.wbuf[0] = nil
	if err != nil {
		s.end(fmt.Errorf("%w: write: %w", ErrConnectionLost, err))
		return closedError(s.Err())
	}
	return nil
}

// wait blocks until r gets its final reply, the session ends or ctx is done.
// Progressive results are handed to r.progress on the way. When ctx ends
// first, r is marked abandoned so the reader discards its reply, and
// ctx.Err() is returned.
func (s *Session) wait(ctx context.Context, r *request) (wamp.Message, error) {
	var notify <-chan struct{}
	if r.progress != nil {
		notify = r.progress.notify
	}
	for {
		select {
		case m := <-r.final:
			r.progress.drain()
			return m, nil
		case <-notify:
			r.progress.drain()
		case <-s.ended:
			return s.finalOrClosed(r)
		case <-ctx.Done():
			if s.abandon(r) {
				return nil, ctx.Err()
			}
			// The reply or the end of the session won the race.
			return s.finalOrClosed(r)
		}
	}
}

// finalOrClosed returns the final reply if the reader delivered it before
// the session ended, else the closed error.
func (s *Session) finalOrClosed(r *request) (wamp.Message, error) {
	select {
	case m := <-r.final:
		r.progress.drain()
		return m, nil
	default:
		return nil, closedError(s.Err())
	}
}

// abandon marks r abandoned if it is still pending. It returns false if
// the reader already delivered the final reply or the session ended.
func (s *Session) abandon(r *request) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending[r.id] != r {
		return false
	}
	r.abandoned = true
	return true
}

// readLoop reads and routes messages until the connection fails or the
// session ends, then waits for the other goroutines and closes done.
func (s *Session) readLoop() {
	defer func() {
		s.wg.Wait()
		close(s.done)
	}()
	for {
		data, err := s.conn.Read()
		if err != nil {
			s.end(fmt.Errorf("%w: read: %w", ErrConnectionLost, err))
			return
		}
		if s.isEnded() {
			return
		}
		m, err := s.codec.Decode(data)
		if err != nil {
			_ = s.send(&wamp.Abort{Details: wamp.Dict{"message": err.Error()}, Reason: wamp.ErrProtocolViolation})
			s.end(fmt.Errorf("%w: %w", ErrProtocolViolation, err))
			return
		}
		s.handle(m)
	}
}

func (s *Session) handle(m wamp.Message) {
	switch m := m.(type) {
	case *wamp.Result:
		s.handleResult(m)
	case *wamp.Error:
		s.reply(m.Request, m.RequestType, m)
	case *wamp.Published:
		s.reply(m.Request, wamp.TypePublish, m)
	case *wamp.Subscribed:
		s.handleSubscribed(m)
	case *wamp.Unsubscribed:
		if m.Request == 0 {
			s.handleSubscriptionRevoked(m)
			return
		}
		s.reply(m.Request, wamp.TypeUnsubscribe, m)
	case *wamp.Registered:
		s.handleRegistered(m)
	case *wamp.Unregistered:
		if m.Request == 0 {
			s.handleRegistrationRevoked(m)
			return
		}
		s.reply(m.Request, wamp.TypeUnregister, m)
	case *wamp.Event:
		s.handleEvent(m)
	case *wamp.Invocation:
		s.handleInvocation(m)
	case *wamp.Interrupt:
		s.handleInterrupt(m)
	case *wamp.Goodbye:
		s.handleGoodbye(m)
	case *wamp.Abort:
		s.end(errorFromMessage(m.Reason, m.Details, &m.Payload))
	default:
		s.log.Warn("ignoring unexpected message", "type", m.MessageType().String())
	}
}

// takeLocked removes and returns the pending request id if it expects a
// reply to a request of type t. The caller holds mu.
func (s *Session) takeLocked(id wamp.ID, t wamp.MessageType, got wamp.MessageType) *request {
	r := s.pending[id]
	if r == nil || r.typ != t {
		s.log.Warn("ignoring reply for unknown request", "type", got.String(), "request", uint64(id))
		return nil
	}
	delete(s.pending, id)
	return r
}

// reply delivers a terminating reply to a request of type t.
func (s *Session) reply(id wamp.ID, t wamp.MessageType, m wamp.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.takeLocked(id, t, m.MessageType()); r != nil && !r.abandoned {
		r.final <- m
	}
}

func (s *Session) handleResult(m *wamp.Result) {
	if !wamp.OptBool(m.Details, "progress", false) {
		s.reply(m.Request, wamp.TypeCall, m)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.pending[m.Request]
	switch {
	case r == nil || r.typ != wamp.TypeCall:
		s.log.Warn("ignoring progressive RESULT for unknown call", "request", uint64(m.Request))
	case r.abandoned:
	case r.progress == nil:
		s.log.Warn("ignoring progressive RESULT for a call that did not ask for progress", "request", uint64(m.Request))
	default:
		r.progress.push(&Result{Args: m.Args, Kwargs: m.Kwargs, Details: m.Details})
	}
}

func (s *Session) handleGoodbye(m *wamp.Goodbye) {
	s.mu.Lock()
	leaving := s.leaving
	s.mu.Unlock()
	if leaving {
		// The router's answer to our GOODBYE.
		s.end(ErrClosed)
		return
	}
	_ = s.send(&wamp.Goodbye{Reason: wamp.CloseGoodbyeAndOut})
	s.end(&GoodbyeError{Reason: m.Reason, Details: m.Details})
}

// sessionEndedError is closedError's result: it wraps ErrClosed and the
// reason the session ended.
type sessionEndedError struct{ cause error }

func (e *sessionEndedError) Error() string {
	return ErrClosed.Error() + ": " + strings.TrimPrefix(e.cause.Error(), "client: ")
}

func (e *sessionEndedError) Unwrap() []error { return []error{ErrClosed, e.cause} }
