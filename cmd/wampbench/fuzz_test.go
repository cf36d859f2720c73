package main

import (
	"testing"

	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
)

// FuzzPeek checks that the fast path never disagrees with the codec: when
// peek recognises a message, the codec must read the same type and, when
// peek found one, the same second element. (peek may give up where the
// codec succeeds; the driver then decodes in full.)
func FuzzPeek(f *testing.F) {
	for _, ser := range allSerializers {
		c, err := codecFor(ser)
		if err != nil {
			f.Fatal(err)
		}
		for _, m := range []wamp.Message{
			&wamp.Event{Subscription: 7, Publication: 1 << 40, Details: wamp.Dict{}, Payload: wamp.Payload{Args: wamp.List{"x"}}},
			&wamp.Result{Request: wamp.MaxID, Details: wamp.Dict{}},
			&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseNormal},
			&wamp.Error{RequestType: wamp.TypeCall, Request: 3, Details: wamp.Dict{}, Error: "a.b"},
		} {
			b, err := c.Encode(m)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(byte(ser-1), b) // the fuzz function maps s to s%3+1
		}
	}
	f.Fuzz(func(t *testing.T, s byte, b []byte) {
		ser := transports.Serializer(s%3 + 1)
		typ, id, hasID, ok := peek(ser, b)
		if !ok {
			return
		}
		c, err := codecFor(ser)
		if err != nil {
			t.Fatal(err)
		}
		v, err := c.DecodeValue(b)
		if err != nil {
			return // peek reads only the start of a message
		}
		l, isList := v.([]any)
		if !isList || len(l) == 0 {
			t.Fatalf("%s %q: peek saw a message, the codec %T", ser, b, v)
		}
		if got, isInt := wamp.AsUint(l[0]); !isInt || got != uint64(typ) {
			t.Fatalf("%s %q: peek type %d, codec %v", ser, b, typ, l[0])
		}
		if hasID {
			if len(l) < 2 {
				t.Fatalf("%s %q: peek id %d, codec has one element", ser, b, id)
			}
			if got, isInt := wamp.AsUint(l[1]); !isInt || got != id {
				t.Fatalf("%s %q: peek id %d, codec %v", ser, b, id, l[1])
			}
		}
	})
}
