package codec

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// CBOR is the "wamp.2.cbor" serializer (RawSocket serializer 3).
//
// The encoder and the decoder are hand-written and use no reflection for
// the value model.
//
// The encoder writes Core Deterministic CBOR (RFC 8949, section 4.2.1):
// integers and lengths in their shortest form, floats in the shortest of
// half, single and double precision that keeps the value (NaN as f97e00,
// infinities as half precision), map keys sorted by their encoded bytes
// (shorter keys first, then bytewise) and definite lengths only. Nil slices
// and maps are written as empty containers. Invalid UTF-8 in strings is
// replaced by U+FFFD, other Go types go through the same reflection
// fallback as the other codecs, and nesting deeper than MaxDepth is an
// error.
//
// The decoder produces the value model: map[string]any dicts, int64
// integers, uint64 above math.MaxInt64, float64 for every float width,
// []byte for byte strings. Indefinite lengths are accepted (string chunks
// must each be valid UTF-8), and undefined reads as nil. A null or
// undefined map key reads as the empty string; any other key that is not a
// text string is an error. It rejects tags (bignums included), duplicate
// map keys, invalid UTF-8, simple values other than false, true, null and
// undefined, integers below math.MinInt64, arrays and maps of more than
// 131072 elements or pairs, trailing data and nesting deeper than MaxDepth.
var CBOR Codec = cborCodec{}

type cborCodec struct{}

func (cborCodec) Name() string { return "cbor" }
func (cborCodec) Binary() bool { return true }

// cborMaxElems caps the elements of one array and the pairs of one map.
const cborMaxElems = 131072

// --- encoder ----------------------------------------------------------------

// cborEncoder is pooled scratch for one encode: kvs holds the entries of
// the maps being written, sorted, as a stack shared by nested maps.
type cborEncoder struct {
	b   []byte
	kvs []cborKV
}

type cborKV struct {
	k string
	v any
}

var cborEncPool = sync.Pool{New: func() any {
	return &cborEncoder{b: make([]byte, 0, 512)}
}}

func getCBOREncoder() *cborEncoder {
	e := cborEncPool.Get().(*cborEncoder)
	e.b = e.b[:0]
	return e
}

// finish returns a copy of the output (nil on error) and pools e.
func (e *cborEncoder) finish(err error) ([]byte, error) {
	var out []byte
	if err == nil {
		out = bytes.Clone(e.b)
	}
	if cap(e.b) > maxPooledBuf {
		e.b = make([]byte, 0, 512)
	}
	clear(e.kvs) // left over only after an error
	e.kvs = e.kvs[:0]
	if cap(e.kvs) > 1024 {
		e.kvs = nil
	}
	cborEncPool.Put(e)
	return out, err
}

// EncodeValue serializes v as CBOR.
func (cborCodec) EncodeValue(v any) ([]byte, error) {
	e := getCBOREncoder()
	return e.finish(e.value(v, 0))
}

// Encode serializes a message.
func (cborCodec) Encode(m wamp.Message) ([]byte, error) {
	var l elems
	if !l.fill(m) {
		return nil, errEncodeMessage(m)
	}
	e := getCBOREncoder()
	e.head(4, uint64(l.n))
	var err error
	for i := 0; i < l.n && err == nil; i++ {
		switch el := &l.e[i]; el.kind {
		case elemInt:
			e.int(el.i)
		case elemStr:
			e.str(el.s)
		case elemDict:
			err = e.dict(el.d, 1)
		case elemList:
			err = e.list(el.l, 1)
		default:
			err = e.value(el.v, 1)
		}
	}
	return e.finish(err)
}

// head appends an initial byte and argument in the shortest form.
func (e *cborEncoder) head(major byte, n uint64) {
	major <<= 5
	switch {
	case n < 24:
		e.b = append(e.b, major|byte(n))
	case n <= math.MaxUint8:
		e.b = append(e.b, major|24, byte(n))
	case n <= math.MaxUint16:
		e.b = append(e.b, major|25)
		e.b = binary.BigEndian.AppendUint16(e.b, uint16(n))
	case n <= math.MaxUint32:
		e.b = append(e.b, major|26)
		e.b = binary.BigEndian.AppendUint32(e.b, uint32(n))
	default:
		e.b = append(e.b, major|27)
		e.b = binary.BigEndian.AppendUint64(e.b, n)
	}
}

