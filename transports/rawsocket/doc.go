// Package rawsocket implements the WAMP RawSocket transport: a four-octet
// handshake followed by length-prefixed frames, over TCP, Unix domain
// sockets or any other reliable byte stream.
//
// # Handshake
//
// The client sends 0x7F, LLLL SSSS, 0x00, 0x00, where 2^(9+LLLL) is the
// largest message it accepts and SSSS the serializer. The server answers with
// its own LLLL and the echoed serializer, or with an error reply
// 0x7F, EEEE 0000, 0x00, 0x00 (see the Code constants) and closes. A first
// octet other than 0x7F is closed without a reply. The whole handshake is
// bounded by Options.HandshakeTimeout.
//
// # Frames
//
// Every frame has a four-octet header RRRR XTTT plus a 24-bit length. Type 0
// carries a WAMP message, type 1 is a PING and type 2 a PONG. A PING is
// answered at once with a PONG that echoes its payload. The length is checked
// against our announced limit before any buffer is allocated.
//
// # Liveness
//
// Many RawSocket peers cannot answer PINGs (autobahn-python's Twisted and
// asyncio clients, for example). A connection therefore only sends its own
// PINGs when Options.PingInterval > 0 and the peer has sent at least one PING
// itself, proving that it speaks PING/PONG. The pings are driven by
// time.AfterFunc while the connection is idle; after two unanswered pings the
// connection is closed and Read reports transports.ErrPingTimeout.
//
// # Outgoing limit
//
// MaxOutgoing reports the limit the peer announced, capped at 2^24-1 bytes:
// a message of exactly 2^24 bytes would need the X length bit, which older
// peers (autobahn-js reads the frame type with &0x0f) misread. Incoming
// frames with the X bit are accepted when our own limit allows them.
//
// # Writing
//
// Write sends a batch with one write deadline. On TCP and Unix sockets the
// frames go out with writev (net.Buffers), up to 64 messages per call, which
// keeps the per-connection scratch at about 3 KiB; on other streams (TLS)
// they are gathered in a 4 KiB buffer. A message over MaxOutgoing fails the
// whole batch before anything is written.
//
// # Memory
//
// An idle connection holds a 1 KiB read buffer, its message buffer (kept
// up to 8 KiB, dropped after a larger message) and, once it has written,
// its write scratch. BenchmarkIdleSessionMemory reports the total.
//
// # TLS
//
// Serve accepts a tls.Listener and Client a *tls.Conn; the TLS handshake
// then runs within the RawSocket handshake deadline, and Info.TLS carries
// the connection state.
//
// # Concurrency
//
// A Conn follows transports.Conn: one goroutine reads, another writes, and
// Close may be called from anywhere. PONG replies and our own PINGs share a
// write mutex with Write, so frames never interleave.
package rawsocket
