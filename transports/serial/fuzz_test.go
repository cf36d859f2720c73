package serial

import (
	"bytes"
	"slices"
	"testing"
)

// fuzzMax is a small payload limit so the fuzzer reaches the overflow paths.
const fuzzMax = 64

// FuzzDecoder feeds arbitrary bytes to a Decoder and checks that it never
// panics, keeps its memory bounded, returns only valid frames, and decodes
// the same way whatever the chunking. It then checks the round trip: a frame
// made by AppendFrame after arbitrary noise and a leading zero decodes to the
// same frame.
func FuzzDecoder(f *testing.F) {
	for _, v := range specVectors {
		f.Add(unhex(f, v.wire), uint8(v.typ), v.seq, uint8(1))
	}
	f.Add([]byte{}, uint8(0), uint8(0), uint8(0))
	f.Add([]byte{0, 0, 0, 1, 1, 0, 0xff}, uint8(4), uint8(0), uint8(2))
	f.Add(bytes.Repeat([]byte("garbage "), 40), uint8(1), uint8(200), uint8(7))
	f.Fuzz(func(t *testing.T, data []byte, typ, seq, chunk uint8) {
		ref := NewDecoder(fuzzMax)
		bufLen, bufCap := len(ref.buf), cap(ref.buf)
		want := feedAll(ref, data, 1)
		for _, fr := range want {
			if fr.typ > FrameReset {
				t.Fatalf("frame with reserved type %v", fr.typ)
			}
			if len(fr.payload) > payloadLimit(fr.typ) {
				t.Fatalf("%v frame with %d byte payload", fr.typ, len(fr.payload))
			}
		}
		if len(ref.buf) != bufLen || cap(ref.buf) != bufCap {
			t.Fatalf("decoder buffer changed from %d/%d to %d/%d", bufLen, bufCap, len(ref.buf), cap(ref.buf))
		}
		d := NewDecoder(fuzzMax)
		got := feedAll(d, data, int(chunk%64)+1)
		if !slices.Equal(got, want) || drops(d) != drops(ref) {
			t.Fatalf("chunked decode differs: %v %v\nbyte-at-a-time:    %v %v", got, drops(d), want, drops(ref))
		}

		// Round trip after noise.
		ft := FrameType(typ % 5)
		payload := data
		switch ft {
		case FrameWAMP:
			payload = payload[:min(len(payload), fuzzMax)]
		case FramePing, FramePong:
			payload = payload[:min(len(payload), MaxPingPayload)]
		case FrameHandshake:
			payload = append(append([]byte(nil), payload...), 0, 0, 0, 0)[:HandshakeSize]
		case FrameReset:
			payload = nil
		}
		stream := AppendFrame(append([]byte(nil), data...), ft, seq, payload, true)
		frames := feedAll(d, stream, int(chunk%16)+1)
		if len(frames) == 0 {
			t.Fatalf("round trip: no frame decoded")
		}
		if last, w := frames[len(frames)-1], (decoded{ft, seq, string(payload)}); last != w {
			t.Fatalf("round trip: got %v, want %v", last, w)
		}
	})
}

func payloadLimit(t FrameType) int {
	switch t {
	case FrameWAMP:
		return fuzzMax
	case FramePing, FramePong:
		return MaxPingPayload
	case FrameHandshake:
		return HandshakeSize
	}
	return 0
}
