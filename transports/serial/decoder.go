package serial

import (
	"bytes"
	"fmt"
	"sync/atomic"
)

// DropReason says why the Decoder dropped a frame. The values are stable and
// serve as metric labels.
type DropReason uint8

// Drop reasons.
const (
	// DropCOBS: the bytes before a delimiter are not valid COBS (a block
	// runs past the closing 0x00).
	DropCOBS DropReason = iota
	// DropCRC: the CRC does not match.
	DropCRC
	// DropReserved: the type octet uses reserved bits or a reserved type.
	DropReserved
	// DropOversize: a well-formed frame (valid COBS and CRC) whose payload
	// exceeds the limit of its type: the decoder's maximum for WAMP frames,
	// MaxPingPayload for PING and PONG.
	DropOversize
	// DropGarbage: a run of bytes longer than any acceptable frame that is
	// not a valid frame either, such as console text or a wrong baud rate.
	DropGarbage
	// DropMalformed: a body shorter than type, seq and CRC, a HANDSHAKE
	// payload that is not 4 bytes, or a RESET with a payload.
	DropMalformed

	// DropReasonCount is the number of drop reasons.
	DropReasonCount = iota
)

// String returns the label used in logs and metrics.
func (r DropReason) String() string {
	switch r {
	case DropCOBS:
		return "cobs"
	case DropCRC:
		return "crc"
	case DropReserved:
		return "reserved"
	case DropOversize:
		return "oversize"
	case DropGarbage:
		return "garbage"
	case DropMalformed:
		return "malformed"
	}
	return fmt.Sprintf("DropReason(%d)", uint8(r))
}

// Decoder turns a byte stream into frames. Feed it bytes in chunks of any
// size, down to one byte at a time. Damaged frames and line noise are
// dropped and counted by DropReason; they never produce an error. Empty
// frames (0x00 0x00) are ignored.
//
// COBS decoding and the CRC run as bytes arrive, so memory is bounded by one
// buffer of the maximum payload plus FrameOverhead, whatever the input. A run
// that overflows the buffer is still checked to the end: if it turns out to be
// a valid frame it counts as DropOversize, otherwise as DropGarbage.
//
// A Decoder is used by one goroutine; Dropped and Frames may be called from
// any goroutine.
type Decoder struct {
	buf    []byte // decoded body; len is the capacity limit, max payload + FrameOverhead
	n      int    // decoded body bytes so far, saturating at len(buf)+1
	crc    uint16 // running CRC over the decoded body, including its CRC octets
	remain int    // data octets left in the current COBS block; 0: next octet is a code
	zero   bool   // the current block ends in an implied zero, owed when another block follows
	inRun  bool   // a non-zero octet has arrived since the last delimiter

	frames atomic.Uint64
	drops  [DropReasonCount]atomic.Uint64
}

// NewDecoder returns a decoder that accepts WAMP payloads of up to
// maxPayload bytes. Values below MaxPingPayload are raised to it.
func NewDecoder(maxPayload int) *Decoder {
	maxPayload = max(maxPayload, MaxPingPayload)
	d := &Decoder{buf: make([]byte, maxPayload+FrameOverhead)}
	d.Reset()
	return d
}

// MaxPayload returns the largest WAMP payload the decoder accepts.
func (d *Decoder) MaxPayload() int { return len(d.buf) - FrameOverhead }

// Reset discards a partly received frame without counting it.
func (d *Decoder) Reset() {
	d.n = 0
	d.crc = crcInit
	d.remain = 0
	d.zero = false
	d.inRun = false
}

// Dropped returns how many frames were dropped for reason r.
func (d *Decoder) Dropped(r DropReason) uint64 {
	if int(r) >= len(d.drops) {
		return 0
	}
	return d.drops[r].Load()
}

// Frames returns how many frames were decoded.
func (d *Decoder) Frames() uint64 { return d.frames.Load() }

// Feed consumes bytes from p up to and including the end of the next good
// frame and returns how many it consumed. When ok is true, f is that frame;
// its Payload is valid until the next call to Feed. When ok is false, all of
// p was consumed without completing a frame. Call Feed again with p[n:]
// until p is used up.
func (d *Decoder) Feed(p []byte) (n int, f Frame, ok bool) {
	i := 0
	for i < len(p) {
		b := p[i]
		if b == 0 {
			i++
			if !d.inRun {
				continue // leading zero or empty frame
			}
			if f, ok = d.end(); ok {
				return i, f, true
			}
			continue
		}
		d.inRun = true
		if d.remain == 0 {
			// A code octet opens a block of b-1 data octets.
			if d.zero {
				d.put([]byte{0})
			}
			d.remain = int(b) - 1
			d.zero = b != 0xFF
			i++
			continue
		}
		k := min(d.remain, len(p)-i)
		seg := p[i : i+k]
		if z := bytes.IndexByte(seg, 0); z >= 0 {
			seg = seg[:z] // the delimiter cuts the block short
		}
		d.put(seg)
		d.remain -= len(seg)
		i += len(seg)
	}
	return i, Frame{}, false
}

// put appends decoded body bytes.
func (d *Decoder) put(seg []byte) {
	d.crc = crcUpdate(d.crc, seg)
	if d.n < len(d.buf) {
		copy(d.buf[d.n:], seg)
	}
	d.n = min(d.n+len(seg), len(d.buf)+1)
}

// end completes the run closed by a delimiter and resets the state.
func (d *Decoder) end() (Frame, bool) {
	n, crc, remain := d.n, d.crc, d.remain
	d.Reset()
	// Appending a frame's own big-endian CRC to it leaves a remainder of
	// zero, so the check needs no look-behind for the CRC octets.
	switch {
	case n > len(d.buf):
		if remain == 0 && crc == 0 {
			return d.drop(DropOversize)
		}
		return d.drop(DropGarbage)
	case remain != 0:
		return d.drop(DropCOBS)
	case n < FrameOverhead:
		return d.drop(DropMalformed)
	case crc != 0:
		return d.drop(DropCRC)
	}
	t := d.buf[0]
	if t&^0x07 != 0 || FrameType(t) > FrameReset {
		return d.drop(DropReserved)
	}
	f := Frame{Type: FrameType(t), Seq: d.buf[1], Payload: d.buf[2 : n-2 : n-2]}
	switch f.Type {
	case FramePing, FramePong:
		if len(f.Payload) > MaxPingPayload {
			return d.drop(DropOversize)
		}
	case FrameHandshake:
		if len(f.Payload) != HandshakeSize {
			return d.drop(DropMalformed)
		}
	case FrameReset:
		if len(f.Payload) != 0 {
			return d.drop(DropMalformed)
		}
	}
	d.frames.Add(1)
	return f, true
}

func (d *Decoder) drop(r DropReason) (Frame, bool) {
	d.drops[r].Add(1)
	return Frame{}, false
}
