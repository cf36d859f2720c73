package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/gateway/wamp/codec"
	"github.com/wampgate/wampgate/transports"
)

// The hot loops build and inspect messages without going through the codec:
// the driver shares the CPU with the router, and a full encode or decode per
// message would make the benchmark measure wampbench. Only the two leading
// integers of a message (type and request or subscription ID) are written
// or read by hand; every other element is encoded once by the codec when a
// template is built. Anything the fast path does not recognise falls back to
// a full codec decode.

// template is a pre-encoded message whose second element (a request ID) is
// filled in per message: [Type, ID, tail...].
type template struct {
	ser   transports.Serializer
	typ   wamp.MessageType
	count int    // number of elements, including type and ID
	tail  []byte // encoded elements after the ID, in wire form
}

// newTemplate encodes the elements after the ID once with the codec for ser.
func newTemplate(ser transports.Serializer, typ wamp.MessageType, tail ...any) (*template, error) {
	c, err := codec.ByName(ser.String())
	if err != nil {
		return nil, fmt.Errorf("wampbench: %w", err)
	}
	t := &template{ser: ser, typ: typ, count: 2 + len(tail)}
	if t.count > 15 {
		return nil, fmt.Errorf("wampbench: template with %d elements", t.count)
	}
	for i, v := range tail {
		b, err := c.EncodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("wampbench: encode %s element %d: %w", typ, i+2, err)
		}
		if ser == transports.JSON {
			b = bytes.TrimSpace(b)
			t.tail = append(t.tail, ',')
		}
		t.tail = append(t.tail, b...)
	}
	return t, nil
}

// appendTo appends the message with request ID id to dst.
func (t *template) appendTo(dst []byte, id uint64) []byte {
	switch t.ser {
	case transports.JSON:
		dst = append(dst, '[')
		dst = strconv.AppendUint(dst, uint64(t.typ), 10)
		dst = append(dst, ',')
		dst = strconv.AppendUint(dst, id, 10)
		dst = append(dst, t.tail...)
		return append(dst, ']')
	case transports.MsgPack:
		dst = append(dst, 0x90|byte(t.count))
		dst = appendMsgpackUint(dst, uint64(t.typ))
		dst = appendMsgpackUint(dst, id)
	default: // CBOR
		dst = append(dst, 0x80|byte(t.count))
		dst = appendCBORUint(dst, uint64(t.typ))
		dst = appendCBORUint(dst, id)
	}
	return append(dst, t.tail...)
}

func appendCBORUint(dst []byte, v uint64) []byte {
	switch {
	case v < 24:
		return append(dst, byte(v))
	case v <= 0xff:
		return append(dst, 0x18, byte(v))
	case v <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, 0x19), uint16(v))
	case v <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(dst, 0x1a), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(dst, 0x1b), v)
}

func appendMsgpackUint(dst []byte, v uint64) []byte {
	switch {
	case v < 0x80:
		return append(dst, byte(v))
	case v <= 0xff:
		return append(dst, 0xcc, byte(v))
	case v <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, 0xcd), uint16(v))
	case v <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(dst, 0xce), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(dst, 0xcf), v)
}

// peek reads the message type and, when the second element is a
// non-negative integer, that integer (the request, subscription or session
// ID of most messages). ok is false when b does not start like a WAMP
// message in ser; hasID is false when the second element is missing or not
// an integer.
func peek(ser transports.Serializer, b []byte) (typ wamp.MessageType, id uint64, hasID, ok bool) {
	// One branch per serializer with the reader on the stack: the driver
	// calls this for every message it receives, so it must not allocate.
	var listOK, typOK bool
	var t uint64
	switch ser {
	case transports.JSON:
		r := jsonReader{b: b}
		if listOK = r.list(); listOK {
			if t, typOK = r.uint(); typOK {
				id, hasID = r.uint()
			}
		}
	case transports.MsgPack:
		r := msgpackReader{b: b}
		if listOK = r.list(); listOK {
			if t, typOK = r.uint(); typOK {
				id, hasID = r.uint()
			}
		}
	case transports.CBOR:
		r := cborReader{b: b}
		if listOK = r.list(); listOK {
			if t, typOK = r.uint(); typOK {
				id, hasID = r.uint()
			}
		}
	}
	if !listOK || !typOK || t == 0 || t > 0xffff {
		return 0, 0, false, false
	}
	if !hasID {
		id = 0
	}
	return wamp.MessageType(t), id, hasID, true
}

