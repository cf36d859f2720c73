package wamp_test

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/wampgate/wampgate/gateway/wamp"
)

type protoErrCase struct {
	name string
	l    wamp.List
	typ  wamp.MessageType // expected ProtocolError.Type
	want string           // substring of the reason
}

func TestFromListErrors(t *testing.T) {
	d := wamp.Dict{}
	tests := []protoErrCase{
		{"nil list", nil, 0, "empty message"},
		{"empty list", wamp.List{}, 0, "empty message"},
		{"unknown type", wamp.List{int64(7), d, "x"}, 0, "unknown message type 7"},
		{"unknown large type", wamp.List{int64(337), int64(1)}, 0, "unknown message type 337"},
		{"string type", wamp.List{"48", int64(1), d, "p"}, 0, "must be an integer"},
		{"float type", wamp.List{48.0, int64(1), d, "p"}, 0, "must be an integer"},
		{"negative type", wamp.List{int64(-48), int64(1), d, "p"}, 0, "must be an integer"},
		{"type above uint16", wamp.List{int64(65536 + 48), int64(1), d, "p"}, 0, "must be an integer"},
		{"nil type", wamp.List{nil}, 0, "must be an integer"},
		{"bool type", wamp.List{true}, 0, "must be an integer"},

		{"hello too short", wamp.List{int64(1), "realm"}, wamp.TypeHello, "wrong number of elements: 2"},
		{"hello too long", wamp.List{int64(1), "realm", d, d}, wamp.TypeHello, "wrong number of elements: 4"},
		{"call too short", wamp.List{int64(48), int64(1), d}, wamp.TypeCall, "wrong number of elements"},
		{"call too long", wamp.List{int64(48), int64(1), d, "p", wamp.List{}, d, "x"}, wamp.TypeCall, "wrong number of elements"},
		{"subscribe with payload", wamp.List{int64(32), int64(1), d, "t", wamp.List{}}, wamp.TypeSubscribe, "wrong number of elements"},
		{"published too short", wamp.List{int64(17), int64(1)}, wamp.TypePublished, "wrong number of elements"},
		{"unsubscribed too short", wamp.List{int64(35)}, wamp.TypeUnsubscribed, "wrong number of elements"},
		{"unsubscribed too long", wamp.List{int64(35), int64(0), d, d}, wamp.TypeUnsubscribed, "wrong number of elements"},
		{"error too short", wamp.List{int64(8), int64(48), int64(1), d}, wamp.TypeError, "wrong number of elements"},
		{"welcome too long", wamp.List{int64(2), int64(1), d, wamp.List{}}, wamp.TypeWelcome, "wrong number of elements"},

		{"string request id", wamp.List{int64(48), "1", d, "p"}, wamp.TypeCall, "Request must be an integer ID"},
		{"string publication", wamp.List{int64(17), int64(1), "2"}, wamp.TypePublished, "Publication must be an integer ID"},
		{"string session", wamp.List{int64(2), "9", d}, wamp.TypeWelcome, "Session must be"},
		{"float id", wamp.List{int64(48), 1.0, d, "p"}, wamp.TypeCall, "Request must be"},
		{"negative id", wamp.List{int64(48), int64(-1), d, "p"}, wamp.TypeCall, "Request must be"},
		{"id zero", wamp.List{int64(48), int64(0), d, "p"}, wamp.TypeCall, "Request must be"},
		{"id zero subscribed", wamp.List{int64(33), int64(1), int64(0)}, wamp.TypeSubscribed, "Subscription must be"},
		{"id 2^53+1", wamp.List{int64(48), int64(1<<53 + 1), d, "p"}, wamp.TypeCall, "Request must be"},
		{"id uint64 max", wamp.List{int64(36), uint64(math.MaxUint64), int64(1), d}, wamp.TypeEvent, "Subscription must be"},
		{"id nil", wamp.List{int64(65), int64(1), nil}, wamp.TypeRegistered, "Registration must be"},

		{"realm not a string", wamp.List{int64(1), int64(1), d}, wamp.TypeHello, "Realm must be a string"},
		{"procedure not a string", wamp.List{int64(48), int64(1), d, []byte("p")}, wamp.TypeCall, "Procedure must be a string"},
		{"reason not a string", wamp.List{int64(6), d, nil}, wamp.TypeGoodbye, "Reason must be a string"},
		{"details not a dict", wamp.List{int64(1), "realm", wamp.List{}}, wamp.TypeHello, "Details must be a dict"},
		{"options nil", wamp.List{int64(48), int64(1), nil, "p"}, wamp.TypeCall, "Options must be a dict"},
		{"unsubscribed details not a dict", wamp.List{int64(35), int64(0), "x"}, wamp.TypeUnsubscribed, "Details must be a dict"},
		{"error request type string", wamp.List{int64(8), "48", int64(1), d, "e"}, wamp.TypeError, "REQUEST.Type must be an integer"},
		{"error request type too big", wamp.List{int64(8), int64(70000), int64(1), d, "e"}, wamp.TypeError, "REQUEST.Type must be an integer"},

		{"arguments nil", wamp.List{int64(48), int64(1), d, "p", nil}, wamp.TypeCall, "Arguments must be a list"},
		{"opaque with kwargs", wamp.List{int64(48), int64(1), d, "p", "opaque", d}, wamp.TypeCall, "Arguments must be a list"},
		{"dict arguments with kwargs", wamp.List{int64(16), int64(1), d, "t", d, d}, wamp.TypePublish, "Arguments must be a list"},
		{"kwargs a list", wamp.List{int64(48), int64(1), d, "p", wamp.List{}, wamp.List{}}, wamp.TypeCall, "ArgumentsKw must be a dict"},
		{"kwargs nil", wamp.List{int64(50), int64(1), d, wamp.List{}, nil}, wamp.TypeResult, "ArgumentsKw must be a dict"},
		{"kwargs string", wamp.List{int64(36), int64(1), int64(2), d, wamp.List{}, "kw"}, wamp.TypeEvent, "ArgumentsKw must be a dict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := wamp.FromList(tt.l)
			if m != nil {
				t.Errorf("message %#v returned with error", m)
			}
			var pe *wamp.ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error = %v, want *wamp.ProtocolError", err)
			}
			if pe.Type != tt.typ {
				t.Errorf("Type = %v, want %v", pe.Type, tt.typ)
			}
			if !strings.Contains(pe.Reason, tt.want) {
				t.Errorf("Reason = %q, want it to contain %q", pe.Reason, tt.want)
			}
		})
	}
}

