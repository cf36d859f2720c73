// Package outq is the byte-bounded outbound queue between the router and a
// session's writer goroutine.
//
// Producers (any goroutine routing a message to the session) call Push,
// which never blocks: it either queues the bytes or reports that the budget
// is exhausted, and the caller decides what to do (close the session as a
// slow consumer). The single consumer waits on Ready and drains everything
// with Pop, so the writer can send a whole batch in one system call.
package outq

import "sync"

// Result of a Push.
type Result int

const (
	// Queued means the message was added.
	Queued Result = iota
	// Full means the byte budget would be exceeded; nothing was added.
	Full
	// Closed means the queue was closed; nothing was added.
	Closed
)

// Queue is a FIFO of encoded messages bounded by their total size in bytes.
// It is safe for concurrent use. The zero value is not usable; call New.
type Queue struct {
	limit int           // guarded by mu after construction (SetLimit)
	ready chan struct{} // 1-slot notification for the consumer

	mu     sync.Mutex // leaf lock: nothing else is locked while held
	items  [][]byte   // guarded by mu
	bytes  int        // guarded by mu
	closed bool       // guarded by mu
	high   int        // guarded by mu: high-water mark of bytes
}

// New returns a queue that holds at most limit bytes (limit <= 0 means no
// limit). A single message larger than limit is accepted into an empty
// queue, so that one big reply never wedges a session forever.
func New(limit int) *Queue {
	return &Queue{limit: limit, ready: make(chan struct{}, 1)}
}

// Push appends b. The queue keeps b until the consumer pops it; callers must
// not modify it afterwards (sharing one slice among many queues is fine).
func (q *Queue) Push(b []byte) Result {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return Closed
	}
	if q.limit > 0 && q.bytes > 0 && q.bytes+len(b) > q.limit {
		q.mu.Unlock()
		return Full
	}
	q.items = append(q.items, b)
	q.bytes += len(b)
	if q.bytes > q.high {
		q.high = q.bytes
	}
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return Queued
}

// SetLimit changes the byte budget (<= 0: no limit) for later pushes.
func (q *Queue) SetLimit(limit int) {
	q.mu.Lock()
	q.limit = limit
	q.mu.Unlock()
}

// Ready returns a channel that receives a value after Push or Close. The
// consumer then calls Pop until it returns no items.
func (q *Queue) Ready() <-chan struct{} { return q.ready }

// Pop moves every queued message into dst (which is reset first) and
// returns it, together with whether the queue is closed. A closed queue
// still hands out what was queued before Close.
func (q *Queue) Pop(dst [][]byte) ([][]byte, bool) {
	dst = dst[:0]
	q.mu.Lock()
	dst = append(dst, q.items...)
	clear(q.items)
	q.items = q.items[:0]
	if cap(q.items) > 1024 {
		q.items = nil // let a burst's backing array go
	}
	q.bytes = 0
	closed := q.closed
	q.mu.Unlock()
	return dst, closed
}

// Close stops further pushes and wakes the consumer. Items already queued
// stay poppable. Close is idempotent.
func (q *Queue) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// Len returns the number of bytes queued.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes
}

// HighWater returns the largest number of bytes ever queued at once.
func (q *Queue) HighWater() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.high
}
