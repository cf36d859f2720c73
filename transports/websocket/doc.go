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
// Server.ServeHTTP upgrades the request within Options.HandshakeTimeout and
// runs Handler.ServeConn in the request goroutine. Dial is the client side.
//
// The read limit is set to Options.MaxMessageSize. Each Write call runs
// under one Options.WriteTimeout. When Options.PingInterval > 0, an idle
// connection is pinged (every WebSocket peer must answer pings); after two
// failed or unanswered pings it is closed and Read reports
// transports.ErrPingTimeout. Close runs the WebSocket close handshake but
// gives up after one second and drops the TCP connection.
package websocket
