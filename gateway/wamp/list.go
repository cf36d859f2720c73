package wamp

import (
	"math"
	"strconv"
)

// ToList turns a message into its wire list, ready for a codec. Nil dicts are
// sent as empty dicts. Empty payloads are dropped as the spec recommends: an
// empty ArgumentsKw is omitted, and Arguments is omitted too when it is empty
// and no ArgumentsKw follows.
func ToList(m Message) List {
	switch m := m.(type) {
	case *Hello:
		return List{int64(TypeHello), m.Realm, dict(m.Details)}
	case *Welcome:
		return List{int64(TypeWelcome), int64(m.Session), dict(m.Details)}
	case *Abort:
		return appendPayload(append(listFor(3, &m.Payload), int64(TypeAbort), dict(m.Details), m.Reason), &m.Payload)
	case *Challenge:
		return List{int64(TypeChallenge), m.AuthMethod, dict(m.Extra)}
	case *Authenticate:
		return List{int64(TypeAuthenticate), m.Signature, dict(m.Extra)}
	case *Goodbye:
		return List{int64(TypeGoodbye), dict(m.Details), m.Reason}
	case *Error:
		return appendPayload(append(listFor(5, &m.Payload), int64(TypeError), int64(m.RequestType), int64(m.Request), dict(m.Details), m.Error), &m.Payload)
	case *Publish:
		return appendPayload(append(listFor(4, &m.Payload), int64(TypePublish), int64(m.Request), dict(m.Options), m.Topic), &m.Payload)
	case *Published:
		return List{int64(TypePublished), int64(m.Request), int64(m.Publication)}
	case *Subscribe:
		return List{int64(TypeSubscribe), int64(m.Request), dict(m.Options), m.Topic}
	case *Subscribed:
		return List{int64(TypeSubscribed), int64(m.Request), int64(m.Subscription)}
	case *Unsubscribe:
		return List{int64(TypeUnsubscribe), int64(m.Request), int64(m.Subscription)}
	case *Unsubscribed:
		if m.Details != nil {
			return List{int64(TypeUnsubscribed), int64(m.Request), m.Details}
		}
		return List{int64(TypeUnsubscribed), int64(m.Request)}
	case *Event:
		return appendPayload(append(listFor(4, &m.Payload), int64(TypeEvent), int64(m.Subscription), int64(m.Publication), dict(m.Details)), &m.Payload)
	case *Call:
		return appendPayload(append(listFor(4, &m.Payload), int64(TypeCall), int64(m.Request), dict(m.Options), m.Procedure), &m.Payload)
	case *Cancel:
		return List{int64(TypeCancel), int64(m.Request), dict(m.Options)}
	case *Result:
		return appendPayload(append(listFor(3, &m.Payload), int64(TypeResult), int64(m.Request), dict(m.Details)), &m.Payload)
	case *Register:
		return List{int64(TypeRegister), int64(m.Request), dict(m.Options), m.Procedure}
	case *Registered:
		return List{int64(TypeRegistered), int64(m.Request), int64(m.Registration)}
	case *Unregister:
		return List{int64(TypeUnregister), int64(m.Request), int64(m.Registration)}
	case *Unregistered:
		if m.Details != nil {
			return List{int64(TypeUnregistered), int64(m.Request), m.Details}
		}
		return List{int64(TypeUnregistered), int64(m.Request)}
	case *Invocation:
		return appendPayload(append(listFor(4, &m.Payload), int64(TypeInvocation), int64(m.Request), int64(m.Registration), dict(m.Details)), &m.Payload)
	case *Interrupt:
		return List{int64(TypeInterrupt), int64(m.Request), dict(m.Options)}
	case *Yield:
		return appendPayload(append(listFor(3, &m.Payload), int64(TypeYield), int64(m.Request), dict(m.Options)), &m.Payload)
	}
	return nil
}

var emptyDict = Dict{}

func dict(d Dict) Dict {
	if d == nil {
		return emptyDict
	}
	return d
}

// listFor returns an empty list with room for n fixed elements and the
// elements appendPayload adds for p, so that a message list is allocated
// once.
func listFor(n int, p *Payload) List {
	switch {
	case p.Opaque != nil:
		n++
	case len(p.Kwargs) > 0:
		n += 2
	case len(p.Args) > 0:
		n++
	}
	return make(List, 0, n)
}

