package gateway

import (
	"errors"
	"time"

	"github.com/wampgate/wampgate/gateway/auth"
	"github.com/wampgate/wampgate/gateway/dealer"
	"github.com/wampgate/wampgate/gateway/wamp"
)

// Cancel modes (CANCEL Options.mode).
const (
	cancelSkip       = "skip"
	cancelKill       = "kill"
	cancelKillNoWait = "killnowait"
)

// pendingCall is a CALL routed to a callee and not answered yet. All fields
// are guarded by realm.callsMu.
type pendingCall struct {
	caller      *session
	callReq     wamp.ID
	callee      *session
	invReq      wamp.ID
	progress    bool          // caller asked for progressive results and the callee can send them
	timeout     time.Duration // router-enforced timeout between results, 0 = none
	timer       *time.Timer
	interrupted bool // kill mode: INTERRUPT sent, the callee's answer still goes to the caller
	streaming   bool // progressive call invocation: more CALL chunks may follow
	reg         wamp.ID
}

// pptKeys are the payload passthru options copied from CALL/PUBLISH/YIELD/
// ERROR into the Details of what the router forwards.
var pptKeys = [...]string{"ppt_scheme", "ppt_serializer", "ppt_cipher", "ppt_keyid"}

// copyPPT copies ppt_* keys from opts into details (allocating it if
// needed) and reports whether the message uses payload passthru.
func copyPPT(opts wamp.Dict, details *wamp.Dict) bool {
	used := false
	for _, k := range pptKeys {
		if v, ok := opts[k]; ok {
			if len(*details) == 0 {
				*details = wamp.Dict{}
			}
			(*details)[k] = v
			used = true
		}
	}
	return used
}

func (rm *realm) handleRegister(s *session, m *wamp.Register) {
	match := wamp.OptString(m.Options, "match", wamp.MatchExact)
	invoke := wamp.OptString(m.Options, "invoke", dealer.InvokeSingle)
	switch match {
	case wamp.MatchExact, wamp.MatchPrefix, wamp.MatchWildcard:
	default:
		replyError(s, wamp.TypeRegister, m.Request, wamp.ErrInvalidArgument, "unknown match policy "+match)
		return
	}
	if !dealer.ValidInvoke(invoke) {
		replyError(s, wamp.TypeRegister, m.Request, wamp.ErrInvalidArgument, "unknown invocation policy "+invoke)
		return
	}
	if !rm.validURI(m.Procedure, match) {
		replyError(s, wamp.TypeRegister, m.Request, wamp.ErrInvalidURI, "invalid procedure URI "+m.Procedure)
		return
	}
	if !rm.allowed(s, auth.ActionRegister, m.Procedure) {
		replyError(s, wamp.TypeRegister, m.Request, wamp.ErrNotAuthorized, "role "+s.authrole+" may not register "+m.Procedure)
		return
	}
	if wamp.Reserved(m.Procedure) {
		replyError(s, wamp.TypeRegister, m.Request, wamp.ErrInvalidURI, "procedures under wamp. are reserved for the router")
		return
	}
	reg, created, err := rm.dealer.Register(s, m.Procedure, match, invoke)
	if err != nil {
		msg := "procedure " + m.Procedure + " is already registered"
		if errors.Is(err, dealer.ErrPolicyConflict) {
			msg = "procedure " + m.Procedure + " is registered with a different invocation policy"
		}
		replyError(s, wamp.TypeRegister, m.Request, wamp.ErrProcedureAlreadyExists, msg)
		return
	}
	if wamp.OptBool(m.Options, "disclose_caller", false) {
		reg.DiscloseCaller.Store(true)
	}
	s.send(&wamp.Registered{Request: m.Request, Registration: reg.ID})
	if created {
		rm.publishMeta(metaRegOnCreate, wamp.List{int64(s.id), registrationDetails(reg)})
	}
	rm.publishMeta(metaRegOnRegister, wamp.List{int64(s.id), int64(reg.ID)})
}

func (rm *realm) handleUnregister(s *session, m *wamp.Unregister) {
	reg, deleted, err := rm.dealer.Unregister(s, m.Registration)
	if err != nil {
		replyError(s, wamp.TypeUnregister, m.Request, wamp.ErrNoSuchRegistration, "")
		return
	}
	s.send(&wamp.Unregistered{Request: m.Request})
	rm.publishMeta(metaRegOnUnregister, wamp.List{int64(s.id), int64(reg.ID)})
	if deleted {
		rm.publishMeta(metaRegOnDelete, wamp.List{int64(s.id), int64(reg.ID)})
	}
}

