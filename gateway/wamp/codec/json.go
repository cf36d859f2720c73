package codec

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/wampgate/wampgate/gateway/wamp"
)

// ErrUnsupportedValue wraps every encode error caused by a value that the
// serializer cannot represent: NaN or infinities in JSON, a string starting
// with U+0000 in JSON (it would read back as a byte string), a dict key that
// is not valid UTF-8, nesting deeper than MaxDepth, or a Go type outside the
// value model that has no list, dict or scalar equivalent (structs, channels,
// functions, complex numbers, maps with non-string keys).
var ErrUnsupportedValue = errors.New("codec: unsupported value")

// JSON is the "wamp.2.json" serializer (RawSocket serializer 1).
//
// The encoder is hand-written and appends to a pooled buffer. Map keys are
// written in Go's map iteration order (not sorted). Floats use the shortest
// representation that reads back to the same float64; a float with an
// integral value gets a ".0" suffix (or an exponent) so that it decodes as a
// float again and never turns into an integer. Byte strings use the WAMP
// convention "\u0000" + standard padded base64. Invalid UTF-8 in strings is
// replaced by U+FFFD, one per invalid byte.
//
// The decoder is hand-written too. It keeps integers exact: literals without
// fraction or exponent become int64, or uint64 above math.MaxInt64. Integer
// literals outside both ranges become the nearest float64, the way
// JavaScript peers read them; literals with a fraction or an exponent are
// float64. It rejects trailing data, duplicate dict keys, invalid UTF-8,
// raw control characters in strings, numbers that overflow float64 and
// nesting deeper than MaxDepth. Lone UTF-16 surrogates in \u escapes become
// U+FFFD. Strings that start with U+0000 become []byte.
var JSON Codec = jsonCodec{}

type jsonCodec struct{}

func (jsonCodec) Name() string { return "json" }
func (jsonCodec) Binary() bool { return false }

// EncodeValue serializes v as JSON.
func (jsonCodec) EncodeValue(v any) ([]byte, error) {
	bp := getBuf()
	b, err := appendJSON(*bp, v, 0)
	return finishBuf(bp, b, err)
}

// Encode serializes a message.
func (jsonCodec) Encode(m wamp.Message) ([]byte, error) {
	var l elems
	if !l.fill(m) {
		return nil, errEncodeMessage(m)
	}
	bp := getBuf()
	b := append(*bp, '[')
	var err error
	for i := 0; i < l.n && err == nil; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		switch el := &l.e[i]; el.kind {
		case elemInt:
			b = strconv.AppendInt(b, el.i, 10)
		case elemStr:
			b, err = appendJSONValueString(b, el.s)
		case elemDict:
			b, err = appendJSONDict(b, el.d, 1)
		case elemList:
			b, err = appendJSONList(b, el.l, 1)
		default:
			b, err = appendJSON(b, el.v, 1)
		}
	}
	b = append(b, ']')
	return finishBuf(bp, b, err)
}

// DecodeValue parses one JSON document into the value model.
func (jsonCodec) DecodeValue(data []byte) (any, error) {
	d := jsonDecPool.Get().(*jsonDecoder)
	d.data, d.pos, d.depth = data, 0, 0
	v, err := d.value()
	if err == nil {
		d.skipSpace()
		if d.pos != len(d.data) {
			err = d.fail("trailing data after document")
		}
	}
	if err != nil {
		v = nil
	}
	d.release()
	return v, err
}

