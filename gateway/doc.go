// Package gateway is the wampgate router: realms, sessions, and the routing
// of WAMP PubSub and RPC between sessions of any transport and serializer.
//
// # Sessions
//
// Router.ServeConn runs one session on an established transports.Conn. The
// calling goroutine becomes the session's reader: it reads a message,
// decodes it and routes it inline. One writer goroutine per session owns
// every write: it drains the session's byte-bounded outbound queue
// (internal/outq) and writes each batch in one call. Routing never blocks on
// a peer: a message for a session whose queue is over budget closes that
// session as a slow consumer (CloseSlowConsumer), so no other session waits.
// RESULT, ERROR and INVOCATION are never dropped silently: either queued or
// the receiving session is closed, and pending calls to a closed callee are
// answered at once with an ERROR.
//
// There are no component goroutines: the broker and dealer indexes are data
// structures behind locks, pending calls use timers, and an EVENT is encoded
// once per (subscription, serializer) and the same bytes are queued to every
// subscriber.
//
// # Lock order
//
//	Router.mu → realm.mu → realm.callsMu → index locks (broker, dealer) → outq.Queue.mu
//
// Locks to the right may be taken while holding locks to the left, never the
// other way round. No lock is held during transport I/O. The outq lock is a
// leaf.
//
// # Shutdown
//
// Router.Shutdown refuses new sessions, sends GOODBYE wamp.close.system_shutdown
// to every established session (ABORT to sessions still joining), waits for
// the peers' GOODBYE replies or the goodbye timeout, and force-closes what is
// left when its context ends. Listeners belong to the transport servers and
// are closed by the caller before Shutdown.
package gateway
