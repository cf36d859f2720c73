package gateway

import (
	"slices"
	"time"

	"github.com/wampgate/wampgate/gateway/broker"
	"github.com/wampgate/wampgate/gateway/dealer"
	"github.com/wampgate/wampgate/gateway/wamp"
)

// Meta API topics.
const (
	metaOnJoin          = "wamp.session.on_join"
	metaOnLeave         = "wamp.session.on_leave"
	metaRegOnCreate     = "wamp.registration.on_create"
	metaRegOnRegister   = "wamp.registration.on_register"
	metaRegOnUnregister = "wamp.registration.on_unregister"
	metaRegOnDelete     = "wamp.registration.on_delete"
	metaSubOnCreate     = "wamp.subscription.on_create"
	metaSubOnSubscribe  = "wamp.subscription.on_subscribe"
	metaSubOnUnsub      = "wamp.subscription.on_unsubscribe"
	metaSubOnDelete     = "wamp.subscription.on_delete"
)

// metaError is an ERROR answer from a meta procedure.
type metaError struct {
	uri, message string
}

// metaFunc implements one meta procedure. It runs on the caller's reader
// goroutine and must not block.
type metaFunc func(rm *realm, caller *session, args wamp.List, kwargs wamp.Dict) (wamp.List, wamp.Dict, *metaError)

var metaProcedures map[string]metaFunc

func init() {
	metaProcedures = map[string]metaFunc{
		"wamp.session.count":            metaSessionCount,
		"wamp.session.list":             metaSessionList,
		"wamp.session.get":              metaSessionGet,
		"wamp.session.kill":             metaSessionKill,
		"wamp.session.kill_by_authid":   metaKillByAuthID,
		"wamp.session.kill_by_authrole": metaKillByAuthRole,
		"wamp.session.kill_all":         metaKillAll,
		"wamp.session.add_testament":    metaAddTestament,
		"wamp.session.flush_testaments": metaFlushTestaments,

		"wamp.registration.list":          metaRegList,
		"wamp.registration.lookup":        metaRegLookup,
		"wamp.registration.match":         metaRegMatch,
		"wamp.registration.get":           metaRegGet,
		"wamp.registration.list_callees":  metaRegListCallees,
		"wamp.registration.count_callees": metaRegCountCallees,

		"wamp.subscription.list":              metaSubList,
		"wamp.subscription.lookup":            metaSubLookup,
		"wamp.subscription.match":             metaSubMatch,
		"wamp.subscription.get":               metaSubGet,
		"wamp.subscription.list_subscribers":  metaSubListSubscribers,
		"wamp.subscription.count_subscribers": metaSubCountSubscribers,
	}
}

// callMeta answers a CALL to a wamp.* procedure. It reports false when no
// meta procedure has that name.
func (rm *realm) callMeta(s *session, m *wamp.Call) bool {
	f := metaProcedures[m.Procedure]
	if f == nil {
		return false
	}
	args, kwargs, merr := f(rm, s, m.Args, m.Kwargs)
	if merr != nil {
		replyError(s, wamp.TypeCall, m.Request, merr.uri, merr.message)
		return true
	}
	s.send(&wamp.Result{Request: m.Request, Details: noDetails, Payload: wamp.Payload{Args: args, Kwargs: kwargs}})
	return true
}

// publishMeta delivers a router-originated event in the realm.
func (rm *realm) publishMeta(topic string, args wamp.List) {
	var buf [4]*broker.Subscription[*session]
	subs := rm.broker.Match(topic, buf[:0])
	if len(subs) == 0 {
		return
	}
	m := &wamp.Publish{Topic: topic, Payload: wamp.Payload{Args: args}}
	pubID := randomID()
	var none deliveryFilter
	rc := readCheck{z: rm.policy.Load().authz, topic: topic}
	n := 0
	for _, sub := range subs {
		n += rm.deliver(nil, sub, pubID, m, &none, false, nil, &rc)
	}
	rm.r.stats.deliveries.Add(uint64(n))
}

