package codec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"sync"
	"unicode/utf8"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// MsgPack is the "wamp.2.msgpack" serializer (RawSocket serializer 2).
//
// The encoder and the decoder are hand-written and use no reflection for
// the value model.
//
// The encoder writes integers in their shortest form (non-negative values
// use the uint family, so IDs above 2^32 are 0xcf), strings as str, []byte
// as bin, float64 as float64 and float32 as float32. Invalid UTF-8 in
// strings is replaced by U+FFFD. Map keys are written in Go's map iteration
// order.
//
// The decoder normalises to the value model: every integer kind becomes
// int64 (uint64 above math.MaxInt64), float32 becomes float64, str becomes
// string and bin becomes []byte. It rejects ext types, map keys that are
// not str, duplicate keys, invalid UTF-8 in str, trailing data, nesting
// deeper than MaxDepth, and lengths larger than the remaining input
// (checked before allocating).
var MsgPack Codec = msgpackCodec{}

type msgpackCodec struct{}

func (msgpackCodec) Name() string { return "msgpack" }
func (msgpackCodec) Binary() bool { return true }

// --- encoder ----------------------------------------------------------------

var errMsgpackTooLong = fmt.Errorf("%w: msgpack: length exceeds 2^32-1", ErrUnsupportedValue)

// msgpackEncoder appends to b, which comes from bufPool.
type msgpackEncoder struct{ b []byte }

// EncodeValue serializes v as MessagePack.
func (msgpackCodec) EncodeValue(v any) ([]byte, error) {
	bp := getBuf()
	e := msgpackEncoder{b: *bp}
	err := e.value(v, 0)
	return finishBuf(bp, e.b, err)
}

// Encode serializes a message.
func (msgpackCodec) Encode(m wamp.Message) ([]byte, error) {
	var l elems
	if !l.fill(m) {
		return nil, errEncodeMessage(m)
	}
	bp := getBuf()
	e := msgpackEncoder{b: *bp}
	e.b = append(e.b, 0x90|byte(l.n))
	var err error
	for i := 0; i < l.n && err == nil; i++ {
		switch el := &l.e[i]; el.kind {
		case elemInt:
			e.int(el.i)
		case elemStr:
			err = e.str(el.s)
		case elemDict:
			err = e.dict(el.d, 1)
		case elemList:
			err = e.list(el.l, 1)
		default:
			err = e.value(el.v, 1)
		}
	}
	return finishBuf(bp, e.b, err)
}

// finishBuf returns a copy of b (nil on error) and pools the buffer.
func finishBuf(bp *[]byte, b []byte, err error) ([]byte, error) {
	var out []byte
	if err == nil {
		out = bytes.Clone(b)
	}
	putBuf(bp, b)
	return out, err
}

func (e *msgpackEncoder) code1(c, n byte) { e.b = append(e.b, c, n) }

func (e *msgpackEncoder) code2(c byte, n uint16) {
	e.b = binary.BigEndian.AppendUint16(append(e.b, c), n)
}

func (e *msgpackEncoder) code4(c byte, n uint32) {
	e.b = binary.BigEndian.AppendUint32(append(e.b, c), n)
}

func (e *msgpackEncoder) code8(c byte, n uint64) {
	e.b = binary.BigEndian.AppendUint64(append(e.b, c), n)
}

func (e *msgpackEncoder) uint(n uint64) {
	switch {
	case n <= math.MaxInt8:
		e.b = append(e.b, byte(n))
	case n <= math.MaxUint8:
		e.code1(0xcc, byte(n))
	case n <= math.MaxUint16:
		e.code2(0xcd, uint16(n))
	case n <= math.MaxUint32:
		e.code4(0xce, uint32(n))
	default:
		e.code8(0xcf, n)
	}
}

func (e *msgpackEncoder) int(n int64) {
	switch {
	case n >= 0:
		e.uint(uint64(n))
	case n >= -32:
		e.b = append(e.b, byte(n))
	case n >= math.MinInt8:
		e.code1(0xd0, byte(n))
	case n >= math.MinInt16:
		e.code2(0xd1, uint16(n))
	case n >= math.MinInt32:
		e.code4(0xd2, uint32(n))
	default:
		e.code8(0xd3, uint64(n))
	}
}

