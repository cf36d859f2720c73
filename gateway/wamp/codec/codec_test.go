package codec_test

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/gateway/wamp/codec"
)

func TestCodecNames(t *testing.T) {
	tests := []struct {
		c      codec.Codec
		name   string
		binary bool
	}{
		{codec.JSON, "json", false},
		{codec.MsgPack, "msgpack", true},
		{codec.CBOR, "cbor", true},
	}
	for i, tt := range tests {
		if got := tt.c.Name(); got != tt.name {
			t.Errorf("Name() = %q, want %q", got, tt.name)
		}
		if got := tt.c.Binary(); got != tt.binary {
			t.Errorf("%s: Binary() = %v, want %v", tt.name, got, tt.binary)
		}
		c, err := codec.ByName(tt.name)
		if err != nil || c != tt.c {
			t.Errorf("ByName(%q) = %v, %v", tt.name, c, err)
		}
		if all := codec.All(); all[i] != tt.c {
			t.Errorf("All()[%d] = %v, want %s", i, all[i], tt.name)
		}
	}
	if _, err := codec.ByName("ubjson"); err == nil {
		t.Error("ByName(ubjson) succeeded")
	}
}

func TestSampleMessagesCoverAllTypes(t *testing.T) {
	seen := map[wamp.MessageType]bool{}
	for _, m := range sampleMessages() {
		seen[m.MessageType()] = true
	}
	for _, typ := range allTypes {
		if !seen[typ] {
			t.Errorf("no sample message of type %s", typ)
		}
	}
}

func TestRoundTripMessages(t *testing.T) {
	for _, c := range codec.All() {
		for _, m := range sampleMessages() {
			t.Run(c.Name()+"/"+m.MessageType().String(), func(t *testing.T) {
				b, err := c.Encode(m)
				if err != nil {
					t.Fatalf("Encode: %v", err)
				}
				got, err := c.Decode(b)
				if err != nil {
					t.Fatalf("Decode(%q): %v", b, err)
				}
				if want := afterWire(m); !reflect.DeepEqual(got, want) {
					t.Fatalf("round trip mismatch\n got: %#v\nwant: %#v", got, want)
				}
				checkModel(t, wamp.ToList(got))
			})
		}
	}
}

func TestCrossCodecMessages(t *testing.T) {
	for _, a := range codec.All() {
		for _, b := range codec.All() {
			for _, m := range sampleMessages() {
				name := a.Name() + "->" + b.Name() + "/" + m.MessageType().String()
				ba, err := a.Encode(m)
				if err != nil {
					t.Fatalf("%s: encode A: %v", name, err)
				}
				ma, err := a.Decode(ba)
				if err != nil {
					t.Fatalf("%s: decode A: %v", name, err)
				}
				bb, err := b.Encode(ma)
				if err != nil {
					t.Fatalf("%s: encode B: %v", name, err)
				}
				mb, err := b.Decode(bb)
				if err != nil {
					t.Fatalf("%s: decode B: %v", name, err)
				}
				if !reflect.DeepEqual(ma, mb) {
					t.Fatalf("%s: mismatch\n A: %#v\n B: %#v", name, ma, mb)
				}
				if want := afterWire(m); !reflect.DeepEqual(mb, want) {
					t.Fatalf("%s: mismatch with original\n got: %#v\nwant: %#v", name, mb, want)
				}
			}
		}
	}
}

// bigInts are integers that a float64 would corrupt or that sit on the
// int64/uint64 boundary.
var bigInts = []any{
	int64(0), int64(-1), int64(255), int64(256), int64(-32), int64(-33), int64(1 << 31), int64(1 << 32),
	int64(1 << 53), int64(1<<53 + 1), int64(-(1<<53 + 1)), int64(math.MaxInt64), int64(math.MinInt64),
	uint64(1 << 63), uint64(1<<63 + 1), uint64(math.MaxUint64),
}