func (rm *realm) handleCall(s *session, m *wamp.Call) {
	if rm.continueCall(s, m) {
		return
	}
	if !rm.validURI(m.Procedure, wamp.MatchExact) {
		replyError(s, wamp.TypeCall, m.Request, wamp.ErrInvalidURI, "invalid procedure URI "+m.Procedure)
		return
	}
	timeout := wamp.OptInt(m.Options, "timeout", 0)
	if timeout < 0 {
		replyError(s, wamp.TypeCall, m.Request, wamp.ErrInvalidArgument, "timeout must not be negative")
		return
	}
	if !rm.allowed(s, auth.ActionCall, m.Procedure) {
		replyError(s, wamp.TypeCall, m.Request, wamp.ErrNotAuthorized, "role "+s.authrole+" may not call "+m.Procedure)
		return
	}
	if !s.callBucket.take(rm.policy.Load().callRate) {
		rm.r.stats.rateLimited.Add(1)
		replyError(s, wamp.TypeCall, m.Request, ErrRateLimited, "call rate limit exceeded")
		return
	}
	if wamp.Reserved(m.Procedure) && rm.callMeta(s, m) {
		return
	}
	reg := rm.dealer.Match(m.Procedure)
	if reg == nil {
		replyError(s, wamp.TypeCall, m.Request, wamp.ErrNoSuchProcedure, "no callee registered for "+m.Procedure)
		return
	}
	callee, ok := reg.Pick()
	if !ok {
		replyError(s, wamp.TypeCall, m.Request, wamp.ErrNoSuchProcedure, "no callee registered for "+m.Procedure)
		return
	}
	// Most calls need no INVOCATION details; the shared empty dict saves an
	// allocation per call. Any key below allocates a private dict first.
	details := noDetails
	own := func() {
		if len(details) == 0 {
			details = wamp.Dict{}
		}
	}
	if reg.Match != wamp.MatchExact {
		own()
		details["procedure"] = m.Procedure
	}
	if wamp.OptBool(m.Options, "disclose_me", false) || reg.DiscloseCaller.Load() {
		own()
		details["caller"] = int64(s.id)
		details["caller_authid"] = s.authid
		details["caller_authrole"] = s.authrole
	}
	pc := &pendingCall{caller: s, callReq: m.Request, callee: callee, reg: reg.ID, timeout: time.Duration(timeout) * time.Millisecond}
	if wamp.OptBool(m.Options, "receive_progress", false) && callee.feat.calleeProgress {
		pc.progress = true
		own()
		details["receive_progress"] = true
	}
	if wamp.OptBool(m.Options, "progress", false) {
		if !callee.feat.calleeInvProg {
			replyError(s, wamp.TypeCall, m.Request, wamp.ErrFeatureNotSupported, "the callee does not support progressive call invocations")
			return
		}
		pc.streaming = true
		own()
		details["progress"] = true
	}
	if copyPPT(m.Options, &details) && !callee.feat.calleePPT {
		replyError(s, wamp.TypeCall, m.Request, wamp.ErrFeatureNotSupported, "the callee does not support payload passthru mode")
		return
	}

	rm.callsMu.Lock()
	if _, dup := s.asCaller[m.Request]; dup {
		rm.callsMu.Unlock()
		replyError(s, wamp.TypeCall, m.Request, wamp.ErrInvalidArgument, "a call with this request ID is still in progress")
		return
	}
	if callee.gone() {
		rm.callsMu.Unlock()
		replyError(s, wamp.TypeCall, m.Request, wamp.ErrCanceled, "callee left")
		return
	}
	callee.nextInv++
	if callee.nextInv > wamp.MaxID {
		callee.nextInv = 1
	}
	pc.invReq = callee.nextInv
	rm.addPendingLocked(pc)
	rm.callsMu.Unlock()

	inv := &wamp.Invocation{Request: pc.invReq, Registration: reg.ID, Details: details, Payload: m.Payload}
	b, err := callee.codec.Encode(inv)
	switch {
	case err != nil:
		rm.abandon(pc, wamp.ErrInvalidArgument, "arguments cannot be encoded for the callee: "+err.Error())
		return
	case callee.tooBig(b):
		rm.abandon(pc, wamp.ErrPayloadSizeExceeded, "invocation exceeds the callee's message size limit")
		return
	}
	rm.r.stats.calls.Add(1)
	if !callee.push(b) {
		rm.abandon(pc, wamp.ErrCanceled, "callee is closing")
	}
}

