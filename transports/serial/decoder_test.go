package serial

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// decoded is a frame with its payload copied out of the decoder buffer.
type decoded struct {
	typ     FrameType
	seq     uint8
	payload string
}

func (f decoded) String() string { return fmt.Sprintf("%v/%d/% x", f.typ, f.seq, f.payload) }

// feedAll feeds in to d in chunks of the given size (0: all at once) and
// returns the frames in order.
func feedAll(d *Decoder, in []byte, chunk int) []decoded {
	var out []decoded
	if chunk <= 0 {
		chunk = len(in) + 1
	}
	for len(in) > 0 {
		c := in[:min(chunk, len(in))]
		in = in[len(c):]
		for len(c) > 0 {
			n, f, ok := d.Feed(c)
			if n == 0 || n > len(c) {
				panic(fmt.Sprintf("Feed consumed %d of %d bytes", n, len(c)))
			}
			c = c[n:]
			if ok {
				out = append(out, decoded{f.Type, f.Seq, string(f.Payload)})
			}
		}
	}
	return out
}

func drops(d *Decoder) [DropReasonCount]uint64 {
	var s [DropReasonCount]uint64
	for r := range s {
		s[r] = d.Dropped(DropReason(r))
	}
	return s
}

func assertFrames(t *testing.T, got []decoded, want ...decoded) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("frames = %v\nwant     %v", got, want)
	}
}

func TestDecoderEmptyFramesAndLeadingZeros(t *testing.T) {
	d := NewDecoder(512)
	var in []byte
	in = append(in, 0, 0, 0)
	in = AppendFrame(in, FramePing, 0, []byte{9}, true)
	in = append(in, 0, 0)
	in = AppendFrame(in, FrameWAMP, 3, []byte("hi"), false)
	got := feedAll(d, in, 1)
	assertFrames(t, got, decoded{FramePing, 0, "\x09"}, decoded{FrameWAMP, 3, "hi"})
	if s := drops(d); s != [DropReasonCount]uint64{} {
		t.Fatalf("drops = %v, want none", s)
	}
	if d.Frames() != 2 {
		t.Fatalf("Frames() = %d, want 2", d.Frames())
	}
}

// A body whose final run is exactly 254 non-zero bytes is encoded without a
// trailing 0x01 code; the decoder accepts it with or without.
func TestDecoderFinalFullRun(t *testing.T) {
	// Body: type 0 (a zero), then seq, payload and CRC as one run of 254
	// non-zero bytes. Vary the payload until the CRC has no zero octet.
	var payload []byte
	var frame []byte
	for v := byte(1); ; v++ {
		payload = bytes.Repeat([]byte{0x55}, 251)
		payload[0] = v
		frame = AppendFrame(nil, FrameWAMP, 1, payload, false)
		crc := CRC16(append([]byte{0, 1}, payload...))
		if byte(crc>>8) != 0 && byte(crc) != 0 {
			break
		}
	}
	if len(frame) != 1+1+254+1 || frame[1] != 0xFF {
		t.Fatalf("frame is %d bytes, code %#x: want 01 ff <254 bytes> 00", len(frame), frame[1])
	}
	withCode := append(append([]byte(nil), frame[:len(frame)-1]...), 0x01, 0x00)
	for name, in := range map[string][]byte{"without 01": frame, "with 01": withCode} {
		for _, chunk := range []int{0, 1, 7} {
			d := NewDecoder(512)
			got := feedAll(d, in, chunk)
			assertFrames(t, got, decoded{FrameWAMP, 1, string(payload)})
			if s := drops(d); s != [DropReasonCount]uint64{} {
				t.Fatalf("%s chunk %d: drops %v", name, chunk, s)
			}
		}
	}
}

func TestDecoderDrops(t *testing.T) {
	good := AppendFrame(nil, FrameWAMP, 0, []byte("ok"), true)
	corruptCRC := AppendFrame(nil, FrameWAMP, 0, []byte("abc"), false)
	corruptCRC[3] ^= 0x01
	bigWAMP := AppendFrame(nil, FrameWAMP, 0, bytes.Repeat([]byte{1}, 513), false)
	tests := []struct {
		name string
		in   []byte
		want DropReason
	}{
		{"crc", corruptCRC, DropCRC},
		{"cobs truncated block", []byte{0x05, 0x11, 0x22, 0x00}, DropCOBS},
		{"reserved type 5", AppendFrame(nil, 5, 0, nil, false), DropReserved},
		{"reserved high bit", AppendFrame(nil, 0x80|FramePing, 0, nil, false), DropReserved},
		{"reserved bit 3", AppendFrame(nil, 0x08, 0, nil, false), DropReserved},
		{"ping payload 17", AppendFrame(nil, FramePing, 0, make([]byte, 17), false), DropOversize},
		{"pong payload 17", AppendFrame(nil, FramePong, 0, make([]byte, 17), false), DropOversize},
		{"wamp over limit", bigWAMP, DropOversize},
		{"garbage run", append(bytes.Repeat([]byte("console text "), 100), 0), DropGarbage},
		{"short body", []byte{0x03, 0x11, 0x22, 0x00}, DropMalformed},
		{"one byte", []byte{0x01, 0x00}, DropMalformed},
		{"handshake 3 bytes", AppendFrame(nil, FrameHandshake, 0, []byte{0x7f, 3, 0}, false), DropMalformed},
		{"reset with payload", AppendFrame(nil, FrameReset, 0, []byte{1}, false), DropMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunk := range []int{0, 1, 3} {
				d := NewDecoder(512)
				in := append(append([]byte(nil), tt.in...), good...)
				got := feedAll(d, in, chunk)
				// The good frame after the damage is always found.
				assertFrames(t, got, decoded{FrameWAMP, 0, "ok"})
				var want [DropReasonCount]uint64
				want[tt.want] = 1
				if s := drops(d); s != want {
					t.Fatalf("chunk %d: drops = %v, want one %v", chunk, s, tt.want)
				}
			}
		})
	}
}