func (e *cborEncoder) int(n int64) {
	if n < 0 {
		e.head(1, uint64(-1-n))
		return
	}
	e.head(0, uint64(n))
}

func (e *cborEncoder) str(s string) {
	if !utf8.ValidString(s) {
		s = fixUTF8(s)
	}
	e.text(s)
}

// text appends s, which is valid UTF-8, as a text string.
func (e *cborEncoder) text(s string) {
	e.head(3, uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *cborEncoder) float(f float64) {
	switch {
	case f != f:
		e.b = append(e.b, 0xf9, 0x7e, 0x00)
		return
	case math.IsInf(f, 1):
		e.b = append(e.b, 0xf9, 0x7c, 0x00)
		return
	case math.IsInf(f, -1):
		e.b = append(e.b, 0xf9, 0xfc, 0x00)
		return
	}
	f32 := float32(f)
	if float64(f32) != f {
		e.b = append(e.b, 0xfb)
		e.b = binary.BigEndian.AppendUint64(e.b, math.Float64bits(f))
		return
	}
	if h, ok := halfExact(f); ok {
		e.b = append(e.b, 0xf9)
		e.b = binary.BigEndian.AppendUint16(e.b, h)
		return
	}
	e.b = append(e.b, 0xfa)
	e.b = binary.BigEndian.AppendUint32(e.b, math.Float32bits(f32))
}

// halfExact returns the IEEE 754 half-precision bits of f if f is finite
// and a half-precision float holds it exactly.
func halfExact(f float64) (uint16, bool) {
	bits := math.Float64bits(f)
	sign := uint16(bits>>48) & 0x8000
	exp := int(bits>>52&0x7ff) - 1023
	mant := bits & (1<<52 - 1)
	switch {
	case bits<<1 == 0: // ±0
		return sign, true
	case exp > 15 || exp < -24:
		return 0, false
	case exp >= -14: // normal half: 10 mantissa bits
		if mant&(1<<42-1) != 0 {
			return 0, false
		}
		return sign | uint16(exp+15)<<10 | uint16(mant>>42), true
	}
	// Subnormal half: the value is m·2^-24 with m < 1024.
	full := mant | 1<<52
	shift := uint(28 - exp) // 52 - (exp + 24)
	if full&(1<<shift-1) != 0 {
		return 0, false
	}
	return sign | uint16(full>>shift), true
}

// halfToFloat64 converts IEEE 754 half-precision bits. NaNs come out quiet
// with their payload, as a float32 NaN widened to float64 would.
func halfToFloat64(h uint16) float64 {
	sign := uint64(h&0x8000) << 48
	exp := int(h>>10) & 0x1f
	mant := uint64(h & 0x3ff)
	switch exp {
	case 0x1f:
		if mant == 0 {
			return math.Float64frombits(sign | 0x7ff<<52)
		}
		return math.Float64frombits(sign | 0x7ff8<<48 | mant<<42)
	case 0:
		f := float64(mant) / (1 << 24) // exact
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float64frombits(sign | uint64(exp-15+1023)<<52 | mant<<42)
}

func (e *cborEncoder) bytes(b []byte) {
	e.head(2, uint64(len(b)))
	e.b = append(e.b, b...)
}

// cborKeyOrder sorts map entries by the CBOR encoding of their text keys:
// shorter keys first (the length is in the head), equal lengths bytewise.
func cborKeyOrder(a, b cborKV) int {
	if len(a.k) != len(b.k) {
		return cmp.Compare(len(a.k), len(b.k))
	}
	return strings.Compare(a.k, b.k)
}

// pushMap pushes the entries of m onto e.kvs, checks the keys, sorts the
// entries and returns the index of the first one.
func (e *cborEncoder) pushMap(m map[string]any) (int, error) {
	base := len(e.kvs)
	for k, v := range m {
		e.kvs = append(e.kvs, cborKV{k, v})
	}
	return base, e.sortFrom(base)
}

// pushKeys is pushMap for the keys alone.
func (e *cborEncoder) pushKeys(m map[string]string) (int, error) {
	base := len(e.kvs)
	for k := range m {
		e.kvs = append(e.kvs, cborKV{k: k})
	}
	return base, e.sortFrom(base)
}

func (e *cborEncoder) sortFrom(base int) error {
	for _, kv := range e.kvs[base:] {
		if !utf8.ValidString(kv.k) {
			e.popMap(base)
			return errKeyUTF8(kv.k)
		}
	}
	if len(e.kvs)-base > 1 {
		slices.SortFunc(e.kvs[base:], cborKeyOrder)
	}
	return nil
}

func (e *cborEncoder) popMap(base int) {
	clear(e.kvs[base:])
	e.kvs = e.kvs[:base]
}

func (e *cborEncoder) list(l []any, depth int) error {
	if depth >= MaxDepth {
		return errEncodeDepth
	}
	e.head(4, uint64(len(l)))
	for _, x := range l {
		if err := e.value(x, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (e *cborEncoder) dict(m map[string]any, depth int) error {
	if depth >= MaxDepth {
		return errEncodeDepth
	}
	base, err := e.pushMap(m)
	if err != nil {
		return err
	}
	e.head(5, uint64(len(m)))
	for i := range len(m) {
		// e.kvs may move while the value is written.
		kv := e.kvs[base+i]
		e.text(kv.k)
		if err := e.value(kv.v, depth+1); err != nil {
			return err
		}
	}
	e.popMap(base)
	return nil
}

// value appends v; depth is the number of containers around v.
func (e *cborEncoder) value(v any, depth int) error {
	switch v := v.(type) {
	case nil:
		e.b = append(e.b, 0xf6)
	case bool:
		if v {
			e.b = append(e.b, 0xf5)
		} else {
			e.b = append(e.b, 0xf4)
		}
	case string:
		e.str(v)
	case int64:
		e.int(v)
	case uint64:
		e.head(0, v)
	case float64:
		e.float(v)
	case []byte:
		e.bytes(v)
	case []any:
		return e.list(v, depth)
	case map[string]any:
		return e.dict(v, depth)
	case int:
		e.int(int64(v))
	case int32:
		e.int(int64(v))
	case int16:
		e.int(int64(v))
	case int8:
		e.int(int64(v))
	case uint:
		e.head(0, uint64(v))
	case uint32:
		e.head(0, uint64(v))
	case uint16:
		e.head(0, uint64(v))
	case uint8:
		e.head(0, uint64(v))
	case wamp.ID:
		e.head(0, uint64(v))
	case float32:
		e.float(float64(v))
	case []string:
		if depth >= MaxDepth {
			return errEncodeDepth
		}
		e.head(4, uint64(len(v)))
		for _, s := range v {
			e.str(s)
		}
	case map[string]string:
		if depth >= MaxDepth {
			return errEncodeDepth
		}
		base, err := e.pushKeys(v)
		if err != nil {
			return err
		}
		e.head(5, uint64(len(v)))
		for _, kv := range e.kvs[base:] {
			e.text(kv.k)
			e.str(v[kv.k])
		}
		e.popMap(base)
	case []map[string]any:
		if depth >= MaxDepth {
			return errEncodeDepth
		}
		e.head(4, uint64(len(v)))
		for _, m := range v {
			if err := e.dict(m, depth+1); err != nil {
				return err
			}
		}
	default:
		m, err := reflectModel(reflect.ValueOf(v), depth)
		if err != nil {
			return err
		}
		return e.value(m, depth)
	}
	return nil
}

// --- decoder ----------------------------------------------------------------

// cborDecoder is the state of one decode. Definite-length containers are
// allocated with their final size straight away (the size is checked
// against the remaining input first); the elements of indefinite-length
// ones collect on stack and kvs, as in the JSON decoder. Slots beyond len
// are always nil, so a pooled decoder pins no decoded values.
type cborDecoder struct {
	data  []byte
	pos   int
	stack []any
	kvs   []jsonKV
	buf   []byte // indefinite-length string scratch
	keys  internTable
	vals  valueCache
}

var cborDecPool = sync.Pool{New: func() any { return new(cborDecoder) }}

func getCBORDecoder(data []byte) *cborDecoder {
	d := cborDecPool.Get().(*cborDecoder)
	d.data, d.pos = data, 0
	return d
}

func (d *cborDecoder) release() {
	clear(d.stack)
	clear(d.kvs)
	d.stack, d.kvs, d.buf = d.stack[:0], d.kvs[:0], d.buf[:0]
	if cap(d.stack) > 1024 {
		d.stack = nil
	}
	if cap(d.kvs) > 1024 {
		d.kvs = nil
	}
	if cap(d.buf) > maxPooledBuf {
		d.buf = nil
	}
	d.data = nil
	cborDecPool.Put(d)
}

// DecodeValue parses one CBOR data item into the value model.
func (cborCodec) DecodeValue(data []byte) (any, error) {
	d := getCBORDecoder(data)
	v, err := d.value(0)
	if err == nil && d.pos != len(d.data) {
		err = d.fail("trailing data after the data item")
	}
	if err != nil {
		v = nil
	}
	d.release()
	return v, err
}

// Decode parses one whole message.
func (c cborCodec) Decode(data []byte) (wamp.Message, error) {
	var s [maxElems]slot
	d := getCBORDecoder(data)
	n, ok, err := d.message(&s)
	d.release()
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return decodeMessage(c, data)
	}
	return buildMessage(s[:n])
}

// message decodes a top-level array of at most maxElems elements into s.
// It reports false, and no error, if the input is anything else.
func (d *cborDecoder) message(s *[maxElems]slot) (int, bool, error) {
	if d.pos >= len(d.data) || d.data[d.pos]>>5 != 4 {
		return 0, false, nil
	}
	_, ai, count, err := d.head()
	if err != nil {
		return 0, false, err
	}
	indef := ai == 31
	if !indef && count > maxElems {
		return 0, false, nil
	}
	n := 0
	for ; indef || uint64(n) < count; n++ {
		if d.pos >= len(d.data) {
			return 0, false, d.eof()
		}
		c := d.data[d.pos]
		if indef && c == 0xff {
			d.pos++
			break
		}
		if n == maxElems {
			return 0, false, nil
		}
		switch {
		case c>>5 == 0 && c&0x1f != 31:
			_, _, u, err := d.head()
			if err != nil {
				return 0, false, err
			}
			s[n].setUint(u)
		case c>>5 == 1 && c&0x1f != 31:
			_, _, u, err := d.head()
			if err != nil {
				return 0, false, err
			}
			if u > math.MaxInt64 {
				return 0, false, d.fail("negative integer out of range")
			}
			s[n].setInt(-1 - int64(u))
		case c>>5 == 3:
			_, ai, u, err := d.head()
			if err != nil {
				return 0, false, err
			}
			b, err := d.bytes(3, ai == 31, u)
			if err != nil {
				return 0, false, err
			}
			s[n].setStr(d.keys.str(b))
		case c>>5 == 4:
			_, ai, u, err := d.head()
			if err != nil {
				return 0, false, err
			}
			var l []any
			if ai == 31 {
				l, err = d.indefList(1)
			} else {
				l, err = d.list(1, u)
			}
			if err != nil {
				return 0, false, err
			}
			s[n].setList(l)
		default:
			v, err := d.value(1)
			if err != nil {
				return 0, false, err
			}
			s[n].setValue(v)
		}
	}
	if d.pos != len(d.data) {
		return 0, false, d.fail("trailing data after the data item")
	}
	return n, true, nil
}

func (d *cborDecoder) fail(msg string) error {
	return fmt.Errorf("%w: cbor: %s at offset %d", ErrMalformed, msg, d.pos)
}

func (d *cborDecoder) eof() error { return d.fail("unexpected end of input") }

// head reads the initial byte and argument of a data item. For ai 31
// (indefinite length or break) the argument is 0. Reserved ai 28-30 are an
// error.
func (d *cborDecoder) head() (major, ai byte, arg uint64, err error) {
	if d.pos < len(d.data) {
		if c := d.data[d.pos]; c&0x1f < 24 {
			d.pos++
			return c >> 5, c & 0x1f, uint64(c & 0x1f), nil
		}
	}
	return d.longHead()
}

// longHead is head for arguments that follow the initial byte.
func (d *cborDecoder) longHead() (major, ai byte, arg uint64, err error) {
	data := d.data
	if d.pos >= len(data) {
		return 0, 0, 0, d.eof()
	}
	c := data[d.pos]
	major, ai = c>>5, c&0x1f
	var size int
	switch ai {
	case 24:
		size = 1
	case 25:
		size = 2
	case 26:
		size = 4
	case 27:
		size = 8
	case 31:
		d.pos++
		return major, ai, 0, nil
	default:
		return 0, 0, 0, d.fail(fmt.Sprintf("reserved additional information %d", ai))
	}
	if len(data)-d.pos-1 < size {
		return 0, 0, 0, d.eof()
	}
	p := data[d.pos+1 : d.pos+1+size]
	switch size {
	case 1:
		arg = uint64(p[0])
	case 2:
		arg = uint64(binary.BigEndian.Uint16(p))
	case 4:
		arg = uint64(binary.BigEndian.Uint32(p))
	default:
		arg = binary.BigEndian.Uint64(p)
	}
	d.pos += 1 + size
	return major, ai, arg, nil
}

// value decodes one data item; depth is the number of containers around it.
func (d *cborDecoder) value(depth int) (any, error) {
	major, ai, arg, err := d.head()
	if err != nil {
		return nil, err
	}
	switch major {
	case 0:
		if ai == 31 {
			break
		}
		if arg > math.MaxInt64 {
			return arg, nil
		}
		return int64(arg), nil
	case 1:
		if ai == 31 {
			break
		}
		if arg > math.MaxInt64 {
			return nil, d.fail("negative integer out of range")
		}
		return -1 - int64(arg), nil
	case 2:
		b, err := d.bytes(2, ai == 31, arg)
		if err != nil {
			return nil, err
		}
		return append(make([]byte, 0, len(b)), b...), nil // never nil
	case 3:
		b, err := d.bytes(3, ai == 31, arg)
		if err != nil {
			return nil, err
		}
		return d.vals.str(b), nil
	case 4:
		var l []any
		if ai == 31 {
			l, err = d.indefList(depth)
		} else {
			l, err = d.list(depth, arg)
		}
		if err != nil {
			return nil, err
		}
		return l, nil
	case 5:
		if depth >= MaxDepth {
			return nil, d.fail("nesting too deep")
		}
		if ai == 31 {
			return d.indefDict(depth)
		}
		return d.dict(depth, arg)
	case 6:
		return nil, d.fail("tags are not supported")
	default:
		return d.simple(ai, arg)
	}
	return nil, d.fail("indefinite-length integer")
}

func (d *cborDecoder) simple(ai byte, arg uint64) (any, error) {
	switch ai {
	case 20:
		return false, nil
	case 21:
		return true, nil
	case 22, 23:
		return nil, nil
	case 25:
		return halfToFloat64(uint16(arg)), nil
	case 26:
		return float64(math.Float32frombits(uint32(arg))), nil
	case 27:
		return math.Float64frombits(arg), nil
	case 31:
		return nil, d.fail("unexpected break")
	}
	return nil, d.fail(fmt.Sprintf("simple value %d not supported", arg))
}

// bytes returns the content of a byte (major 2) or text (major 3) string
// whose head has been read. Text is checked for UTF-8, chunk by chunk. The
// result aliases the input or d.buf and is valid until the next call.
func (d *cborDecoder) bytes(major byte, indef bool, n uint64) ([]byte, error) {
	if !indef {
		if n > uint64(len(d.data)-d.pos) {
			return nil, d.eof()
		}
		b := d.data[d.pos : d.pos+int(n)]
		if major == 3 && !utf8.Valid(b) {
			return nil, d.fail("invalid UTF-8 in text string")
		}
		d.pos += int(n)
		return b, nil
	}
	buf := d.buf[:0]
	for {
		if d.pos >= len(d.data) {
			return nil, d.eof()
		}
		if d.data[d.pos] == 0xff {
			d.pos++
			d.buf = buf
			return buf, nil
		}
		if d.data[d.pos]>>5 != major || d.data[d.pos]&0x1f == 31 {
			return nil, d.fail("invalid chunk in indefinite-length string")
		}
		_, _, n, err := d.head()
		if err != nil {
			return nil, err
		}
		if n > uint64(len(d.data)-d.pos) {
			return nil, d.eof()
		}
		chunk := d.data[d.pos : d.pos+int(n)]
		if major == 3 && !utf8.Valid(chunk) {
			return nil, d.fail("invalid UTF-8 in text string")
		}
		buf = append(buf, chunk...)
		d.pos += int(n)
	}
}

// list decodes the elements of a definite-length array whose head has been
// read; depth is the number of containers around the array.
func (d *cborDecoder) list(depth int, n uint64) ([]any, error) {
	if depth >= MaxDepth {
		return nil, d.fail("nesting too deep")
	}
	// Every element takes at least one byte.
	if n > cborMaxElems {
		return nil, d.fail("array too long")
	}
	if n > uint64(len(d.data)-d.pos) {
		return nil, d.eof()
	}
	l := make([]any, n)
	for i := range l {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		l[i] = v
	}
	return l, nil
}

func (d *cborDecoder) indefList(depth int) ([]any, error) {
	if depth >= MaxDepth {
		return nil, d.fail("nesting too deep")
	}
	base := len(d.stack)
	for {
		if d.pos >= len(d.data) {
			return nil, d.eof()
		}
		if d.data[d.pos] == 0xff {
			d.pos++
			break
		}
		if len(d.stack)-base == cborMaxElems {
			return nil, d.fail("array too long")
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		d.stack = append(d.stack, v)
	}
	l := make([]any, len(d.stack)-base)
	copy(l, d.stack[base:])
	clear(d.stack[base:])
	d.stack = d.stack[:base]
	return l, nil
}

// key decodes a map key: a text string, or null or undefined, which read
// as the empty string.
func (d *cborDecoder) key() (string, error) {
	if d.pos >= len(d.data) {
		return "", d.eof()
	}
	c := d.data[d.pos]
	switch {
	case c == 0xf6 || c == 0xf7:
		d.pos++
		return "", nil
	case c>>5 != 3:
		return "", d.fail("map key is not a text string")
	}
	_, ai, n, err := d.head()
	if err != nil {
		return "", err
	}
	b, err := d.bytes(3, ai == 31, n)
	if err != nil {
		return "", err
	}
	return d.keys.str(b), nil
}

func (d *cborDecoder) dict(depth int, n uint64) (any, error) {
	// Every pair takes at least two bytes.
	if n > cborMaxElems {
		return nil, d.fail("map too long")
	}
	if n > uint64(len(d.data)-d.pos)/2 {
		return nil, d.eof()
	}
	m := make(map[string]any, n)
	for i := range int(n) {
		k, err := d.key()
		if err != nil {
			return nil, err
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[k] = v
		if len(m) != i+1 {
			return nil, d.fail("duplicate map key")
		}
	}
	return m, nil
}

func (d *cborDecoder) indefDict(depth int) (any, error) {
	base := len(d.kvs)
	for {
		if d.pos >= len(d.data) {
			return nil, d.eof()
		}
		if d.data[d.pos] == 0xff {
			d.pos++
			break
		}
		if len(d.kvs)-base == cborMaxElems {
			return nil, d.fail("map too long")
		}
		k, err := d.key()
		if err != nil {
			return nil, err
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		d.kvs = append(d.kvs, jsonKV{k, v})
	}
	kvs := d.kvs[base:]
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[kv.k] = kv.v
	}
	dup := len(m) != len(kvs)
	clear(kvs)
	d.kvs = d.kvs[:base]
	if dup {
		return nil, d.fail("duplicate map key")
	}
	return m, nil
}
