package rawsocket

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"

	"github.com/wampgate/wampgate/transports"
)

// magic is the first octet of every handshake and handshake reply.
const magic = 0x7F

// Handshake error codes, sent in the high nibble of the second octet of an
// error reply.
const (
	// CodeSerializerUnsupported: the requested serializer is not offered
	// (also sent for the illegal serializer 0).
	CodeSerializerUnsupported byte = 1
	// CodeMaxLengthUnacceptable: the client's maximum message length is too
	// small for this server.
	CodeMaxLengthUnacceptable byte = 2
	// CodeReservedBits: the reserved octets of the handshake are not zero.
	CodeReservedBits byte = 3
	// CodeMaxConnections: the server has reached its connection limit.
	CodeMaxConnections byte = 4
)

// Frame types (TTT in the frame header).
const (
	frameMessage = 0
	framePing    = 1
	framePong    = 2
)

// Length limits: LLLL = n announces 2^(9+n) bytes.
const (
	minLimit = 1 << 9  // n = 0
	maxLimit = 1 << 24 // n = 15
	// maxSend is the largest frame we send: 2^24 would need the X bit,
	// which older peers misread as part of the frame type.
	maxSend = maxLimit - 1
)

var (
	// ErrBadMagic: the first octet of the handshake was not 0x7F. The server
	// closes such connections without a reply.
	ErrBadMagic = errors.New("rawsocket: not a rawsocket handshake")
	// ErrBadReply: the server's handshake reply was malformed or did not
	// echo the requested serializer.
	ErrBadReply = errors.New("rawsocket: bad handshake reply")
	// ErrHandshakeTimeout: the handshake did not finish within
	// Options.HandshakeTimeout.
	ErrHandshakeTimeout = errors.New("rawsocket: handshake timeout")
)

// HandshakeError is a handshake rejected with an error reply. The server side
// returns it after sending the reply; the client side when it receives one.
type HandshakeError struct {
	Code byte // one of the Code constants, or a reserved value 5..15
}

func (e *HandshakeError) Error() string {
	return "rawsocket: handshake rejected: " + codeText(e.Code)
}

func codeText(code byte) string {
	switch code {
	case CodeSerializerUnsupported:
		return "serializer unsupported"
	case CodeMaxLengthUnacceptable:
		return "maximum message length unacceptable"
	case CodeReservedBits:
		return "use of reserved bits"
	case CodeMaxConnections:
		return "maximum connection count reached"
	}
	return "error code " + strconv.Itoa(int(code))
}

// lenExp returns the largest n in 0..15 with 2^(9+n) <= size (0 if size is
// below 512).
func lenExp(size int) byte {
	var n byte
	for n < 15 && 1<<(9+n+1) <= size {
		n++
	}
	return n
}

// expLimit is the message size announced by length exponent n.
func expLimit(n byte) int { return 1 << (9 + int(n)) }

// recvLimit is the largest incoming message we accept for the configured
// maximum: never less than what we announce (512), never more than a frame
// can carry (2^24).
func recvLimit(size int) int {
	return min(max(size, minLimit), maxLimit)
}

// hsConfig holds what the server handshake needs.
type hsConfig struct {
	serializers []transports.Serializer
	ourExp      byte // our LLLL
	minPeerExp  byte // smallest client LLLL accepted (0 accepts all)
	reject      byte // non-zero: reply with this code once the request is valid
}

func (h *hsConfig) supports(s byte) bool {
	if s == 0 {
		return false
	}
	for _, x := range h.serializers {
		if byte(x) == s {
			return true
		}
	}
	return false
}

// serverHandshake reads the client's four octets from nc and answers them.
// It does not set deadlines; the caller does. On success it returns the
// serializer and the client's receive limit. A rejected request returns a
// *HandshakeError after the error reply was sent.
func serverHandshake(nc net.Conn, h *hsConfig) (transports.Serializer, int, error) {
	var b [4]byte
	if _, err := io.ReadFull(nc, b[:]); err != nil {
		return 0, 0, handshakeIOError("read handshake", err)
	}
	if b[0] != magic {
		return 0, 0, ErrBadMagic
	}
	ser, exp := b[1]&0x0f, b[1]>>4
	var code byte
	switch {
	case !h.supports(ser):
		code = CodeSerializerUnsupported
	case b[2] != 0 || b[3] != 0:
		code = CodeReservedBits
	case exp < h.minPeerExp:
		code = CodeMaxLengthUnacceptable
	case h.reject != 0:
		code = h.reject
	}
	reply := [4]byte{magic, h.ourExp<<4 | ser, 0, 0}
	if code != 0 {
		reply[1] = code << 4
	}
	if _, err := nc.Write(reply[:]); err != nil {
		return 0, 0, handshakeIOError("write handshake reply", err)
	}
	if code != 0 {
		return 0, 0, &HandshakeError{Code: code}
	}
	return transports.Serializer(ser), expLimit(exp), nil
}

// clientHandshake sends our handshake and checks the reply. It returns the
// server's receive limit.
func clientHandshake(nc net.Conn, ser transports.Serializer, ourExp byte) (int, error) {
	b := [4]byte{magic, ourExp<<4 | byte(ser), 0, 0}
	if _, err := nc.Write(b[:]); err != nil {
		return 0, handshakeIOError("write handshake", err)
	}
	if _, err := io.ReadFull(nc, b[:]); err != nil {
		return 0, handshakeIOError("read handshake reply", err)
	}
	if b[0] != magic {
		return 0, fmt.Errorf("%w: first octet 0x%02x", ErrBadReply, b[0])
	}
	if b[1]&0x0f == 0 {
		return 0, &HandshakeError{Code: b[1] >> 4}
	}
	if b[1]&0x0f != byte(ser) {
		return 0, fmt.Errorf("%w: serializer %d instead of %d", ErrBadReply, b[1]&0x0f, byte(ser))
	}
	if b[2] != 0 || b[3] != 0 {
		return 0, fmt.Errorf("%w: reserved octets not zero", ErrBadReply)
	}
	return expLimit(b[1] >> 4), nil
}

func handshakeIOError(op string, err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w: %s: %w", ErrHandshakeTimeout, op, err)
	}
	return fmt.Errorf("rawsocket: %s: %w", op, err)
}