func idArg(args wamp.List, i int) (wamp.ID, bool) {
	if len(args) <= i {
		return 0, false
	}
	n, ok := wamp.AsUint(args[i])
	return wamp.ID(n), ok && n > 0 && n <= uint64(wamp.MaxID)
}

func stringArg(args wamp.List, i int) (string, bool) {
	if len(args) <= i {
		return "", false
	}
	s, ok := args[i].(string)
	return s, ok
}

var errMissingID = &metaError{wamp.ErrInvalidArgument, "expected an ID as the first positional argument"}

// sessionDetails is the session dict of wamp.session.get and on_join.
func (s *session) sessionDetails() wamp.Dict {
	tr := wamp.Dict{"type": s.info.Kind, "serializer": s.ser.String()}
	if s.info.Remote != nil {
		tr["peer"] = s.info.Remote.String()
	}
	return wamp.Dict{
		"session":      int64(s.id),
		"authid":       s.authid,
		"authrole":     s.authrole,
		"authmethod":   s.authmethod,
		"authprovider": s.authprovider,
		"transport":    tr,
	}
}

// sessionsFiltered returns the realm's sessions, optionally only those whose
// authrole is in the list given as first positional argument.
func (rm *realm) sessionsFiltered(args wamp.List) ([]*session, *metaError) {
	var roles []string
	if len(args) > 0 && args[0] != nil {
		l, ok := args[0].([]any)
		if !ok {
			return nil, &metaError{wamp.ErrInvalidArgument, "filter_authroles must be a list of strings"}
		}
		for _, v := range l {
			r, ok := v.(string)
			if !ok {
				return nil, &metaError{wamp.ErrInvalidArgument, "filter_authroles must be a list of strings"}
			}
			roles = append(roles, r)
		}
	}
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	out := make([]*session, 0, len(rm.sessions))
	for _, s := range rm.sessions {
		if s.info.Trusted {
			continue // the gateway's own sessions are not listed, counted or killed
		}
		if roles == nil || slices.Contains(roles, s.authrole) {
			out = append(out, s)
		}
	}
	return out, nil
}

func metaSessionCount(rm *realm, _ *session, args wamp.List, _ wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	ss, err := rm.sessionsFiltered(args)
	if err != nil {
		return nil, nil, err
	}
	return wamp.List{int64(len(ss))}, nil, nil
}

func metaSessionList(rm *realm, _ *session, args wamp.List, _ wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	ss, err := rm.sessionsFiltered(args)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]any, 0, len(ss))
	for _, s := range ss {
		ids = append(ids, int64(s.id))
	}
	return wamp.List{ids}, nil, nil
}

func (rm *realm) session(id wamp.ID) *session {
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	if s := rm.sessions[id]; s != nil && !s.info.Trusted {
		return s
	}
	return nil
}

func metaSessionGet(rm *realm, _ *session, args wamp.List, _ wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	id, ok := idArg(args, 0)
	if !ok {
		return nil, nil, errMissingID
	}
	s := rm.session(id)
	if s == nil {
		return nil, nil, &metaError{wamp.ErrNoSuchSession, "no session with that ID in this realm"}
	}
	return wamp.List{s.sessionDetails()}, nil, nil
}

// killOptions reads the reason and message keywords of the kill procedures.
func killOptions(kwargs wamp.Dict) (reason, message string, err *metaError) {
	reason = wamp.CloseKilled
	if v, ok := kwargs["reason"]; ok && v != nil {
		r, isStr := v.(string)
		if !isStr || !wamp.ValidURI(r, false, wamp.MatchExact) {
			return "", "", &metaError{wamp.ErrInvalidURI, "reason must be a valid URI"}
		}
		reason = r
	}
	if v, ok := kwargs["message"]; ok && v != nil {
		m, isStr := v.(string)
		if !isStr {
			return "", "", &metaError{wamp.ErrInvalidArgument, "message must be a string"}
		}
		message = m
	}
	return reason, message, nil
}

