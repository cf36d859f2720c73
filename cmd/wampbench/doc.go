// Command wampbench is a load generator for WAMP routers. It drives any
// router over the wire (RawSocket over TCP or Unix sockets, or WebSocket,
// with JSON, MessagePack or CBOR) and measures one scenario per run:
//
//	rtt     round-trip latency of one call at a time (p50, p90, p99, max)
//	calls   pipelined call throughput with N calls in flight
//	fanout  event deliveries per second from one publisher to S subscribers,
//	        with a bounded window and a check that no event is lost
//	joins   session lifecycles per second (connect, HELLO, WELCOME, GOODBYE)
//	idle    N idle sessions held open; the router's VmRSS per session
//
// Each run prints one summary line, plus one JSON line with --json;
// "wampbench table" turns JSON lines into a markdown table. bench/run.sh
// runs every scenario against bin/wampgate.
//
// The hot loops speak raw WAMP (not gateway/client) so that the figures
// measure the router, not a client library: one reader goroutine per
// connection, writes batched into one transport write, and messages built
// from pre-encoded templates and inspected by their first two elements
// only.
package main
