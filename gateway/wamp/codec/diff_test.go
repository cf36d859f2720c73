package codec

// Differential tests: the hand-written CBOR and MessagePack codecs against
// the library-based ones they replaced (reference_test.go), the direct
// message encoders against EncodeValue(ToList(m)), and the direct message
// decoders against FromList(DecodeValue(data)). They run on random values,
// on random byte strings shaped like the formats, on every file of the
// fuzz corpora, and as fuzz targets.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// sameValue reports whether a and b are the same value: same dynamic types
// all the way down, floats with the same bits (NaN payloads included),
// containers nil in both or in neither. Values outside the value model are
// compared with reflect.DeepEqual.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool, int64, uint64, string:
		return a == b
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case float32:
		y, ok := b.(float32)
		return ok && math.Float32bits(x) == math.Float32bits(y)
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y) && (x == nil) == (y == nil)
	case []map[string]any:
		y, ok := b.([]map[string]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// sameMessage compares two decoded messages field by field, with
// sameValue for the dicts and payloads.
func sameMessage(a, b wamp.Message) bool {
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return false
	}
	if a == nil {
		return true
	}
	av, bv := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	return sameFields(av, bv)
}

func sameFields(av, bv reflect.Value) bool {
	for i := range av.NumField() {
		fa, fb := av.Field(i), bv.Field(i)
		switch fa.Kind() {
		case reflect.Struct:
			if !sameFields(fa, fb) {
				return false
			}
		case reflect.Map, reflect.Slice, reflect.Interface:
			if !sameValue(fa.Interface(), fb.Interface()) {
				return false
			}
		default:
			if fa.Interface() != fb.Interface() {
				return false
			}
		}
	}
	return true
}

// checkDecodeSame runs a decoder and its reference on data and fails the
// test unless both fail with ErrMalformed or both return the same value.
func checkDecodeSame(t testing.TB, name string, data []byte, got, ref func([]byte) (any, error)) {
	t.Helper()
	v1, err1 := got(data)
	v2, err2 := ref(data)
	if (err1 == nil) != (err2 == nil) {
		t.Fatalf("%s: decoders disagree on % x\n hand-written: %#v, %v\n reference:    %#v, %v", name, data, v1, err1, v2, err2)
	}
	if err1 != nil {
		if !errors.Is(err1, ErrMalformed) || !errors.Is(err2, ErrMalformed) {
			t.Fatalf("%s: errors on % x are not ErrMalformed: %v / %v", name, data, err1, err2)
		}
		return
	}
	if !sameValue(v1, v2) {
		t.Fatalf("%s: values differ for % x\n hand-written: %#v\n reference:    %#v", name, data, v1, v2)
	}
}

func checkCBORDecode(t testing.TB, data []byte) {
	t.Helper()
	checkDecodeSame(t, "cbor", data, CBOR.DecodeValue, refCBORDecode)
}

func checkMsgpackDecode(t testing.TB, data []byte) {
	t.Helper()
	checkDecodeSame(t, "msgpack", data, MsgPack.DecodeValue, refMsgpackDecode)
}

// checkMessageDecode compares c.Decode, which builds messages from the
// top-level slots, with FromList(DecodeValue(data)).
func checkMessageDecode(t testing.TB, c Codec, data []byte) {
	t.Helper()
	m1, err1 := c.Decode(data)
	m2, err2 := decodeMessage(c, data)
	if (err1 == nil) != (err2 == nil) {
		t.Fatalf("%s: Decode and FromList disagree on %q\n Decode:   %#v, %v\n FromList: %#v, %v", c.Name(), data, m1, err1, m2, err2)
	}
	if err1 != nil {
		var pe1, pe2 *wamp.ProtocolError
		switch {
		case errors.Is(err1, ErrMalformed) && errors.Is(err2, ErrMalformed):
		case errors.As(err1, &pe1) && errors.As(err2, &pe2) && *pe1 == *pe2:
		default:
			t.Fatalf("%s: different errors for %q:\n Decode:   %v\n FromList: %v", c.Name(), data, err1, err2)
		}
		if m1 != nil {
			t.Fatalf("%s: message %#v returned with error %v", c.Name(), m1, err1)
		}
		return
	}
	if !sameMessage(m1, m2) {
		t.Fatalf("%s: messages differ for %q\n Decode:   %#v\n FromList: %#v", c.Name(), data, m1, m2)
	}
}

// checkEncodeSame compares an encoder with its reference on v: both fail
// with ErrUnsupportedValue, or both succeed with the same bytes. If exact is
// false (MessagePack, JSON: map order is random) the outputs need only
// decode to the same value and have the same length.
func checkEncodeSame(t testing.TB, name string, v any, got, ref func(any) ([]byte, error), dec func([]byte) (any, error), exact bool) {
	t.Helper()
	b1, err1 := got(v)
	b2, err2 := ref(v)
	if (err1 == nil) != (err2 == nil) {
		t.Fatalf("%s: encoders disagree on %#v\n hand-written: % x, %v\n reference:    % x, %v", name, v, b1, err1, b2, err2)
	}
	if err1 != nil {
		if !errors.Is(err1, ErrUnsupportedValue) || !errors.Is(err2, ErrUnsupportedValue) {
			t.Fatalf("%s: errors for %#v are not ErrUnsupportedValue: %v / %v", name, v, err1, err2)
		}
		if b1 != nil {
			t.Fatalf("%s: bytes returned with error %v", name, err1)
		}
		return
	}
	if bytes.Equal(b1, b2) {
		return
	}
	if exact || len(b1) != len(b2) {
		t.Fatalf("%s: encodings of %#v differ\n hand-written: % x\n reference:    % x", name, v, b1, b2)
	}
	v1, err1 := dec(b1)
	v2, err2 := dec(b2)
	if err1 != nil || err2 != nil || !sameValue(v1, v2) {
		t.Fatalf("%s: encodings of %#v decode differently\n hand-written: %#v, %v\n reference:    %#v, %v", name, v, v1, err1, v2, err2)
	}
}

func checkCBOREncode(t testing.TB, v any) {
	t.Helper()
	checkEncodeSame(t, "cbor", v, CBOR.EncodeValue, refCBOREncode, CBOR.DecodeValue, true)
}

func checkMsgpackEncode(t testing.TB, v any) {
	t.Helper()
	checkEncodeSame(t, "msgpack", v, MsgPack.EncodeValue, refMsgpackEncode, MsgPack.DecodeValue, false)
}

