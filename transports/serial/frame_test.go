package serial

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/wampgate/wampgate/transports"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// naiveCOBSDecode is a straightforward, non-streaming COBS decoder used as a
// reference for the encoder. It expects the encoded bytes without the
// closing zero.
func naiveCOBSDecode(enc []byte) ([]byte, bool) {
	var out []byte
	for i := 0; i < len(enc); {
		code := int(enc[i])
		if code == 0 || i+code > len(enc) {
			return nil, false
		}
		for _, b := range enc[i+1 : i+code] {
			if b == 0 {
				return nil, false
			}
			out = append(out, b)
		}
		i += code
		if code != 0xFF && i < len(enc) {
			out = append(out, 0)
		}
	}
	return out, true
}

func cobsEncode(p []byte) []byte {
	e := cobsEncoder{}
	e.start()
	e.write(p)
	return e.finish()
}

func TestCRC16Check(t *testing.T) {
	if got := CRC16([]byte("123456789")); got != 0x29B1 {
		t.Fatalf("CRC16(123456789) = %#04x, want 0x29b1", got)
	}
	// Bitwise reference, independent of the table.
	bitwise := func(p []byte) uint16 {
		c := uint16(0xFFFF)
		for _, b := range p {
			c ^= uint16(b) << 8
			for range 8 {
				if c&0x8000 != 0 {
					c = c<<1 ^ 0x1021
				} else {
					c <<= 1
				}
			}
		}
		return c
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		p := make([]byte, r.IntN(300))
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		c := CRC16(p)
		if w := bitwise(p); c != w {
			t.Fatalf("CRC16 = %#04x, bitwise = %#04x", c, w)
		}
		// The decoder relies on a zero remainder over message+CRC.
		if res := CRC16(append(p, byte(c>>8), byte(c))); res != 0 {
			t.Fatalf("residue over message and CRC = %#04x, want 0", res)
		}
	}
}

// The four vectors of docs/serial-framing.md, byte for byte.
var specVectors = []struct {
	name    string
	typ     FrameType
	seq     uint8
	payload string
	wire    string
}{
	{"handshake", FrameHandshake, 0, "7f 03 00 00", "02 03 03 7f 03 01 03 0f 3b 00"},
	{
		"wamp-call", FrameWAMP, 1,
		"85 18 30 01 a0 70 63 6f 6d 2e 65 78 61 6d 70 6c 65 2e 61 64 64 32 82 02 03",
		"01 1d 01 85 18 30 01 a0 70 63 6f 6d 2e 65 78 61 6d 70 6c 65 2e 61 64 64 32 82 02 03 8c 96 00",
	},
	{"reset", FrameReset, 0, "", "02 04 03 d1 cb 00"},
	{"ping", FramePing, 0, "01 02 03 04", "02 01 07 01 02 03 04 46 b3 00"},
}

func TestSpecVectorsEncode(t *testing.T) {
	for _, v := range specVectors {
		t.Run(v.name, func(t *testing.T) {
			payload := unhex(t, v.payload)
			want := unhex(t, v.wire)
			got := AppendFrame(nil, v.typ, v.seq, payload, false)
			if !bytes.Equal(got, want) {
				t.Fatalf("AppendFrame = % x\nwant           % x", got, want)
			}
			got = AppendFrame([]byte{0xAA}, v.typ, v.seq, payload, true)
			if !bytes.Equal(got, append([]byte{0xAA, 0}, want...)) {
				t.Fatalf("AppendFrame with prefix and leading zero = % x", got)
			}
		})
	}
	// The handshake vector is limit 512 with CBOR.
	h := NewHandshake(512, transports.CBOR)
	if !bytes.Equal(h[:], unhex(t, specVectors[0].payload)) {
		t.Fatalf("NewHandshake(512, CBOR) = % x", h[:])
	}
	if n := len(unhex(t, specVectors[1].payload)); n != 25 {
		t.Fatalf("CALL vector payload is %d bytes, want 25", n)
	}
	if n := len(unhex(t, specVectors[1].wire)); n != 31 {
		t.Fatalf("CALL vector is %d bytes on the wire, want 31", n)
	}
}

func TestSpecVectorsDecode(t *testing.T) {
	for _, v := range specVectors {
		t.Run(v.name, func(t *testing.T) {
			wire := unhex(t, v.wire)
			for _, in := range [][]byte{wire, append([]byte{0}, wire...)} {
				d := NewDecoder(512)
				n, f, ok := d.Feed(in)
				if !ok || n != len(in) {
					t.Fatalf("Feed(% x) = %d, %v, want a frame after %d bytes", in, n, ok, len(in))
				}
				if f.Type != v.typ || f.Seq != v.seq || !bytes.Equal(f.Payload, unhex(t, v.payload)) {
					t.Fatalf("frame = %v seq %d % x, want %v seq %d %s", f.Type, f.Seq, f.Payload, v.typ, v.seq, v.payload)
				}
			}
		})
	}
}