// Decode parses one whole message.
func (c jsonCodec) Decode(data []byte) (wamp.Message, error) {
	var s [maxElems]slot
	d := jsonDecPool.Get().(*jsonDecoder)
	d.data, d.pos, d.depth = data, 0, 0
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

// --- shared encoder helpers ---------------------------------------------

// maxPooledBuf caps the scratch buffers kept in pools so that one huge
// message does not pin its memory forever.
const maxPooledBuf = 64 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(bp *[]byte, b []byte) {
	if cap(b) > maxPooledBuf {
		return
	}
	*bp = b[:0]
	bufPool.Put(bp)
}

var errEncodeDepth = fmt.Errorf("%w: nesting deeper than %d levels", ErrUnsupportedValue, MaxDepth)

func errKeyUTF8(k string) error {
	return fmt.Errorf("%w: dict key %q is not valid UTF-8", ErrUnsupportedValue, k)
}

// fixUTF8 replaces every byte of s that is not part of a valid UTF-8
// sequence with U+FFFD (the JSON encoder does the same inline).
func fixUTF8(s string) string {
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

// reflectModel converts a value outside the fast paths of the encoders into
// the value model, using reflection: named scalar types become their base
// kind, slices and arrays become []any (or []byte for byte elements), maps
// with string keys become map[string]any, and pointers and interfaces are
// followed. Nil slices and maps become empty containers. depth is the number
// of containers around rv.
func reflectModel(rv reflect.Value, depth int) (any, error) {
	for i := 0; rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface; i++ {
		if rv.IsNil() {
			return nil, nil
		}
		if i >= MaxDepth {
			return nil, errEncodeDepth
		}
		rv = rv.Elem()
	}
	switch rv.Kind() {
	case reflect.Invalid:
		return nil, nil
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return u, nil
		}
		return int64(u), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Slice, reflect.Array:
		n := rv.Len()
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, n)
			for i := range n {
				b[i] = byte(rv.Index(i).Uint())
			}
			return b, nil
		}
		if depth >= MaxDepth {
			return nil, errEncodeDepth
		}
		l := make([]any, n)
		for i := range n {
			e, err := reflectModel(rv.Index(i), depth+1)
			if err != nil {
				return nil, err
			}
			l[i] = e
		}
		return l, nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("%w: map key type %s is not a string", ErrUnsupportedValue, rv.Type().Key())
		}
		if depth >= MaxDepth {
			return nil, errEncodeDepth
		}
		m := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			e, err := reflectModel(it.Value(), depth+1)
			if err != nil {
				return nil, err
			}
			m[it.Key().String()] = e
		}
		return m, nil
	}
	return nil, fmt.Errorf("%w: cannot encode Go type %s", ErrUnsupportedValue, rv.Type())
}

// --- JSON encoder ---------------------------------------------------------

