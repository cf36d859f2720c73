// Package dealer holds the registration index of one realm: which callees
// registered which procedure patterns with which invocation policy, and
// which callee a CALL goes to.
//
// Like the broker index it is a data structure behind a sync.RWMutex with
// no goroutines and no I/O. Pending calls live in the router, which owns the
// sessions they refer to.
package dealer

import (
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wampgate/wampgate/gateway/internal/cow"
	"github.com/wampgate/wampgate/gateway/wamp"
)

// Invocation policies for shared registrations (REGISTER Options.invoke).
const (
	InvokeSingle     = "single"
	InvokeRoundRobin = "roundrobin"
	InvokeRandom     = "random"
	InvokeFirst      = "first"
	InvokeLast       = "last"
)

// Errors returned by the index.
var (
	ErrProcedureExists     = errors.New("dealer: procedure already exists")
	ErrPolicyConflict      = errors.New("dealer: invocation policy conflicts with the existing registration")
	ErrNoSuchRegistration  = errors.New("dealer: no such registration")
	ErrBadMatch            = errors.New("dealer: unknown match policy")
	ErrBadInvoke           = errors.New("dealer: unknown invocation policy")
	ErrAlreadyRegisteredBy = errors.New("dealer: session already registered this procedure")
)

// Registration is one procedure pattern and its callees.
type Registration[S comparable] struct {
	ID      wamp.ID   // immutable
	URI     string    // immutable
	Match   string    // immutable
	Invoke  string    // immutable
	Created time.Time // immutable

	callees cow.List[S] // in registration order; written under Index.mu
	// DiscloseCaller is set when a callee registered with
	// Options.disclose_caller: every INVOCATION then names the caller.
	DiscloseCaller atomic.Bool
	next           atomic.Uint64
	runs           []int // wildcard ranking, immutable
}

// Callees returns the callees at the time of the call, oldest first. The
// slice must not be modified.
func (r *Registration[S]) Callees() []S { return r.callees.Load() }

type key struct{ uri, match string }

// Index is the registration index of one realm.
type Index[S comparable] struct {
	mu        sync.RWMutex
	byKey     map[key]*Registration[S]
	byID      map[wamp.ID]*Registration[S]
	exact     map[string]*Registration[S]
	prefixes  []*Registration[S]
	wildcards []*Registration[S]
	byCallee  map[S]map[wamp.ID]struct{}
	nextID    wamp.ID
}

// New returns an empty index.
func New[S comparable]() *Index[S] {
	return &Index[S]{
		byKey:    map[key]*Registration[S]{},
		byID:     map[wamp.ID]*Registration[S]{},
		exact:    map[string]*Registration[S]{},
		byCallee: map[S]map[wamp.ID]struct{}{},
	}
}

// ValidInvoke reports whether p is a known invocation policy ("" = single).
func ValidInvoke(p string) bool {
	switch p {
	case "", InvokeSingle, InvokeRoundRobin, InvokeRandom, InvokeFirst, InvokeLast:
		return true
	}
	return false
}

