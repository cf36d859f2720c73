package codec

import (
	"fmt"
	"math"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// This file holds the message-level work shared by the codecs. Encoding
// walks a message struct into at most maxElems typed elements (the same
// elements, in the same order, as wamp.ToList returns) without building a
// []any or boxing integers and strings. Decoding reads the top-level list
// into slots that keep integers, strings and lists out of interfaces,
// builds the hot message types
// straight from them, and hands everything else, including every invalid
// message, to wamp.FromList so that the rules and error texts stay in one
// place.

// maxElems is the longest message list of the WAMP grammar (ERROR with
// Arguments and ArgumentsKw).
const maxElems = 7

type elemKind uint8

const (
	elemInt  elemKind = iota // i
	elemStr                  // s
	elemDict                 // d; nil encodes as an empty dict
	elemList                 // l; nil encodes as an empty list
	elemAny                  // v, an opaque payload
)

// elem is one element of a message list.
type elem struct {
	kind elemKind
	i    int64
	s    string
	d    map[string]any
	l    []any
	v    any
}

// elems is a message list in the making.
type elems struct {
	e [maxElems]elem
	n int
}

func (b *elems) int(v int64) {
	b.e[b.n] = elem{kind: elemInt, i: v}
	b.n++
}

func (b *elems) id(v wamp.ID) { b.int(int64(v)) }

func (b *elems) str(s string) {
	b.e[b.n] = elem{kind: elemStr, s: s}
	b.n++
}

func (b *elems) dict(d wamp.Dict) {
	b.e[b.n] = elem{kind: elemDict, d: d}
	b.n++
}

func (b *elems) list(l wamp.List) {
	b.e[b.n] = elem{kind: elemList, l: l}
	b.n++
}

// payload adds Arguments and ArgumentsKw by the rules of wamp.ToList.
func (b *elems) payload(p *wamp.Payload) {
	switch {
	case p.Opaque != nil:
		b.e[b.n] = elem{kind: elemAny, v: p.Opaque}
		b.n++
	case len(p.Kwargs) > 0:
		b.list(p.Args)
		b.dict(p.Kwargs)
	case len(p.Args) > 0:
		b.list(p.Args)
	}
}

// fill sets b to the list of m and reports whether m is a message type
// that wamp.ToList knows.
func (b *elems) fill(m wamp.Message) bool {
	b.n = 0
	switch m := m.(type) {
	case *wamp.Hello:
		b.int(int64(wamp.TypeHello))
		b.str(m.Realm)
		b.dict(m.Details)
	case *wamp.Welcome:
		b.int(int64(wamp.TypeWelcome))
		b.id(m.Session)
		b.dict(m.Details)
	case *wamp.Abort:
		b.int(int64(wamp.TypeAbort))
		b.dict(m.Details)
		b.str(m.Reason)
		b.payload(&m.Payload)
	case *wamp.Challenge:
		b.int(int64(wamp.TypeChallenge))
		b.str(m.AuthMethod)
		b.dict(m.Extra)
	case *wamp.Authenticate:
		b.int(int64(wamp.TypeAuthenticate))
		b.str(m.Signature)
		b.dict(m.Extra)
	case *wamp.Goodbye:
		b.int(int64(wamp.TypeGoodbye))
		b.dict(m.Details)
		b.str(m.Reason)
	case *wamp.Error:
		b.int(int64(wamp.TypeError))
		b.int(int64(m.RequestType))
		b.id(m.Request)
		b.dict(m.Details)
		b.str(m.Error)
		b.payload(&m.Payload)
	case *wamp.Publish:
		b.int(int64(wamp.TypePublish))
		b.id(m.Request)
		b.dict(m.Options)
		b.str(m.Topic)
		b.payload(&m.Payload)
	case *wamp.Published:
		b.int(int64(wamp.TypePublished))
		b.id(m.Request)
		b.id(m.Publication)
	case *wamp.Subscribe:
		b.int(int64(wamp.TypeSubscribe))
		b.id(m.Request)
		b.dict(m.Options)
		b.str(m.Topic)
	case *wamp.Subscribed:
		b.int(int64(wamp.TypeSubscribed))
		b.id(m.Request)
		b.id(m.Subscription)
	case *wamp.Unsubscribe:
		b.int(int64(wamp.TypeUnsubscribe))
		b.id(m.Request)
		b.id(m.Subscription)
	case *wamp.Unsubscribed:
		b.int(int64(wamp.TypeUnsubscribed))
		b.id(m.Request)
		if m.Details != nil {
			b.dict(m.Details)
		}
	case *wamp.Event:
		b.int(int64(wamp.TypeEvent))
		b.id(m.Subscription)
		b.id(m.Publication)
		b.dict(m.Details)
		b.payload(&m.Payload)
	case *wamp.Call:
		b.int(int64(wamp.TypeCall))
		b.id(m.Request)
		b.dict(m.Options)
		b.str(m.Procedure)
		b.payload(&m.Payload)
	case *wamp.Cancel:
		b.int(int64(wamp.TypeCancel))
		b.id(m.Request)
		b.dict(m.Options)
	case *wamp.Result:
		b.int(int64(wamp.TypeResult))
		b.id(m.Request)
		b.dict(m.Details)
		b.payload(&m.Payload)
	case *wamp.Register:
		b.int(int64(wamp.TypeRegister))
		b.id(m.Request)
		b.dict(m.Options)
		b.str(m.Procedure)
	case *wamp.Registered:
		b.int(int64(wamp.TypeRegistered))
		b.id(m.Request)
		b.id(m.Registration)
	case *wamp.Unregister:
		b.int(int64(wamp.TypeUnregister))
		b.id(m.Request)
		b.id(m.Registration)
	case *wamp.Unregistered:
		b.int(int64(wamp.TypeUnregistered))
		b.id(m.Request)
		if m.Details != nil {
			b.dict(m.Details)
		}
	case *wamp.Invocation:
		b.int(int64(wamp.TypeInvocation))
		b.id(m.Request)
		b.id(m.Registration)
		b.dict(m.Details)
		b.payload(&m.Payload)
	case *wamp.Interrupt:
		b.int(int64(wamp.TypeInterrupt))
		b.id(m.Request)
		b.dict(m.Options)
	case *wamp.Yield:
		b.int(int64(wamp.TypeYield))
		b.id(m.Request)
		b.dict(m.Options)
		b.payload(&m.Payload)
	default:
		return false
	}
	return true
}

func errEncodeMessage(m wamp.Message) error {
	return fmt.Errorf("codec: cannot encode message of type %T", m)
}

type slotKind uint8

const (
	slotAny     slotKind = iota // v
	slotInt                     // u holds the bits of an int64
	slotBigUint                 // u is a uint64 above math.MaxInt64
	slotStr                     // s
	slotList                    // l
)

// slot is one decoded element of a message list. Integers, strings and
// lists are kept out of interfaces, which would cost an allocation each,
// until they are known to be needed as such.
type slot struct {
	kind slotKind
	u    uint64
	s    string
	l    []any
	v    any
}

func (s *slot) setInt(v int64) { *s = slot{kind: slotInt, u: uint64(v)} }

func (s *slot) setUint(v uint64) {
	if v > math.MaxInt64 {
		*s = slot{kind: slotBigUint, u: v}
		return
	}
	*s = slot{kind: slotInt, u: v}
}

func (s *slot) setStr(v string) { *s = slot{kind: slotStr, s: v} }
func (s *slot) setList(v []any) { *s = slot{kind: slotList, l: v} }
func (s *slot) setValue(v any)  { *s = slot{kind: slotAny, v: v} }

// value returns the element as the value model has it.
func (s *slot) value() any {
	switch s.kind {
	case slotInt:
		return int64(s.u)
	case slotBigUint:
		return s.u
	case slotStr:
		return s.s
	case slotList:
		return s.l
	}
	return s.v
}

// uint is wamp.AsUint on the element.
func (s *slot) uint() (uint64, bool) {
	switch s.kind {
	case slotInt:
		return s.u, int64(s.u) >= 0
	case slotBigUint:
		return s.u, true
	}
	return 0, false
}

// id reports the element as an ID in [1, wamp.MaxID].
func (s *slot) id() (wamp.ID, bool) {
	u, ok := s.uint()
	if !ok || u == 0 || u > uint64(wamp.MaxID) {
		return 0, false
	}
	return wamp.ID(u), true
}

func (s *slot) str() (string, bool) {
	switch s.kind {
	case slotStr:
		return s.s, true
	case slotAny:
		str, ok := s.v.(string)
		return str, ok
	}
	return "", false
}

func (s *slot) list() ([]any, bool) {
	switch s.kind {
	case slotList:
		return s.l, true
	case slotAny:
		l, ok := s.v.([]any)
		return l, ok
	}
	return nil, false
}

func (s *slot) dict() (map[string]any, bool) {
	if s.kind != slotAny {
		return nil, false
	}
	d, ok := s.v.(map[string]any)
	return d, ok
}

// payload reads Arguments and ArgumentsKw, the elements from s on, by the
// rules of wamp.FromList.
func payload(s []slot) (wamp.Payload, bool) {
	var p wamp.Payload
	switch len(s) {
	case 0:
		return p, true
	case 1:
		if l, ok := s[0].list(); ok {
			p.Args = l
			return p, true
		}
		p.Opaque = s[0].value()
		return p, p.Opaque != nil
	case 2:
		l, ok := s[0].list()
		if !ok {
			return p, false
		}
		kw, ok := s[1].dict()
		p.Args, p.Kwargs = l, kw
		return p, ok
	}
	return p, false
}

// buildMessage turns a decoded message list into a message. The hot types
// are built directly when the list is valid; every other case goes through
// wamp.FromList.
func buildMessage(s []slot) (wamp.Message, error) {
	if m := buildFast(s); m != nil {
		return m, nil
	}
	l := make(wamp.List, len(s))
	for i := range s {
		l[i] = s[i].value()
	}
	return wamp.FromList(l)
}

// buildFast builds the messages that carry payloads, or returns nil if s
// is anything else or breaks a rule.
func buildFast(s []slot) wamp.Message {
	if len(s) < 3 {
		return nil
	}
	code, ok := s[0].uint()
	if !ok {
		return nil
	}
	switch wamp.MessageType(code) {
	case wamp.TypeCall:
		if code != uint64(wamp.TypeCall) || len(s) < 4 {
			return nil
		}
		req, ok1 := s[1].id()
		opts, ok2 := s[2].dict()
		proc, ok3 := s[3].str()
		p, ok4 := payload(s[4:])
		if ok1 && ok2 && ok3 && ok4 {
			return &wamp.Call{Request: req, Options: opts, Procedure: proc, Payload: p}
		}
	case wamp.TypeInvocation:
		if code != uint64(wamp.TypeInvocation) || len(s) < 4 {
			return nil
		}
		req, ok1 := s[1].id()
		reg, ok2 := s[2].id()
		det, ok3 := s[3].dict()
		p, ok4 := payload(s[4:])
		if ok1 && ok2 && ok3 && ok4 {
			return &wamp.Invocation{Request: req, Registration: reg, Details: det, Payload: p}
		}
	case wamp.TypeYield:
		if code != uint64(wamp.TypeYield) || len(s) > 5 {
			return nil
		}
		req, ok1 := s[1].id()
		opts, ok2 := s[2].dict()
		p, ok3 := payload(s[3:])
		if ok1 && ok2 && ok3 {
			return &wamp.Yield{Request: req, Options: opts, Payload: p}
		}
	case wamp.TypeResult:
		if code != uint64(wamp.TypeResult) || len(s) > 5 {
			return nil
		}
		req, ok1 := s[1].id()
		det, ok2 := s[2].dict()
		p, ok3 := payload(s[3:])
		if ok1 && ok2 && ok3 {
			return &wamp.Result{Request: req, Details: det, Payload: p}
		}
	case wamp.TypePublish:
		if code != uint64(wamp.TypePublish) || len(s) < 4 {
			return nil
		}
		req, ok1 := s[1].id()
		opts, ok2 := s[2].dict()
		topic, ok3 := s[3].str()
		p, ok4 := payload(s[4:])
		if ok1 && ok2 && ok3 && ok4 {
			return &wamp.Publish{Request: req, Options: opts, Topic: topic, Payload: p}
		}
	case wamp.TypeEvent:
		if code != uint64(wamp.TypeEvent) || len(s) < 4 {
			return nil
		}
		sub, ok1 := s[1].id()
		pub, ok2 := s[2].id()
		det, ok3 := s[3].dict()
		p, ok4 := payload(s[4:])
		if ok1 && ok2 && ok3 && ok4 {
			return &wamp.Event{Subscription: sub, Publication: pub, Details: det, Payload: p}
		}
	case wamp.TypeError:
		if code != uint64(wamp.TypeError) || len(s) < 5 {
			return nil
		}
		rt, ok1 := s[1].uint()
		req, ok2 := s[2].id()
		det, ok3 := s[3].dict()
		uri, ok4 := s[4].str()
		p, ok5 := payload(s[5:])
		if ok1 && rt <= math.MaxUint16 && ok2 && ok3 && ok4 && ok5 {
			return &wamp.Error{RequestType: wamp.MessageType(rt), Request: req, Details: det, Error: uri, Payload: p}
		}
	}
	return nil
}