// --- random values ------------------------------------------------------------

type gen struct {
	r *rand.Rand
	// goTypes adds Go types outside the value model, as callers may pass
	// to EncodeValue, and the odd unsupported value.
	goTypes bool
	// oneKey limits maps to one entry, so that MessagePack and JSON output
	// is deterministic.
	oneKey bool
}

func newGen(seed uint64) *gen { return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

var specialFloats = []float64{
	0, math.Copysign(0, -1), 1, -1, 0.5, 1.5, 65504, 65505, 65520, -65504, 1e300, -1e-300,
	math.MaxFloat32, math.SmallestNonzeroFloat32, math.MaxFloat64, math.SmallestNonzeroFloat64,
	0x1p-14, 0x1p-24, 0x1p-25, 0x3p-24, 0x1.ffcp-15, 0x1.ffep-15, 0x1.ff8p-15, 0x1p-149, 0x1p-126,
	math.Inf(1), math.Inf(-1), math.NaN(), math.Float64frombits(0x7ff0000000000001), math.Float64frombits(0xfff8000000000123),
	float64(float32(0.1)), 0.1, 21.5, 3.4028235677973366e+38,
}

var specialInts = []int64{
	0, 1, -1, 23, 24, -24, -25, 127, 128, -32, -33, -128, -129, 255, 256, -256, -257,
	32767, 32768, -32768, -32769, 65535, 65536, math.MaxInt32, math.MinInt32, 1<<32 - 1, 1 << 32,
	-1 << 32, -1<<32 - 1, 1 << 53, 1<<53 + 1, math.MaxInt64, math.MinInt64,
}

func (g *gen) float() float64 {
	switch g.r.IntN(5) {
	case 0:
		return specialFloats[g.r.IntN(len(specialFloats))]
	case 1:
		return math.Float64frombits(g.r.Uint64())
	case 2:
		return float64(math.Float32frombits(g.r.Uint32()))
	case 3:
		return halfToFloat64(uint16(g.r.Uint32()))
	}
	return g.r.NormFloat64() * math.Pow(10, float64(g.r.IntN(20)-10))
}

func (g *gen) int() int64 {
	switch g.r.IntN(3) {
	case 0:
		return specialInts[g.r.IntN(len(specialInts))]
	case 1:
		return int64(g.r.Uint64())
	}
	return int64(g.r.IntN(2000) - 1000)
}

var sampleStrings = []string{"", "a", "k", "key", "temp", "unit", "C", "ünï", "🚀", "com.example.add",
	"a\xffb", "\xc3", "\xe2\x82", "\x00lead", "x\x00y", "aa", "ab", "b", "ba", "\u2028",
	strings.Repeat("long", 10), strings.Repeat("z", 23), strings.Repeat("z", 24), strings.Repeat("é", 200)}

// str returns a string; valid is false if it may be invalid UTF-8.
func (g *gen) str(valid bool) string {
	var s string
	if g.r.IntN(2) == 0 {
		s = sampleStrings[g.r.IntN(len(sampleStrings))]
	} else {
		b := make([]byte, g.r.IntN(40))
		for i := range b {
			if g.r.IntN(8) == 0 {
				b[i] = byte(g.r.Uint32())
			} else {
				b[i] = byte('a' + g.r.IntN(26))
			}
		}
		s = string(b)
	}
	if valid && !isValidUTF8(s) {
		return fixUTF8(s)
	}
	return s
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func (g *gen) bytes() []byte {
	if g.r.IntN(10) == 0 {
		return []byte{}
	}
	b := make([]byte, g.r.IntN(30))
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

type namedInt int16
type namedString string
type namedMap map[string]int

// value returns a random value with at most depth more levels of nesting.
func (g *gen) value(depth int) any {
	n := 9
	if g.goTypes {
		n = 13
	}
	if depth <= 0 {
		n = 6
	}
	switch g.r.IntN(n) {
	case 0:
		return nil
	case 1:
		return g.r.IntN(2) == 0
	case 2:
		if g.r.IntN(4) == 0 {
			return g.r.Uint64() | 1<<63
		}
		return g.int()
	case 3:
		return g.float()
	case 4:
		return g.str(!g.goTypes)
	case 5:
		return g.bytes()
	case 6, 7:
		l := make([]any, g.r.IntN(5))
		for i := range l {
			l[i] = g.value(depth - 1)
		}
		return l
	case 8:
		return g.dict(depth - 1)
	case 9:
		return g.goScalar()
	case 10:
		l := make([]string, g.r.IntN(3))
		for i := range l {
			l[i] = g.str(false)
		}
		if g.r.IntN(4) == 0 {
			return []string(nil)
		}
		return l
	case 11:
		switch g.r.IntN(4) {
		case 0:
			return map[string]string(nil)
		case 1:
			return []map[string]any{g.dict(depth - 1), nil}
		case 2:
			return namedMap{g.str(true): int(g.int())}
		}
		m := map[string]string{}
		n := g.r.IntN(3)
		if g.oneKey {
			n = min(n, 1)
		}
		for range n {
			m[g.str(true)] = g.str(false)
		}
		return m
	default:
		switch g.r.IntN(8) {
		case 0:
			return []any(nil)
		case 1:
			return map[string]any(nil)
		case 2:
			return []byte(nil)
		case 3:
			x := g.int()
			return &x
		case 4:
			return [2]byte{1, 2}
		case 5:
			return []uint16{1, 2}
		case 6:
			if g.r.IntN(10) == 0 {
				return struct{ A int }{1} // unsupported
			}
			return [3]int{1, 2, 3}
		}
		if g.r.IntN(20) == 0 {
			return map[string]any{"bad\xff": 1} // invalid key
		}
		return (*int)(nil)
	}
}

func (g *gen) goScalar() any {
	x := g.int()
	switch g.r.IntN(12) {
	case 0:
		return int(x)
	case 1:
		return int32(x)
	case 2:
		return int16(x)
	case 3:
		return int8(x)
	case 4:
		return uint(x)
	case 5:
		return uint32(x)
	case 6:
		return uint16(x)
	case 7:
		return uint8(x)
	case 8:
		return wamp.ID(x)
	case 9:
		return float32(g.float())
	case 10:
		return namedInt(x)
	}
	return namedString(g.str(false))
}

func (g *gen) dict(depth int) map[string]any {
	n := g.r.IntN(5)
	if g.oneKey {
		n = g.r.IntN(2)
	}
	m := make(map[string]any, n)
	for range n {
		m[g.str(true)] = g.value(depth)
	}
	return m
}

// --- tests on random values ---------------------------------------------------

// scaled scales the size of a random test down under -short and under
// the race detector (these tests start no goroutines).
func scaled(n int) int {
	if testing.Short() || raceEnabled {
		return max(n/8, 1)
	}
	return n
}

func TestDifferentialRandomValues(t *testing.T) {
	iterations := scaled(5000)
	for _, goTypes := range []bool{false, true} {
		for _, oneKey := range []bool{false, true} {
			seed := uint64(1 + len(t.Name()))
			if goTypes {
				seed += 10
			}
			if oneKey {
				seed += 100
			}
			g := newGen(seed)
			g.goTypes, g.oneKey = goTypes, oneKey
			for range iterations {
				v := g.value(g.r.IntN(6))
				checkCBOREncode(t, v)
				if oneKey {
					checkEncodeSame(t, "msgpack", v, MsgPack.EncodeValue, refMsgpackEncode, MsgPack.DecodeValue, true)
				} else {
					checkMsgpackEncode(t, v)
				}
				cb, err := refCBOREncode(v)
				if err != nil {
					continue
				}
				checkCBORDecode(t, cb)
				mb, err := refMsgpackEncode(v)
				if err != nil {
					t.Fatalf("msgpack reference cannot encode %#v: %v", v, err)
				}
				checkMsgpackDecode(t, mb)
				// Damaged copies.
				for range 3 {
					checkCBORDecode(t, g.mutate(cb))
					checkMsgpackDecode(t, g.mutate(mb))
				}
			}
		}
	}
}

// mutate returns a damaged copy of b: a byte changed, inserted or removed,
// or the end cut off.
func (g *gen) mutate(b []byte) []byte {
	b = bytes.Clone(b)
	if len(b) == 0 {
		return []byte{byte(g.r.Uint32())}
	}
	i := g.r.IntN(len(b))
	switch g.r.IntN(5) {
	case 0:
		b[i] = byte(g.r.Uint32())
	case 1:
		b[i] ^= 1 << g.r.IntN(8)
	case 2:
		b = append(b[:i], append([]byte{byte(g.r.Uint32())}, b[i:]...)...)
	case 3:
		b = append(b[:i], b[i+1:]...)
	default:
		b = b[:i]
	}
	return b
}

func TestDifferentialDeepNesting(t *testing.T) {
	for depth := MaxDepth - 2; depth <= MaxDepth+2; depth++ {
		for _, inner := range []any{int64(1), []any{}, map[string]any{}, map[string]any{"k": []any{}}} {
			var v = inner
			for range depth {
				if depth%2 == 0 {
					v = []any{v}
				} else {
					v = map[string]any{"k": v}
				}
			}
			checkCBOREncode(t, v)
			checkEncodeSame(t, "msgpack", v, MsgPack.EncodeValue, refMsgpackEncode, MsgPack.DecodeValue, true)
			for _, prefix := range [][]byte{nil, {0x81}, {0x9f}, {0xa1, 0x61, 'x'}} {
				b, err := refCBOREncode(v)
				if err != nil {
					continue
				}
				b = append(bytes.Clone(prefix), b...)
				if len(prefix) > 0 && prefix[0] == 0x9f {
					b = append(b, 0xff)
				}
				checkCBORDecode(t, b)
			}
			if b, err := refMsgpackEncode(v); err == nil {
				checkMsgpackDecode(t, b)
				checkMsgpackDecode(t, append([]byte{0x91}, b...))
			}
			// An indefinite-length array or map innermost.
			for _, in := range [][]byte{{0x9f, 0xff}, {0xbf, 0xff}, {0x9f, 0x01, 0xff}} {
				b := bytes.Repeat([]byte{0x81}, depth)
				checkCBORDecode(t, append(b, in...))
			}
		}
	}
}

func TestDifferentialCBORHalfFloats(t *testing.T) {
	for h := range 1 << 16 {
		data := []byte{0xf9, byte(h >> 8), byte(h)}
		checkCBORDecode(t, data)
		checkCBOREncode(t, halfToFloat64(uint16(h)))
		f := halfToFloat64(uint16(h))
		// Neighbours of every half value in float32 and float64.
		f32 := float32(f)
		checkCBOREncode(t, float64(math.Nextafter32(f32, float32(math.Inf(1)))))
		checkCBOREncode(t, math.Nextafter(f, math.Inf(-1)))
	}
}

func TestDifferentialCBORFloatBits(t *testing.T) {
	g := newGen(7)
	for range scaled(30000) {
		u := g.r.Uint64()
		checkCBOREncode(t, math.Float64frombits(u))
		checkCBOREncode(t, float32(math.Float32frombits(uint32(u))))
		checkCBOREncode(t, float64(math.Float32frombits(uint32(u))))
		checkCBORDecode(t, binary.BigEndian.AppendUint32([]byte{0xfa}, uint32(u)))
		checkCBORDecode(t, binary.BigEndian.AppendUint64([]byte{0xfb}, u))
		checkMsgpackDecode(t, binary.BigEndian.AppendUint32([]byte{0xca}, uint32(u)))
		checkMsgpackDecode(t, binary.BigEndian.AppendUint64([]byte{0xcb}, u))
	}
}

// --- random CBOR and MessagePack byte strings ---------------------------------

// cborItem appends a random CBOR data item, well formed or not, that pokes
// at the decoder's rules.
func (g *gen) cborItem(b []byte, depth int) []byte {
	r := g.r
	head := func(b []byte, major byte, n uint64) []byte {
		// Random argument width, not always the shortest.
		switch w := r.IntN(6); {
		case w == 0 && n < 24:
			return append(b, major<<5|byte(n))
		case w <= 1 && n <= math.MaxUint8:
			return append(b, major<<5|24, byte(n))
		case w <= 2 && n <= math.MaxUint16:
			return binary.BigEndian.AppendUint16(append(b, major<<5|25), uint16(n))
		case w <= 3 && n <= math.MaxUint32:
			return binary.BigEndian.AppendUint32(append(b, major<<5|26), uint32(n))
		case w == 4:
			return binary.BigEndian.AppendUint64(append(b, major<<5|27), n)
		}
		if n < 24 {
			return append(b, major<<5|byte(n))
		}
		return binary.BigEndian.AppendUint64(append(b, major<<5|27), n)
	}
	text := func(b []byte) []byte {
		s := g.str(r.IntN(4) != 0)
		if r.IntN(8) == 0 { // indefinite, in chunks that may split a character
			b = append(b, 0x7f)
			for len(s) > 0 {
				n := 1 + r.IntN(len(s))
				b = head(b, 3, uint64(n))
				b = append(b, s[:n]...)
				s = s[n:]
			}
			if r.IntN(10) == 0 {
				b = append(b, 0x41, 'x') // wrong chunk type
			}
			return append(b, 0xff)
		}
		b = head(b, 3, uint64(len(s)))
		return append(b, s...)
	}
	if depth <= 0 && r.IntN(3) != 0 {
		return head(b, byte(r.IntN(2)), uint64(g.int()))
	}
	switch r.IntN(16) {
	case 0:
		return head(b, 0, r.Uint64()>>r.IntN(64))
	case 1:
		return head(b, 1, r.Uint64()>>r.IntN(64))
	case 2:
		bs := g.bytes()
		if r.IntN(6) == 0 {
			b = append(b, 0x5f)
			for len(bs) > 0 {
				n := 1 + r.IntN(len(bs))
				b = head(b, 2, uint64(n))
				b = append(b, bs[:n]...)
				bs = bs[n:]
			}
			if r.IntN(10) == 0 {
				b = append(b, 0x5f, 0xff) // nested indefinite chunk
			}
			return append(b, 0xff)
		}
		return append(head(b, 2, uint64(len(bs))), bs...)
	case 3:
		return text(b)
	case 4:
		return append(b, 0xe0+byte(r.IntN(32))) // simple values, floats' heads, break
	case 5:
		return append(b, 0xf8, byte(r.Uint32()))
	case 6:
		return binary.BigEndian.AppendUint16(append(b, 0xf9), uint16(r.Uint32()))
	case 7:
		return binary.BigEndian.AppendUint32(append(b, 0xfa), r.Uint32())
	case 8:
		return binary.BigEndian.AppendUint64(append(b, 0xfb), math.Float64bits(g.float()))
	case 9:
		if r.IntN(4) == 0 {
			b = head(b, 6, uint64(r.IntN(60))) // tag
			return g.cborItem(b, depth-1)
		}
		return append(b, []byte{0x1c, 0x3d, 0x5e, 0x7c, 0x9d, 0xbe, 0xdf, 0xfc, 0xfd, 0xfe, 0x1f, 0x3f, 0xdf}[r.IntN(13)])
	case 10, 11, 12:
		n := r.IntN(5)
		if r.IntN(4) == 0 {
			b = append(b, 0x9f)
			for range n {
				b = g.cborItem(b, depth-1)
			}
			return append(b, 0xff)
		}
		b = head(b, 4, uint64(n))
		for range n {
			b = g.cborItem(b, depth-1)
		}
		return b
	default:
		n := r.IntN(5)
		indef := r.IntN(4) == 0
		if indef {
			b = append(b, 0xbf)
		} else {
			b = head(b, 5, uint64(n))
		}
		keys := []string{"a", "b", "", "ü"}
		for range n {
			switch k := r.IntN(12); {
			case k < 6:
				b = head(b, 3, 1)
				b = append(b, keys[r.IntN(2)][0])
			case k < 8:
				b = text(b)
			case k == 8:
				b = append(b, 0xf6+byte(r.IntN(2))) // null, undefined
			case k == 9:
				b = append(b, 0x60) // ""
			default:
				b = g.cborItem(b, 0)
			}
			b = g.cborItem(b, depth-1)
		}
		if indef {
			if r.IntN(10) == 0 {
				b = g.cborItem(b, 0) // odd number of items
			}
			b = append(b, 0xff)
		}
		return b
	}
}

// msgpackItem appends a random MessagePack item, well formed or not.
func (g *gen) msgpackItem(b []byte, depth int) []byte {
	r := g.r
	str := func(b []byte) []byte {
		s := g.str(r.IntN(4) != 0)
		switch n := len(s); {
		case n < 32 && r.IntN(2) == 0:
			b = append(b, 0xa0|byte(n))
		case n <= math.MaxUint8 && r.IntN(2) == 0:
			b = append(b, 0xd9, byte(n))
		case r.IntN(2) == 0:
			b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
		default:
			b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
		}
		return append(b, s...)
	}
	if depth <= 0 && r.IntN(3) != 0 {
		return append(b, byte(r.Uint32()))
	}
	switch r.IntN(12) {
	case 0:
		return append(b, byte(r.Uint32()))
	case 1:
		c := byte(0xcc + r.IntN(8)) // uint8-64, int8-64
		b = append(b, c)
		for range 1 << (c & 3) {
			b = append(b, byte(r.Uint32()))
		}
		return b
	case 2:
		return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(g.float()))
	case 3:
		return binary.BigEndian.AppendUint32(append(b, 0xca), r.Uint32())
	case 4, 5:
		return str(b)
	case 6:
		bs := g.bytes()
		c := byte(0xc4 + r.IntN(3))
		b = append(b, c)
		switch c {
		case 0xc4:
			b = append(b, byte(len(bs)))
		case 0xc5:
			b = binary.BigEndian.AppendUint16(b, uint16(len(bs)))
		default:
			b = binary.BigEndian.AppendUint32(b, uint32(len(bs)))
		}
		return append(b, bs...)
	case 7:
		return append(b, []byte{0xc0, 0xc1, 0xc2, 0xc3, 0xc7, 0xd4, 0xd6, 0xd8}[r.IntN(8)], 1, 2, 3)[:len(b)+1+r.IntN(4)]
	case 8, 9:
		n := r.IntN(5)
		switch r.IntN(3) {
		case 0:
			b = append(b, 0x90|byte(n))
		case 1:
			b = binary.BigEndian.AppendUint16(append(b, 0xdc), uint16(n))
		default:
			b = binary.BigEndian.AppendUint32(append(b, 0xdd), uint32(n))
		}
		for range n {
			b = g.msgpackItem(b, depth-1)
		}
		return b
	default:
		n := r.IntN(5)
		switch r.IntN(3) {
		case 0:
			b = append(b, 0x80|byte(n))
		case 1:
			b = binary.BigEndian.AppendUint16(append(b, 0xde), uint16(n))
		default:
			b = binary.BigEndian.AppendUint32(append(b, 0xdf), uint32(n))
		}
		for range n {
			switch k := r.IntN(10); {
			case k < 6:
				b = append(b, 0xa1, "ab"[r.IntN(2)])
			case k < 8:
				b = str(b)
			default:
				b = g.msgpackItem(b, 0)
			}
			b = g.msgpackItem(b, depth-1)
		}
		return b
	}
}

func TestDifferentialRandomBytes(t *testing.T) {
	iterations := scaled(50000)
	g := newGen(42)
	for range iterations {
		cb := g.cborItem(nil, g.r.IntN(5))
		checkCBORDecode(t, cb)
		checkMessageDecode(t, CBOR, cb)
		mb := g.msgpackItem(nil, g.r.IntN(5))
		checkMsgpackDecode(t, mb)
		checkMessageDecode(t, MsgPack, mb)
		if g.r.IntN(4) == 0 {
			checkCBORDecode(t, g.mutate(cb))
			checkMsgpackDecode(t, g.mutate(mb))
		}
	}
}

// --- messages -----------------------------------------------------------------

// refToList is wamp.ToList as it was before it was optimised.
func refToList(m wamp.Message) wamp.List {
	dict := func(d wamp.Dict) wamp.Dict {
		if d == nil {
			return wamp.Dict{}
		}
		return d
	}
	appendPayload := func(l wamp.List, p *wamp.Payload) wamp.List {
		switch {
		case p.Opaque != nil:
			return append(l, p.Opaque)
		case len(p.Kwargs) > 0:
			args := p.Args
			if args == nil {
				args = wamp.List{}
			}
			return append(l, args, p.Kwargs)
		case len(p.Args) > 0:
			return append(l, p.Args)
		}
		return l
	}
	switch m := m.(type) {
	case *wamp.Hello:
		return wamp.List{int64(wamp.TypeHello), m.Realm, dict(m.Details)}
	case *wamp.Welcome:
		return wamp.List{int64(wamp.TypeWelcome), int64(m.Session), dict(m.Details)}
	case *wamp.Abort:
		return appendPayload(wamp.List{int64(wamp.TypeAbort), dict(m.Details), m.Reason}, &m.Payload)
	case *wamp.Challenge:
		return wamp.List{int64(wamp.TypeChallenge), m.AuthMethod, dict(m.Extra)}
	case *wamp.Authenticate:
		return wamp.List{int64(wamp.TypeAuthenticate), m.Signature, dict(m.Extra)}
	case *wamp.Goodbye:
		return wamp.List{int64(wamp.TypeGoodbye), dict(m.Details), m.Reason}
	case *wamp.Error:
		return appendPayload(wamp.List{int64(wamp.TypeError), int64(m.RequestType), int64(m.Request), dict(m.Details), m.Error}, &m.Payload)
	case *wamp.Publish:
		return appendPayload(wamp.List{int64(wamp.TypePublish), int64(m.Request), dict(m.Options), m.Topic}, &m.Payload)
	case *wamp.Published:
		return wamp.List{int64(wamp.TypePublished), int64(m.Request), int64(m.Publication)}
	case *wamp.Subscribe:
		return wamp.List{int64(wamp.TypeSubscribe), int64(m.Request), dict(m.Options), m.Topic}
	case *wamp.Subscribed:
		return wamp.List{int64(wamp.TypeSubscribed), int64(m.Request), int64(m.Subscription)}
	case *wamp.Unsubscribe:
		return wamp.List{int64(wamp.TypeUnsubscribe), int64(m.Request), int64(m.Subscription)}
	case *wamp.Unsubscribed:
		if m.Details != nil {
			return wamp.List{int64(wamp.TypeUnsubscribed), int64(m.Request), m.Details}
		}
		return wamp.List{int64(wamp.TypeUnsubscribed), int64(m.Request)}
	case *wamp.Event:
		return appendPayload(wamp.List{int64(wamp.TypeEvent), int64(m.Subscription), int64(m.Publication), dict(m.Details)}, &m.Payload)
	case *wamp.Call:
		return appendPayload(wamp.List{int64(wamp.TypeCall), int64(m.Request), dict(m.Options), m.Procedure}, &m.Payload)
	case *wamp.Cancel:
		return wamp.List{int64(wamp.TypeCancel), int64(m.Request), dict(m.Options)}
	case *wamp.Result:
		return appendPayload(wamp.List{int64(wamp.TypeResult), int64(m.Request), dict(m.Details)}, &m.Payload)
	case *wamp.Register:
		return wamp.List{int64(wamp.TypeRegister), int64(m.Request), dict(m.Options), m.Procedure}
	case *wamp.Registered:
		return wamp.List{int64(wamp.TypeRegistered), int64(m.Request), int64(m.Registration)}
	case *wamp.Unregister:
		return wamp.List{int64(wamp.TypeUnregister), int64(m.Request), int64(m.Registration)}
	case *wamp.Unregistered:
		if m.Details != nil {
			return wamp.List{int64(wamp.TypeUnregistered), int64(m.Request), m.Details}
		}
		return wamp.List{int64(wamp.TypeUnregistered), int64(m.Request)}
	case *wamp.Invocation:
		return appendPayload(wamp.List{int64(wamp.TypeInvocation), int64(m.Request), int64(m.Registration), dict(m.Details)}, &m.Payload)
	case *wamp.Interrupt:
		return wamp.List{int64(wamp.TypeInterrupt), int64(m.Request), dict(m.Options)}
	case *wamp.Yield:
		return appendPayload(wamp.List{int64(wamp.TypeYield), int64(m.Request), dict(m.Options)}, &m.Payload)
	}
	return nil
}

func (g *gen) id() wamp.ID {
	switch g.r.IntN(6) {
	case 0:
		return 0
	case 1:
		return wamp.MaxID
	case 2:
		return wamp.ID(g.r.Uint64())
	}
	return wamp.ID(1 + g.r.IntN(1<<20))
}

func (g *gen) optDict() wamp.Dict {
	switch g.r.IntN(4) {
	case 0:
		return nil
	case 1:
		return wamp.Dict{}
	}
	return g.dict(2)
}

func (g *gen) payload() wamp.Payload {
	var p wamp.Payload
	switch g.r.IntN(3) {
	case 0:
		p.Args = wamp.List{}
	case 1:
		p.Args = make(wamp.List, g.r.IntN(4))
		for i := range p.Args {
			p.Args[i] = g.value(2)
		}
	}
	if g.r.IntN(2) == 0 {
		p.Kwargs = g.optDict()
	}
	if g.r.IntN(6) == 0 {
		p.Opaque = g.value(2)
	}
	return p
}

func (g *gen) message() wamp.Message {
	s := func() string { return g.str(!g.goTypes) }
	switch g.r.IntN(24) {
	case 0:
		return &wamp.Hello{Realm: s(), Details: g.optDict()}
	case 1:
		return &wamp.Welcome{Session: g.id(), Details: g.optDict()}
	case 2:
		return &wamp.Abort{Details: g.optDict(), Reason: s(), Payload: g.payload()}
	case 3:
		return &wamp.Challenge{AuthMethod: s(), Extra: g.optDict()}
	case 4:
		return &wamp.Authenticate{Signature: s(), Extra: g.optDict()}
	case 5:
		return &wamp.Goodbye{Details: g.optDict(), Reason: s()}
	case 6:
		rt := wamp.MessageType(g.r.IntN(80))
		if g.r.IntN(5) == 0 {
			rt = wamp.MessageType(g.r.Uint32())
		}
		return &wamp.Error{RequestType: rt, Request: g.id(), Details: g.optDict(), Error: s(), Payload: g.payload()}
	case 7:
		return &wamp.Publish{Request: g.id(), Options: g.optDict(), Topic: s(), Payload: g.payload()}
	case 8:
		return &wamp.Published{Request: g.id(), Publication: g.id()}
	case 9:
		return &wamp.Subscribe{Request: g.id(), Options: g.optDict(), Topic: s()}
	case 10:
		return &wamp.Subscribed{Request: g.id(), Subscription: g.id()}
	case 11:
		return &wamp.Unsubscribe{Request: g.id(), Subscription: g.id()}
	case 12:
		return &wamp.Unsubscribed{Request: g.id(), Details: g.optDict()}
	case 13:
		return &wamp.Event{Subscription: g.id(), Publication: g.id(), Details: g.optDict(), Payload: g.payload()}
	case 14:
		return &wamp.Call{Request: g.id(), Options: g.optDict(), Procedure: s(), Payload: g.payload()}
	case 15:
		return &wamp.Cancel{Request: g.id(), Options: g.optDict()}
	case 16:
		return &wamp.Result{Request: g.id(), Details: g.optDict(), Payload: g.payload()}
	case 17:
		return &wamp.Register{Request: g.id(), Options: g.optDict(), Procedure: s()}
	case 18:
		return &wamp.Registered{Request: g.id(), Registration: g.id()}
	case 19:
		return &wamp.Unregister{Request: g.id(), Registration: g.id()}
	case 20:
		return &wamp.Unregistered{Request: g.id(), Details: g.optDict()}
	case 21:
		return &wamp.Invocation{Request: g.id(), Registration: g.id(), Details: g.optDict(), Payload: g.payload()}
	case 22:
		return &wamp.Interrupt{Request: g.id(), Options: g.optDict()}
	}
	return &wamp.Yield{Request: g.id(), Options: g.optDict(), Payload: g.payload()}
}

// elemsList turns the elements of a message into the list ToList makes.
func elemsList(l *elems) wamp.List {
	out := make(wamp.List, l.n)
	for i := range l.n {
		switch e := &l.e[i]; e.kind {
		case elemInt:
			out[i] = e.i
		case elemStr:
			out[i] = e.s
		case elemDict:
			if e.d == nil {
				out[i] = wamp.Dict{}
			} else {
				out[i] = e.d
			}
		case elemList:
			if e.l == nil {
				out[i] = wamp.List{}
			} else {
				out[i] = e.l
			}
		default:
			out[i] = e.v
		}
	}
	return out
}

// checkMessageEncode compares c.Encode(m) with c.EncodeValue(ToList(m)), and
// ToList and the encoders' element walk with the original ToList.
func checkMessageEncode(t testing.TB, c Codec, m wamp.Message, exact bool) {
	t.Helper()
	want := refToList(m)
	if got := wamp.ToList(m); !sameValue(got, want) {
		t.Fatalf("ToList(%#v) = %#v, want %#v", m, got, want)
	}
	var l elems
	if !l.fill(m) {
		t.Fatalf("no elements for %#v", m)
	}
	if got := elemsList(&l); !sameValue(got, want) {
		t.Fatalf("elements of %#v = %#v, want %#v", m, got, want)
	}
	checkEncodeSame(t, c.Name()+" message", m,
		func(any) ([]byte, error) { return c.Encode(m) },
		func(any) ([]byte, error) { return c.EncodeValue(want) },
		c.DecodeValue, exact)
}

func TestDifferentialMessages(t *testing.T) {
	iterations := scaled(2000)
	for _, m := range fastSamples() {
		for _, c := range All() {
			checkMessageEncode(t, c, m, c == CBOR)
			b, err := c.Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			checkMessageDecode(t, c, b)
		}
	}
	for _, oneKey := range []bool{false, true} {
		for _, goTypes := range []bool{false, true} {
			g := newGen(99)
			g.oneKey, g.goTypes = oneKey, goTypes
			for range iterations {
				m := g.message()
				for _, c := range All() {
					checkMessageEncode(t, c, m, oneKey || c == CBOR)
					b, err := c.Encode(m)
					if err != nil {
						continue
					}
					checkMessageDecode(t, c, b)
					checkMessageDecode(t, c, g.mutate(b))
				}
			}
		}
	}
	for _, c := range All() {
		if _, err := c.Encode(nil); err == nil {
			t.Errorf("%s: Encode(nil) succeeded", c.Name())
		}
		if l := wamp.ToList(nil); l != nil {
			t.Errorf("ToList(nil) = %#v", l)
		}
	}
}

// TestDifferentialMessageLists decodes random lists shaped like messages,
// valid and not, and checks that the message decoders agree with FromList.
func TestDifferentialMessageLists(t *testing.T) {
	iterations := scaled(10000)
	g := newGen(5)
	codes := []int64{1, 2, 3, 4, 5, 6, 8, 16, 17, 32, 33, 34, 35, 36, 48, 49, 50, 64, 65, 66, 67, 68, 69, 70, 0, 7, 65536 + 48, -48}
	elem := func() any {
		switch g.r.IntN(12) {
		case 0, 1:
			return int64(1 + g.r.IntN(1000))
		case 2:
			return []any{int64(0), int64(-1), int64(wamp.MaxID), int64(wamp.MaxID + 1), uint64(math.MaxUint64), 1.0}[g.r.IntN(6)]
		case 3, 4:
			return g.str(true)
		case 5, 6:
			return g.dict(1)
		case 7, 8:
			l := make([]any, g.r.IntN(3))
			for i := range l {
				l[i] = g.value(1)
			}
			return l
		case 9:
			return nil
		}
		return g.value(1)
	}
	for range iterations {
		l := make([]any, g.r.IntN(9))
		for i := range l {
			l[i] = elem()
		}
		if len(l) > 0 && g.r.IntN(8) != 0 {
			l[0] = codes[g.r.IntN(len(codes))]
		}
		var v any = l
		if g.r.IntN(30) == 0 {
			v = elem()
		}
		for _, c := range All() {
			b, err := c.EncodeValue(v)
			if err != nil {
				continue
			}
			checkMessageDecode(t, c, b)
		}
		// The same list as indefinite-length CBOR.
		if b, err := CBOR.EncodeValue(v); err == nil && len(b) > 0 && b[0] >= 0x80 && b[0] <= 0x97 {
			checkMessageDecode(t, CBOR, append(append([]byte{0x9f}, b[1:]...), 0xff))
		}
	}
}

// --- fuzz corpora ---------------------------------------------------------------

// readCorpus returns the inputs of a fuzz corpus directory ("go test fuzz
// v1" files holding one []byte each).
func readCorpus(t testing.TB, dir string) [][]byte {
	t.Helper()
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("corpus: %v", err)
	}
	var out [][]byte
	for _, f := range files {
		if f.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<24)
		if !sc.Scan() || sc.Text() != "go test fuzz v1" {
			t.Fatalf("%s: not a fuzz corpus file", f.Name())
		}
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			inner, ok := strings.CutPrefix(line, "[]byte(")
			inner, ok2 := strings.CutSuffix(inner, ")")
			if !ok || !ok2 {
				t.Fatalf("%s: unexpected line %q", f.Name(), line)
			}
			s, err := strconv.Unquote(inner)
			if err != nil {
				t.Fatalf("%s: %v", f.Name(), err)
			}
			out = append(out, []byte(s))
		}
	}
	return out
}