// Register adds callee s for (uri, match) with the invocation policy. A
// further callee is accepted only when both use the same non-single policy.
func (x *Index[S]) Register(s S, uri, match, invoke string) (reg *Registration[S], created bool, err error) {
	if match == "" {
		match = wamp.MatchExact
	}
	if invoke == "" {
		invoke = InvokeSingle
	}
	if match != wamp.MatchExact && match != wamp.MatchPrefix && match != wamp.MatchWildcard {
		return nil, false, ErrBadMatch
	}
	if !ValidInvoke(invoke) {
		return nil, false, ErrBadInvoke
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	k := key{uri, match}
	reg = x.byKey[k]
	if reg != nil {
		if reg.Invoke == InvokeSingle || invoke == InvokeSingle {
			return nil, false, ErrProcedureExists
		}
		if reg.Invoke != invoke {
			return nil, false, ErrPolicyConflict
		}
		if _, ok := x.byCallee[s][reg.ID]; ok {
			return nil, false, ErrAlreadyRegisteredBy
		}
	} else {
		x.nextID++
		reg = &Registration[S]{ID: x.nextID, URI: uri, Match: match, Invoke: invoke, Created: time.Now()}
		x.byKey[k] = reg
		x.byID[reg.ID] = reg
		switch match {
		case wamp.MatchExact:
			x.exact[uri] = reg
		case wamp.MatchPrefix:
			x.prefixes = append(x.prefixes, reg)
		case wamp.MatchWildcard:
			reg.runs = wildcardRuns(uri)
			x.wildcards = append(x.wildcards, reg)
		}
		created = true
	}
	m := x.byCallee[s]
	if m == nil {
		m = map[wamp.ID]struct{}{}
		x.byCallee[s] = m
	}
	m[reg.ID] = struct{}{}
	reg.callees.Add(s)
	return reg, created, nil
}

// Unregister removes callee s from registration id and reports whether the
// registration was deleted.
func (x *Index[S]) Unregister(s S, id wamp.ID) (reg *Registration[S], deleted bool, err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	m := x.byCallee[s]
	if _, ok := m[id]; !ok {
		return nil, false, ErrNoSuchRegistration
	}
	delete(m, id)
	if len(m) == 0 {
		delete(x.byCallee, s)
	}
	reg = x.byID[id]
	return reg, x.removeLocked(reg, s), nil
}

// RemoveCallee drops s from every registration, for a session that left.
func (x *Index[S]) RemoveCallee(s S) (left []*Registration[S], deleted []bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for id := range x.byCallee[s] {
		reg := x.byID[id]
		left = append(left, reg)
		deleted = append(deleted, x.removeLocked(reg, s))
	}
	delete(x.byCallee, s)
	return left, deleted
}

func (x *Index[S]) removeLocked(reg *Registration[S], s S) bool {
	if reg.callees.Remove(s) > 0 {
		return false
	}
	delete(x.byKey, key{reg.URI, reg.Match})
	delete(x.byID, reg.ID)
	switch reg.Match {
	case wamp.MatchExact:
		delete(x.exact, reg.URI)
	case wamp.MatchPrefix:
		x.prefixes = removeReg(x.prefixes, reg)
	case wamp.MatchWildcard:
		x.wildcards = removeReg(x.wildcards, reg)
	}
	return true
}

func removeReg[S comparable](l []*Registration[S], r *Registration[S]) []*Registration[S] {
	for i, o := range l {
		if o == r {
			return append(l[:i], l[i+1:]...)
		}
	}
	return l
}

// Match returns the registration a call to uri goes to: the exact one, else
// the longest matching prefix, else the best wildcard (longest literal run
// before the first wildcard, then before the next, and so on). Nil if none.
func (x *Index[S]) Match(uri string) *Registration[S] {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if r := x.exact[uri]; r != nil {
		return r
	}
	var best *Registration[S]
	for _, r := range x.prefixes {
		if strings.HasPrefix(uri, r.URI) && (best == nil || len(r.URI) > len(best.URI)) {
			best = r
		}
	}
	if best != nil {
		return best
	}
	for _, r := range x.wildcards {
		if wamp.MatchURI(r.URI, wamp.MatchWildcard, uri) && (best == nil || betterRuns(r.runs, best.runs)) {
			best = r
		}
	}
	return best
}

// wildcardRuns returns the lengths, in components, of the literal runs
// between wildcard (empty) components.
func wildcardRuns(pattern string) []int {
	var runs []int
	n := 0
	for c := range strings.SplitSeq(pattern, ".") {
		if c == "" {
			runs = append(runs, n)
			n = 0
			continue
		}
		n++
	}
	return append(runs, n)
}

func betterRuns(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return false
}

// Pick chooses the callee for one call according to the policy. ok is false
// when the registration has no callee left.
func (r *Registration[S]) Pick() (s S, ok bool) {
	c := r.Callees()
	if len(c) == 0 {
		return s, false
	}
	switch r.Invoke {
	case InvokeRoundRobin:
		return c[int((r.next.Add(1)-1)%uint64(len(c)))], true
	case InvokeRandom:
		return c[rand.IntN(len(c))], true
	case InvokeLast:
		return c[len(c)-1], true
	}
	return c[0], true
}

// Get returns the registration with the given ID.
func (x *Index[S]) Get(id wamp.ID) *Registration[S] {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.byID[id]
}

// Lookup returns the registration for exactly (uri, match), or nil.
func (x *Index[S]) Lookup(uri, match string) *Registration[S] {
	if match == "" {
		match = wamp.MatchExact
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.byKey[key{uri, match}]
}

// List returns the IDs of all registrations grouped by match policy.
func (x *Index[S]) List() map[string][]wamp.ID {
	out := map[string][]wamp.ID{wamp.MatchExact: {}, wamp.MatchPrefix: {}, wamp.MatchWildcard: {}}
	x.mu.RLock()
	defer x.mu.RUnlock()
	for id, r := range x.byID {
		out[r.Match] = append(out[r.Match], id)
	}
	return out
}

// Count returns the number of registrations.
func (x *Index[S]) Count() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.byID)
}
