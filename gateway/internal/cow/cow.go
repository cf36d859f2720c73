// Package cow is a copy-on-write list of members (subscribers of a
// subscription, callees of a registration): writers replace the whole slice
// under their own lock, readers load it without any lock and may keep using
// the slice they got, which is never modified afterwards.
package cow

import "sync/atomic"

// List is a copy-on-write list. The zero value is an empty list. Add and
// Remove must be serialised by the caller; Load is safe at any time.
type List[S comparable] struct {
	p atomic.Pointer[[]S]
}

// Load returns the members at the time of the call, in insertion order. The
// slice must not be modified.
func (l *List[S]) Load() []S {
	if p := l.p.Load(); p != nil {
		return *p
	}
	return nil
}

// Add appends s.
func (l *List[S]) Add(s S) {
	old := l.Load()
	next := make([]S, len(old), len(old)+1)
	copy(next, old)
	next = append(next, s)
	l.p.Store(&next)
}

// Remove drops every occurrence of s and returns how many members remain.
func (l *List[S]) Remove(s S) int {
	old := l.Load()
	next := make([]S, 0, len(old))
	for _, o := range old {
		if o != s {
			next = append(next, o)
		}
	}
	l.p.Store(&next)
	return len(next)
}