// continueCall handles a CALL whose request ID is not new: a further chunk
// of a progressive call invocation, or a late chunk of a finished one,
// which is dropped. It reports false for a new call (and records its ID).
func (rm *realm) continueCall(s *session, m *wamp.Call) bool {
	rm.callsMu.Lock()
	pc := s.asCaller[m.Request]
	if pc == nil {
		if m.Request > s.callMark || s.callMark-m.Request > wamp.MaxID/2 {
			s.callMark = m.Request // new call (or the ID counter wrapped)
			rm.callsMu.Unlock()
			return false
		}
		rm.callsMu.Unlock()
		if wamp.OptBool(m.Options, "progress", false) {
			return true // late chunk of a finished progressive call
		}
		return false // a reused ID for a new call is tolerated
	}
	if !pc.streaming {
		rm.callsMu.Unlock()
		replyError(s, wamp.TypeCall, m.Request, wamp.ErrInvalidArgument, "a call with this request ID is still in progress")
		return true
	}
	more := wamp.OptBool(m.Options, "progress", false)
	pc.streaming = more
	callee, invReq, regID := pc.callee, pc.invReq, pc.reg
	rm.callsMu.Unlock()
	details := wamp.Dict{}
	if more {
		details["progress"] = true
	}
	inv := &wamp.Invocation{Request: invReq, Registration: regID, Details: details, Payload: m.Payload}
	b, err := callee.codec.Encode(inv)
	switch {
	case err != nil:
		rm.abandon(pc, wamp.ErrInvalidArgument, "arguments cannot be encoded for the callee: "+err.Error())
	case callee.tooBig(b):
		rm.abandon(pc, wamp.ErrPayloadSizeExceeded, "invocation exceeds the callee's message size limit")
	case !callee.push(b):
		rm.abandon(pc, wamp.ErrCanceled, "callee is closing")
	}
	return true
}

// gone reports whether the session has left its realm. Called with
// realm.callsMu held; a session that left has nil call tables and the
// left flag set.
func (s *session) gone() bool { return s.left }

// addPendingLocked links pc into both sessions' tables and arms its timer.
func (rm *realm) addPendingLocked(pc *pendingCall) {
	if pc.caller.asCaller == nil {
		pc.caller.asCaller = map[wamp.ID]*pendingCall{}
	}
	if pc.callee.asCallee == nil {
		pc.callee.asCallee = map[wamp.ID]*pendingCall{}
	}
	pc.caller.asCaller[pc.callReq] = pc
	pc.callee.asCallee[pc.invReq] = pc
	if pc.timeout > 0 {
		pc.timer = time.AfterFunc(pc.timeout, func() { rm.expire(pc) })
	}
}

// removePendingLocked unlinks pc; it reports false if pc was already gone.
func (rm *realm) removePendingLocked(pc *pendingCall) bool {
	if pc.caller.asCaller[pc.callReq] != pc {
		return false
	}
	delete(pc.caller.asCaller, pc.callReq)
	delete(pc.callee.asCallee, pc.invReq)
	if pc.timer != nil {
		pc.timer.Stop()
	}
	return true
}

// abandon fails a call that could not be delivered to its callee.
func (rm *realm) abandon(pc *pendingCall, uri, message string) {
	rm.callsMu.Lock()
	ok := rm.removePendingLocked(pc)
	rm.callsMu.Unlock()
	if ok {
		replyError(pc.caller, wamp.TypeCall, pc.callReq, uri, message)
	}
}

// expire handles a router-enforced call timeout.
func (rm *realm) expire(pc *pendingCall) {
	rm.callsMu.Lock()
	ok := rm.removePendingLocked(pc)
	rm.callsMu.Unlock()
	if !ok {
		return
	}
	if pc.callee.feat.calleeCancel {
		pc.callee.send(&wamp.Interrupt{Request: pc.invReq, Options: wamp.Dict{"mode": cancelKillNoWait, "reason": wamp.ErrTimeout}})
	}
	replyError(pc.caller, wamp.TypeCall, pc.callReq, wamp.ErrTimeout, "call timed out")
}