func TestFromListAccepts(t *testing.T) {
	d := wamp.Dict{}
	tests := []struct {
		name string
		l    wamp.List
		want wamp.Message
	}{
		{"id 2^53", wamp.List{int64(48), int64(1 << 53), d, "p"},
			&wamp.Call{Request: wamp.MaxID, Options: d, Procedure: "p"}},
		{"go int kinds", wamp.List{uint8(17), int(1), uint32(2)},
			&wamp.Published{Request: 1, Publication: 2}},
		{"uint64 id", wamp.List{int64(33), uint64(5), int16(6)},
			&wamp.Subscribed{Request: 5, Subscription: 6}},
		{"opaque bytes", wamp.List{int64(48), int64(1), d, "p", []byte{1, 2}},
			&wamp.Call{Request: 1, Options: d, Procedure: "p", Payload: wamp.Payload{Opaque: []byte{1, 2}}}},
		{"opaque string in result", wamp.List{int64(50), int64(1), d, "s"},
			&wamp.Result{Request: 1, Details: d, Payload: wamp.Payload{Opaque: "s"}}},
		{"opaque dict in event", wamp.List{int64(36), int64(1), int64(2), d, wamp.Dict{"k": "v"}},
			&wamp.Event{Subscription: 1, Publication: 2, Details: d, Payload: wamp.Payload{Opaque: wamp.Dict{"k": "v"}}}},
		{"opaque int in yield", wamp.List{int64(70), int64(1), d, int64(5)},
			&wamp.Yield{Request: 1, Options: d, Payload: wamp.Payload{Opaque: int64(5)}}},
		{"args and kwargs", wamp.List{int64(68), int64(1), int64(2), d, wamp.List{"a"}, wamp.Dict{"k": int64(1)}},
			&wamp.Invocation{Request: 1, Registration: 2, Details: d, Payload: wamp.Payload{Args: wamp.List{"a"}, Kwargs: wamp.Dict{"k": int64(1)}}}},
		{"unsubscribed revocation", wamp.List{int64(35), int64(0), wamp.Dict{"reason": "x"}},
			&wamp.Unsubscribed{Request: 0, Details: wamp.Dict{"reason": "x"}}},
		{"unregistered short", wamp.List{int64(67), int64(9)},
			&wamp.Unregistered{Request: 9}},
		{"error with payload", wamp.List{int64(8), int64(68), int64(3), d, "e", wamp.List{int64(1)}},
			&wamp.Error{RequestType: wamp.TypeInvocation, Request: 3, Details: d, Error: "e", Payload: wamp.Payload{Args: wamp.List{int64(1)}}}},
		{"abort with args", wamp.List{int64(3), d, "r", wamp.List{}},
			&wamp.Abort{Details: d, Reason: "r", Payload: wamp.Payload{Args: wamp.List{}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := wamp.FromList(tt.l)
			if err != nil {
				t.Fatalf("FromList: %v", err)
			}
			if !reflect.DeepEqual(m, tt.want) {
				t.Fatalf("got %#v\nwant %#v", m, tt.want)
			}
		})
	}
}

// messages has one or more message of every type, in the form FromList
// produces (non-nil dicts).
func messages() []wamp.Message {
	d := func() wamp.Dict { return wamp.Dict{} }
	pl := wamp.Payload{Args: wamp.List{int64(1), "two"}, Kwargs: wamp.Dict{"k": true}}
	return []wamp.Message{
		&wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": wamp.Dict{"caller": d()}}},
		&wamp.Welcome{Session: 1, Details: d()},
		&wamp.Abort{Details: d(), Reason: wamp.ErrNoSuchRealm},
		&wamp.Abort{Details: d(), Reason: wamp.ErrNoSuchRealm, Payload: pl},
		&wamp.Challenge{AuthMethod: "ticket", Extra: d()},
		&wamp.Authenticate{Signature: "secret", Extra: d()},
		&wamp.Goodbye{Details: d(), Reason: wamp.CloseNormal},
		&wamp.Error{RequestType: wamp.TypeSubscribe, Request: 2, Details: d(), Error: wamp.ErrInvalidURI, Payload: pl},
		&wamp.Publish{Request: 3, Options: d(), Topic: "t", Payload: wamp.Payload{Args: wamp.List{"x"}}},
		&wamp.Published{Request: 3, Publication: 4},
		&wamp.Subscribe{Request: 5, Options: d(), Topic: "t"},
		&wamp.Subscribed{Request: 5, Subscription: 6},
		&wamp.Unsubscribe{Request: 7, Subscription: 6},
		&wamp.Unsubscribed{Request: 7},
		&wamp.Unsubscribed{Details: wamp.Dict{"subscription": int64(6)}},
		&wamp.Event{Subscription: 6, Publication: 4, Details: d(), Payload: wamp.Payload{Kwargs: wamp.Dict{"a": nil}, Args: wamp.List{}}},
		&wamp.Call{Request: 8, Options: d(), Procedure: "p", Payload: wamp.Payload{Opaque: []byte{1}}},
		&wamp.Cancel{Request: 8, Options: d()},
		&wamp.Result{Request: 8, Details: d(), Payload: pl},
		&wamp.Register{Request: 9, Options: d(), Procedure: "p"},
		&wamp.Registered{Request: 9, Registration: 10},
		&wamp.Unregister{Request: 11, Registration: 10},
		&wamp.Unregistered{Request: 11},
		&wamp.Unregistered{Details: wamp.Dict{"registration": int64(10)}},
		&wamp.Invocation{Request: 12, Registration: 10, Details: d(), Payload: pl},
		&wamp.Interrupt{Request: 12, Options: d()},
		&wamp.Yield{Request: 12, Options: d(), Payload: pl},
	}
}

func TestToListFromListRoundTrip(t *testing.T) {
	seen := map[wamp.MessageType]bool{}
	for _, m := range messages() {
		seen[m.MessageType()] = true
		l := wamp.ToList(m)
		if l == nil {
			t.Fatalf("ToList(%T) = nil", m)
		}
		if got, ok := wamp.AsUint(l[0]); !ok || wamp.MessageType(got) != m.MessageType() {
			t.Errorf("ToList(%T)[0] = %v", m, l[0])
		}
		back, err := wamp.FromList(l)
		if err != nil {
			t.Fatalf("FromList(ToList(%T)): %v", m, err)
		}
		if !reflect.DeepEqual(back, m) {
			t.Errorf("round trip\n got %#v\nwant %#v", back, m)
		}
	}
	if len(seen) != 24 {
		t.Errorf("covered %d message types, want 24", len(seen))
	}
}

type fakeMessage struct{}

func (fakeMessage) MessageType() wamp.MessageType { return 99 }

func TestToListShapes(t *testing.T) {
	tests := []struct {
		name string
		m    wamp.Message
		want wamp.List
	}{
		{"nil dict sent as empty", &wamp.Hello{Realm: "r"}, wamp.List{int64(1), "r", wamp.Dict{}}},
		{"empty payload dropped", &wamp.Call{Request: 1, Procedure: "p", Payload: wamp.Payload{Args: wamp.List{}, Kwargs: wamp.Dict{}}},
			wamp.List{int64(48), int64(1), wamp.Dict{}, "p"}},
		{"args only", &wamp.Result{Request: 1, Payload: wamp.Payload{Args: wamp.List{int64(1)}, Kwargs: wamp.Dict{}}},
			wamp.List{int64(50), int64(1), wamp.Dict{}, wamp.List{int64(1)}}},
		{"kwargs without args", &wamp.Yield{Request: 1, Payload: wamp.Payload{Kwargs: wamp.Dict{"k": int64(1)}}},
			wamp.List{int64(70), int64(1), wamp.Dict{}, wamp.List{}, wamp.Dict{"k": int64(1)}}},
		{"opaque", &wamp.Event{Subscription: 1, Publication: 2, Payload: wamp.Payload{Opaque: []byte{7}}},
			wamp.List{int64(36), int64(1), int64(2), wamp.Dict{}, []byte{7}}},
		{"unsubscribed short form", &wamp.Unsubscribed{Request: 4}, wamp.List{int64(35), int64(4)}},
		{"unsubscribed revocation", &wamp.Unsubscribed{Details: wamp.Dict{}}, wamp.List{int64(35), int64(0), wamp.Dict{}}},
		{"error", &wamp.Error{RequestType: wamp.TypeCall, Request: 5, Error: "e"},
			wamp.List{int64(8), int64(48), int64(5), wamp.Dict{}, "e"}},
	}
	for _, tt := range tests {
		if got := wamp.ToList(tt.m); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: ToList = %#v, want %#v", tt.name, got, tt.want)
		}
	}
	if l := wamp.ToList(fakeMessage{}); l != nil {
		t.Errorf("ToList(unknown) = %v, want nil", l)
	}
	if l := wamp.ToList(nil); l != nil {
		t.Errorf("ToList(nil) = %v, want nil", l)
	}
}