func TestDecoderLimits(t *testing.T) {
	d := NewDecoder(512)
	if d.MaxPayload() != 512 {
		t.Fatalf("MaxPayload = %d", d.MaxPayload())
	}
	max := bytes.Repeat([]byte{0, 1}, 256)
	got := feedAll(d, AppendFrame(nil, FrameWAMP, 9, max, false), 5)
	assertFrames(t, got, decoded{FrameWAMP, 9, string(max)})
	ping := bytes.Repeat([]byte{0xEE}, MaxPingPayload)
	got = feedAll(d, AppendFrame(nil, FramePing, 0, ping, false), 0)
	assertFrames(t, got, decoded{FramePing, 0, string(ping)})
	if NewDecoder(0).MaxPayload() != MaxPingPayload {
		t.Fatalf("NewDecoder(0).MaxPayload() = %d", NewDecoder(0).MaxPayload())
	}
}

// Memory stays bounded however long a run without delimiter is.
func TestDecoderBoundedMemory(t *testing.T) {
	d := NewDecoder(512)
	bufCap := cap(d.buf)
	noise := bytes.Repeat([]byte{0xA5, 0x5A, 0x01, 0xFF}, 1<<18) // 1 MiB, no zero
	for i := 0; i < len(noise); i += 4096 {
		if _, _, ok := d.Feed(noise[i : i+4096]); ok {
			t.Fatal("frame decoded from noise")
		}
	}
	if cap(d.buf) != bufCap {
		t.Fatalf("buffer grew from %d to %d", bufCap, cap(d.buf))
	}
	got := feedAll(d, AppendFrame(nil, FramePong, 0, nil, true), 0)
	assertFrames(t, got, decoded{FramePong, 0, ""})
	if d.Dropped(DropGarbage) != 1 {
		t.Fatalf("garbage drops = %d, want 1", d.Dropped(DropGarbage))
	}
}

func TestDecoderChunkingEquivalence(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var stream []byte
	var want []decoded
	for range 300 {
		typ := FrameType(r.IntN(5))
		var payload []byte
		switch typ {
		case FrameWAMP:
			payload = make([]byte, r.IntN(600))
		case FramePing, FramePong:
			payload = make([]byte, r.IntN(17))
		case FrameHandshake:
			payload = make([]byte, 4)
		}
		for i := range payload {
			if r.IntN(4) != 0 {
				payload[i] = byte(r.Uint32())
			}
		}
		seq := uint8(r.Uint32())
		stream = AppendFrame(stream, typ, seq, payload, r.IntN(2) == 0)
		if len(payload) <= 512 {
			want = append(want, decoded{typ, seq, string(payload)})
		}
		if r.IntN(3) == 0 {
			// Noise: ends with a zero so the next frame starts clean.
			noise := make([]byte, r.IntN(40))
			for i := range noise {
				noise[i] = byte(r.Uint32())
			}
			stream = append(append(stream, noise...), 0)
		}
	}
	ref := feedAll(NewDecoder(512), stream, 1)
	for _, chunk := range []int{0, 2, 13, 255, 4096} {
		got := feedAll(NewDecoder(512), stream, chunk)
		if fmt.Sprint(got) != fmt.Sprint(ref) {
			t.Fatalf("chunk %d decodes differently from byte-at-a-time", chunk)
		}
	}
	// Every frame sent is found, in order (noise may add lucky extra frames
	// only with a 1 in 65536 CRC chance; the seed here has none).
	assertFrames(t, ref, want...)
}

func TestDecoderNoAllocs(t *testing.T) {
	var stream []byte
	stream = AppendFrame(stream, FrameWAMP, 1, bytes.Repeat([]byte{1, 0, 2}, 100), true)
	stream = AppendFrame(stream, FramePing, 0, []byte{1, 2, 3}, false)
	stream = append(stream, 0x13, 0x14, 0x00) // a COBS drop
	d := NewDecoder(1024)
	buf := make([]byte, 0, 2048)
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendFrame(buf[:0], FrameWAMP, 2, stream[:50], true)
		for p := stream; len(p) > 0; {
			n, _, _ := d.Feed(p)
			p = p[n:]
		}
	})
	if allocs != 0 {
		t.Fatalf("AppendFrame+Feed allocate %.1f times per run, want 0", allocs)
	}
}

func BenchmarkDecoder(b *testing.B) {
	payload := bytes.Repeat([]byte{1, 2, 3, 0, 5}, 60)
	var stream []byte
	for range 16 {
		stream = AppendFrame(stream, FrameWAMP, 1, payload, false)
	}
	d := NewDecoder(1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		for p := stream; len(p) > 0; {
			n, _, _ := d.Feed(p)
			p = p[n:]
		}
	}
}