func TestIntegersExact(t *testing.T) {
	for _, c := range codec.All() {
		b, err := c.EncodeValue(bigInts)
		if err != nil {
			t.Fatalf("%s: encode: %v", c.Name(), err)
		}
		v, err := c.DecodeValue(b)
		if err != nil {
			t.Fatalf("%s: decode: %v", c.Name(), err)
		}
		if !modelEqual(v, bigInts) {
			t.Errorf("%s: got %#v, want %#v", c.Name(), v, bigInts)
		}
		// And through every other codec.
		for _, o := range codec.All() {
			ob, err := o.EncodeValue(v)
			if err != nil {
				t.Fatalf("%s->%s: encode: %v", c.Name(), o.Name(), err)
			}
			ov, err := o.DecodeValue(ob)
			if err != nil {
				t.Fatalf("%s->%s: decode: %v", c.Name(), o.Name(), err)
			}
			if !modelEqual(ov, bigInts) {
				t.Errorf("%s->%s: got %#v", c.Name(), o.Name(), ov)
			}
		}
	}
}

func TestJSONIntegerText(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{int64(1 << 53), "9007199254740992"},
		{int64(math.MaxInt64), "9223372036854775807"},
		{int64(math.MinInt64), "-9223372036854775808"},
		{uint64(math.MaxUint64), "18446744073709551615"},
		{wamp.ID(1<<53 + 1), "9007199254740993"},
	}
	for _, tt := range tests {
		b, err := codec.JSON.EncodeValue(tt.v)
		if err != nil || string(b) != tt.want {
			t.Errorf("EncodeValue(%v) = %s, %v; want %s", tt.v, b, err, tt.want)
		}
	}
}

func TestJSONNumbersDecode(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"0", int64(0)},
		{"-0", int64(0)},
		{"42", int64(42)},
		{"-42", int64(-42)},
		{"9007199254740993", int64(1<<53 + 1)},
		{"9223372036854775807", int64(math.MaxInt64)},
		{"9223372036854775808", uint64(1 << 63)},
		{"18446744073709551615", uint64(math.MaxUint64)},
		{"-9223372036854775808", int64(math.MinInt64)},
		// Integer literals outside int64 and uint64 become float64.
		{"18446744073709551616", 18446744073709551616.0},
		{"-9223372036854775809", -9223372036854775809.0},
		{"100000000000000000000000", 1e23},
		{"1.0", 1.0},
		{"-0.0", math.Copysign(0, -1)},
		{"1e2", 100.0},
		{"1E+2", 100.0},
		{"2.5e-3", 0.0025},
		{"1e-400", 0.0},
		{" 7 ", int64(7)},
	}
	for _, tt := range tests {
		v, err := codec.JSON.DecodeValue([]byte(tt.in))
		if err != nil {
			t.Errorf("DecodeValue(%q): %v", tt.in, err)
			continue
		}
		if !modelEqual(v, tt.want) {
			t.Errorf("DecodeValue(%q) = %#v, want %#v", tt.in, v, tt.want)
		}
	}
}