func metaSessionKill(rm *realm, caller *session, args wamp.List, kwargs wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	id, ok := idArg(args, 0)
	if !ok {
		return nil, nil, errMissingID
	}
	reason, message, err := killOptions(kwargs)
	if err != nil {
		return nil, nil, err
	}
	s := rm.session(id)
	if s == nil || s == caller {
		return nil, nil, &metaError{wamp.ErrNoSuchSession, "no session with that ID in this realm (a session cannot kill itself)"}
	}
	s.shutdown(reason, message, CloseKilled)
	return nil, nil, nil
}

func (rm *realm) killWhere(caller *session, kwargs wamp.Dict, match func(*session) bool, quiet bool) ([]any, *metaError) {
	reason, message, err := killOptions(kwargs)
	if err != nil {
		return nil, err
	}
	ss, _ := rm.sessionsFiltered(nil)
	killed := []any{}
	for _, s := range ss {
		if s == caller || !match(s) {
			continue
		}
		if quiet {
			s.quiet.Store(true)
		}
		s.shutdown(reason, message, CloseKilled)
		killed = append(killed, int64(s.id))
	}
	return killed, nil
}

func metaKillByAuthID(rm *realm, caller *session, args wamp.List, kwargs wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	authid, ok := stringArg(args, 0)
	if !ok {
		return nil, nil, &metaError{wamp.ErrInvalidArgument, "expected the authid as the first positional argument"}
	}
	killed, err := rm.killWhere(caller, kwargs, func(s *session) bool { return s.authid == authid }, false)
	if err != nil {
		return nil, nil, err
	}
	return wamp.List{killed}, nil, nil
}

func metaKillByAuthRole(rm *realm, caller *session, args wamp.List, kwargs wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	role, ok := stringArg(args, 0)
	if !ok {
		return nil, nil, &metaError{wamp.ErrInvalidArgument, "expected the authrole as the first positional argument"}
	}
	killed, err := rm.killWhere(caller, kwargs, func(s *session) bool { return s.authrole == role }, false)
	if err != nil {
		return nil, nil, err
	}
	return wamp.List{int64(len(killed))}, nil, nil
}

func metaKillAll(rm *realm, caller *session, _ wamp.List, kwargs wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	killed, err := rm.killWhere(caller, kwargs, func(*session) bool { return true }, true)
	if err != nil {
		return nil, nil, err
	}
	return wamp.List{int64(len(killed))}, nil, nil
}

// testament is an event published when its session goes away.
type testament struct {
	topic   string
	args    wamp.List
	kwargs  wamp.Dict
	options wamp.Dict
}

const (
	scopeDestroyed = "destroyed"
	scopeDetached  = "detached"
)

func testamentScope(kwargs wamp.Dict) (string, *metaError) {
	scope := scopeDestroyed
	if v, ok := kwargs["scope"]; ok && v != nil {
		sc, isStr := v.(string)
		if !isStr || (sc != scopeDestroyed && sc != scopeDetached) {
			return "", &metaError{wamp.ErrInvalidArgument, `scope must be "destroyed" or "detached"`}
		}
		scope = sc
	}
	return scope, nil
}