// corpusDirs returns testdata/fuzz/name plus, for a longer run, the same
// corpus under every directory listed in CODEC_EXTRA_CORPORA (separated by
// the OS path list separator), e.g. $(go env GOCACHE)/fuzz/<import path>.
func corpusDirs(name string) []string {
	dirs := []string{filepath.Join("testdata", "fuzz", name)}
	for _, d := range filepath.SplitList(os.Getenv("CODEC_EXTRA_CORPORA")) {
		if _, err := os.Stat(filepath.Join(d, name)); err == nil {
			dirs = append(dirs, filepath.Join(d, name))
		}
	}
	return dirs
}

func TestDifferentialCorpora(t *testing.T) {
	count := 0
	for _, tc := range []struct {
		corpus string
		c      Codec
		check  func(testing.TB, []byte)
	}{
		{"FuzzDecodeCBOR", CBOR, checkCBORDecode},
		{"FuzzCBORDifferential", CBOR, checkCBORDecode},
		{"FuzzDecodeMsgPack", MsgPack, checkMsgpackDecode},
		{"FuzzMsgPackDifferential", MsgPack, checkMsgpackDecode},
		{"FuzzDecodeJSON", JSON, nil},
		{"FuzzJSONMessage", JSON, nil},
	} {
		for _, dir := range corpusDirs(tc.corpus) {
			for _, data := range readCorpus(t, dir) {
				count++
				if tc.check != nil {
					tc.check(t, data)
				}
				checkMessageDecode(t, tc.c, data)
				// Every corpus entry through the other codecs' message decoders too.
				for _, c := range All() {
					checkMessageDecode(t, c, data)
				}
			}
		}
	}
	if count < 150 {
		t.Fatalf("only %d corpus entries found", count)
	}
}