func appendPayload(l List, p *Payload) List {
	switch {
	case p.Opaque != nil:
		return append(l, p.Opaque)
	case len(p.Kwargs) > 0:
		args := p.Args
		if args == nil {
			args = List{}
		}
		return append(l, args, p.Kwargs)
	case len(p.Args) > 0:
		return append(l, p.Args)
	}
	return l
}

// layout describes the fixed part of a message: its element count without
// payload, and whether Arguments/ArgumentsKw may follow.
type layout struct {
	min, max int
}

var layouts = map[MessageType]layout{
	TypeHello: {3, 3}, TypeWelcome: {3, 3}, TypeAbort: {3, 5}, TypeChallenge: {3, 3},
	TypeAuthenticate: {3, 3}, TypeGoodbye: {3, 3}, TypeError: {5, 7}, TypePublish: {4, 6},
	TypePublished: {3, 3}, TypeSubscribe: {4, 4}, TypeSubscribed: {3, 3}, TypeUnsubscribe: {3, 3},
	TypeUnsubscribed: {2, 3}, TypeEvent: {4, 6}, TypeCall: {4, 6}, TypeCancel: {3, 3},
	TypeResult: {3, 5}, TypeRegister: {4, 4}, TypeRegistered: {3, 3}, TypeUnregister: {3, 3},
	TypeUnregistered: {2, 3}, TypeInvocation: {4, 6}, TypeInterrupt: {3, 3}, TypeYield: {3, 5},
}

// parser walks a wire list and records the first structural problem.
type parser struct {
	l   List
	t   MessageType
	err *ProtocolError
}

func (p *parser) fail(reason string) {
	if p.err == nil {
		p.err = &ProtocolError{Type: p.t, Reason: reason}
	}
}

func (p *parser) id(i int, name string, allowZero bool) ID {
	v, ok := AsUint(p.l[i])
	if !ok || v > uint64(MaxID) || (v == 0 && !allowZero) {
		p.fail(name + " must be an integer ID in [1, 2^53]")
		return 0
	}
	return ID(v)
}

func (p *parser) str(i int, name string) string {
	s, ok := p.l[i].(string)
	if !ok {
		p.fail(name + " must be a string")
	}
	return s
}

func (p *parser) dict(i int, name string) Dict {
	d, ok := p.l[i].(map[string]any)
	if !ok {
		p.fail(name + " must be a dict")
	}
	return d
}

func (p *parser) payload(i int) Payload {
	var pl Payload
	if len(p.l) <= i {
		return pl
	}
	switch a := p.l[i].(type) {
	case []any:
		pl.Args = a
	default:
		if len(p.l) > i+1 || a == nil {
			p.fail("Arguments must be a list")
			return pl
		}
		pl.Opaque = a
		return pl
	}
	if len(p.l) > i+1 {
		kw, ok := p.l[i+1].(map[string]any)
		if !ok {
			p.fail("ArgumentsKw must be a dict")
		}
		pl.Kwargs = kw
	}
	return pl
}

