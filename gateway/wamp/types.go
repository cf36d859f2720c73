package wamp

import (
	"fmt"
	"strconv"
)

// MessageType is the integer code in element 0 of every WAMP message.
type MessageType uint16

// Message type codes of the Basic and Advanced Profiles.
const (
	TypeHello        MessageType = 1
	TypeWelcome      MessageType = 2
	TypeAbort        MessageType = 3
	TypeChallenge    MessageType = 4
	TypeAuthenticate MessageType = 5
	TypeGoodbye      MessageType = 6
	TypeError        MessageType = 8
	TypePublish      MessageType = 16
	TypePublished    MessageType = 17
	TypeSubscribe    MessageType = 32
	TypeSubscribed   MessageType = 33
	TypeUnsubscribe  MessageType = 34
	TypeUnsubscribed MessageType = 35
	TypeEvent        MessageType = 36
	TypeCall         MessageType = 48
	TypeCancel       MessageType = 49
	TypeResult       MessageType = 50
	TypeRegister     MessageType = 64
	TypeRegistered   MessageType = 65
	TypeUnregister   MessageType = 66
	TypeUnregistered MessageType = 67
	TypeInvocation   MessageType = 68
	TypeInterrupt    MessageType = 69
	TypeYield        MessageType = 70
)

var typeNames = map[MessageType]string{
	TypeHello: "HELLO", TypeWelcome: "WELCOME", TypeAbort: "ABORT", TypeChallenge: "CHALLENGE",
	TypeAuthenticate: "AUTHENTICATE", TypeGoodbye: "GOODBYE", TypeError: "ERROR",
	TypePublish: "PUBLISH", TypePublished: "PUBLISHED", TypeSubscribe: "SUBSCRIBE",
	TypeSubscribed: "SUBSCRIBED", TypeUnsubscribe: "UNSUBSCRIBE", TypeUnsubscribed: "UNSUBSCRIBED",
	TypeEvent: "EVENT", TypeCall: "CALL", TypeCancel: "CANCEL", TypeResult: "RESULT",
	TypeRegister: "REGISTER", TypeRegistered: "REGISTERED", TypeUnregister: "UNREGISTER",
	TypeUnregistered: "UNREGISTERED", TypeInvocation: "INVOCATION", TypeInterrupt: "INTERRUPT",
	TypeYield: "YIELD",
}

// String returns the upper-case message name, or the number for unknown codes.
func (t MessageType) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return "TYPE(" + strconv.Itoa(int(t)) + ")"
}

// ID is a WAMP identifier in [1, MaxID]. Zero means "none" and is valid on
// the wire only as the request of a router-initiated revocation.
type ID uint64

// MaxID is 2^53, the largest ID the spec allows.
const MaxID ID = 1 << 53

// Dict is a WAMP dictionary (Options, Details, ArgumentsKw).
type Dict = map[string]any

// List is a WAMP list (Arguments).
type List = []any

// Message is implemented by every message struct.
type Message interface {
	MessageType() MessageType
}

// Payload is the application payload carried by PUBLISH, EVENT, CALL,
// INVOCATION, YIELD, RESULT, ERROR and ABORT.
type Payload struct {
	Args   List
	Kwargs Dict
	// Opaque holds an Arguments element that is not a list (autobahn-python's
	// payload transparency puts a byte string there). It is forwarded
	// untouched; when set, Args and Kwargs are unused.
	Opaque any
}

// Empty reports whether the payload carries nothing.
func (p *Payload) Empty() bool { return p.Opaque == nil && len(p.Args) == 0 && len(p.Kwargs) == 0 }

// Hello is [HELLO, Realm|uri, Details|dict].
type Hello struct {
	Realm   string
	Details Dict
}

// Welcome is [WELCOME, Session|id, Details|dict].
type Welcome struct {
	Session ID
	Details Dict
}

// Abort is [ABORT, Details|dict, Reason|uri, Arguments?, ArgumentsKw?].
type Abort struct {
	Details Dict
	Reason  string
	Payload
}

// Challenge is [CHALLENGE, AuthMethod|string, Extra|dict].
type Challenge struct {
	AuthMethod string
	Extra      Dict
}

// Authenticate is [AUTHENTICATE, Signature|string, Extra|dict].
type Authenticate struct {
	Signature string
	Extra     Dict
}

// Goodbye is [GOODBYE, Details|dict, Reason|uri].
type Goodbye struct {
	Details Dict
	Reason  string
}

// Error is [ERROR, REQUEST.Type|int, REQUEST.Request|id, Details|dict, Error|uri, Arguments?, ArgumentsKw?].
type Error struct {
	RequestType MessageType
	Request     ID
	Details     Dict
	Error       string
	Payload
}

// Publish is [PUBLISH, Request|id, Options|dict, Topic|uri, Arguments?, ArgumentsKw?].
type Publish struct {
	Request ID
	Options Dict
	Topic   string
	Payload
}

// Published is [PUBLISHED, PUBLISH.Request|id, Publication|id].
type Published struct {
	Request     ID
	Publication ID
}