// --- fuzz targets ---------------------------------------------------------------

func addCorpusSeeds(f *testing.F, names ...string) {
	for _, name := range names {
		for _, data := range readCorpus(f, filepath.Join("testdata", "fuzz", name)) {
			f.Add(data)
		}
	}
}

func FuzzCBORDifferential(f *testing.F) {
	addCorpusSeeds(f, "FuzzDecodeCBOR")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkCBORDecode(t, data)
		checkMessageDecode(t, CBOR, data)
		if v, err := CBOR.DecodeValue(data); err == nil {
			checkCBOREncode(t, v)
		}
	})
}

func FuzzMsgPackDifferential(f *testing.F) {
	addCorpusSeeds(f, "FuzzDecodeMsgPack")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkMsgpackDecode(t, data)
		checkMessageDecode(t, MsgPack, data)
		if v, err := MsgPack.DecodeValue(data); err == nil {
			checkMsgpackEncode(t, v)
		}
	})
}

func FuzzJSONMessage(f *testing.F) {
	addCorpusSeeds(f, "FuzzDecodeJSON")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkMessageDecode(t, JSON, data)
		if m, err := JSON.Decode(data); err == nil {
			for _, c := range All() {
				checkMessageEncode(t, c, m, c == CBOR)
			}
		}
	})
}

