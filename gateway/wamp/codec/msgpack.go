package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sync"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// MsgPack is the "wamp.2.msgpack" serializer (RawSocket serializer 2),
// built on github.com/vmihailenco/msgpack/v5.
//
// The encoder writes integers in their shortest form (non-negative values
// use the uint family, so IDs above 2^32 are 0xcf), strings as str, []byte
// as bin, float64 as float64 and float32 as float32. Invalid UTF-8 in
// strings is replaced by U+FFFD. Map keys are written in Go's map iteration
// order.
//
// The decoder walks the document with the library's primitive readers and
// normalises to the value model: every integer kind becomes int64 (uint64
// above math.MaxInt64), float32 becomes float64, str becomes string and bin
// becomes []byte. It rejects ext types, map keys that are not str,
// duplicate keys, invalid UTF-8 in str, trailing data, nesting deeper than
// MaxDepth, and lengths larger than the remaining input (checked before
// allocating).
var MsgPack Codec = msgpackCodec{}

type msgpackCodec struct{}

func (msgpackCodec) Name() string { return "msgpack" }
func (msgpackCodec) Binary() bool { return true }

func (c msgpackCodec) Encode(m wamp.Message) ([]byte, error)    { return encodeMessage(c, m) }
func (c msgpackCodec) Decode(data []byte) (wamp.Message, error) { return decodeMessage(c, data) }

// --- encoder ----------------------------------------------------------------

// sliceWriter is an io.Writer and io.ByteWriter appending to a byte slice,
// so the msgpack encoder writes straight into a pooled buffer.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *sliceWriter) WriteByte(c byte) error {
	w.b = append(w.b, c)
	return nil
}

type msgpackEncoder struct {
	w   sliceWriter
	enc *msgpack.Encoder
}

var msgpackEncPool = sync.Pool{New: func() any {
	e := &msgpackEncoder{}
	e.w.b = make([]byte, 0, 512)
	e.enc = msgpack.NewEncoder(&e.w)
	e.enc.UseCompactInts(true)
	return e
}}

// EncodeValue serializes v as MessagePack.
func (msgpackCodec) EncodeValue(v any) ([]byte, error) {
	e := msgpackEncPool.Get().(*msgpackEncoder)
	e.w.b = e.w.b[:0]
	err := e.encode(v, 0)
	var out []byte
	if err == nil {
		out = bytes.Clone(e.w.b)
	}
	if cap(e.w.b) > maxPooledBuf {
		e.w.b = make([]byte, 0, 512)
	}
	msgpackEncPool.Put(e)
	return out, err
}

var errMsgpackTooLong = fmt.Errorf("%w: msgpack: length exceeds 2^32-1", ErrUnsupportedValue)

func (e *msgpackEncoder) encodeString(s string) error {
	if uint64(len(s)) > math.MaxUint32 {
		return errMsgpackTooLong
	}
	if !utf8.ValidString(s) {
		s = fixUTF8(s)
	}
	return e.enc.EncodeString(s)
}

func (e *msgpackEncoder) encodeKey(k string) error {
	if !utf8.ValidString(k) {
		return errKeyUTF8(k)
	}
	return e.encodeString(k)
}

func (e *msgpackEncoder) encodeArrayLen(n, depth int) error {
	if depth >= MaxDepth {
		return errEncodeDepth
	}
	if uint64(n) > math.MaxUint32 {
		return errMsgpackTooLong
	}
	return e.enc.EncodeArrayLen(n)
}

func (e *msgpackEncoder) encodeMapLen(n, depth int) error {
	if depth >= MaxDepth {
		return errEncodeDepth
	}
	if uint64(n) > math.MaxUint32 {
		return errMsgpackTooLong
	}
	return e.enc.EncodeMapLen(n)
}