func TestJSONFloatEncode(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{1.0, "1.0"},
		{0.0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{0.1, "0.1"},
		{21.5, "21.5"},
		{123456789.0, "123456789.0"},
		{1e20, "100000000000000000000.0"},
		{1e21, "1e+21"},
		{1e-7, "1e-7"},
		{1.5e-10, "1.5e-10"},
		{1e-6, "0.000001"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{float32(0.5), "0.5"},
		{float32(0.1), "0.10000000149011612"}, // the float32 value, exactly
	}
	for _, tt := range tests {
		b, err := codec.JSON.EncodeValue(tt.v)
		if err != nil || string(b) != tt.want {
			t.Errorf("EncodeValue(%v) = %s, %v; want %s", tt.v, b, err, tt.want)
			continue
		}
		// Floats stay floats.
		v, err := codec.JSON.DecodeValue(b)
		if _, ok := v.(float64); err != nil || !ok {
			t.Errorf("DecodeValue(%s) = %#v, %v; want a float64", b, v, err)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := codec.JSON.EncodeValue(wamp.List{f}); !errors.Is(err, codec.ErrUnsupportedValue) {
			t.Errorf("EncodeValue(%v) error = %v, want ErrUnsupportedValue", f, err)
		}
	}
}

func TestBinaryNonFiniteFloats(t *testing.T) {
	in := wamp.List{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), float32(1.5)}
	want := wamp.List{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 1.5}
	for _, c := range []codec.Codec{codec.MsgPack, codec.CBOR} {
		b, err := c.EncodeValue(in)
		if err != nil {
			t.Fatalf("%s: encode: %v", c.Name(), err)
		}
		v, err := c.DecodeValue(b)
		if err != nil || !modelEqual(v, want) {
			t.Errorf("%s: got %#v, %v; want %#v", c.Name(), v, err, want)
		}
	}
}

func TestJSONStringEncode(t *testing.T) {
	tests := []struct {
		in   string
		want string // wire form
		back string // what it decodes to
	}{
		{"plain", `"plain"`, "plain"},
		{`q"b\s/`, `"q\"b\\s/"`, `q"b\s/`},
		{"\n\r\t\b\f", `"\n\r\t\b\f"`, "\n\r\t\b\f"},
		{"a\x01\x1f\x7f", `"a\u0001\u001f` + "\x7f" + `"`, "a\x01\x1f\x7f"},
		{"ünï 🚀", `"ünï 🚀"`, "ünï 🚀"},
		{"a\u2028b\u2029", `"a\u2028b\u2029"`, "a\u2028b\u2029"},
		{"a\xffb", "\"a\uFFFDb\"", "a\uFFFDb"},
		{"\xe2\x82", "\"\uFFFD\uFFFD\"", "\uFFFD\uFFFD"}, // truncated sequence: one U+FFFD per byte
		{"x\x00y", `"x\u0000y"`, "x\x00y"},               // only a leading NUL is reserved
	}
	for _, tt := range tests {
		b, err := codec.JSON.EncodeValue(tt.in)
		if err != nil || string(b) != tt.want {
			t.Errorf("EncodeValue(%q) = %s, %v; want %s", tt.in, b, err, tt.want)
			continue
		}
		v, err := codec.JSON.DecodeValue(b)
		if err != nil || v != tt.back {
			t.Errorf("DecodeValue(%s) = %q, %v; want %q", b, v, err, tt.back)
		}
	}
	if _, err := codec.JSON.EncodeValue("\x00leading"); !errors.Is(err, codec.ErrUnsupportedValue) {
		t.Errorf("leading NUL: error = %v, want ErrUnsupportedValue", err)
	}
	b, err := codec.JSON.EncodeValue(map[string]any{"\x00key": "ok"})
	if err != nil || string(b) != `{"\u0000key":"ok"}` {
		t.Errorf("leading NUL in a key: %s, %v", b, err)
	}
	if v, err := codec.JSON.DecodeValue(b); err != nil || !modelEqual(v, wamp.Dict{"\x00key": "ok"}) {
		t.Errorf("decode key with leading NUL: %#v, %v", v, err)
	}
}

func TestInvalidUTF8Replaced(t *testing.T) {
	in := wamp.List{"a\xffb", []string{"\xc3"}, map[string]string{"k": "\xe2\x82"}}
	want := wamp.List{"a\uFFFDb", wamp.List{"\uFFFD"}, wamp.Dict{"k": "\uFFFD\uFFFD"}}
	for _, c := range codec.All() {
		b, err := c.EncodeValue(in)
		if err != nil {
			t.Fatalf("%s: encode: %v", c.Name(), err)
		}
		v, err := c.DecodeValue(b)
		if err != nil || !modelEqual(v, want) {
			t.Errorf("%s: got %#v, %v; want %#v", c.Name(), v, err, want)
		}
		if _, err := c.EncodeValue(wamp.Dict{"bad\xff": int64(1)}); !errors.Is(err, codec.ErrUnsupportedValue) {
			t.Errorf("%s: invalid key error = %v, want ErrUnsupportedValue", c.Name(), err)
		}
	}
	if in[0] != "a\xffb" {
		t.Error("encoding modified its input")
	}
}

func TestJSONStringDecode(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{`"abc"`, "abc"},
		{`"\"\\\/\b\f\n\r\t"`, "\"\\/\b\f\n\r\t"},
		{`"\u00e9\u20AC"`, "é€"},
		{`"\ud83d\ude80"`, "🚀"},
		{`"\ud83d"`, "\uFFFD"},        // lone high surrogate
		{`"\ude80x"`, "\uFFFDx"},      // lone low surrogate
		{`"\ud83d\u0041"`, "\uFFFDA"}, // high surrogate followed by a non-surrogate
		{`"a\u0000b"`, "a\x00b"},      // NUL inside a string is a plain string
		{`"\u0000"`, []byte{}},        // empty byte string
		{`"\u0000AAEC"`, []byte{0, 1, 2}},
		{`"\u0000/w=="`, []byte{0xff}},
		{`"ünï"`, "ünï"},
	}
	for _, tt := range tests {
		v, err := codec.JSON.DecodeValue([]byte(tt.in))
		if err != nil || !modelEqual(v, tt.want) {
			t.Errorf("DecodeValue(%s) = %#v, %v; want %#v", tt.in, v, err, tt.want)
		}
	}
}

