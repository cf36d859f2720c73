// Package broker holds the subscription index of one realm: which sessions
// are subscribed to which topic patterns, and which subscriptions match a
// published topic.
//
// The index is a data structure behind a sync.RWMutex; it starts no
// goroutines and does no I/O. Publishing takes the read lock only. The
// subscriber list of a subscription is copy-on-write, so Match hands out
// slices that stay valid and unchanged after the lock is released, and the
// caller can deliver events without holding any index lock.
package broker

import (
	"errors"
	"sync"
	"time"

	"github.com/wampgate/wampgate/gateway/internal/cow"
	"github.com/wampgate/wampgate/gateway/wamp"
)

// Errors returned by the index.
var (
	ErrNoSuchSubscription = errors.New("broker: no such subscription")
	ErrBadMatch           = errors.New("broker: unknown match policy")
)

// Subscription is one (topic, match) pair shared by all its subscribers, as
// the spec allows, so an EVENT for it is encoded once per serializer.
type Subscription[S comparable] struct {
	ID      wamp.ID   // immutable
	URI     string    // immutable
	Match   string    // immutable
	Created time.Time // immutable

	subscribers cow.List[S] // written under Index.mu
}

// Subscribers returns the subscribers at the time of the call. The slice
// must not be modified.
func (s *Subscription[S]) Subscribers() []S { return s.subscribers.Load() }

type key struct{ uri, match string }

// Index is the subscription index of one realm. S identifies a subscriber
// (the router uses its session pointer).
type Index[S comparable] struct {
	mu       sync.RWMutex
	byKey    map[key]*Subscription[S]
	byID     map[wamp.ID]*Subscription[S]
	exact    map[string]*Subscription[S]
	patterns []*Subscription[S] // prefix and wildcard subscriptions
	bySub    map[S]map[wamp.ID]struct{}
	nextID   wamp.ID
}

// New returns an empty index.
func New[S comparable]() *Index[S] {
	return &Index[S]{
		byKey: map[key]*Subscription[S]{},
		byID:  map[wamp.ID]*Subscription[S]{},
		exact: map[string]*Subscription[S]{},
		bySub: map[S]map[wamp.ID]struct{}{},
	}
}

// Subscribe adds s to the subscription for (uri, match), creating it when
// needed. It reports whether the subscription was created and whether s was
// newly added (a repeated SUBSCRIBE returns the existing subscription).
func (x *Index[S]) Subscribe(s S, uri, match string) (sub *Subscription[S], created, added bool, err error) {
	if match == "" {
		match = wamp.MatchExact
	}
	if match != wamp.MatchExact && match != wamp.MatchPrefix && match != wamp.MatchWildcard {
		return nil, false, false, ErrBadMatch
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	k := key{uri, match}
	sub = x.byKey[k]
	if sub == nil {
		x.nextID++
		sub = &Subscription[S]{ID: x.nextID, URI: uri, Match: match, Created: time.Now()}
		x.byKey[k] = sub
		x.byID[sub.ID] = sub
		if match == wamp.MatchExact {
			x.exact[uri] = sub
		} else {
			x.patterns = append(x.patterns, sub)
		}
		created = true
	}
	subs := x.bySub[s]
	if _, ok := subs[sub.ID]; ok {
		return sub, created, false, nil
	}
	if subs == nil {
		subs = map[wamp.ID]struct{}{}
		x.bySub[s] = subs
	}
	subs[sub.ID] = struct{}{}
	sub.subscribers.Add(s)
	return sub, created, true, nil
}

// Unsubscribe removes s from subscription id. It reports whether the
// subscription was deleted because s was its last subscriber.
func (x *Index[S]) Unsubscribe(s S, id wamp.ID) (sub *Subscription[S], deleted bool, err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	subs := x.bySub[s]
	if _, ok := subs[id]; !ok {
		return nil, false, ErrNoSuchSubscription
	}
	delete(subs, id)
	if len(subs) == 0 {
		delete(x.bySub, s)
	}
	sub = x.byID[id]
	return sub, x.removeLocked(sub, s), nil
}

// RemoveSubscriber drops s from every subscription, for a session that
// left. It returns the subscriptions s was in and which of them were deleted.
func (x *Index[S]) RemoveSubscriber(s S) (left []*Subscription[S], deleted []bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for id := range x.bySub[s] {
		sub := x.byID[id]
		left = append(left, sub)
		deleted = append(deleted, x.removeLocked(sub, s))
	}
	delete(x.bySub, s)
	return left, deleted
}

func (x *Index[S]) removeLocked(sub *Subscription[S], s S) bool {
	if sub.subscribers.Remove(s) > 0 {
		return false
	}
	delete(x.byKey, key{sub.URI, sub.Match})
	delete(x.byID, sub.ID)
	if sub.Match == wamp.MatchExact {
		delete(x.exact, sub.URI)
	} else {
		for i, p := range x.patterns {
			if p == sub {
				x.patterns = append(x.patterns[:i], x.patterns[i+1:]...)
				break
			}
		}
	}
	return true
}

// Match appends every subscription matching topic to dst: the exact one and
// all prefix and wildcard ones (pubsub has no precedence).
func (x *Index[S]) Match(topic string, dst []*Subscription[S]) []*Subscription[S] {
	x.mu.RLock()
	if sub := x.exact[topic]; sub != nil {
		dst = append(dst, sub)
	}
	for _, p := range x.patterns {
		if wamp.MatchURI(p.URI, p.Match, topic) {
			dst = append(dst, p)
		}
	}
	x.mu.RUnlock()
	return dst
}

// Get returns the subscription with the given ID.
func (x *Index[S]) Get(id wamp.ID) *Subscription[S] {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.byID[id]
}

// Lookup returns the subscription for exactly (uri, match), or nil.
func (x *Index[S]) Lookup(uri, match string) *Subscription[S] {
	if match == "" {
		match = wamp.MatchExact
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.byKey[key{uri, match}]
}

// List returns the IDs of all subscriptions grouped by match policy.
func (x *Index[S]) List() map[string][]wamp.ID {
	out := map[string][]wamp.ID{wamp.MatchExact: {}, wamp.MatchPrefix: {}, wamp.MatchWildcard: {}}
	x.mu.RLock()
	defer x.mu.RUnlock()
	for id, sub := range x.byID {
		out[sub.Match] = append(out[sub.Match], id)
	}
	return out
}

// Count returns the number of subscriptions.
func (x *Index[S]) Count() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.byID)
}
