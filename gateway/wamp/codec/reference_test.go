package codec

// The CBOR and MessagePack implementations this package had before its
// hand-written ones, built on github.com/fxamacker/cbor/v2 and
// github.com/vmihailenco/msgpack/v5. They stay here, unchanged but for
// their names, as the reference for the differential tests.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/big"
	"reflect"
	"sync"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"github.com/wampgate/wampgate/gateway/wamp"
)

var (
	refCBOREnc = newRefCBOREncMode()
	refCBORDec = newRefCBORDecMode()
)

func newRefCBOREncMode() cbor.EncMode {
	opts := cbor.CoreDetEncOptions()
	opts.NilContainers = cbor.NilContainerAsEmpty
	em, err := opts.EncMode()
	if err != nil {
		panic("codec: invalid CBOR encoding options: " + err.Error())
	}
	return em
}

func newRefCBORDecMode() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:  MaxDepth,
		IndefLength:      cbor.IndefLengthAllowed,
		TagsMd:           cbor.TagsForbidden,
		BignumTag:        cbor.BignumTagForbidden,
		IntDec:           cbor.IntDecConvertSignedOrBigInt,
		BigIntDec:        cbor.BigIntDecodePointer,
		DefaultMapType:   reflect.TypeFor[map[string]any](),
		MapKeyByteString: cbor.MapKeyByteStringForbidden,
		UTF8:             cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic("codec: invalid CBOR decoding options: " + err.Error())
	}
	return dm
}

// refCBOREncode is the CBOR EncodeValue before the hand-written encoder.
func refCBOREncode(v any) ([]byte, error) {
	m, _, err := refCBORPrepare(v, 0)
	if err != nil {
		return nil, err
	}
	b, err := refCBOREnc.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%w: cbor: %w", ErrUnsupportedValue, err)
	}
	return b, nil
}

// refCBORDecode is the CBOR DecodeValue before the hand-written decoder.
func refCBORDecode(data []byte) (any, error) {
	var v any
	if err := refCBORDec.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%w: cbor: %w", ErrMalformed, err)
	}
	v, _, err := refCBORNormalize(v)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// refCBORNormalize fixes up what the library decodes outside the value model:
// integers above math.MaxInt64 arrive as *big.Int and become uint64; other
// big integers and unassigned simple values are rejected. It works in place
// and reports whether v itself was replaced.
func refCBORNormalize(v any) (any, bool, error) {
	switch x := v.(type) {
	case nil, bool, int64, float64, string, []byte:
		return v, false, nil
	case []any:
		for i, e := range x {
			n, changed, err := refCBORNormalize(e)
			if err != nil {
				return nil, false, err
			}
			if changed {
				x[i] = n
			}
		}
		return v, false, nil
	case map[string]any:
		for k, e := range x {
			n, changed, err := refCBORNormalize(e)
			if err != nil {
				return nil, false, err
			}
			if changed {
				x[k] = n
			}
		}
		return v, false, nil
	case *big.Int:
		if x.Sign() > 0 && x.IsUint64() {
			return x.Uint64(), true, nil
		}
		return nil, false, fmt.Errorf("%w: cbor: integer %s out of range", ErrMalformed, x)
	case cbor.SimpleValue:
		return nil, false, fmt.Errorf("%w: cbor: simple value %d not supported", ErrMalformed, x)
	}
	return nil, false, fmt.Errorf("%w: cbor: unsupported item of Go type %T", ErrMalformed, v)
}

// refCBORPrepare checks v before it goes to the CBOR library and returns it in
// a form the library encodes exactly like the value model. It copies only
// the containers on the path to something that had to change and reports
// whether v was replaced. depth is the number of containers around v.
func refCBORPrepare(v any, depth int) (any, bool, error) {
	switch x := v.(type) {
	case nil, bool, int64, uint64, float64, []byte,
		int, int32, int16, int8, uint, uint32, uint16, uint8, float32, wamp.ID:
		return v, false, nil
	case string:
		if utf8.ValidString(x) {
			return v, false, nil
		}
		return fixUTF8(x), true, nil
	case []any:
		if depth >= MaxDepth {
			return nil, false, errEncodeDepth
		}
		var out []any
		for i, e := range x {
			n, changed, err := refCBORPrepare(e, depth+1)
			if err != nil {
				return nil, false, err
			}
			if changed {
				if out == nil {
					out = make([]any, len(x))
					copy(out, x)
				}
				out[i] = n
			}
		}
		if out != nil {
			return out, true, nil
		}
		return v, false, nil
	case map[string]any:
		if depth >= MaxDepth {
			return nil, false, errEncodeDepth
		}
		var out map[string]any
		for k, e := range x {
			if !utf8.ValidString(k) {
				return nil, false, errKeyUTF8(k)
			}
			n, changed, err := refCBORPrepare(e, depth+1)
			if err != nil {
				return nil, false, err
			}
			if changed {
				if out == nil {
					out = maps.Clone(x)
				}
				out[k] = n
			}
		}
		if out != nil {
			return out, true, nil
		}
		return v, false, nil
	case []string:
		if depth >= MaxDepth {
			return nil, false, errEncodeDepth
		}
		var out []string
		for i, s := range x {
			if !utf8.ValidString(s) {
				if out == nil {
					out = append([]string(nil), x...)
				}
				out[i] = fixUTF8(s)
			}
		}
		if out != nil {
			return out, true, nil
		}
		return v, false, nil
	case map[string]string:
		if depth >= MaxDepth {
			return nil, false, errEncodeDepth
		}
		var out map[string]string
		for k, s := range x {
			if !utf8.ValidString(k) {
				return nil, false, errKeyUTF8(k)
			}
			if !utf8.ValidString(s) {
				if out == nil {
					out = maps.Clone(x)
				}
				out[k] = fixUTF8(s)
			}
		}
		if out != nil {
			return out, true, nil
		}
		return v, false, nil
	case []map[string]any:
		if depth >= MaxDepth {
			return nil, false, errEncodeDepth
		}
		var out []any
		for i, m := range x {
			n, changed, err := refCBORPrepare(m, depth+1)
			if err != nil {
				return nil, false, err
			}
			if changed && out == nil {
				out = make([]any, len(x))
				for j := range i {
					out[j] = x[j]
				}
			}
			if out != nil {
				out[i] = n
			}
		}
		if out != nil {
			return out, true, nil
		}
		return v, false, nil
	}
	m, err := reflectModel(reflect.ValueOf(v), depth)
	if err != nil {
		return nil, false, err
	}
	m, _, err = refCBORPrepare(m, depth)
	if err != nil {
		return nil, false, err
	}
	return m, true, nil
}