func TestBytesConvention(t *testing.T) {
	b, err := codec.JSON.EncodeValue([]byte{0, 1, 2})
	if err != nil || string(b) != `"\u0000AAEC"` {
		t.Fatalf(`JSON wire form = %s, %v; want "\u0000AAEC"`, b, err)
	}
	b, err = codec.JSON.EncodeValue([]byte(nil))
	if err != nil || string(b) != `"\u0000"` {
		t.Fatalf(`JSON nil bytes = %s, %v`, b, err)
	}

	payload := []byte{0, 0xff, 0x10, 'W', 'A', 'M', 'P', 0}
	chain := func(t *testing.T, cs ...codec.Codec) {
		var v any = wamp.List{payload, wamp.Dict{"b": payload}}
		for _, c := range cs {
			b, err := c.EncodeValue(v)
			if err != nil {
				t.Fatalf("%s: encode: %v", c.Name(), err)
			}
			if v, err = c.DecodeValue(b); err != nil {
				t.Fatalf("%s: decode: %v", c.Name(), err)
			}
		}
		want := wamp.List{payload, wamp.Dict{"b": payload}}
		if !modelEqual(v, want) {
			t.Fatalf("got %#v, want %#v", v, want)
		}
	}
	t.Run("json-cbor-json", func(t *testing.T) { chain(t, codec.JSON, codec.CBOR, codec.JSON) })
	t.Run("msgpack-json-msgpack", func(t *testing.T) { chain(t, codec.MsgPack, codec.JSON, codec.MsgPack) })
	t.Run("cbor-msgpack-json-cbor", func(t *testing.T) { chain(t, codec.CBOR, codec.MsgPack, codec.JSON, codec.CBOR) })
}

type myInt int16
type myString string
type myMap map[string]int

