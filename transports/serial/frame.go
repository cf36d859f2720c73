package serial

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/wampgate/wampgate/transports"
)

// FrameType is the low 3 bits of a frame's type octet.
type FrameType uint8

// Frame types. Values 5 to 7 and any of the high 5 bits are reserved; the
// Decoder drops frames that use them.
const (
	FrameWAMP      FrameType = 0 // one serialized WAMP message
	FramePing      FrameType = 1 // liveness probe, at most MaxPingPayload echo bytes
	FramePong      FrameType = 2 // answer to PING, same payload
	FrameHandshake FrameType = 3 // the 4 RawSocket handshake octets
	FrameReset     FrameType = 4 // drop session state and handshake again; empty
)

// String returns the frame type name as written in the spec.
func (t FrameType) String() string {
	switch t {
	case FrameWAMP:
		return "WAMP"
	case FramePing:
		return "PING"
	case FramePong:
		return "PONG"
	case FrameHandshake:
		return "HANDSHAKE"
	case FrameReset:
		return "RESET"
	}
	return fmt.Sprintf("FrameType(%d)", uint8(t))
}

// Sizes fixed by the framing.
const (
	// FrameOverhead is the size of type, seq and CRC around a payload.
	FrameOverhead = 4
	// MaxPingPayload is the largest PING or PONG payload.
	MaxPingPayload = 16
	// HandshakeSize is the size of a HANDSHAKE payload.
	HandshakeSize = 4
	// MinMessageSize is the smallest receive limit a handshake can announce
	// (LLLL = 0), and MaxMessageSize the largest (LLLL = 15).
	MinMessageSize = 1 << 9
	MaxMessageSize = 1 << 24
)

// Frame is one decoded frame. Payload aliases the Decoder's buffer and is
// only valid until the next call to Decoder.Feed.
type Frame struct {
	Type    FrameType
	Seq     uint8
	Payload []byte
}

// MaxEncodedLen returns the largest number of octets AppendFrame produces for
// a payload of n bytes, including a leading zero.
func MaxEncodedLen(n int) int {
	body := n + FrameOverhead
	return 1 + body + (body+253)/254 + 1
}

// AppendFrame appends one encoded frame to dst and returns the extended
// slice: an optional leading 0x00, COBS(type, seq, payload, crc) and the
// closing 0x00. The caller keeps payload within the limits of its type; the
// encoder itself accepts any length.
func AppendFrame(dst []byte, typ FrameType, seq uint8, payload []byte, leadingZero bool) []byte {
	dst = slices.Grow(dst, MaxEncodedLen(len(payload)))
	if leadingZero {
		dst = append(dst, 0)
	}
	crc := crcUpdate(crcInit, []byte{byte(typ), seq})
	crc = crcUpdate(crc, payload)
	e := cobsEncoder{dst: dst}
	e.start()
	e.writeByte(byte(typ))
	e.writeByte(seq)
	e.write(payload)
	e.writeByte(byte(crc >> 8))
	e.writeByte(byte(crc))
	return e.finish()
}

// cobsEncoder COBS-encodes a stream of bytes into dst. A block's code octet is
// reserved when the block opens and filled in when it closes. After a run of
// 254 non-zero bytes the block is closed with code 0xFF and the next block is
// only opened if more data follows, so no 0x01 is appended after a final full
// run.
type cobsEncoder struct {
	dst  []byte
	code int // index of the open block's code octet in dst, -1 when none is open
	run  int // data bytes in the open block
}

func (e *cobsEncoder) start() { e.open() }

func (e *cobsEncoder) open() {
	e.code = len(e.dst)
	e.dst = append(e.dst, 0)
	e.run = 0
}

func (e *cobsEncoder) writeByte(b byte) {
	if e.code < 0 {
		e.open()
	}
	if b == 0 {
		e.dst[e.code] = byte(e.run + 1)
		e.open()
		return
	}
	e.dst = append(e.dst, b)
	e.run++
	if e.run == 254 {
		e.dst[e.code] = 0xFF
		e.code = -1
	}
}

func (e *cobsEncoder) write(p []byte) {
	for len(p) > 0 {
		if e.code < 0 {
			e.open()
		}
		if p[0] == 0 {
			e.writeByte(0)
			p = p[1:]
			continue
		}
		k := min(254-e.run, len(p))
		if z := bytes.IndexByte(p[:k], 0); z >= 0 {
			k = z
		}
		e.dst = append(e.dst, p[:k]...)
		e.run += k
		p = p[k:]
		if e.run == 254 {
			e.dst[e.code] = 0xFF
			e.code = -1
		}
	}
}

