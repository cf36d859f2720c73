package gateway

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/wampgate/wampgate/gateway/auth"

	"github.com/wampgate/wampgate/gateway/broker"
	"github.com/wampgate/wampgate/gateway/dealer"
	"github.com/wampgate/wampgate/gateway/wamp"
)

// realm is one routing namespace. Sessions in different realms never see
// each other.
type realm struct {
	r      *Router
	name   string // immutable
	strict bool   // immutable: strict URI rules

	policy atomic.Pointer[policy] // swapped whole on reload

	broker *broker.Index[*session]
	dealer *dealer.Index[*session]

	mu       sync.RWMutex
	sessions map[wamp.ID]*session // guarded by mu

	callsMu sync.Mutex // guards pending calls and the sessions' call tables

	retainMu sync.Mutex
	retained map[string]*retainedEvent // guarded by retainMu, by topic
}

// policy is the reloadable part of a realm's configuration. Immutable once
// stored.
type policy struct {
	open        bool                // false once a reload removed the realm
	authn       *auth.Authenticator // never nil
	authz       *auth.Authorizer
	maxSessions int
	publishRate Rate
	callRate    Rate
	maxMessage  int
	outQueue    int
}

// newPolicy builds a realm's policy. A realm configured without an
// authenticator gets one that admits anonymous sessions only, with the
// role "anonymous", so every join goes through the same authentication path.
func newPolicy(rc RealmConfig) (*policy, error) {
	authn := rc.Auth
	if authn == nil {
		var err error
		authn, err = auth.NewAuthenticator(auth.Realm{Name: rc.Name, AnonymousRole: anonymousRole})
		if err != nil {
			return nil, fmt.Errorf("gateway: realm %s: %w", rc.Name, err)
		}
	}
	return &policy{open: true, authn: authn, authz: rc.Authorizer, maxSessions: rc.MaxSessions,
		publishRate: rc.PublishRate, callRate: rc.CallRate, maxMessage: rc.MaxMessage, outQueue: rc.OutQueueBytes}, nil
}

// allowed applies the realm's authorization rules to an action of s.
func (rm *realm) allowed(s *session, action, uri string) bool {
	z := rm.policy.Load().authz
	if z == nil || s.info.Trusted || z.Allowed(s.authrole, action, uri) {
		return true
	}
	rm.r.stats.denied.Add(1)
	return false
}

// stillGranted reports whether the current policy still grants s its
// identity and role.
func (p *policy) stillGranted(s *session) bool {
	if !p.open {
		return false
	}
	if s.info.Trusted {
		return true
	}
	if p.authz != nil && !p.authz.HasRole(s.authrole) {
		return false
	}
	switch s.authmethod {
	case methodPort:
		return true // the device manager owns port identities
	case auth.MethodAnonymous:
		return p.authn.AnonymousRole() == s.authrole
	}
	id, ok := p.authn.IdentityFor(s.authid, s.authmethod)
	return ok && id.AuthRole == s.authrole
}

// revalidate ends the sessions the current policy no longer grants.
func (rm *realm) revalidate() {
	p := rm.policy.Load()
	rm.mu.RLock()
	var gone []*session
	for _, s := range rm.sessions {
		if !p.stillGranted(s) {
			gone = append(gone, s)
		}
	}
	rm.mu.RUnlock()
	for _, s := range gone {
		s.log.Info("session no longer authorized after reload")
		s.shutdown(wamp.CloseKilled, "no longer authorized after a configuration reload", CloseKilled)
	}
}

// count returns the number of sessions in the realm.
func (rm *realm) count() int {
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	return len(rm.sessions)
}

func newRealm(r *Router, rc RealmConfig, p *policy) *realm {
	rm := &realm{
		r:        r,
		name:     rc.Name,
		strict:   rc.StrictURIs,
		broker:   broker.New[*session](),
		dealer:   dealer.New[*session](),
		sessions: map[wamp.ID]*session{},
	}
	rm.policy.Store(p)
	return rm
}

func (rm *realm) join(s *session) {
	rm.mu.Lock()
	rm.sessions[s.id] = s
	rm.mu.Unlock()
	if !s.info.Trusted {
		rm.publishMeta(metaOnJoin, wamp.List{s.sessionDetails()})
	}
}

// leave removes every trace of s: subscriptions, registrations and pending
// calls, answering the other side of each pending call.
func (rm *realm) leave(s *session) {
	rm.mu.Lock()
	delete(rm.sessions, s.id)
	rm.mu.Unlock()
	subs, subsDeleted := rm.broker.RemoveSubscriber(s)
	regs, regsDeleted := rm.dealer.RemoveCallee(s)
	rm.failPending(s)
	if s.quiet.Load() {
		return // kill_all: no meta events and no testaments
	}
	rm.publishTestaments(s)
	sid := int64(s.id)
	for i, sub := range subs {
		rm.publishMeta(metaSubOnUnsub, wamp.List{sid, int64(sub.ID)})
		if subsDeleted[i] {
			rm.publishMeta(metaSubOnDelete, wamp.List{sid, int64(sub.ID)})
		}
	}
	for i, reg := range regs {
		rm.publishMeta(metaRegOnUnregister, wamp.List{sid, int64(reg.ID)})
		if regsDeleted[i] {
			rm.publishMeta(metaRegOnDelete, wamp.List{sid, int64(reg.ID)})
		}
	}
	if !s.info.Trusted {
		rm.publishMeta(metaOnLeave, wamp.List{sid, s.authid, s.authrole})
	}
}

// validURI applies the realm's URI rules.
func (rm *realm) validURI(uri, match string) bool {
	return wamp.ValidURI(uri, rm.strict, match)
}

// replyError sends ERROR for a request of s.
func replyError(s *session, reqType wamp.MessageType, req wamp.ID, uri, message string) {
	e := &wamp.Error{RequestType: reqType, Request: req, Details: wamp.Dict{}, Error: uri}
	if message != "" {
		e.Args = wamp.List{message}
	}
	s.send(e)
}