// fastSamples are a few messages of the kinds the fast paths build.
func fastSamples() []wamp.Message {
	kw := wamp.Dict{"temp": 21.5, "unit": "C", "ok": true}
	return []wamp.Message{
		&wamp.Call{Request: 1, Options: wamp.Dict{}, Procedure: "com.example.add", Payload: wamp.Payload{Args: wamp.List{int64(2), int64(3)}}},
		&wamp.Call{Request: wamp.MaxID, Procedure: "p", Payload: wamp.Payload{Kwargs: kw}},
		&wamp.Invocation{Request: 7, Registration: 9, Details: wamp.Dict{"caller": int64(3)}, Payload: wamp.Payload{Opaque: []byte{1}}},
		&wamp.Yield{Request: 7, Payload: wamp.Payload{Args: wamp.List{"r"}, Kwargs: kw}},
		&wamp.Result{Request: 1, Details: wamp.Dict{"progress": true}},
		&wamp.Publish{Request: 3, Topic: "t", Payload: wamp.Payload{Opaque: "x"}},
		&wamp.Event{Subscription: 5512315355, Publication: 4429313566, Details: wamp.Dict{}, Payload: wamp.Payload{Kwargs: kw}},
		&wamp.Error{RequestType: wamp.TypeCall, Request: 1, Error: "e", Payload: wamp.Payload{Args: wamp.List{nil}}},
		&wamp.Hello{Realm: "realm1", Details: wamp.Dict{"roles": wamp.Dict{"caller": wamp.Dict{}}}},
		&wamp.Unsubscribed{Request: 0, Details: wamp.Dict{"reason": "x"}},
		&wamp.Unregistered{Request: 4},
	}
}