func TestAsUintAsInt(t *testing.T) {
	tests := []struct {
		v   any
		u   uint64
		uok bool
		i   int64
		iok bool
	}{
		{int64(5), 5, true, 5, true},
		{int64(-5), 0, false, -5, true},
		{uint64(math.MaxUint64), math.MaxUint64, true, 0, false},
		{uint64(math.MaxInt64), math.MaxInt64, true, math.MaxInt64, true},
		{int(7), 7, true, 7, true},
		{int(-7), 0, false, -7, true},
		{int32(-1), 0, false, -1, true},
		{uint32(9), 9, true, 9, true},
		{int16(3), 3, true, 3, true},
		{uint16(3), 3, true, 3, true},
		{int8(-3), 0, false, -3, true},
		{uint8(255), 255, true, 255, true},
		{uint(11), 11, true, 11, true},
		{1.0, 0, false, 0, false},
		{"1", 0, false, 0, false},
		{nil, 0, false, 0, false},
		{true, 0, false, 0, false},
	}
	for _, tt := range tests {
		u, uok := wamp.AsUint(tt.v)
		if uok != tt.uok || (uok && u != tt.u) {
			t.Errorf("AsUint(%#v) = %d, %v; want %d, %v", tt.v, u, uok, tt.u, tt.uok)
		}
		i, iok := wamp.AsInt(tt.v)
		if iok != tt.iok || (iok && i != tt.i) {
			t.Errorf("AsInt(%#v) = %d, %v; want %d, %v", tt.v, i, iok, tt.i, tt.iok)
		}
	}
}