func (rm *realm) handleYield(s *session, m *wamp.Yield) {
	progress := wamp.OptBool(m.Options, "progress", false)
	rm.callsMu.Lock()
	pc := s.asCallee[m.Request]
	if pc == nil {
		rm.callsMu.Unlock()
		s.log.Debug("dropping YIELD for an unknown or finished invocation", "request", uint64(m.Request))
		return
	}
	if progress {
		if !pc.progress {
			rm.callsMu.Unlock()
			return // the caller did not ask for progressive results
		}
		if pc.timer != nil {
			pc.timer.Reset(pc.timeout)
		}
	} else {
		rm.removePendingLocked(pc)
	}
	rm.callsMu.Unlock()
	details := noDetails
	if progress {
		details = wamp.Dict{"progress": true}
	}
	copyPPT(m.Options, &details)
	res := &wamp.Result{Request: pc.callReq, Details: details, Payload: m.Payload}
	rm.sendToCaller(pc, res)
}

// sendToCaller delivers RESULT or ERROR; one too big for the caller is
// replaced by ERROR payload_size_exceeded, never dropped silently.
func (rm *realm) sendToCaller(pc *pendingCall, m wamp.Message) {
	c := pc.caller
	b, err := c.codec.Encode(m)
	if err != nil {
		replyError(c, wamp.TypeCall, pc.callReq, wamp.ErrInvalidArgument, "result cannot be encoded for the caller: "+err.Error())
		return
	}
	if c.tooBig(b) {
		replyError(c, wamp.TypeCall, pc.callReq, wamp.ErrPayloadSizeExceeded, "result exceeds the caller's message size limit")
		return
	}
	c.push(b)
}

func (rm *realm) handleInvocationError(s *session, m *wamp.Error) {
	rm.callsMu.Lock()
	pc := s.asCallee[m.Request]
	if pc == nil {
		rm.callsMu.Unlock()
		return
	}
	rm.removePendingLocked(pc)
	rm.callsMu.Unlock()
	uri := m.Error
	if !wamp.ValidURI(uri, false, wamp.MatchExact) {
		uri = wamp.ErrInvalidURI
	}
	details := wamp.Dict{}
	copyPPT(m.Details, &details)
	rm.sendToCaller(pc, &wamp.Error{RequestType: wamp.TypeCall, Request: pc.callReq, Details: details, Error: uri, Payload: m.Payload})
}

func (rm *realm) handleCancel(s *session, m *wamp.Cancel) {
	mode := wamp.OptString(m.Options, "mode", cancelKillNoWait)
	rm.callsMu.Lock()
	pc := s.asCaller[m.Request]
	if pc == nil {
		rm.callsMu.Unlock()
		return // already answered
	}
	valid := mode == cancelSkip || mode == cancelKill || mode == cancelKillNoWait
	if !pc.callee.feat.calleeCancel {
		mode = cancelSkip
	}
	if !valid || mode != cancelKill {
		rm.removePendingLocked(pc)
		rm.callsMu.Unlock()
		if mode != cancelSkip {
			pc.callee.send(&wamp.Interrupt{Request: pc.invReq, Options: wamp.Dict{"mode": cancelKillNoWait, "reason": wamp.ErrCanceled}})
		}
		if !valid {
			replyError(s, wamp.TypeCall, m.Request, wamp.ErrInvalidArgument, "unknown cancel mode "+mode+"; the call was canceled")
			return
		}
		replyError(s, wamp.TypeCall, m.Request, wamp.ErrCanceled, "call canceled")
		return
	}
	already := pc.interrupted
	pc.interrupted = true
	rm.callsMu.Unlock()
	if !already {
		pc.callee.send(&wamp.Interrupt{Request: pc.invReq, Options: wamp.Dict{"mode": cancelKill, "reason": wamp.ErrCanceled}})
	}
}

// failPending ends every call s takes part in: callers of s get ERROR
// canceled at once, callees working for s are interrupted when they can be.
func (rm *realm) failPending(s *session) {
	rm.callsMu.Lock()
	s.left = true
	var asCaller, asCallee []*pendingCall
	for _, pc := range s.asCaller {
		asCaller = append(asCaller, pc)
	}
	for _, pc := range s.asCallee {
		asCallee = append(asCallee, pc)
	}
	for _, pc := range asCaller {
		rm.removePendingLocked(pc)
	}
	for _, pc := range asCallee {
		rm.removePendingLocked(pc)
	}
	s.asCaller, s.asCallee = nil, nil
	rm.callsMu.Unlock()
	for _, pc := range asCaller {
		if pc.callee.feat.calleeCancel {
			pc.callee.send(&wamp.Interrupt{Request: pc.invReq, Options: wamp.Dict{"mode": cancelKillNoWait, "reason": wamp.ErrCanceled}})
		}
	}
	for _, pc := range asCallee {
		replyError(pc.caller, wamp.TypeCall, pc.callReq, wamp.ErrCanceled, "callee left")
	}
}
