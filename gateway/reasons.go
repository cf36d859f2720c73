package gateway

// CloseReason says why a session ended. The same values appear in logs,
// metrics labels and tests.
type CloseReason uint8

// Close reasons.
const (
	CloseNone              CloseReason = iota // still open
	CloseGoodbye                              // GOODBYE handshake, either side
	CloseTransport                            // peer closed the connection or it failed
	CloseProtocolViolation                    // bad message or message sequence
	CloseMessageTooBig                        // incoming message over the receive limit
	CloseSlowConsumer                         // outbound queue over its byte budget
	CloseWriteTimeout                         // a write did not finish in time
	CloseHandshakeTimeout                     // no WELCOME within the handshake deadline
	ClosePingTimeout                          // liveness pings unanswered
	CloseShutdown                             // router shutting down
	CloseKilled                               // killed through the meta API
	CloseAbort                                // peer sent ABORT
	CloseJoinRefused                          // HELLO refused with ABORT
	CloseLimit                                // a session limit was reached
	numCloseReasons
)

var closeReasonNames = [...]string{
	CloseNone: "none", CloseGoodbye: "goodbye", CloseTransport: "transport",
	CloseProtocolViolation: "protocol_violation", CloseMessageTooBig: "message_too_big",
	CloseSlowConsumer: "slow_consumer", CloseWriteTimeout: "write_timeout",
	CloseHandshakeTimeout: "handshake_timeout", ClosePingTimeout: "ping_timeout",
	CloseShutdown: "shutdown", CloseKilled: "killed", CloseAbort: "abort", CloseJoinRefused: "join_refused",
	CloseLimit: "limit_exceeded",
}

func (r CloseReason) String() string {
	if int(r) < len(closeReasonNames) {
		return closeReasonNames[r]
	}
	return "unknown"
}

// ViolationReason classifies protocol violations.
type ViolationReason uint8

// Violation reasons.
const (
	ViolationMalformed    ViolationReason = iota // bytes the serializer cannot decode
	ViolationInvalid                             // decodes, but is not a valid WAMP message
	ViolationNotHello                            // first message was not HELLO
	ViolationUnexpected                          // message type not allowed from a client in this state
	ViolationBadErrorType                        // ERROR from a client with a request type other than INVOCATION
	ViolationTooBig                              // message over the receive limit
	numViolationReasons
)

var violationNames = [...]string{
	ViolationMalformed: "malformed", ViolationInvalid: "invalid_message", ViolationNotHello: "not_hello",
	ViolationUnexpected: "unexpected_message", ViolationBadErrorType: "bad_error_type", ViolationTooBig: "too_big",
}

func (v ViolationReason) String() string {
	if int(v) < len(violationNames) {
		return violationNames[v]
	}
	return "unknown"
}

// DropReason says why a message was not delivered to one peer.
type DropReason uint8

// Drop reasons.
const (
	DropTooBigForPeer DropReason = iota // larger than the peer's announced limit
	DropSessionClosed                   // the receiving session was closing
	DropEncode                          // could not be encoded for the peer's serializer
	numDropReasons
)

var dropNames = [...]string{DropTooBigForPeer: "too_big_for_peer", DropSessionClosed: "session_closed", DropEncode: "encode_failed"}

func (d DropReason) String() string {
	if int(d) < len(dropNames) {
		return dropNames[d]
	}
	return "unknown"
}
