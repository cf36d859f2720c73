package gateway

import (
	"sync"

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

	broker *broker.Index[*session]
	dealer *dealer.Index[*session]

	mu       sync.RWMutex
	sessions map[wamp.ID]*session // guarded by mu

	callsMu sync.Mutex // guards pending calls and the sessions' call tables

	retainMu sync.Mutex
	retained map[string]*retainedEvent // guarded by retainMu, by topic
}

func newRealm(r *Router, rc RealmConfig) *realm {
	return &realm{
		r:        r,
		name:     rc.Name,
		strict:   rc.StrictURIs,
		broker:   broker.New[*session](),
		dealer:   dealer.New[*session](),
		sessions: map[wamp.ID]*session{},
	}
}

func (rm *realm) join(s *session) {
	rm.mu.Lock()
	rm.sessions[s.id] = s
	rm.mu.Unlock()
	rm.publishMeta(metaOnJoin, wamp.List{s.sessionDetails()})
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
	rm.publishMeta(metaOnLeave, wamp.List{sid, s.authid, s.authrole})
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