// appendJSON appends the JSON form of v to b. depth is the number of
// containers around v.
func appendJSON(b []byte, v any, depth int) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		if v {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case string:
		return appendJSONValueString(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	case float64:
		return appendJSONFloat(b, v)
	case []byte:
		b = append(b, `"\u0000`...)
		b = base64.StdEncoding.AppendEncode(b, v)
		return append(b, '"'), nil
	case []any:
		return appendJSONList(b, v, depth)
	case map[string]any:
		return appendJSONDict(b, v, depth)
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(v), 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case wamp.ID:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case float32:
		return appendJSONFloat(b, float64(v))
	case []string:
		if depth >= MaxDepth {
			return b, errEncodeDepth
		}
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSONValueString(b, s); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case map[string]string:
		if depth >= MaxDepth {
			return b, errEncodeDepth
		}
		b = append(b, '{')
		first := true
		for k, s := range v {
			if !first {
				b = append(b, ',')
			}
			first = false
			if !utf8.ValidString(k) {
				return b, errKeyUTF8(k)
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendJSONValueString(b, s); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	case []map[string]any:
		if depth >= MaxDepth {
			return b, errEncodeDepth
		}
		b = append(b, '[')
		for i, m := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, m, depth+1); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	}
	m, err := reflectModel(reflect.ValueOf(v), depth)
	if err != nil {
		return b, err
	}
	return appendJSON(b, m, depth)
}

func appendJSONList(b []byte, l []any, depth int) ([]byte, error) {
	if depth >= MaxDepth {
		return b, errEncodeDepth
	}
	b = append(b, '[')
	for i, e := range l {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendJSON(b, e, depth+1); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

func appendJSONDict(b []byte, m map[string]any, depth int) ([]byte, error) {
	if depth >= MaxDepth {
		return b, errEncodeDepth
	}
	b = append(b, '{')
	first := true
	for k, e := range m {
		if !first {
			b = append(b, ',')
		}
		first = false
		if !utf8.ValidString(k) {
			return b, errKeyUTF8(k)
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		var err error
		if b, err = appendJSON(b, e, depth+1); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendJSONValueString appends a string value (not a key): a leading
// U+0000 is reserved for byte strings.
func appendJSONValueString(b []byte, s string) ([]byte, error) {
	if len(s) > 0 && s[0] == 0 {
		return b, fmt.Errorf("%w: json: a string starting with U+0000 would read back as a byte string", ErrUnsupportedValue)
	}
	return appendJSONString(b, s), nil
}

func appendJSONFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("%w: json: %v has no JSON representation", ErrUnsupportedValue, f)
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Shorten a two-digit negative exponent such as e-07 to e-7.
		n := len(b)
		if n-start >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return b, nil
	}
	if bytes.IndexByte(b[start:], '.') < 0 {
		b = append(b, '.', '0')
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a quoted JSON string. Quotes, backslashes
// and control characters are escaped, as are U+2028 and U+2029 (line
// terminators in older JavaScript). Invalid UTF-8 bytes become U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// --- JSON decoder ---------------------------------------------------------

// jsonDecoder is the state of one DecodeValue call. The stack and kvs
// slices collect the elements of the lists and dicts being parsed, so that
// every container is allocated once with its final size. Slots beyond len
// are always nil, so a pooled decoder pins no decoded values.
type jsonDecoder struct {
	data  []byte
	pos   int
	depth int
	stack []any
	kvs   []jsonKV
	buf   []byte // unescaped string scratch
	keys  internTable
	vals  valueCache
}

type jsonKV struct {
	k string
	v any
}

var jsonDecPool = sync.Pool{New: func() any { return new(jsonDecoder) }}

func (d *jsonDecoder) release() {
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
	jsonDecPool.Put(d)
}

func (d *jsonDecoder) fail(msg string) error {
	return fmt.Errorf("%w: json: %s at offset %d", ErrMalformed, msg, d.pos)
}

func (d *jsonDecoder) failChar() error {
	if d.pos >= len(d.data) {
		return d.fail("unexpected end of input")
	}
	return fmt.Errorf("%w: json: unexpected character %q at offset %d", ErrMalformed, d.data[d.pos], d.pos)
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value() (any, error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return nil, d.fail("unexpected end of input")
	}
	switch c := d.data[d.pos]; c {
	case '[':
		return d.array()
	case '{':
		return d.object()
	case '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		if len(s) > 0 && s[0] == 0 {
			return d.binary(s[1:])
		}
		return d.vals.str(s), nil
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return d.number()
		}
		return nil, d.failChar()
	}
}

// message parses a top-level array of at most maxElems elements into s.
// It reports false, and no error, if the input is anything else.
func (d *jsonDecoder) message(s *[maxElems]slot) (int, bool, error) {
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '[' {
		return 0, false, nil
	}
	d.pos++
	d.depth = 1
	d.skipSpace()
	n := 0
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
	} else {
		for {
			if n == maxElems {
				return 0, false, nil
			}
			if err := d.element(&s[n]); err != nil {
				return 0, false, err
			}
			n++
			d.skipSpace()
			if d.pos >= len(d.data) {
				return 0, false, d.fail("unexpected end of input")
			}
			c := d.data[d.pos]
			if c == ']' {
				d.pos++
				break
			}
			if c != ',' {
				return 0, false, d.failChar()
			}
			d.pos++
		}
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return 0, false, d.fail("trailing data after document")
	}
	return n, true, nil
}

// element parses one element of a message into s.
func (d *jsonDecoder) element(s *slot) error {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return d.fail("unexpected end of input")
	}
	switch c := d.data[d.pos]; {
	case c == '[':
		l, err := d.list()
		if err != nil {
			return err
		}
		s.setList(l)
		return nil
	case c == '"':
		b, err := d.str()
		if err != nil {
			return err
		}
		if len(b) > 0 && b[0] == 0 {
			v, err := d.binary(b[1:])
			if err != nil {
				return err
			}
			s.setValue(v)
			return nil
		}
		s.setStr(d.keys.str(b))
		return nil
	case c == '-' || (c >= '0' && c <= '9'):
		return d.numberSlot(s)
	}
	v, err := d.value()
	if err != nil {
		return err
	}
	s.setValue(v)
	return nil
}

func (d *jsonDecoder) literal(lit string) error {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		return d.fail("invalid literal")
	}
	d.pos += len(lit)
	return nil
}

func (d *jsonDecoder) array() (any, error) {
	l, err := d.list()
	if err != nil {
		return nil, err
	}
	return l, nil
}

// list parses the array at d.pos.
func (d *jsonDecoder) list() ([]any, error) {
	if d.depth >= MaxDepth {
		return nil, d.fail("nesting too deep")
	}
	d.depth++
	d.pos++ // '['
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return []any{}, nil
	}
	base := len(d.stack)
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		d.stack = append(d.stack, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.fail("unexpected end of input")
		}
		c := d.data[d.pos]
		if c == ']' {
			d.pos++
			break
		}
		if c != ',' {
			return nil, d.failChar()
		}
		d.pos++
	}
	l := make([]any, len(d.stack)-base)
	copy(l, d.stack[base:])
	clear(d.stack[base:])
	d.stack = d.stack[:base]
	d.depth--
	return l, nil
}

func (d *jsonDecoder) object() (any, error) {
	if d.depth >= MaxDepth {
		return nil, d.fail("nesting too deep")
	}
	d.depth++
	d.pos++ // '{'
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return map[string]any{}, nil
	}
	base := len(d.kvs)
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.failChar()
		}
		kb, err := d.str()
		if err != nil {
			return nil, err
		}
		k := d.keys.str(kb)
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.failChar()
		}
		d.pos++
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		d.kvs = append(d.kvs, jsonKV{k, v})
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.fail("unexpected end of input")
		}
		c := d.data[d.pos]
		if c == '}' {
			d.pos++
			break
		}
		if c != ',' {
			return nil, d.failChar()
		}
		d.pos++
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
		return nil, d.fail("duplicate key in object")
	}
	d.depth--
	return m, nil
}