func metaAddTestament(rm *realm, caller *session, args wamp.List, kwargs wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	topic, ok := stringArg(args, 0)
	if !ok || !rm.validURI(topic, wamp.MatchExact) || wamp.Reserved(topic) {
		return nil, nil, &metaError{wamp.ErrInvalidURI, "expected a valid, non-reserved topic URI as the first positional argument"}
	}
	var t testament
	t.topic = topic
	if len(args) > 1 && args[1] != nil {
		l, isList := args[1].([]any)
		if !isList {
			return nil, nil, &metaError{wamp.ErrInvalidArgument, "args must be a list"}
		}
		t.args = l
	}
	if len(args) > 2 && args[2] != nil {
		d, isDict := args[2].(map[string]any)
		if !isDict {
			return nil, nil, &metaError{wamp.ErrInvalidArgument, "kwargs must be a dict"}
		}
		t.kwargs = d
	}
	if v, ok := kwargs["publish_options"]; ok && v != nil {
		d, isDict := v.(map[string]any)
		if !isDict {
			return nil, nil, &metaError{wamp.ErrInvalidArgument, "publish_options must be a dict"}
		}
		t.options = d
	}
	scope, err := testamentScope(kwargs)
	if err != nil {
		return nil, nil, err
	}
	caller.testamentMu.Lock()
	if caller.testaments == nil {
		caller.testaments = map[string][]testament{}
	}
	caller.testaments[scope] = append(caller.testaments[scope], t)
	caller.testamentMu.Unlock()
	return nil, nil, nil
}

func metaFlushTestaments(_ *realm, caller *session, _ wamp.List, kwargs wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	scope, err := testamentScope(kwargs)
	if err != nil {
		return nil, nil, err
	}
	caller.testamentMu.Lock()
	delete(caller.testaments, scope)
	caller.testamentMu.Unlock()
	return nil, nil, nil
}

// publishTestaments publishes what s left behind: detached first, then
// destroyed (there is no session resumption, so both apply).
func (rm *realm) publishTestaments(s *session) {
	s.testamentMu.Lock()
	all := append(s.testaments[scopeDetached], s.testaments[scopeDestroyed]...)
	s.testaments = nil
	s.testamentMu.Unlock()
	for _, t := range all {
		opts := wamp.Dict{}
		for k, v := range t.options {
			opts[k] = v
		}
		delete(opts, "acknowledge")
		rm.publish(s, &wamp.Publish{Options: opts, Topic: t.topic, Payload: wamp.Payload{Args: t.args, Kwargs: t.kwargs}})
	}
}

func registrationDetails(r *dealer.Registration[*session]) wamp.Dict {
	return wamp.Dict{"id": int64(r.ID), "created": r.Created.UTC().Format(time.RFC3339Nano), "uri": r.URI, "match": r.Match, "invoke": r.Invoke}
}

func subscriptionDetails(s *broker.Subscription[*session]) wamp.Dict {
	return wamp.Dict{"id": int64(s.ID), "created": s.Created.UTC().Format(time.RFC3339Nano), "uri": s.URI, "match": s.Match}
}

func idLists(m map[string][]wamp.ID) wamp.Dict {
	out := wamp.Dict{}
	for k, ids := range m {
		slices.Sort(ids)
		l := make([]any, 0, len(ids))
		for _, id := range ids {
			l = append(l, int64(id))
		}
		out[k] = l
	}
	return out
}

func sessionIDs(ss []*session) []any {
	out := make([]any, 0, len(ss))
	for _, s := range ss {
		out = append(out, int64(s.id))
	}
	return out
}

// lookupArgs reads [uri, options?] of the lookup procedures.
func lookupArgs(args wamp.List) (uri, match string, err *metaError) {
	uri, ok := stringArg(args, 0)
	if !ok {
		return "", "", &metaError{wamp.ErrInvalidArgument, "expected a URI as the first positional argument"}
	}
	match = wamp.MatchExact
	if len(args) > 1 && args[1] != nil {
		opts, isDict := args[1].(map[string]any)
		if !isDict {
			return "", "", &metaError{wamp.ErrInvalidArgument, "options must be a dict"}
		}
		match = wamp.OptString(opts, "match", wamp.MatchExact)
	}
	return uri, match, nil
}

func metaRegList(rm *realm, _ *session, _ wamp.List, _ wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	return wamp.List{idLists(rm.dealer.List())}, nil, nil
}

func metaRegLookup(rm *realm, _ *session, args wamp.List, _ wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	uri, match, err := lookupArgs(args)
	if err != nil {
		return nil, nil, err
	}
	if r := rm.dealer.Lookup(uri, match); r != nil {
		return wamp.List{int64(r.ID)}, nil, nil
	}
	return wamp.List{nil}, nil, nil
}

