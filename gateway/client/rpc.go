package client

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// Options shared by every CANCEL and progressive YIELD; codecs only read
// them. (Nil Options and Details go out as {}.)
var (
	cancelOptions   = wamp.Dict{"mode": "killnowait"}
	progressOptions = wamp.Dict{"progress": true}
)

// Result is the outcome of a call: the payload and details of RESULT, or
// what an invocation handler returns to be sent as YIELD.
type Result struct {
	Args    wamp.List
	Kwargs  wamp.Dict
	Details wamp.Dict
}

// Call calls procedure and waits for the RESULT. opts are CALL.Options
// (e.g. {"timeout": 5000, "disclose_me": true}). A router or callee ERROR
// is returned as an *Error. When ctx ends first, the call is cancelled with
// CANCEL mode killnowait (if the router announced call_canceling) and an
// error wrapping ctx.Err() is returned.
func (s *Session) Call(ctx context.Context, procedure string, args wamp.List, kwargs wamp.Dict, opts wamp.Dict) (*Result, error) {
	return s.call(ctx, procedure, args, kwargs, opts, nil)
}

// CallProgress is Call with progressive results: it sets
// receive_progress and calls onProgress for every progressive RESULT, in
// order, from the calling goroutine, before returning the final result.
// Progressive results wait in an unbounded queue while onProgress runs.
func (s *Session) CallProgress(ctx context.Context, procedure string, args wamp.List, kwargs wamp.Dict, opts wamp.Dict, onProgress func(*Result)) (*Result, error) {
	if onProgress == nil {
		return s.call(ctx, procedure, args, kwargs, opts, nil)
	}
	o := make(wamp.Dict, len(opts)+1)
	maps.Copy(o, opts)
	o["receive_progress"] = true
	return s.call(ctx, procedure, args, kwargs, o, onProgress)
}

func (s *Session) call(ctx context.Context, procedure string, args wamp.List, kwargs wamp.Dict, opts wamp.Dict, onProgress func(*Result)) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrapOp("call "+procedure, err)
	}
	r := newRequest(wamp.TypeCall)
	if onProgress != nil {
		r.progress = &progressQueue{fn: onProgress, notify: make(chan struct{}, 1)}
	}
	m := &wamp.Call{Options: opts, Procedure: procedure, Payload: wamp.Payload{Args: args, Kwargs: kwargs}}
	if err := s.sendRequest(r, m); err != nil {
		return nil, wrapOp("call "+procedure, err)
	}
	reply, err := s.wait(ctx, r)
	if err != nil {
		if !errors.Is(err, ErrClosed) && s.canCancel {
			// The reader discards the router's ERROR canceled.
			_ = s.send(&wamp.Cancel{Request: r.id, Options: cancelOptions})
		}
		return nil, wrapOp("call "+procedure, err)
	}
	switch reply := reply.(type) {
	case *wamp.Result:
		return &Result{Args: reply.Args, Kwargs: reply.Kwargs, Details: reply.Details}, nil
	case *wamp.Error:
		return nil, errorFromMessage(reply.Error, reply.Details, &reply.Payload)
	}
	return nil, fmt.Errorf("client: call %s: %w: unexpected %s", procedure, ErrProtocolViolation, reply.MessageType())
}

// progressQueue carries progressive results from the reader to the caller.
type progressQueue struct {
	fn     func(*Result)
	mu     sync.Mutex
	items  []*Result // guarded by mu
	notify chan struct{}
}