func (e *cobsEncoder) finish() []byte {
	if e.code >= 0 {
		e.dst[e.code] = byte(e.run + 1)
	}
	return append(e.dst, 0)
}

// CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, xorout 0.
const (
	crcInit = 0xFFFF
	crcPoly = 0x1021
)

var crcTable = makeCRCTable()

func makeCRCTable() *[256]uint16 {
	var t [256]uint16
	for i := range t {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ crcPoly
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return &t
}

func crcUpdate(crc uint16, p []byte) uint16 {
	for _, b := range p {
		crc = crc<<8 ^ crcTable[byte(crc>>8)^b]
	}
	return crc
}

// CRC16 returns the CRC-16/CCITT-FALSE of p, the checksum the framing uses.
func CRC16(p []byte) uint16 { return crcUpdate(crcInit, p) }

// HandshakeCode is the error code of a HANDSHAKE error reply (RawSocket's).
type HandshakeCode uint8

// Handshake error codes. Zero means no error.
const (
	CodeSerializerUnsupported HandshakeCode = 1
	CodeMaxLenUnacceptable    HandshakeCode = 2
	CodeReservedBits          HandshakeCode = 3
	CodeMaxConnections        HandshakeCode = 4
)

// String describes the code.
func (c HandshakeCode) String() string {
	switch c {
	case 0:
		return "ok"
	case CodeSerializerUnsupported:
		return "serializer unsupported"
	case CodeMaxLenUnacceptable:
		return "maximum message length unacceptable"
	case CodeReservedBits:
		return "use of reserved bits"
	case CodeMaxConnections:
		return "maximum connection count reached"
	}
	return fmt.Sprintf("HandshakeCode(%d)", uint8(c))
}

// handshakeMagic is the first handshake octet.
const handshakeMagic = 0x7F

// Handshake is the payload of a HANDSHAKE frame: the 4 RawSocket handshake
// octets 0x7F, LLLL SSSS, 0x00, 0x00 (or 0x7F, EEEE 0000, 0x00, 0x00 for an
// error reply).
type Handshake [HandshakeSize]byte

// NewHandshake returns the handshake announcing receive limit maxLen, rounded
// down to a power of two between MinMessageSize and MaxMessageSize, and
// serializer s.
func NewHandshake(maxLen int, s transports.Serializer) Handshake {
	return Handshake{handshakeMagic, lenExp(maxLen)<<4 | byte(s)&0x0F, 0, 0}
}

// NewHandshakeError returns the error reply carrying code.
func NewHandshakeError(code HandshakeCode) Handshake {
	return Handshake{handshakeMagic, byte(code) << 4, 0, 0}
}

// ParseHandshake checks the length and the constant octets of a HANDSHAKE
// payload. It returns CodeReservedBits when they are wrong.
func ParseHandshake(p []byte) (Handshake, HandshakeCode) {
	var h Handshake
	if len(p) != HandshakeSize {
		return h, CodeReservedBits
	}
	copy(h[:], p)
	if h[0] != handshakeMagic || h[2] != 0 || h[3] != 0 {
		return h, CodeReservedBits
	}
	return h, 0
}

// MaxLen is the announced receive limit, 2^(9+LLLL) bytes.
func (h Handshake) MaxLen() int { return MinMessageSize << (h[1] >> 4) }

// Serializer is the SSSS nibble. Zero in an error reply.
func (h Handshake) Serializer() transports.Serializer { return transports.Serializer(h[1] & 0x0F) }

// Code is the error code of an error reply (SSSS = 0), zero otherwise.
func (h Handshake) Code() HandshakeCode {
	if h[1]&0x0F != 0 {
		return 0
	}
	return HandshakeCode(h[1] >> 4)
}

// lenExp returns the LLLL nibble for the largest power of two 2^(9+LLLL) that
// does not exceed n, clamped to 0..15.
func lenExp(n int) byte {
	var e byte
	for e < 15 && MinMessageSize<<(e+1) <= n {
		e++
	}
	return e
}

// RoundMessageSize returns the receive limit a handshake can announce for n:
// n rounded down to a power of two, clamped to [MinMessageSize,
// MaxMessageSize].
func RoundMessageSize(n int) int { return MinMessageSize << lenExp(n) }