// TestDifferentialLimits covers sizes the random tests do not reach: the
// CBOR element and pair limits, the wide length forms, and the depth limit
// on the typed containers.
func TestDifferentialLimits(t *testing.T) {
	if raceEnabled {
		t.Skip("slow under the race detector; runs without it")
	}
	for _, n := range []int{cborMaxElems, cborMaxElems + 1} {
		// Arrays of n zeros, definite and indefinite.
		def := binary.BigEndian.AppendUint32([]byte{0x9a}, uint32(n))
		def = append(def, make([]byte, n)...)
		checkCBORDecode(t, def)
		indef := append(append([]byte{0x9f}, make([]byte, n)...), 0xff)
		checkCBORDecode(t, indef)
		// Maps of n distinct three-letter keys to zero.
		var pairs []byte
		for i := range n {
			pairs = append(pairs, 0x63, '0'+byte(i>>12&63), '0'+byte(i>>6&63), '0'+byte(i&63), 0)
		}
		checkCBORDecode(t, append(binary.BigEndian.AppendUint32([]byte{0xba}, uint32(n)), pairs...))
		checkCBORDecode(t, append(append([]byte{0xbf}, pairs...), 0xff))
	}
	big := make([]any, 70000)
	for i := range big {
		big[i] = int64(i)
	}
	bigMap := make(map[string]any, 70000)
	for i := range 70000 {
		bigMap[strconv.Itoa(i)] = nil
	}
	one := func(k string, v any) map[string]any { return map[string]any{k: v} }
	values := []any{
		big, bigMap, big[:300], one("k", big[:20]), one(strings.Repeat("k", 300), nil),
		strings.Repeat("s", 300), strings.Repeat("s", 70000), make([]byte, 300), make([]byte, 70000),
		[]string{strings.Repeat("s", 40), "x\xff"}, map[string]string{strings.Repeat("k", 40): "v"},
		map[string]string{"k\xff": "v"}, map[string]any{"k": map[string]string{"k\xff": "v"}},
		[]any{[]map[string]any{{"k\xff": 1}}}, []map[string]any{{"k": int64(1)}, {"a": true}},
	}
	for _, v := range values {
		checkCBOREncode(t, v)
		checkMsgpackEncode(t, v)
		if b, err := refCBOREncode(v); err == nil {
			checkCBORDecode(t, b)
		}
		if b, err := refMsgpackEncode(v); err == nil {
			checkMsgpackDecode(t, b)
		}
	}
	// The typed containers at and beyond the depth limit.
	for _, leaf := range []any{[]string{"a"}, map[string]string{"k": "v"}, []map[string]any{{}}, [1]int{1}, namedMap{"k": 1}} {
		for _, depth := range []int{MaxDepth - 1, MaxDepth} {
			v := leaf
			for range depth {
				v = []any{v}
			}
			checkCBOREncode(t, v)
			checkEncodeSame(t, "msgpack", v, MsgPack.EncodeValue, refMsgpackEncode, MsgPack.DecodeValue, true)
		}
	}
}