// Subscribe is [SUBSCRIBE, Request|id, Options|dict, Topic|uri].
type Subscribe struct {
	Request ID
	Options Dict
	Topic   string
}

// Subscribed is [SUBSCRIBED, SUBSCRIBE.Request|id, Subscription|id].
type Subscribed struct {
	Request      ID
	Subscription ID
}

// Unsubscribe is [UNSUBSCRIBE, Request|id, SUBSCRIBED.Subscription|id].
type Unsubscribe struct {
	Request      ID
	Subscription ID
}

// Unsubscribed is [UNSUBSCRIBED, UNSUBSCRIBE.Request|id] or, for a
// revocation, [UNSUBSCRIBED, 0, Details|dict].
type Unsubscribed struct {
	Request ID
	Details Dict
}

// Event is [EVENT, Subscription|id, Publication|id, Details|dict, Arguments?, ArgumentsKw?].
type Event struct {
	Subscription ID
	Publication  ID
	Details      Dict
	Payload
}

// Call is [CALL, Request|id, Options|dict, Procedure|uri, Arguments?, ArgumentsKw?].
type Call struct {
	Request   ID
	Options   Dict
	Procedure string
	Payload
}

// Cancel is [CANCEL, CALL.Request|id, Options|dict].
type Cancel struct {
	Request ID
	Options Dict
}

// Result is [RESULT, CALL.Request|id, Details|dict, Arguments?, ArgumentsKw?].
type Result struct {
	Request ID
	Details Dict
	Payload
}

// Register is [REGISTER, Request|id, Options|dict, Procedure|uri].
type Register struct {
	Request   ID
	Options   Dict
	Procedure string
}

// Registered is [REGISTERED, REGISTER.Request|id, Registration|id].
type Registered struct {
	Request      ID
	Registration ID
}

// Unregister is [UNREGISTER, Request|id, REGISTERED.Registration|id].
type Unregister struct {
	Request      ID
	Registration ID
}

// Unregistered is [UNREGISTERED, UNREGISTER.Request|id] or, for a
// revocation, [UNREGISTERED, 0, Details|dict].
type Unregistered struct {
	Request ID
	Details Dict
}

// Invocation is [INVOCATION, Request|id, REGISTERED.Registration|id, Details|dict, Arguments?, ArgumentsKw?].
type Invocation struct {
	Request      ID
	Registration ID
	Details      Dict
	Payload
}

// Interrupt is [INTERRUPT, INVOCATION.Request|id, Options|dict].
type Interrupt struct {
	Request ID
	Options Dict
}

// Yield is [YIELD, INVOCATION.Request|id, Options|dict, Arguments?, ArgumentsKw?].
type Yield struct {
	Request ID
	Options Dict
	Payload
}

// MessageType implementations.
func (*Hello) MessageType() MessageType        { return TypeHello }
func (*Welcome) MessageType() MessageType      { return TypeWelcome }
func (*Abort) MessageType() MessageType        { return TypeAbort }
func (*Challenge) MessageType() MessageType    { return TypeChallenge }
func (*Authenticate) MessageType() MessageType { return TypeAuthenticate }
func (*Goodbye) MessageType() MessageType      { return TypeGoodbye }
func (*Error) MessageType() MessageType        { return TypeError }
func (*Publish) MessageType() MessageType      { return TypePublish }
func (*Published) MessageType() MessageType    { return TypePublished }
func (*Subscribe) MessageType() MessageType    { return TypeSubscribe }
func (*Subscribed) MessageType() MessageType   { return TypeSubscribed }
func (*Unsubscribe) MessageType() MessageType  { return TypeUnsubscribe }
func (*Unsubscribed) MessageType() MessageType { return TypeUnsubscribed }
func (*Event) MessageType() MessageType        { return TypeEvent }
func (*Call) MessageType() MessageType         { return TypeCall }
func (*Cancel) MessageType() MessageType       { return TypeCancel }
func (*Result) MessageType() MessageType       { return TypeResult }
func (*Register) MessageType() MessageType     { return TypeRegister }
func (*Registered) MessageType() MessageType   { return TypeRegistered }
func (*Unregister) MessageType() MessageType   { return TypeUnregister }
func (*Unregistered) MessageType() MessageType { return TypeUnregistered }
func (*Invocation) MessageType() MessageType   { return TypeInvocation }
func (*Interrupt) MessageType() MessageType    { return TypeInterrupt }
func (*Yield) MessageType() MessageType        { return TypeYield }

// ProtocolError describes a message that breaks the WAMP message grammar.
// Routers answer it with ABORT wamp.error.protocol_violation.
type ProtocolError struct {
	Type   MessageType // zero when the type itself could not be read
	Reason string
}

func (e *ProtocolError) Error() string {
	if e.Type == 0 {
		return "wamp: protocol violation: " + e.Reason
	}
	return fmt.Sprintf("wamp: protocol violation in %s: %s", e.Type, e.Reason)
}
