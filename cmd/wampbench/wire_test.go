package main

import (
	"reflect"
	"testing"

	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
)

var allSerializers = []transports.Serializer{transports.JSON, transports.MsgPack, transports.CBOR}

// edgeIDs cross every integer width boundary of the three formats.
var edgeIDs = []uint64{1, 23, 24, 127, 128, 255, 256, 65535, 65536, 1<<31 - 1, 1 << 31, 1<<32 - 1, 1 << 32, uint64(wamp.MaxID)}

func TestTemplateDecodesWithCodec(t *testing.T) {
	args := wamp.List{"hello", int64(-3)}
	for _, ser := range allSerializers {
		c, err := codecFor(ser)
		if err != nil {
			t.Fatal(err)
		}
		call, err := newTemplate(ser, wamp.TypeCall, wamp.Dict{"x": true}, "com.example.proc", args)
		if err != nil {
			t.Fatal(err)
		}
		yield, err := newTemplate(ser, wamp.TypeYield, wamp.Dict{}, args)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := newTemplate(ser, wamp.TypePublish, wamp.Dict{}, "com.example.topic", args)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range edgeIDs {
			cases := []struct {
				tpl  *template
				want wamp.Message
			}{
				{call, &wamp.Call{Request: wamp.ID(id), Options: wamp.Dict{"x": true}, Procedure: "com.example.proc", Payload: wamp.Payload{Args: args}}},
				{yield, &wamp.Yield{Request: wamp.ID(id), Options: wamp.Dict{}, Payload: wamp.Payload{Args: args}}},
				{pub, &wamp.Publish{Request: wamp.ID(id), Options: wamp.Dict{}, Topic: "com.example.topic", Payload: wamp.Payload{Args: args}}},
			}
			for _, tc := range cases {
				b := tc.tpl.appendTo([]byte("junk"), id)[4:]
				got, err := c.Decode(b)
				if err != nil {
					t.Fatalf("%s %s id %d: decode %q: %v", ser, tc.want.MessageType(), id, b, err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%s id %d: decoded %#v, want %#v", ser, id, got, tc.want)
				}
				typ, pid, hasID, ok := peek(ser, b)
				if !ok || !hasID || typ != tc.want.MessageType() || pid != id {
					t.Errorf("%s: peek of own %s id %d = %v %d %v %v", ser, tc.want.MessageType(), id, typ, pid, hasID, ok)
				}
			}
		}
	}
}

func TestPeekCodecMessages(t *testing.T) {
	msgs := []struct {
		m     wamp.Message
		id    uint64
		hasID bool
	}{
		{&wamp.Welcome{Session: 1 << 40, Details: wamp.Dict{"realm": "r"}}, 1 << 40, true},
		{&wamp.Event{Subscription: 7, Publication: 9, Details: wamp.Dict{}, Payload: wamp.Payload{Args: wamp.List{"x"}}}, 7, true},
		{&wamp.Invocation{Request: 300, Registration: 2, Details: wamp.Dict{}}, 300, true},
		{&wamp.Result{Request: wamp.MaxID, Details: wamp.Dict{}}, uint64(wamp.MaxID), true},
		{&wamp.Goodbye{Details: wamp.Dict{}, Reason: wamp.CloseGoodbyeAndOut}, 0, false},
		{&wamp.Abort{Details: wamp.Dict{}, Reason: wamp.ErrNoSuchRealm}, 0, false},
		// ERROR's second element is the request type.
		{&wamp.Error{RequestType: wamp.TypeCall, Request: 5, Details: wamp.Dict{}, Error: "x.y"}, uint64(wamp.TypeCall), true},
	}
	for _, ser := range allSerializers {
		c, _ := codecFor(ser)
		for _, tc := range msgs {
			b, err := c.Encode(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			typ, id, hasID, ok := peek(ser, b)
			if !ok || typ != tc.m.MessageType() || id != tc.id || hasID != tc.hasID {
				t.Errorf("%s: peek(%q) = %v %d %v %v, want %v %d %v true", ser, b, typ, id, hasID, ok, tc.m.MessageType(), tc.id, tc.hasID)
			}
		}
	}
}

func TestPeekHandWritten(t *testing.T) {
	cases := []struct {
		name  string
		ser   transports.Serializer
		in    string
		typ   wamp.MessageType
		id    uint64
		hasID bool
		ok    bool
	}{
		{"json spaces", transports.JSON, " [ 36 ,\n 5 , {} ] ", wamp.TypeEvent, 5, true, true},
		{"json short", transports.JSON, "[50,12]", wamp.TypeResult, 12, true, true},
		{"json one element", transports.JSON, "[6]", wamp.TypeGoodbye, 0, false, true},
		{"json float type", transports.JSON, "[36.0,5]", 0, 0, false, false},
		{"json exponent id", transports.JSON, "[36,5e2]", wamp.TypeEvent, 0, false, true},
		{"json leading zero", transports.JSON, "[036,5]", 0, 0, false, false},
		{"json negative", transports.JSON, "[-36,5]", 0, 0, false, false},
		{"json string type", transports.JSON, `["36",5]`, 0, 0, false, false},
		{"json overflow", transports.JSON, "[36,99999999999999999999]", wamp.TypeEvent, 0, false, true},
		{"json not list", transports.JSON, `{"a":1}`, 0, 0, false, false},
		{"json empty", transports.JSON, "", 0, 0, false, false},
		{"json type zero", transports.JSON, "[0,1]", 0, 0, false, false},
		{"json type too big", transports.JSON, "[65536,1]", 0, 0, false, false},
		{"json truncated", transports.JSON, "[36,5", wamp.TypeEvent, 0, false, true},
		{"cbor wide ints", transports.CBOR, "\x83\x19\x00\x24\x1b\x00\x00\x00\x00\x00\x00\x00\x05\xa0", wamp.TypeEvent, 5, true, true},
		{"cbor indefinite list", transports.CBOR, "\x9f\x18\x24\x05\xa0\xff", wamp.TypeEvent, 5, true, true},
		{"cbor negative id", transports.CBOR, "\x83\x18\x24\x20\xa0", wamp.TypeEvent, 0, false, true},
		{"cbor truncated id", transports.CBOR, "\x83\x18\x24\x1a\x00", wamp.TypeEvent, 0, false, true},
		{"cbor map", transports.CBOR, "\xa1\x01\x02", 0, 0, false, false},
		{"cbor truncated type", transports.CBOR, "\x83\x18", 0, 0, false, false},
		{"cbor long list header", transports.CBOR, "\x98\x03\x18\x24\x05", wamp.TypeEvent, 5, true, true},
		{"msgpack wide ints", transports.MsgPack, "\x93\xcd\x00\x32\xcf\x00\x00\x00\x00\x00\x00\x01\x00\x80", wamp.TypeResult, 256, true, true},
		{"msgpack signed", transports.MsgPack, "\x93\xd0\x24\xd2\x00\x00\x00\x05\x80", wamp.TypeEvent, 5, true, true},
		{"msgpack negative", transports.MsgPack, "\x93\x24\xd0\xff\x80", wamp.TypeEvent, 0, false, true},
		{"msgpack array16", transports.MsgPack, "\xdc\x00\x03\x24\x05\x80", wamp.TypeEvent, 5, true, true},
		{"msgpack string", transports.MsgPack, "\x93\xa1a\x05\x80", 0, 0, false, false},
		{"unknown serializer", transports.Serializer(9), "[36,5]", 0, 0, false, false},
	}
	for _, tc := range cases {
		typ, id, hasID, ok := peek(tc.ser, []byte(tc.in))
		if typ != tc.typ || id != tc.id || hasID != tc.hasID || ok != tc.ok {
			t.Errorf("%s: peek = %v %d %v %v, want %v %d %v %v", tc.name, typ, id, hasID, ok, tc.typ, tc.id, tc.hasID, tc.ok)
		}
	}
}

func TestHotPathDoesNotAllocate(t *testing.T) {
	for _, ser := range allSerializers {
		tpl, err := newTemplate(ser, wamp.TypeCall, wamp.Dict{}, "p", wamp.List{"xxxxxxxx"})
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 0, 256)
		n := testing.AllocsPerRun(100, func() {
			buf = tpl.appendTo(buf[:0], 1<<40)
			if _, _, _, ok := peek(ser, buf); !ok {
				t.Fatal("peek failed")
			}
		})
		if n != 0 {
			t.Errorf("%s: appendTo+peek allocate %v times", ser, n)
		}
	}
}

func BenchmarkTemplateAndPeek(b *testing.B) {
	for _, ser := range allSerializers {
		b.Run(ser.String(), func(b *testing.B) {
			b.ReportAllocs()
			tpl, err := newTemplate(ser, wamp.TypeCall, wamp.Dict{}, "com.example.p", wamp.List{"xxxxxxxxxxxxxxxx"})
			if err != nil {
				b.Fatal(err)
			}
			var buf []byte
			for i := uint64(1); b.Loop(); i++ {
				buf = tpl.appendTo(buf[:0], i)
				peek(ser, buf)
			}
		})
	}
}