// encode writes v; depth is the number of containers around v.
func (e *msgpackEncoder) encode(v any, depth int) error {
	enc := e.enc
	switch v := v.(type) {
	case nil:
		return enc.EncodeNil()
	case bool:
		return enc.EncodeBool(v)
	case string:
		return e.encodeString(v)
	case int64:
		return enc.EncodeInt(v)
	case uint64:
		return enc.EncodeUint(v)
	case float64:
		return enc.EncodeFloat64(v)
	case []byte:
		if uint64(len(v)) > math.MaxUint32 {
			return errMsgpackTooLong
		}
		// EncodeBytes would write nil for a nil slice; the model has only
		// byte strings, so write an empty bin instead.
		if err := enc.EncodeBytesLen(len(v)); err != nil {
			return err
		}
		_, err := e.w.Write(v)
		return err
	case []any:
		if err := e.encodeArrayLen(len(v), depth); err != nil {
			return err
		}
		for _, x := range v {
			if err := e.encode(x, depth+1); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		if err := e.encodeMapLen(len(v), depth); err != nil {
			return err
		}
		for k, x := range v {
			if err := e.encodeKey(k); err != nil {
				return err
			}
			if err := e.encode(x, depth+1); err != nil {
				return err
			}
		}
		return nil
	case int:
		return enc.EncodeInt(int64(v))
	case int32:
		return enc.EncodeInt(int64(v))
	case int16:
		return enc.EncodeInt(int64(v))
	case int8:
		return enc.EncodeInt(int64(v))
	case uint:
		return enc.EncodeUint(uint64(v))
	case uint32:
		return enc.EncodeUint(uint64(v))
	case uint16:
		return enc.EncodeUint(uint64(v))
	case uint8:
		return enc.EncodeUint(uint64(v))
	case wamp.ID:
		return enc.EncodeUint(uint64(v))
	case float32:
		return enc.EncodeFloat32(v)
	case []string:
		if err := e.encodeArrayLen(len(v), depth); err != nil {
			return err
		}
		for _, s := range v {
			if err := e.encodeString(s); err != nil {
				return err
			}
		}
		return nil
	case map[string]string:
		if err := e.encodeMapLen(len(v), depth); err != nil {
			return err
		}
		for k, s := range v {
			if err := e.encodeKey(k); err != nil {
				return err
			}
			if err := e.encodeString(s); err != nil {
				return err
			}
		}
		return nil
	case []map[string]any:
		if err := e.encodeArrayLen(len(v), depth); err != nil {
			return err
		}
		for _, m := range v {
			if err := e.encode(m, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	m, err := reflectModel(reflect.ValueOf(v), depth)
	if err != nil {
		return err
	}
	return e.encode(m, depth)
}

// --- decoder ----------------------------------------------------------------

// msgpackDecoder is the state of one DecodeValue call. The library decoder
// reads from r directly (bytes.Reader is an io.ByteScanner, so the library
// adds no buffering) and r.Len() tells how much input is left, which bounds
// every length before anything is allocated.
type msgpackDecoder struct {
	r    bytes.Reader
	dec  *msgpack.Decoder
	buf  []byte // str scratch
	keys internTable
}

var msgpackDecPool = sync.Pool{New: func() any {
	d := &msgpackDecoder{}
	d.dec = msgpack.NewDecoder(&d.r)
	return d
}}

// DecodeValue parses one MessagePack value into the value model.
func (msgpackCodec) DecodeValue(data []byte) (any, error) {
	d := msgpackDecPool.Get().(*msgpackDecoder)
	d.r.Reset(data)
	v, err := d.value(0)
	if err == nil && d.r.Len() > 0 {
		err = d.fail("trailing data after document")
	}
	if err != nil {
		v = nil
	}
	d.r.Reset(nil)
	if cap(d.buf) > maxPooledBuf {
		d.buf = nil
	}
	msgpackDecPool.Put(d)
	return v, err
}

func (d *msgpackDecoder) offset() int64 { return d.r.Size() - int64(d.r.Len()) }

func (d *msgpackDecoder) fail(msg string) error {
	return fmt.Errorf("%w: msgpack: %s at offset %d", ErrMalformed, msg, d.offset())
}

func (d *msgpackDecoder) wrap(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: msgpack: %w", ErrMalformed, err)
}

// value decodes one item; depth is the number of containers around it.
func (d *msgpackDecoder) value(depth int) (any, error) {
	c, err := d.dec.PeekCode()
	if err != nil {
		return nil, d.wrap(err)
	}
	switch {
	case msgpcode.IsFixedNum(c), c == msgpcode.Int8, c == msgpcode.Int16, c == msgpcode.Int32,
		c == msgpcode.Int64, c == msgpcode.Uint8, c == msgpcode.Uint16, c == msgpcode.Uint32:
		n, err := d.dec.DecodeInt64()
		if err != nil {
			return nil, d.wrap(err)
		}
		return n, nil
	case c == msgpcode.Uint64:
		n, err := d.dec.DecodeUint64()
		if err != nil {
			return nil, d.wrap(err)
		}
		if n <= math.MaxInt64 {
			return int64(n), nil
		}
		return n, nil
	case msgpcode.IsString(c):
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return string(s), nil
	case msgpcode.IsFixedMap(c), c == msgpcode.Map16, c == msgpcode.Map32:
		return d.dict(depth)
	case msgpcode.IsFixedArray(c), c == msgpcode.Array16, c == msgpcode.Array32:
		return d.list(depth)
	case c == msgpcode.Nil:
		if err := d.dec.DecodeNil(); err != nil {
			return nil, d.wrap(err)
		}
		return nil, nil
	case c == msgpcode.True, c == msgpcode.False:
		b, err := d.dec.DecodeBool()
		if err != nil {
			return nil, d.wrap(err)
		}
		return b, nil
	case c == msgpcode.Float, c == msgpcode.Double:
		f, err := d.dec.DecodeFloat64()
		if err != nil {
			return nil, d.wrap(err)
		}
		return f, nil
	case msgpcode.IsBin(c):
		n, err := d.length()
		if err != nil {
			return nil, err
		}
		b := make([]byte, n)
		if err := d.dec.ReadFull(b); err != nil {
			return nil, d.wrap(err)
		}
		return b, nil
	case msgpcode.IsExt(c):
		return nil, d.fail(fmt.Sprintf("ext type (code 0x%02x) not supported", c))
	}
	return nil, d.fail(fmt.Sprintf("invalid type code 0x%02x", c))
}

// length reads a str or bin header and checks the length against the
// remaining input.
func (d *msgpackDecoder) length() (int, error) {
	n, err := d.dec.DecodeBytesLen()
	if err != nil {
		return 0, d.wrap(err)
	}
	if n < 0 || n > d.r.Len() {
		return 0, d.fail("string or binary longer than the input")
	}
	return n, nil
}

// str reads a str item into d.buf; the result is valid until the next call.
func (d *msgpackDecoder) str() ([]byte, error) {
	n, err := d.length()
	if err != nil {
		return nil, err
	}
	if cap(d.buf) < n {
		d.buf = make([]byte, n)
	}
	b := d.buf[:n]
	if err := d.dec.ReadFull(b); err != nil {
		return nil, d.wrap(err)
	}
	if !utf8.Valid(b) {
		return nil, d.fail("invalid UTF-8 in string")
	}
	return b, nil
}

func (d *msgpackDecoder) list(depth int) (any, error) {
	if depth >= MaxDepth {
		return nil, d.fail("nesting too deep")
	}
	n, err := d.dec.DecodeArrayLen()
	if err != nil {
		return nil, d.wrap(err)
	}
	if n < 0 || n > d.r.Len() {
		return nil, d.fail("array longer than the input")
	}
	l := make([]any, n)
	for i := range l {
		if l[i], err = d.value(depth + 1); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (d *msgpackDecoder) dict(depth int) (any, error) {
	if depth >= MaxDepth {
		return nil, d.fail("nesting too deep")
	}
	n, err := d.dec.DecodeMapLen()
	if err != nil {
		return nil, d.wrap(err)
	}
	if n < 0 || n > d.r.Len()/2 {
		return nil, d.fail("map longer than the input")
	}
	m := make(map[string]any, n)
	for range n {
		c, err := d.dec.PeekCode()
		if err != nil {
			return nil, d.wrap(err)
		}
		if !msgpcode.IsString(c) {
			return nil, d.fail("map key is not a string")
		}
		kb, err := d.str()
		if err != nil {
			return nil, err
		}
		k := d.keys.str(kb)
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	if len(m) != n {
		return nil, d.fail("duplicate map key")
	}
	return m, nil
}
