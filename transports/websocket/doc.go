// Package websocket carries WAMP over WebSocket (RFC 6455) using
// github.com/coder/websocket.
//
// One WAMP message is one WebSocket message. The subprotocol picks the
// serializer: wamp.2.json travels in text messages, wamp.2.msgpack and
// wamp.2.cbor in binary messages; a message of the other type is a protocol
// error. The server selects the client's most preferred subprotocol among
// those it supports and never a ".batched" variant (autobahn-python offers
// those first). A request offering none of ours gets HTTP 400 before any
// upgrade, and a plain HTTP request gets 426 Upgrade Required.
//
// Server.ServeHTTP upgrades the request within Options.HandshakeTimeout,
// starts Handler.ServeConn in a goroutine of its own and returns, so that
// net/http releases the request and its 4 KiB connection buffers;
// Server.Wait waits for the sessions and Server.Close refuses new ones.
// Dial is the client side.
//
// Each Write is one batch: the frames of all its messages are collected
// under the library and reach the socket in one write (a batch over 64 KiB
// is written in parts). Control frames the library sends by itself, such as
// pongs and close frames, are written at once, or join the batch that is
// being collected; either way the byte stream keeps its order.
// On the server, reads go through a pooled buffer taken only while data is
// arriving, so that an idle connection keeps a few hundred bytes of
// buffers.
//
// The read limit is set to Options.MaxMessageSize. Each Write call runs
// under one Options.WriteTimeout. When Options.PingInterval > 0, an idle
// connection is pinged (every WebSocket peer must answer pings); after two
// failed or unanswered pings it is closed and Read reports
// transports.ErrPingTimeout. Close runs the WebSocket close handshake but
// gives up after one second and drops the TCP connection.
package websocket
