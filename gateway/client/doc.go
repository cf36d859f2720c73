// Package client is a small WAMP client: caller, callee, publisher and
// subscriber over any transports.Conn. The uplink, the firmware simulator,
// the wampgate CLI commands and the tests use it.
//
// Connect dials a router URL (ws://, wss://, tcp://host:port, unix:///path)
// and joins a realm; Join does the same on a connection you already have
// (for example one end of an inproc.Pipe). Both return a *Session whose
// methods are safe for concurrent use.
//
// # Concurrency model
//
// A session runs one reader goroutine. It decodes every message from the
// router and routes it inline: replies go to the goroutine that made the
// request, matched by request ID. Writes are serialised by a mutex held by
// the goroutine that sends; session-scope request IDs (one counter for all
// request types, sequential from 1) are taken under the same mutex, so the
// router sees them in increasing order.
//
// EVENTs are handed to one dispatch goroutine per session through a queue
// bounded by Options.EventQueueSize, so a slow event handler never blocks
// the reader (and with it RPC results). Handlers therefore run one at a time
// and in order, across all subscriptions of the session; they may call any
// Session method. When the queue is full further EVENTs are dropped, logged
// and counted (Session.DroppedEvents) rather than stalling the session.
//
// Each INVOCATION runs its handler in a goroutine of its own, with a context
// that is cancelled by INTERRUPT or when the session ends.
//
// When the session ends (Leave, Close, router GOODBYE or ABORT, transport
// failure) every pending request fails at once with an error wrapping
// ErrClosed and the cause, which Err reports. Done is closed after the
// reader, the dispatcher and all invocation handlers have returned, so a
// handler that ignores its context delays Done.
//
// Protocol slips by the router, such as a reply for an unknown request ID
// or an EVENT for an unknown subscription, are logged and ignored. Messages
// that cannot be decoded end the session with ABORT
// wamp.error.protocol_violation.
package client