func TestMessageTypeString(t *testing.T) {
	tests := map[wamp.MessageType]string{
		wamp.TypeHello: "HELLO", wamp.TypeCall: "CALL", wamp.TypeYield: "YIELD",
		wamp.TypeUnsubscribed: "UNSUBSCRIBED", 7: "TYPE(7)", 0: "TYPE(0)",
	}
	for typ, want := range tests {
		if got := typ.String(); got != want {
			t.Errorf("MessageType(%d).String() = %q, want %q", uint16(typ), got, want)
		}
	}
	for _, m := range messages() {
		if s := m.MessageType().String(); strings.HasPrefix(s, "TYPE(") {
			t.Errorf("%T has no name: %s", m, s)
		}
	}
}

func TestProtocolErrorText(t *testing.T) {
	e := &wamp.ProtocolError{Reason: "empty message"}
	if got := e.Error(); got != "wamp: protocol violation: empty message" {
		t.Errorf("Error() = %q", got)
	}
	e = &wamp.ProtocolError{Type: wamp.TypeCall, Reason: "bad"}
	if got := e.Error(); got != "wamp: protocol violation in CALL: bad" {
		t.Errorf("Error() = %q", got)
	}
}

func TestPayloadEmpty(t *testing.T) {
	tests := []struct {
		p    wamp.Payload
		want bool
	}{
		{wamp.Payload{}, true},
		{wamp.Payload{Args: wamp.List{}, Kwargs: wamp.Dict{}}, true},
		{wamp.Payload{Args: wamp.List{nil}}, false},
		{wamp.Payload{Kwargs: wamp.Dict{"k": nil}}, false},
		{wamp.Payload{Opaque: []byte{}}, false},
	}
	for _, tt := range tests {
		if got := tt.p.Empty(); got != tt.want {
			t.Errorf("%#v.Empty() = %v, want %v", tt.p, got, tt.want)
		}
	}
}