func metaRegMatch(rm *realm, _ *session, args wamp.List, _ wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	uri, ok := stringArg(args, 0)
	if !ok {
		return nil, nil, &metaError{wamp.ErrInvalidArgument, "expected a URI as the first positional argument"}
	}
	if r := rm.dealer.Match(uri); r != nil {
		return wamp.List{int64(r.ID)}, nil, nil
	}
	return wamp.List{nil}, nil, nil
}

func (rm *realm) registrationArg(args wamp.List) (*dealer.Registration[*session], *metaError) {
	id, ok := idArg(args, 0)
	if !ok {
		return nil, errMissingID
	}
	r := rm.dealer.Get(id)
	if r == nil {
		return nil, &metaError{wamp.ErrNoSuchRegistration, "no registration with that ID"}
	}
	return r, nil
}

func metaRegGet(rm *realm, _ *session, args wamp.List, _ wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	r, err := rm.registrationArg(args)
	if err != nil {
		return nil, nil, err
	}
	return wamp.List{registrationDetails(r)}, nil, nil
}

func metaRegListCallees(rm *realm, _ *session, args wamp.List, _ wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	r, err := rm.registrationArg(args)
	if err != nil {
		return nil, nil, err
	}
	return wamp.List{sessionIDs(r.Callees())}, nil, nil
}

func metaRegCountCallees(rm *realm, _ *session, args wamp.List, _ wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	r, err := rm.registrationArg(args)
	if err != nil {
		return nil, nil, err
	}
	return wamp.List{int64(len(r.Callees()))}, nil, nil
}

func metaSubList(rm *realm, _ *session, _ wamp.List, _ wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	return wamp.List{idLists(rm.broker.List())}, nil, nil
}

func metaSubLookup(rm *realm, _ *session, args wamp.List, _ wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	uri, match, err := lookupArgs(args)
	if err != nil {
		return nil, nil, err
	}
	if s := rm.broker.Lookup(uri, match); s != nil {
		return wamp.List{int64(s.ID)}, nil, nil
	}
	return wamp.List{nil}, nil, nil
}

func metaSubMatch(rm *realm, _ *session, args wamp.List, _ wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	uri, ok := stringArg(args, 0)
	if !ok {
		return nil, nil, &metaError{wamp.ErrInvalidArgument, "expected a URI as the first positional argument"}
	}
	subs := rm.broker.Match(uri, nil)
	if len(subs) == 0 {
		return wamp.List{nil}, nil, nil
	}
	ids := make([]any, 0, len(subs))
	for _, s := range subs {
		ids = append(ids, int64(s.ID))
	}
	return wamp.List{ids}, nil, nil
}

func (rm *realm) subscriptionArg(args wamp.List) (*broker.Subscription[*session], *metaError) {
	id, ok := idArg(args, 0)
	if !ok {
		return nil, errMissingID
	}
	s := rm.broker.Get(id)
	if s == nil {
		return nil, &metaError{wamp.ErrNoSuchSubscription, "no subscription with that ID"}
	}
	return s, nil
}

func metaSubGet(rm *realm, _ *session, args wamp.List, _ wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	s, err := rm.subscriptionArg(args)
	if err != nil {
		return nil, nil, err
	}
	return wamp.List{subscriptionDetails(s)}, nil, nil
}

func metaSubListSubscribers(rm *realm, _ *session, args wamp.List, _ wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	s, err := rm.subscriptionArg(args)
	if err != nil {
		return nil, nil, err
	}
	return wamp.List{sessionIDs(s.Subscribers())}, nil, nil
}

func metaSubCountSubscribers(rm *realm, _ *session, args wamp.List, _ wamp.Dict) (wamp.List, wamp.Dict, *metaError) {
	s, err := rm.subscriptionArg(args)
	if err != nil {
		return nil, nil, err
	}
	return wamp.List{int64(len(s.Subscribers()))}, nil, nil
}