// str parses the string at d.pos (which holds the opening quote) and returns
// its unescaped content. The result aliases the input or d.buf and is valid
// only until the next call.
func (d *jsonDecoder) str() ([]byte, error) {
	d.pos++
	start := d.pos
	ascii := true
	for i := start; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			s := d.data[start:i]
			if !ascii && !utf8.Valid(s) {
				return nil, d.fail("invalid UTF-8 in string")
			}
			d.pos = i + 1
			return s, nil
		case c == '\\':
			return d.strEscaped(start, i)
		case c < 0x20:
			d.pos = i
			return nil, d.fail("control character in string")
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	d.pos = len(d.data)
	return nil, d.fail("unterminated string")
}

// strEscaped continues str after the first backslash at i, unescaping into
// d.buf.
func (d *jsonDecoder) strEscaped(start, i int) ([]byte, error) {
	buf := append(d.buf[:0], d.data[start:i]...)
	data := d.data
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			d.buf = buf
			d.pos = i + 1
			if !utf8.Valid(buf) {
				return nil, d.fail("invalid UTF-8 in string")
			}
			return buf, nil
		case c < 0x20:
			d.pos = i
			return nil, d.fail("control character in string")
		case c != '\\':
			buf = append(buf, c)
			i++
			continue
		}
		if i+1 >= len(data) {
			break
		}
		i++
		switch data[i] {
		case '"', '\\', '/':
			buf = append(buf, data[i])
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(data[i+1:])
			if !ok {
				d.pos = i
				return nil, d.fail("invalid \\u escape")
			}
			i += 4
			if utf16IsHigh(r) {
				// A high surrogate must be followed by an escaped low one.
				if i+6 < len(data) && data[i+1] == '\\' && data[i+2] == 'u' {
					if lo, ok := hex4(data[i+3:]); ok && utf16IsLow(lo) {
						r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			} else if utf16IsLow(r) {
				r = utf8.RuneError
			}
			buf = utf8.AppendRune(buf, r)
		default:
			d.buf = buf
			d.pos = i
			return nil, d.fail("invalid escape")
		}
		i++
	}
	d.buf = buf
	d.pos = len(data)
	return nil, d.fail("unterminated string")
}

func utf16IsHigh(r rune) bool { return r >= 0xD800 && r < 0xDC00 }
func utf16IsLow(r rune) bool  { return r >= 0xDC00 && r < 0xE000 }

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// binary decodes the base64 text that follows U+0000 in a WAMP byte string.
func (d *jsonDecoder) binary(b64 []byte) (any, error) {
	out := make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	n, err := base64.StdEncoding.Decode(out, b64)
	if err != nil {
		return nil, fmt.Errorf("%w: json: byte string before offset %d: %w", ErrMalformed, d.pos, err)
	}
	return out[:n], nil
}

func (d *jsonDecoder) number() (any, error) {
	var s slot
	if err := d.numberSlot(&s); err != nil {
		return nil, err
	}
	return s.value(), nil
}

// numberSlot parses the number at d.pos into s, keeping integers unboxed.
func (d *jsonDecoder) numberSlot(s *slot) error {
	data := d.data
	start := d.pos
	i := start
	neg := data[i] == '-'
	if neg {
		i++
	}
	digits := i
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	default:
		d.pos = i
		return d.fail("invalid number")
	}
	intEnd := i
	float := false
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			d.pos = i
			return d.fail("invalid number")
		}
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		float = true
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			d.pos = i
			return d.fail("invalid number")
		}
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		float = true
	}
	d.pos = i
	if !float {
		if u, ok := parseDigits(data[digits:intEnd]); ok {
			switch {
			case neg && u <= 1<<63:
				s.setInt(-int64(u)) // -2^63 wraps to itself, which is right
				return nil
			case !neg:
				s.setUint(u)
				return nil
			}
		}
		// Out of the int64/uint64 range: fall through to float64.
	}
	f, err := strconv.ParseFloat(string(data[start:i]), 64)
	if err != nil {
		d.pos = start
		return d.fail("number out of range")
	}
	s.setValue(f)
	return nil
}

// parseDigits parses decimal digits into a uint64, reporting overflow.
func parseDigits(b []byte) (uint64, bool) {
	var u uint64
	for _, c := range b {
		if u > (math.MaxUint64-9)/10 {
			// Might overflow: check exactly.
			hi, lo := u*10, uint64(c-'0')
			if u > math.MaxUint64/10 || hi > math.MaxUint64-lo {
				return 0, false
			}
			u = hi + lo
			continue
		}
		u = u*10 + uint64(c-'0')
	}
	return u, true
}