func (q *progressQueue) push(r *Result) {
	q.mu.Lock()
	q.items = append(q.items, r)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// drain calls fn for every queued result. q may be nil.
func (q *progressQueue) drain() {
	if q == nil {
		return
	}
	for {
		q.mu.Lock()
		items := q.items
		q.items = nil
		q.mu.Unlock()
		if len(items) == 0 {
			return
		}
		for _, r := range items {
			q.fn(r)
		}
	}
}

// Handler answers an invocation. Return a *Result (nil for an empty YIELD)
// or an error: an *Error is sent as ERROR with its URI, arguments and
// details; any other error as wamp.error.runtime_error with the error text
// as the only argument. ctx is cancelled by INTERRUPT (context.Cause is
// ErrInterrupted) and when the session ends.
type Handler func(ctx context.Context, inv *Invocation) (*Result, error)

// Registration is a handle returned by Register.
type Registration struct {
	s         *Session
	id        wamp.ID // set by the reader before Register returns
	procedure string
	handler   Handler
	active    atomic.Bool
}

// ID returns the router's registration ID.
func (reg *Registration) ID() wamp.ID { return reg.id }

// Procedure returns the procedure (or pattern) registered.
func (reg *Registration) Procedure() string { return reg.procedure }

// Invocation is one INVOCATION handed to a Handler.
type Invocation struct {
	Args    wamp.List
	Kwargs  wamp.Dict
	Details wamp.Dict
	// Procedure is Details.procedure when the router sent it (pattern
	// registrations), else the registered procedure.
	Procedure    string
	Registration wamp.ID

	s               *Session
	request         wamp.ID
	receiveProgress bool
	ctx             context.Context
	cancel          context.CancelCauseFunc

	mu            sync.Mutex
	finished      bool   // guarded by mu: the final YIELD/ERROR is decided
	interruptMode string // guarded by mu: INTERRUPT mode, "" if none
}

// ReceiveProgress reports whether the caller asked for progressive results.
func (inv *Invocation) ReceiveProgress() bool { return inv.receiveProgress }

// Progress sends a progressive result (YIELD with progress=true). It does
// nothing and returns nil when the caller did not ask for progressive
// results. It fails once the handler has returned or its context is done.
func (inv *Invocation) Progress(args wamp.List, kwargs wamp.Dict) error {
	if !inv.receiveProgress {
		return nil
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.finished {
		return ErrInvocationDone
	}
	if inv.ctx.Err() != nil {
		return fmt.Errorf("client: progress: %w", context.Cause(inv.ctx))
	}
	return inv.s.send(&wamp.Yield{
		Request: inv.request,
		Options: progressOptions,
		Payload: wamp.Payload{Args: args, Kwargs: kwargs},
	})
}

// Register registers h for procedure. opts are REGISTER.Options, e.g.
// {"match": "prefix", "invoke": "roundrobin"}. Every invocation runs h in a
// goroutine of its own. A router ERROR is returned as an *Error.
func (s *Session) Register(ctx context.Context, procedure string, opts wamp.Dict, h Handler) (*Registration, error) {
	if h == nil {
		return nil, errors.New("client: register: nil handler")
	}
	if err := ctx.Err(); err != nil {
		return nil, wrapOp("register "+procedure, err)
	}
	reg := &Registration{s: s, procedure: procedure, handler: h}
	r := newRequest(wamp.TypeRegister)
	r.reg = reg
	reply, err := s.roundTrip(ctx, r, &wamp.Register{Options: opts, Procedure: procedure})
	if err != nil {
		return nil, wrapOp("register "+procedure, err)
	}
	if e, ok := reply.(*wamp.Error); ok {
		return nil, errorFromMessage(e.Error, e.Details, &e.Payload)
	}
	return reg, nil
}

// Unregister removes the registration locally at once (new invocations
// get ERROR wamp.error.no_such_registration), then sends UNREGISTER and
// waits for the reply. Running handlers are not cancelled. Calling it again
// returns nil.
func (reg *Registration) Unregister(ctx context.Context) error {
	s := reg.s
	s.mu.Lock()
	if !reg.active.Swap(false) {
		s.mu.Unlock()
		return nil
	}
	if s.regs[reg.id] == reg {
		delete(s.regs, reg.id)
	}
	s.mu.Unlock()
	reply, err := s.roundTrip(ctx, newRequest(wamp.TypeUnregister), &wamp.Unregister{Registration: reg.id})
	if err != nil {
		return wrapOp("unregister "+reg.procedure, err)
	}
	if e, ok := reply.(*wamp.Error); ok {
		return errorFromMessage(e.Error, e.Details, &e.Payload)
	}
	return nil
}

// handleRegistered installs the registration before the reply is
// delivered, so that an INVOCATION right behind REGISTERED finds it.
func (s *Session) handleRegistered(m *wamp.Registered) {
	s.mu.Lock()
	r := s.takeLocked(m.Request, wamp.TypeRegister, m.MessageType())
	if r == nil {
		s.mu.Unlock()
		return
	}
	if !r.abandoned {
		r.reg.id = m.Registration
		r.reg.active.Store(true)
		s.regs[m.Registration] = r.reg
		r.final <- m
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	// Nobody waits for this registration: undo it, ignoring the reply.
	u := newRequest(wamp.TypeUnregister)
	u.abandoned = true
	_ = s.sendRequest(u, &wamp.Unregister{Registration: m.Registration})
}

func (s *Session) handleRegistrationRevoked(m *wamp.Unregistered) {
	id, _ := wamp.AsUint(m.Details["registration"])
	s.mu.Lock()
	reg := s.regs[wamp.ID(id)]
	delete(s.regs, wamp.ID(id))
	s.mu.Unlock()
	if reg != nil {
		reg.active.Store(false)
	}
	s.log.Info("registration revoked by router", "registration", id, "reason", wamp.OptString(m.Details, "reason", ""))
}

func (s *Session) handleInvocation(m *wamp.Invocation) {
	s.mu.Lock()
	reg := s.regs[m.Registration]
	if s.closed {
		s.mu.Unlock()
		return
	}
	if reg == nil {
		s.mu.Unlock()
		s.log.Warn("invocation for unknown registration", "registration", uint64(m.Registration))
		_ = s.send(&wamp.Error{
			RequestType: wamp.TypeInvocation, Request: m.Request,
			Error: wamp.ErrNoSuchRegistration,
		})
		return
	}
	ctx, cancel := context.WithCancelCause(s.ctx)
	inv := &Invocation{
		Args:            m.Args,
		Kwargs:          m.Kwargs,
		Details:         m.Details,
		Procedure:       wamp.OptString(m.Details, "procedure", reg.procedure),
		Registration:    m.Registration,
		s:               s,
		request:         m.Request,
		receiveProgress: wamp.OptBool(m.Details, "receive_progress", false),
		ctx:             ctx,
		cancel:          cancel,
	}
	s.invocations[m.Request] = inv
	s.mu.Unlock()
	s.wg.Add(1)
	go s.runInvocation(reg.handler, inv)
}

func (s *Session) handleInterrupt(m *wamp.Interrupt) {
	s.mu.Lock()
	inv := s.invocations[m.Request]
	s.mu.Unlock()
	if inv == nil {
		s.log.Debug("ignoring INTERRUPT for unknown invocation", "request", uint64(m.Request))
		return
	}
	inv.mu.Lock()
	// Without a mode the router may still wait for an answer, so only an
	// explicit killnowait suppresses it.
	inv.interruptMode = wamp.OptString(m.Options, "mode", "kill")
	inv.mu.Unlock()
	inv.cancel(ErrInterrupted)
}

func (s *Session) runInvocation(h Handler, inv *Invocation) {
	defer s.wg.Done()
	defer inv.cancel(nil)
	res, err := callHandler(h, inv)

	s.mu.Lock()
	delete(s.invocations, inv.request)
	s.mu.Unlock()
	inv.mu.Lock()
	inv.finished = true
	mode := inv.interruptMode
	inv.mu.Unlock()

	if s.isEnded() || mode == "killnowait" {
		return // nobody listens any more
	}
	reply := invocationReply(inv, res, err, mode != "")
	if err := s.send(reply); err != nil && errors.Is(err, errEncode) {
		s.log.Warn("cannot encode invocation reply", "uri", inv.Procedure, "reason", err.Error())
		_ = s.send(&wamp.Error{
			RequestType: wamp.TypeInvocation, Request: inv.request,
			Error: wamp.ErrRuntimeError, Payload: wamp.Payload{Args: wamp.List{err.Error()}},
		})
	}
}

func callHandler(h Handler, inv *Invocation) (res *Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			inv.s.log.Error("invocation handler panicked", "uri", inv.Procedure, "panic", fmt.Sprint(p))
			res, err = nil, fmt.Errorf("client: handler panicked: %v", p)
		}
	}()
	return h(inv.ctx, inv)
}

// invocationReply builds the YIELD or ERROR answering inv.
func invocationReply(inv *Invocation, res *Result, err error, interrupted bool) wamp.Message {
	if err == nil {
		y := &wamp.Yield{Request: inv.request}
		if res != nil {
			y.Args, y.Kwargs = res.Args, res.Kwargs
		}
		return y
	}
	e := &wamp.Error{RequestType: wamp.TypeInvocation, Request: inv.request}
	var we *Error
	switch {
	case errors.As(err, &we):
		e.Error, e.Args, e.Kwargs = we.URI, we.Args, we.Kwargs
		e.Details = we.Details
	case interrupted && errors.Is(err, context.Canceled):
		e.Error = wamp.ErrCanceled
	default:
		e.Error = wamp.ErrRuntimeError
		e.Args = wamp.List{err.Error()}
	}
	return e
}