func TestCOBSEncodeCases(t *testing.T) {
	run := func(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		in   []byte
		want []byte
	}{
		{"empty", nil, []byte{0x01, 0}},
		{"zero", []byte{0}, []byte{0x01, 0x01, 0}},
		{"two zeros", []byte{0, 0}, []byte{0x01, 0x01, 0x01, 0}},
		{"one", []byte{0x11}, []byte{0x02, 0x11, 0}},
		{"mixed", []byte{0x11, 0x22, 0x00, 0x33}, []byte{0x03, 0x11, 0x22, 0x02, 0x33, 0}},
		{"trailing zero", []byte{0x11, 0}, []byte{0x02, 0x11, 0x01, 0}},
		{"253", run(253, 7), cat([]byte{0xFE}, run(253, 7), []byte{0})},
		{"254 no trailing 01", run(254, 7), cat([]byte{0xFF}, run(254, 7), []byte{0})},
		{"255", run(255, 7), cat([]byte{0xFF}, run(254, 7), []byte{0x02, 7, 0})},
		{"254 then zero", cat(run(254, 7), []byte{0}), cat([]byte{0xFF}, run(254, 7), []byte{0x01, 0x01, 0})},
		{"508", run(508, 7), cat([]byte{0xFF}, run(254, 7), []byte{0xFF}, run(254, 7), []byte{0})},
		{"zero then 254", cat([]byte{0}, run(254, 7)), cat([]byte{0x01, 0xFF}, run(254, 7), []byte{0})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cobsEncode(tt.in)
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("encode = % x\nwant     % x", got, tt.want)
			}
			// The byte-at-a-time path must agree with the bulk path.
			e := cobsEncoder{}
			e.start()
			for _, b := range tt.in {
				e.writeByte(b)
			}
			if got := e.finish(); !bytes.Equal(got, tt.want) {
				t.Fatalf("writeByte encode = % x", got)
			}
		})
	}
}

func TestCOBSRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		n := r.IntN(1200)
		zeroEvery := 1 + r.IntN(600)
		p := make([]byte, n)
		for j := range p {
			if r.IntN(zeroEvery) != 0 {
				p[j] = byte(1 + r.IntN(255))
			}
		}
		enc := cobsEncode(p)
		body := enc[:len(enc)-1]
		if enc[len(enc)-1] != 0 || bytes.IndexByte(body, 0) >= 0 {
			t.Fatalf("case %d: encoding has a zero inside or no delimiter", i)
		}
		if over := len(body) - n; over < 1 || over > (n+253)/254+1 {
			t.Fatalf("case %d: overhead %d for %d bytes", i, over, n)
		}
		dec, ok := naiveCOBSDecode(body)
		if !ok || !bytes.Equal(dec, p) {
			t.Fatalf("case %d: round trip failed (ok=%v)", i, ok)
		}
	}
}

func TestMaxEncodedLen(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := range 2000 {
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(1 + r.IntN(255)) // no zeros: the worst case
		}
		got := len(AppendFrame(nil, FramePing, 1, p, true))
		if max := MaxEncodedLen(n); got > max {
			t.Fatalf("payload %d: frame is %d bytes, MaxEncodedLen says %d", n, got, max)
		}
	}
}

func TestHandshake(t *testing.T) {
	tests := []struct {
		max     int
		wantLen int
	}{
		{0, 512}, {511, 512}, {512, 512}, {1023, 512}, {1024, 1024},
		{65535, 32768}, {65536, 65536}, {1 << 24, 1 << 24}, {1 << 30, 1 << 24},
	}
	for _, tt := range tests {
		h := NewHandshake(tt.max, transports.MsgPack)
		if h.MaxLen() != tt.wantLen || h.Serializer() != transports.MsgPack || h.Code() != 0 {
			t.Errorf("NewHandshake(%d) = % x: len %d ser %v code %v", tt.max, h[:], h.MaxLen(), h.Serializer(), h.Code())
		}
		if RoundMessageSize(tt.max) != tt.wantLen {
			t.Errorf("RoundMessageSize(%d) = %d, want %d", tt.max, RoundMessageSize(tt.max), tt.wantLen)
		}
		if _, code := ParseHandshake(h[:]); code != 0 {
			t.Errorf("ParseHandshake(% x) code %v", h[:], code)
		}
	}
	e := NewHandshakeError(CodeMaxLenUnacceptable)
	if want := []byte{0x7f, 0x20, 0, 0}; !bytes.Equal(e[:], want) || e.Code() != CodeMaxLenUnacceptable {
		t.Fatalf("NewHandshakeError = % x code %v", e[:], e.Code())
	}
	for _, bad := range [][]byte{{0x7f, 0x03, 0}, {0x7e, 0x03, 0, 0}, {0x7f, 0x03, 1, 0}, {0x7f, 0x03, 0, 1}} {
		if _, code := ParseHandshake(bad); code != CodeReservedBits {
			t.Errorf("ParseHandshake(% x) code %v, want %v", bad, code, CodeReservedBits)
		}
	}
}

func TestFrameTypeString(t *testing.T) {
	want := []string{"WAMP", "PING", "PONG", "HANDSHAKE", "RESET", "FrameType(5)"}
	for i, w := range want {
		if got := FrameType(i).String(); got != w {
			t.Errorf("FrameType(%d) = %q, want %q", i, got, w)
		}
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	payload := bytes.Repeat([]byte{1, 2, 3, 0, 5}, 60)
	buf := make([]byte, 0, MaxEncodedLen(len(payload)))
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		buf = AppendFrame(buf[:0], FrameWAMP, 7, payload, true)
	}
}