// refSliceWriter is an io.Writer and io.ByteWriter appending to a byte slice,
// so the msgpack encoder writes straight into a pooled buffer.
type refSliceWriter struct{ b []byte }

func (w *refSliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *refSliceWriter) WriteByte(c byte) error {
	w.b = append(w.b, c)
	return nil
}

type refMsgpackEncoder struct {
	w   refSliceWriter
	enc *msgpack.Encoder
}

var refMsgpackEncPool = sync.Pool{New: func() any {
	e := &refMsgpackEncoder{}
	e.w.b = make([]byte, 0, 512)
	e.enc = msgpack.NewEncoder(&e.w)
	e.enc.UseCompactInts(true)
	return e
}}

// refMsgpackEncode is the MessagePack EncodeValue before the hand-written
// encoder.
func refMsgpackEncode(v any) ([]byte, error) {
	e := refMsgpackEncPool.Get().(*refMsgpackEncoder)
	e.w.b = e.w.b[:0]
	err := e.encode(v, 0)
	var out []byte
	if err == nil {
		out = bytes.Clone(e.w.b)
	}
	if cap(e.w.b) > maxPooledBuf {
		e.w.b = make([]byte, 0, 512)
	}
	refMsgpackEncPool.Put(e)
	return out, err
}

func (e *refMsgpackEncoder) encodeString(s string) error {
	if uint64(len(s)) > math.MaxUint32 {
		return errMsgpackTooLong
	}
	if !utf8.ValidString(s) {
		s = fixUTF8(s)
	}
	return e.enc.EncodeString(s)
}

func (e *refMsgpackEncoder) encodeKey(k string) error {
	if !utf8.ValidString(k) {
		return errKeyUTF8(k)
	}
	return e.encodeString(k)
}

func (e *refMsgpackEncoder) encodeArrayLen(n, depth int) error {
	if depth >= MaxDepth {
		return errEncodeDepth
	}
	if uint64(n) > math.MaxUint32 {
		return errMsgpackTooLong
	}
	return e.enc.EncodeArrayLen(n)
}

func (e *refMsgpackEncoder) encodeMapLen(n, depth int) error {
	if depth >= MaxDepth {
		return errEncodeDepth
	}
	if uint64(n) > math.MaxUint32 {
		return errMsgpackTooLong
	}
	return e.enc.EncodeMapLen(n)
}

// encode writes v; depth is the number of containers around v.
func (e *refMsgpackEncoder) encode(v any, depth int) error {
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

// refMsgpackDecoder is the state of one DecodeValue call. The library decoder
// reads from r directly (bytes.Reader is an io.ByteScanner, so the library
// adds no buffering) and r.Len() tells how much input is left, which bounds
// every length before anything is allocated.
type refMsgpackDecoder struct {
	r    bytes.Reader
	dec  *msgpack.Decoder
	buf  []byte // str scratch
	keys internTable
}

var refMsgpackDecPool = sync.Pool{New: func() any {
	d := &refMsgpackDecoder{}
	d.dec = msgpack.NewDecoder(&d.r)
	return d
}}

// refMsgpackDecode is the MessagePack DecodeValue before the hand-written
// decoder.
func refMsgpackDecode(data []byte) (any, error) {
	d := refMsgpackDecPool.Get().(*refMsgpackDecoder)
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
	refMsgpackDecPool.Put(d)
	return v, err
}

func (d *refMsgpackDecoder) offset() int64 { return d.r.Size() - int64(d.r.Len()) }

func (d *refMsgpackDecoder) fail(msg string) error {
	return fmt.Errorf("%w: msgpack: %s at offset %d", ErrMalformed, msg, d.offset())
}

func (d *refMsgpackDecoder) wrap(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: msgpack: %w", ErrMalformed, err)
}

// value decodes one item; depth is the number of containers around it.
func (d *refMsgpackDecoder) value(depth int) (any, error) {
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
func (d *refMsgpackDecoder) length() (int, error) {
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
func (d *refMsgpackDecoder) str() ([]byte, error) {
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

func (d *refMsgpackDecoder) list(depth int) (any, error) {
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

func (d *refMsgpackDecoder) dict(depth int) (any, error) {
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