func (e *msgpackEncoder) str(s string) error {
	if uint64(len(s)) > math.MaxUint32 {
		return errMsgpackTooLong
	}
	if !utf8.ValidString(s) {
		s = fixUTF8(s)
	}
	e.text(s)
	return nil
}

func (e *msgpackEncoder) key(k string) error {
	if !utf8.ValidString(k) {
		return errKeyUTF8(k)
	}
	if uint64(len(k)) > math.MaxUint32 {
		return errMsgpackTooLong
	}
	e.text(k)
	return nil
}

// text appends s, which is valid UTF-8 and shorter than 2^32 bytes, as str.
func (e *msgpackEncoder) text(s string) {
	switch n := len(s); {
	case n < 32:
		e.b = append(e.b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		e.code1(0xd9, byte(n))
	case n <= math.MaxUint16:
		e.code2(0xda, uint16(n))
	default:
		e.code4(0xdb, uint32(n))
	}
	e.b = append(e.b, s...)
}

func (e *msgpackEncoder) bin(b []byte) error {
	switch n := uint64(len(b)); {
	case n <= math.MaxUint8:
		e.code1(0xc4, byte(n))
	case n <= math.MaxUint16:
		e.code2(0xc5, uint16(n))
	case n <= math.MaxUint32:
		e.code4(0xc6, uint32(n))
	default:
		return errMsgpackTooLong
	}
	e.b = append(e.b, b...)
	return nil
}

// containerLen writes an array (fix 0x90, 0xdc, 0xdd) or map (fix 0x80,
// 0xde, 0xdf) header.
func (e *msgpackEncoder) containerLen(fix, c16, c32 byte, n, depth int) error {
	if depth >= MaxDepth {
		return errEncodeDepth
	}
	switch u := uint64(n); {
	case u < 16:
		e.b = append(e.b, fix|byte(u))
	case u <= math.MaxUint16:
		e.code2(c16, uint16(u))
	case u <= math.MaxUint32:
		e.code4(c32, uint32(u))
	default:
		return errMsgpackTooLong
	}
	return nil
}

func (e *msgpackEncoder) list(l []any, depth int) error {
	if err := e.containerLen(0x90, 0xdc, 0xdd, len(l), depth); err != nil {
		return err
	}
	for _, x := range l {
		if err := e.value(x, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (e *msgpackEncoder) dict(m map[string]any, depth int) error {
	if err := e.containerLen(0x80, 0xde, 0xdf, len(m), depth); err != nil {
		return err
	}
	for k, x := range m {
		if err := e.key(k); err != nil {
			return err
		}
		if err := e.value(x, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// value writes v; depth is the number of containers around v.
func (e *msgpackEncoder) value(v any, depth int) error {
	switch v := v.(type) {
	case nil:
		e.b = append(e.b, 0xc0)
	case bool:
		if v {
			e.b = append(e.b, 0xc3)
		} else {
			e.b = append(e.b, 0xc2)
		}
	case string:
		return e.str(v)
	case int64:
		e.int(v)
	case uint64:
		e.uint(v)
	case float64:
		e.code8(0xcb, math.Float64bits(v))
	case []byte:
		return e.bin(v)
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
		e.uint(uint64(v))
	case uint32:
		e.uint(uint64(v))
	case uint16:
		e.uint(uint64(v))
	case uint8:
		e.uint(uint64(v))
	case wamp.ID:
		e.uint(uint64(v))
	case float32:
		e.code4(0xca, math.Float32bits(v))
	case []string:
		if err := e.containerLen(0x90, 0xdc, 0xdd, len(v), depth); err != nil {
			return err
		}
		for _, s := range v {
			if err := e.str(s); err != nil {
				return err
			}
		}
	case map[string]string:
		if err := e.containerLen(0x80, 0xde, 0xdf, len(v), depth); err != nil {
			return err
		}
		for k, s := range v {
			if err := e.key(k); err != nil {
				return err
			}
			if err := e.str(s); err != nil {
				return err
			}
		}
	case []map[string]any:
		if err := e.containerLen(0x90, 0xdc, 0xdd, len(v), depth); err != nil {
			return err
		}
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

// msgpackDecoder is the state of one decode. Every container's length is
// in its header and is checked against the remaining input before
// anything is allocated.
type msgpackDecoder struct {
	data []byte
	pos  int
	keys internTable
	vals valueCache
}

var msgpackDecPool = sync.Pool{New: func() any { return new(msgpackDecoder) }}

func getMsgpackDecoder(data []byte) *msgpackDecoder {
	d := msgpackDecPool.Get().(*msgpackDecoder)
	d.data, d.pos = data, 0
	return d
}

func (d *msgpackDecoder) release() {
	d.data = nil
	msgpackDecPool.Put(d)
}

// DecodeValue parses one MessagePack value into the value model.
func (msgpackCodec) DecodeValue(data []byte) (any, error) {
	d := getMsgpackDecoder(data)
	v, err := d.value(0)
	if err == nil && d.pos != len(d.data) {
		err = d.fail("trailing data after document")
	}
	if err != nil {
		v = nil
	}
	d.release()
	return v, err
}

// Decode parses one whole message.
func (c msgpackCodec) Decode(data []byte) (wamp.Message, error) {
	var s [maxElems]slot
	d := getMsgpackDecoder(data)
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
func (d *msgpackDecoder) message(s *[maxElems]slot) (int, bool, error) {
	if len(d.data) == 0 || d.data[0]&0xf0 != 0x90 || d.data[0] > 0x90|maxElems {
		return 0, false, nil
	}
	n := int(d.data[0] & 0x0f)
	d.pos = 1
	for i := range n {
		c, ok := d.peek()
		if !ok {
			return 0, false, d.eof()
		}
		switch {
		case c <= 0x7f || c >= 0xe0 || (c >= 0xcc && c <= 0xd3):
			if err := d.int(&s[i]); err != nil {
				return 0, false, err
			}
		case c >= 0x90 && c <= 0x9f:
			d.pos++
			l, err := d.list(1, uint64(c&0x0f))
			if err != nil {
				return 0, false, err
			}
			s[i].setList(l)
		case (c >= 0xa0 && c <= 0xbf) || (c >= 0xd9 && c <= 0xdb):
			k, err := d.key()
			if err != nil {
				return 0, false, err
			}
			s[i].setStr(k)
		default:
			v, err := d.value(1)
			if err != nil {
				return 0, false, err
			}
			s[i].setValue(v)
		}
	}
	if d.pos != len(d.data) {
		return 0, false, d.fail("trailing data after document")
	}
	return n, true, nil
}

func (d *msgpackDecoder) fail(msg string) error {
	return fmt.Errorf("%w: msgpack: %s at offset %d", ErrMalformed, msg, d.pos)
}

func (d *msgpackDecoder) eof() error { return d.fail("unexpected end of input") }

func (d *msgpackDecoder) peek() (byte, bool) {
	if d.pos >= len(d.data) {
		return 0, false
	}
	return d.data[d.pos], true
}

// arg reads the n-byte big-endian argument after the code at d.pos and
// moves past both.
func (d *msgpackDecoder) arg(n int) (uint64, error) {
	if len(d.data)-d.pos-1 < n {
		return 0, d.eof()
	}
	p := d.data[d.pos+1 : d.pos+1+n]
	d.pos += 1 + n
	switch n {
	case 1:
		return uint64(p[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(p)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(p)), nil
	}
	return binary.BigEndian.Uint64(p), nil
}

// int decodes an integer of any kind (the code at d.pos is one) into s.
func (d *msgpackDecoder) int(s *slot) error {
	c := d.data[d.pos]
	switch {
	case c <= 0x7f:
		d.pos++
		s.setInt(int64(c))
		return nil
	case c >= 0xe0:
		d.pos++
		s.setInt(int64(int8(c)))
		return nil
	}
	// 0xcc-0xcf uint8-64, 0xd0-0xd3 int8-64.
	size := 1 << (c & 3)
	u, err := d.arg(size)
	if err != nil {
		return err
	}
	if c <= 0xcf {
		s.setUint(u)
		return nil
	}
	switch size {
	case 1:
		s.setInt(int64(int8(u)))
	case 2:
		s.setInt(int64(int16(u)))
	case 4:
		s.setInt(int64(int32(u)))
	default:
		s.setInt(int64(u))
	}
	return nil
}

// value decodes one item; depth is the number of containers around it.
func (d *msgpackDecoder) value(depth int) (any, error) {
	c, ok := d.peek()
	if !ok {
		return nil, d.eof()
	}
	switch {
	case c <= 0x7f:
		d.pos++
		return int64(c), nil
	case c >= 0xe0:
		d.pos++
		return int64(int8(c)), nil
	case c <= 0x8f:
		d.pos++
		return d.dict(depth, uint64(c&0x0f))
	case c <= 0x9f:
		d.pos++
		return d.listValue(depth, uint64(c&0x0f))
	case c <= 0xbf:
		d.pos++
		return d.str(uint64(c & 0x1f))
	}
	switch c {
	case 0xc0:
		d.pos++
		return nil, nil
	case 0xc2:
		d.pos++
		return false, nil
	case 0xc3:
		d.pos++
		return true, nil
	case 0xc4, 0xc5, 0xc6: // bin 8, 16, 32
		n, err := d.arg(1 << (c - 0xc4))
		if err != nil {
			return nil, err
		}
		if n > uint64(len(d.data)-d.pos) {
			return nil, d.fail("string or binary longer than the input")
		}
		b := append(make([]byte, 0, n), d.data[d.pos:d.pos+int(n)]...)
		d.pos += int(n)
		return b, nil
	case 0xca:
		u, err := d.arg(4)
		if err != nil {
			return nil, err
		}
		return float64(math.Float32frombits(uint32(u))), nil
	case 0xcb:
		u, err := d.arg(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(u), nil
	case 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3:
		var s slot
		if err := d.int(&s); err != nil {
			return nil, err
		}
		return s.value(), nil
	case 0xd9, 0xda, 0xdb: // str 8, 16, 32
		n, err := d.arg(1 << (c - 0xd9))
		if err != nil {
			return nil, err
		}
		return d.str(n)
	case 0xdc, 0xdd: // array 16, 32
		n, err := d.arg(2 << (c - 0xdc))
		if err != nil {
			return nil, err
		}
		return d.listValue(depth, n)
	case 0xde, 0xdf: // map 16, 32
		n, err := d.arg(2 << (c - 0xde))
		if err != nil {
			return nil, err
		}
		return d.dict(depth, n)
	case 0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return nil, d.fail(fmt.Sprintf("ext type (code 0x%02x) not supported", c))
	}
	return nil, d.fail(fmt.Sprintf("invalid type code 0x%02x", c))
}

// strBytes returns the n bytes of a str item whose header has been read,
// checked for UTF-8. The result aliases the input.
func (d *msgpackDecoder) strBytes(n uint64) ([]byte, error) {
	if n > uint64(len(d.data)-d.pos) {
		return nil, d.fail("string or binary longer than the input")
	}
	b := d.data[d.pos : d.pos+int(n)]
	if !utf8.Valid(b) {
		return nil, d.fail("invalid UTF-8 in string")
	}
	d.pos += int(n)
	return b, nil
}

func (d *msgpackDecoder) str(n uint64) (any, error) {
	b, err := d.strBytes(n)
	if err != nil {
		return nil, err
	}
	return d.vals.str(b), nil
}

func (d *msgpackDecoder) listValue(depth int, n uint64) (any, error) {
	l, err := d.list(depth, n)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// list decodes the n elements of an array whose header has been read;
// depth is the number of containers around the array.
func (d *msgpackDecoder) list(depth int, n uint64) ([]any, error) {
	if depth >= MaxDepth {
		return nil, d.fail("nesting too deep")
	}
	if n > uint64(len(d.data)-d.pos) {
		return nil, d.fail("array longer than the input")
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

func (d *msgpackDecoder) key() (string, error) {
	c, ok := d.peek()
	if !ok {
		return "", d.eof()
	}
	var n uint64
	switch {
	case c >= 0xa0 && c <= 0xbf:
		d.pos++
		n = uint64(c & 0x1f)
	case c >= 0xd9 && c <= 0xdb:
		var err error
		if n, err = d.arg(1 << (c - 0xd9)); err != nil {
			return "", err
		}
	default:
		return "", d.fail("map key is not a string")
	}
	b, err := d.strBytes(n)
	if err != nil {
		return "", err
	}
	return d.keys.str(b), nil
}

func (d *msgpackDecoder) dict(depth int, n uint64) (any, error) {
	if depth >= MaxDepth {
		return nil, d.fail("nesting too deep")
	}
	if n > uint64(len(d.data)-d.pos)/2 {
		return nil, d.fail("map longer than the input")
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