type cborReader struct {
	b []byte
	i int
}

func (r *cborReader) list() bool {
	if r.i >= len(r.b) || r.b[r.i]>>5 != 4 {
		return false
	}
	ai := r.b[r.i] & 0x1f
	r.i++
	switch {
	case ai < 24, ai == 31: // short or indefinite length
		return true
	case ai <= 27:
		r.i += 1 << (ai - 24)
		return r.i <= len(r.b)
	}
	return false
}

func (r *cborReader) uint() (uint64, bool) {
	if r.i >= len(r.b) || r.b[r.i]>>5 != 0 {
		return 0, false
	}
	ai := r.b[r.i] & 0x1f
	r.i++
	if ai < 24 {
		return uint64(ai), true
	}
	if ai > 27 {
		return 0, false
	}
	n := 1 << (ai - 24)
	if r.i+n > len(r.b) {
		return 0, false
	}
	p := r.b[r.i : r.i+n]
	r.i += n
	switch n {
	case 1:
		return uint64(p[0]), true
	case 2:
		return uint64(binary.BigEndian.Uint16(p)), true
	case 4:
		return uint64(binary.BigEndian.Uint32(p)), true
	}
	return binary.BigEndian.Uint64(p), true
}

type msgpackReader struct {
	b []byte
	i int
}

func (r *msgpackReader) list() bool {
	if r.i >= len(r.b) {
		return false
	}
	c := r.b[r.i]
	r.i++
	switch {
	case c&0xf0 == 0x90:
		return true
	case c == 0xdc:
		r.i += 2
	case c == 0xdd:
		r.i += 4
	default:
		return false
	}
	return r.i <= len(r.b)
}

func (r *msgpackReader) uint() (uint64, bool) {
	if r.i >= len(r.b) {
		return 0, false
	}
	c := r.b[r.i]
	r.i++
	if c < 0x80 {
		return uint64(c), true
	}
	var n int
	signed := false
	switch c {
	case 0xcc, 0xd0:
		n = 1
	case 0xcd, 0xd1:
		n = 2
	case 0xce, 0xd2:
		n = 4
	case 0xcf, 0xd3:
		n = 8
	default:
		return 0, false
	}
	signed = c >= 0xd0
	if r.i+n > len(r.b) {
		return 0, false
	}
	p := r.b[r.i : r.i+n]
	r.i += n
	var v uint64
	switch n {
	case 1:
		v = uint64(p[0])
	case 2:
		v = uint64(binary.BigEndian.Uint16(p))
	case 4:
		v = uint64(binary.BigEndian.Uint32(p))
	default:
		v = binary.BigEndian.Uint64(p)
	}
	if signed && v>>(8*n-1) != 0 {
		return 0, false // negative
	}
	return v, true
}

type jsonReader struct {
	b    []byte
	i    int
	done bool // the closing ']' was read
}

func (r *jsonReader) skipSpace() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

func (r *jsonReader) list() bool {
	r.skipSpace()
	if r.i >= len(r.b) || r.b[r.i] != '[' {
		return false
	}
	r.i++
	return true
}

// uint reads one integer element and the separator or ']' after it.
func (r *jsonReader) uint() (uint64, bool) {
	if r.done {
		return 0, false
	}
	r.skipSpace()
	start := r.i
	var v uint64
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		d := uint64(r.b[r.i] - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
		r.i++
	}
	if r.i == start || r.i-start > 1 && r.b[start] == '0' {
		return 0, false
	}
	r.skipSpace()
	if r.i >= len(r.b) {
		return 0, false
	}
	switch r.b[r.i] {
	case ',':
	case ']':
		r.done = true
	default:
		return 0, false // a fraction, an exponent or garbage
	}
	r.i++
	return v, true
}