func TestEncodeGoKinds(t *testing.T) {
	seven := 7
	in := wamp.Dict{
		"int": 1, "int8": int8(-2), "int16": int16(-3), "int32": int32(4), "int64": int64(5),
		"uint": uint(6), "uint8": uint8(7), "uint16": uint16(8), "uint32": uint32(9), "uint64": uint64(10),
		"id":       wamp.ID(1 << 53),
		"float32":  float32(2.5),
		"strings":  []string{"a", "b"},
		"strmap":   map[string]string{"k": "v"},
		"dicts":    []map[string]any{{"x": 1}, nil},
		"named":    myInt(-9),
		"namedstr": myString("s"),
		"namedmap": myMap{"n": 3},
		"array":    [3]int{1, 2, 3},
		"ints":     []uint16{1, 2},
		"ptr":      &seven,
		"nilptr":   (*int)(nil),
		"bytearr":  [2]byte{1, 2},
		"nillist":  wamp.List(nil),
		"nildict":  wamp.Dict(nil),
		"nilbytes": []byte(nil),
		"msgtype":  wamp.TypeCall,
		"bigu":     uint(math.MaxUint64),
	}
	want := wamp.Dict{
		"int": int64(1), "int8": int64(-2), "int16": int64(-3), "int32": int64(4), "int64": int64(5),
		"uint": int64(6), "uint8": int64(7), "uint16": int64(8), "uint32": int64(9), "uint64": int64(10),
		"id":       int64(1 << 53),
		"float32":  2.5,
		"strings":  wamp.List{"a", "b"},
		"strmap":   wamp.Dict{"k": "v"},
		"dicts":    wamp.List{wamp.Dict{"x": int64(1)}, wamp.Dict{}},
		"named":    int64(-9),
		"namedstr": "s",
		"namedmap": wamp.Dict{"n": int64(3)},
		"array":    wamp.List{int64(1), int64(2), int64(3)},
		"ints":     wamp.List{int64(1), int64(2)},
		"ptr":      int64(7),
		"nilptr":   nil,
		"bytearr":  []byte{1, 2},
		"nillist":  wamp.List{},
		"nildict":  wamp.Dict{},
		"nilbytes": []byte{},
		"msgtype":  int64(48),
		"bigu":     uint64(math.MaxUint64),
	}
	for _, c := range codec.All() {
		b, err := c.EncodeValue(in)
		if err != nil {
			t.Fatalf("%s: encode: %v", c.Name(), err)
		}
		v, err := c.DecodeValue(b)
		if err != nil {
			t.Fatalf("%s: decode: %v", c.Name(), err)
		}
		if !modelEqual(v, want) {
			t.Errorf("%s:\n got %#v\nwant %#v", c.Name(), v, want)
		}
	}
}

func TestEncodeUnsupported(t *testing.T) {
	cycle := wamp.List{nil}
	cycle[0] = cycle
	dcycle := wamp.Dict{}
	dcycle["self"] = dcycle
	var p any
	p = &p
	tests := []struct {
		name string
		v    any
	}{
		{"struct", struct{ A int }{1}},
		{"chan", make(chan int)},
		{"func", func() {}},
		{"complex", complex(1, 2)},
		{"int keys", map[int]string{1: "a"}},
		{"nested struct", wamp.List{wamp.Dict{"x": struct{}{}}}},
		{"list cycle", cycle},
		{"dict cycle", dcycle},
		{"pointer cycle", p},
	}
	for _, c := range codec.All() {
		for _, tt := range tests {
			_, err := c.EncodeValue(tt.v)
			if !errors.Is(err, codec.ErrUnsupportedValue) {
				t.Errorf("%s/%s: error = %v, want ErrUnsupportedValue", c.Name(), tt.name, err)
			}
		}
		if _, err := c.Encode(nil); err == nil {
			t.Errorf("%s: Encode(nil) succeeded", c.Name())
		}
	}
}

func nestedLists(depth int) any {
	var v any = int64(1)
	for range depth {
		v = wamp.List{v}
	}
	return v
}