// TestMessageDecodeEdgeCases runs the message decoders on lists that the
// fast paths must reject or build exactly as FromList does.
func TestMessageDecodeEdgeCases(t *testing.T) {
	d := map[string]any{}
	args := []any{int64(1)}
	kw := map[string]any{"k": "v"}
	fast := []struct {
		code int64
		head []any // the elements between the type code and the payload
	}{
		{48, []any{int64(1), d, "proc"}},
		{68, []any{int64(1), int64(2), d}},
		{70, []any{int64(1), d}},
		{50, []any{int64(1), d}},
		{16, []any{int64(1), d, "topic"}},
		{36, []any{int64(1), int64(2), d}},
		{8, []any{int64(48), int64(1), d, "error"}},
	}
	payloads := [][]any{
		{}, {args}, {args, kw}, {[]any{}, kw}, {[]any{}, map[string]any{}}, {nil}, {nil, kw}, {"opaque"},
		{int64(7)}, {uint64(math.MaxUint64)}, {[]byte{1}}, {kw}, {"opaque", kw}, {args, nil}, {args, args},
		{args, kw, int64(1)}, {1.5},
	}
	replacements := []any{int64(0), int64(-1), int64(wamp.MaxID), int64(wamp.MaxID + 1), uint64(math.MaxUint64),
		1.0, "1", nil, d, args, true, int64(70000), int64(65535)}
	var lists [][]any
	for _, f := range fast {
		for _, code := range []any{f.code, f.code + 65536, -f.code, float64(f.code), uint64(f.code)} {
			for _, p := range payloads {
				lists = append(lists, append(append([]any{code}, f.head...), p...))
			}
		}
		for i := range f.head {
			for _, r := range replacements {
				h := append([]any(nil), f.head...)
				h[i] = r
				lists = append(lists, append([]any{f.code}, h...))
				lists = append(lists, append(append([]any{f.code}, h...), args))
			}
		}
		for n := range len(f.head) {
			lists = append(lists, append([]any{f.code}, f.head[:n]...))
		}
	}
	lists = append(lists, nil, []any{}, []any{int64(1)}, []any{int64(1), "realm", d},
		[]any{int64(35), int64(0)}, []any{int64(35), int64(0), d}, []any{int64(67), int64(0), "x"})
	count := 0
	for _, l := range lists {
		for _, c := range All() {
			b, err := c.EncodeValue(l)
			if err != nil {
				continue
			}
			checkMessageDecode(t, c, b)
			count++
		}
	}
	if count < 1000 {
		t.Fatalf("only %d cases", count)
	}
}