// FromList builds a message struct from a decoded wire list, checking the
// element count and the type of every element. Errors are *ProtocolError.
func FromList(l List) (Message, error) {
	if len(l) == 0 {
		return nil, &ProtocolError{Reason: "empty message"}
	}
	code, ok := AsUint(l[0])
	if !ok || code > math.MaxUint16 {
		return nil, &ProtocolError{Reason: "message type must be an integer"}
	}
	t := MessageType(code)
	lay, ok := layouts[t]
	if !ok {
		return nil, &ProtocolError{Reason: "unknown message type " + strconv.FormatUint(code, 10)}
	}
	if len(l) < lay.min || len(l) > lay.max {
		return nil, &ProtocolError{Type: t, Reason: "wrong number of elements: " + strconv.Itoa(len(l))}
	}
	p := &parser{l: l, t: t}
	var m Message
	switch t {
	case TypeHello:
		m = &Hello{Realm: p.str(1, "Realm"), Details: p.dict(2, "Details")}
	case TypeWelcome:
		m = &Welcome{Session: p.id(1, "Session", false), Details: p.dict(2, "Details")}
	case TypeAbort:
		m = &Abort{Details: p.dict(1, "Details"), Reason: p.str(2, "Reason"), Payload: p.payload(3)}
	case TypeChallenge:
		m = &Challenge{AuthMethod: p.str(1, "AuthMethod"), Extra: p.dict(2, "Extra")}
	case TypeAuthenticate:
		m = &Authenticate{Signature: p.str(1, "Signature"), Extra: p.dict(2, "Extra")}
	case TypeGoodbye:
		m = &Goodbye{Details: p.dict(1, "Details"), Reason: p.str(2, "Reason")}
	case TypeError:
		rt, ok := AsUint(l[1])
		if !ok || rt > math.MaxUint16 {
			p.fail("REQUEST.Type must be an integer")
		}
		m = &Error{RequestType: MessageType(rt), Request: p.id(2, "Request", false), Details: p.dict(3, "Details"),
			Error: p.str(4, "Error"), Payload: p.payload(5)}
	case TypePublish:
		m = &Publish{Request: p.id(1, "Request", false), Options: p.dict(2, "Options"), Topic: p.str(3, "Topic"), Payload: p.payload(4)}
	case TypePublished:
		m = &Published{Request: p.id(1, "Request", false), Publication: p.id(2, "Publication", false)}
	case TypeSubscribe:
		m = &Subscribe{Request: p.id(1, "Request", false), Options: p.dict(2, "Options"), Topic: p.str(3, "Topic")}
	case TypeSubscribed:
		m = &Subscribed{Request: p.id(1, "Request", false), Subscription: p.id(2, "Subscription", false)}
	case TypeUnsubscribe:
		m = &Unsubscribe{Request: p.id(1, "Request", false), Subscription: p.id(2, "Subscription", false)}
	case TypeUnsubscribed:
		u := &Unsubscribed{Request: p.id(1, "Request", true)}
		if len(l) == 3 {
			u.Details = p.dict(2, "Details")
		}
		m = u
	case TypeEvent:
		m = &Event{Subscription: p.id(1, "Subscription", false), Publication: p.id(2, "Publication", false),
			Details: p.dict(3, "Details"), Payload: p.payload(4)}
	case TypeCall:
		m = &Call{Request: p.id(1, "Request", false), Options: p.dict(2, "Options"), Procedure: p.str(3, "Procedure"), Payload: p.payload(4)}
	case TypeCancel:
		m = &Cancel{Request: p.id(1, "Request", false), Options: p.dict(2, "Options")}
	case TypeResult:
		m = &Result{Request: p.id(1, "Request", false), Details: p.dict(2, "Details"), Payload: p.payload(3)}
	case TypeRegister:
		m = &Register{Request: p.id(1, "Request", false), Options: p.dict(2, "Options"), Procedure: p.str(3, "Procedure")}
	case TypeRegistered:
		m = &Registered{Request: p.id(1, "Request", false), Registration: p.id(2, "Registration", false)}
	case TypeUnregister:
		m = &Unregister{Request: p.id(1, "Request", false), Registration: p.id(2, "Registration", false)}
	case TypeUnregistered:
		u := &Unregistered{Request: p.id(1, "Request", true)}
		if len(l) == 3 {
			u.Details = p.dict(2, "Details")
		}
		m = u
	case TypeInvocation:
		m = &Invocation{Request: p.id(1, "Request", false), Registration: p.id(2, "Registration", false),
			Details: p.dict(3, "Details"), Payload: p.payload(4)}
	case TypeInterrupt:
		m = &Interrupt{Request: p.id(1, "Request", false), Options: p.dict(2, "Options")}
	case TypeYield:
		m = &Yield{Request: p.id(1, "Request", false), Options: p.dict(2, "Options"), Payload: p.payload(3)}
	}
	if p.err != nil {
		return nil, p.err
	}
	return m, nil
}

// AsUint converts any Go integer kind holding a non-negative value to uint64.
func AsUint(v any) (uint64, bool) {
	switch n := v.(type) {
	case int64:
		return uint64(n), n >= 0
	case uint64:
		return n, true
	case int:
		return uint64(n), n >= 0
	case int32:
		return uint64(n), n >= 0
	case uint32:
		return uint64(n), true
	case int16:
		return uint64(n), n >= 0
	case uint16:
		return uint64(n), true
	case int8:
		return uint64(n), n >= 0
	case uint8:
		return uint64(n), true
	case uint:
		return uint64(n), true
	}
	return 0, false
}

// AsInt converts any Go integer kind that fits into int64.
func AsInt(v any) (int64, bool) {
	if u, ok := AsUint(v); ok {
		return int64(u), u <= math.MaxInt64
	}
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int16:
		return int64(n), true
	case int8:
		return int64(n), true
	}
	return 0, false
}