func TestDepthLimit(t *testing.T) {
	for _, c := range codec.All() {
		ok := nestedLists(codec.MaxDepth)
		b, err := c.EncodeValue(ok)
		if err != nil {
			t.Fatalf("%s: encode depth %d: %v", c.Name(), codec.MaxDepth, err)
		}
		if v, err := c.DecodeValue(b); err != nil || !modelEqual(v, ok) {
			t.Fatalf("%s: decode depth %d: %v", c.Name(), codec.MaxDepth, err)
		}
		if _, err := c.EncodeValue(nestedLists(codec.MaxDepth + 1)); !errors.Is(err, codec.ErrUnsupportedValue) {
			t.Errorf("%s: encode depth %d: error = %v", c.Name(), codec.MaxDepth+1, err)
		}
		// Wrap the valid encoding in one more list by hand.
		var deeper []byte
		switch c.Name() {
		case "json":
			deeper = append(append([]byte("["), b...), ']')
		case "msgpack":
			deeper = append([]byte{0x91}, b...)
		case "cbor":
			deeper = append([]byte{0x81}, b...)
		}
		if _, err := c.DecodeValue(deeper); !errors.Is(err, codec.ErrMalformed) {
			t.Errorf("%s: decode depth %d: error = %v, want ErrMalformed", c.Name(), codec.MaxDepth+1, err)
		}
	}
	// A deep dict nest behaves the same.
	var v any = "leaf"
	for range codec.MaxDepth + 1 {
		v = wamp.Dict{"k": v}
	}
	for _, c := range codec.All() {
		if _, err := c.EncodeValue(v); !errors.Is(err, codec.ErrUnsupportedValue) {
			t.Errorf("%s: deep dict: error = %v", c.Name(), err)
		}
	}
	// Very deep input must fail cleanly, not blow the stack.
	huge := strings.Repeat("[", 1<<20)
	if _, err := codec.JSON.DecodeValue([]byte(huge)); !errors.Is(err, codec.ErrMalformed) {
		t.Errorf("json: huge nesting: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		c    codec.Codec
		name string
		in   []byte
	}{
		{codec.JSON, "empty", []byte("")},
		{codec.JSON, "space", []byte(" \n")},
		{codec.JSON, "open list", []byte("[")},
		{codec.JSON, "trailing comma", []byte("[1,]")},
		{codec.JSON, "missing comma", []byte("[1 2]")},
		{codec.JSON, "trailing comma dict", []byte(`{"a":1,}`)},
		{codec.JSON, "non-string key", []byte(`{1:2}`)},
		{codec.JSON, "missing colon", []byte(`{"a" 1}`)},
		{codec.JSON, "trailing garbage", []byte("[1]x")},
		{codec.JSON, "two documents", []byte("[1] [2]")},
		{codec.JSON, "extra bracket", []byte("[1]]")},
		{codec.JSON, "bad literal", []byte("tru")},
		{codec.JSON, "bad literal2", []byte("nul")},
		{codec.JSON, "leading zero", []byte("01")},
		{codec.JSON, "minus only", []byte("-")},
		{codec.JSON, "dot", []byte("1.")},
		{codec.JSON, "exp", []byte("1e")},
		{codec.JSON, "leading dot", []byte(".5")},
		{codec.JSON, "plus", []byte("+1")},
		{codec.JSON, "NaN", []byte("NaN")},
		{codec.JSON, "Infinity", []byte("[Infinity]")},
		{codec.JSON, "overflow", []byte("1e400")},
		{codec.JSON, "unterminated", []byte(`"abc`)},
		{codec.JSON, "unterminated escape", []byte(`"abc\`)},
		{codec.JSON, "bad escape", []byte(`"\x"`)},
		{codec.JSON, "short unicode", []byte(`"\u12"`)},
		{codec.JSON, "bad unicode", []byte(`"\u12g4"`)},
		{codec.JSON, "raw control", []byte("\"a\x01\"")},
		{codec.JSON, "raw newline", []byte("\"a\nb\"")},
		{codec.JSON, "invalid utf8", []byte("\"\xff\"")},
		{codec.JSON, "invalid utf8 escaped", []byte("\"\\n\xff\"")},
		{codec.JSON, "invalid utf8 outside string", []byte("[\xff]")},
		{codec.JSON, "duplicate key", []byte(`{"a":1,"a":2}`)},
		{codec.JSON, "bad base64", []byte(`"\u0000!!!"`)},
		{codec.JSON, "unpadded base64", []byte(`"\u0000AAE"`)},
		{codec.JSON, "single quotes", []byte(`['a']`)},
		{codec.JSON, "comment", []byte(`[1 /* x */]`)},

		{codec.MsgPack, "empty", nil},
		{codec.MsgPack, "never used code", []byte{0xc1}},
		{codec.MsgPack, "fixext1", []byte{0xd4, 0x01, 0x00}},
		{codec.MsgPack, "ext8", []byte{0xc7, 0x01, 0x05, 0x00}},
		{codec.MsgPack, "timestamp ext", []byte{0xd6, 0xff, 0, 0, 0, 1}},
		{codec.MsgPack, "truncated str", []byte{0xa5, 'a'}},
		{codec.MsgPack, "truncated uint64", []byte{0xcf, 0, 1}},
		{codec.MsgPack, "truncated list", []byte{0x92, 0x01}},
		{codec.MsgPack, "int key", []byte{0x81, 0x01, 0x02}},
		{codec.MsgPack, "bin key", []byte{0x81, 0xc4, 0x01, 'a', 0x02}},
		{codec.MsgPack, "duplicate key", []byte{0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02}},
		{codec.MsgPack, "invalid utf8", []byte{0xa1, 0xff}},
		{codec.MsgPack, "huge bin32", []byte{0xc6, 0xff, 0xff, 0xff, 0xff}},
		{codec.MsgPack, "huge str32", []byte{0xdb, 0xff, 0xff, 0xff, 0xff, 'a'}},
		{codec.MsgPack, "huge array32", []byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{codec.MsgPack, "huge map32", []byte{0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'a', 0x01}},
		{codec.MsgPack, "trailing data", []byte{0x01, 0x02}},

		{codec.CBOR, "empty", nil},
		{codec.CBOR, "epoch time tag", []byte{0xc1, 0x00}},
		{codec.CBOR, "unsigned bignum", []byte{0xc2, 0x41, 0x01}},
		{codec.CBOR, "self-described tag", []byte{0xd9, 0xd9, 0xf7, 0x01}},
		{codec.CBOR, "duplicate key", []byte{0xa2, 0x61, 'a', 0x01, 0x61, 'a', 0x02}},
		{codec.CBOR, "int key", []byte{0xa1, 0x01, 0x02}},
		{codec.CBOR, "bytes key", []byte{0xa1, 0x41, 'a', 0x01}},
		{codec.CBOR, "invalid utf8", []byte{0x61, 0xff}},
		{codec.CBOR, "simple value 0", []byte{0xe0}},
		{codec.CBOR, "simple value 32", []byte{0xf8, 0x20}},
		{codec.CBOR, "negative below int64", []byte{0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{codec.CBOR, "trailing data", []byte{0x01, 0x01}},
		{codec.CBOR, "truncated text", []byte{0x62, 'a'}},
		{codec.CBOR, "reserved additional info", []byte{0x1c}},
		{codec.CBOR, "lone break", []byte{0xff}},
		{codec.CBOR, "huge array", []byte{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	}
	for _, tt := range tests {
		v, err := tt.c.DecodeValue(tt.in)
		if !errors.Is(err, codec.ErrMalformed) {
			t.Errorf("%s/%s: DecodeValue(% x) = %#v, %v; want ErrMalformed", tt.c.Name(), tt.name, tt.in, v, err)
		}
		if v != nil {
			t.Errorf("%s/%s: value %#v returned with error", tt.c.Name(), tt.name, v)
		}
		if _, err := tt.c.Decode(tt.in); !errors.Is(err, codec.ErrMalformed) {
			t.Errorf("%s/%s: Decode error = %v, want ErrMalformed", tt.c.Name(), tt.name, err)
		}
	}
}

func TestAcceptedOddities(t *testing.T) {
	tests := []struct {
		c    codec.Codec
		name string
		in   []byte
		want any
	}{
		{codec.CBOR, "indefinite list", []byte{0x9f, 0x01, 0x02, 0xff}, wamp.List{int64(1), int64(2)}},
		{codec.CBOR, "undefined", []byte{0xf7}, nil},
		{codec.CBOR, "float16", []byte{0xf9, 0x3e, 0x00}, 1.5},
		{codec.CBOR, "float32", []byte{0xfa, 0x3f, 0xc0, 0x00, 0x00}, 1.5},
		{codec.CBOR, "uint64 max", []byte{0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, uint64(math.MaxUint64)},
		{codec.CBOR, "int64 min", []byte{0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, int64(math.MinInt64)},
		{codec.CBOR, "long int", []byte{0x1b, 0, 0, 0, 0, 0, 0, 0, 0x05}, int64(5)},
		{codec.MsgPack, "float32", []byte{0xca, 0x3f, 0xc0, 0x00, 0x00}, 1.5},
		{codec.MsgPack, "uint64 small", []byte{0xcf, 0, 0, 0, 0, 0, 0, 0, 0x05}, int64(5)},
		{codec.MsgPack, "int64", []byte{0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0}, int64(math.MinInt64)},
		{codec.MsgPack, "negative fixint", []byte{0xff}, int64(-1)},
		{codec.MsgPack, "int8", []byte{0xd0, 0x80}, int64(-128)},
		{codec.MsgPack, "uint8", []byte{0xcc, 0xff}, int64(255)},
		{codec.MsgPack, "nil", []byte{0xc0}, nil},
		{codec.MsgPack, "str8 empty", []byte{0xd9, 0x00}, ""},
		{codec.MsgPack, "bin8 empty", []byte{0xc4, 0x00}, []byte{}},
		{codec.MsgPack, "array16", []byte{0xdc, 0x00, 0x01, 0xc3}, wamp.List{true}},
		{codec.MsgPack, "map16", []byte{0xde, 0x00, 0x01, 0xa1, 'k', 0xc2}, wamp.Dict{"k": false}},
		{codec.JSON, "whitespace", []byte(" \t\r\n[ 1 , { \"a\" : null } ]\n"), wamp.List{int64(1), wamp.Dict{"a": nil}}},
	}
	for _, tt := range tests {
		v, err := tt.c.DecodeValue(tt.in)
		if err != nil || !modelEqual(v, tt.want) {
			t.Errorf("%s/%s: got %#v, %v; want %#v", tt.c.Name(), tt.name, v, err, tt.want)
		}
	}
}

func TestProtocolErrors(t *testing.T) {
	inputs := []any{
		wamp.Dict{},
		"not a list",
		wamp.List{},
		wamp.List{int64(48), "x"},
		wamp.List{int64(999), wamp.Dict{}},
		wamp.List{int64(48), int64(0), wamp.Dict{}, "p"},
		wamp.List{int64(48), int64(1), wamp.Dict{}, "p", "opaque", wamp.Dict{}},
		wamp.List{1.0, "realm", wamp.Dict{}},
	}
	for _, c := range codec.All() {
		for _, in := range inputs {
			b, err := c.EncodeValue(in)
			if err != nil {
				t.Fatalf("%s: encode %v: %v", c.Name(), in, err)
			}
			m, err := c.Decode(b)
			var pe *wamp.ProtocolError
			if !errors.As(err, &pe) || m != nil {
				t.Errorf("%s: Decode(%v) = %v, %v; want *wamp.ProtocolError", c.Name(), in, m, err)
			}
			if errors.Is(err, codec.ErrMalformed) {
				t.Errorf("%s: protocol error %v also matches ErrMalformed", c.Name(), err)
			}
		}
	}
}

func TestDecodedValuesDoNotAliasInput(t *testing.T) {
	in := wamp.List{"some string", []byte{1, 2, 3, 4}, wamp.Dict{"key": "value", "bin": []byte("bytes")}}
	for _, c := range codec.All() {
		data, err := c.EncodeValue(in)
		if err != nil {
			t.Fatalf("%s: encode: %v", c.Name(), err)
		}
		v, err := c.DecodeValue(data)
		if err != nil {
			t.Fatalf("%s: decode: %v", c.Name(), err)
		}
		for i := range data {
			data[i] = 0xAA
		}
		if !modelEqual(v, in) {
			t.Errorf("%s: decoded value changed when the input buffer was reused: %#v", c.Name(), v)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	const workers = 8
	msgs := sampleMessages()
	errc := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := range 50 {
				c := codec.All()[(w+i)%3]
				m := msgs[(w*7+i)%len(msgs)]
				b, err := c.Encode(m)
				if err != nil {
					errc <- err
					return
				}
				got, err := c.Decode(b)
				if err != nil {
					errc <- err
					return
				}
				if !reflect.DeepEqual(got, afterWire(m)) {
					errc <- errors.New(c.Name() + ": mismatch for " + m.MessageType().String())
					return
				}
			}
			errc <- nil
		}()
	}
	for range workers {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
}
