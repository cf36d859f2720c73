package firmwaresim

import (
	"bytes"
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/wampgate/wampgate/transports/serial"
)

// FuzzLoadFleetConfig: any file either fails with ErrInvalidConfig or
// gives device configurations that StartDevice's validation accepts.
func FuzzLoadFleetConfig(f *testing.F) {
	f.Add([]byte(`{"count": 2, "defaults": {"baud": 9600}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := LoadFleetConfig(bytes.NewReader(data), FleetConfig{Count: 1})
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("error %v does not wrap ErrInvalidConfig", err)
			}
			return
		}
		if cfg.Count > 1000 {
			return
		}
		dcs, err := cfg.DeviceConfigs()
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("DeviceConfigs error %v does not wrap ErrInvalidConfig", err)
			}
			return
		}
		for _, dc := range dcs {
			if dc.Mode == ModeTCPSerial { // the listen address is only checked by Listen
				continue
			}
			if _, err := dc.withDefaults(); err != nil {
				t.Fatalf("loaded config %+v is invalid: %v", dc, err)
			}
		}
	})
}

// FuzzFaultStream: the output is the input with the counted drops and
// garbage, whatever the rates and chunking, and the same seed replays it.
func FuzzFaultStream(f *testing.F) {
	f.Add([]byte("hello, line"), 0.01, 0.01, 0.01, 0.01, int64(1), uint8(3))
	f.Fuzz(func(t *testing.T, src []byte, ber, drop, garbage, stall float64, seed int64, chunk uint8) {
		clamp := func(p float64) float64 {
			if math.IsNaN(p) || p < 0 {
				return 0
			}
			return math.Min(p, 1)
		}
		cfg := LineFaults{BitErrorRate: clamp(ber), DropRate: clamp(drop), GarbageRate: clamp(garbage),
			StallRate: clamp(stall), GarbageLen: 4}
		run := func(chunk int) ([]byte, DirectionStats) {
			var st dirCounters
			fs := newFaultStream(cfg, newRand(seed, streamRX), &st)
			var out []byte
			for p := src; len(p) > 0; {
				q := p[:min(chunk, len(p))]
				p = p[len(q):]
				for len(q) > 0 {
					var n int
					out, n, _ = fs.mangle(out, q)
					q = q[n:]
				}
			}
			return out, st.snapshot()
		}
		a, st := run(len(src) + 1)
		b, _ := run(int(chunk) + 1)
		if !bytes.Equal(a, b) {
			t.Fatal("chunking changed the faults")
		}
		if want := uint64(len(src)) - st.DroppedBytes + st.GarbageBytes; uint64(len(a)) != want {
			t.Fatalf("output %d bytes, want %d", len(a), want)
		}
		if cfg == (LineFaults{GarbageLen: 4}) && !bytes.Equal(a, src) {
			t.Fatal("a clean line changed the bytes")
		}
	})
}

// FuzzDeviceLinkInput: whatever the gateway side sends, the link neither
// panics nor stalls, and a session it reports can be accepted.
func FuzzDeviceLinkInput(f *testing.F) {
	hs := serial.NewHandshake(1024, 3)
	f.Add(serial.AppendFrame(serial.AppendFrame(nil, serial.FrameHandshake, 0, hs[:], true), serial.FrameWAMP, 0, []byte{0x81, 0x01}, false))
	f.Fuzz(func(t *testing.T, data []byte) {
		rw := newCaptureRW()
		l, err := NewDeviceLink(rw, LinkConfig{Baud: -1, HandshakeRetry: noRetry})
		if err != nil {
			t.Fatal(err)
		}
		// Drain the sessions, as a WAMP client would.
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			for {
				c, err := l.Accept(context.Background())
				if err != nil {
					return
				}
				for {
					if _, err := c.Read(); err != nil {
						break
					}
				}
			}
		}()
		defer func() {
			l.Close()
			<-drained
		}()
		for p := data; len(p) > 0; {
			k := min(len(p), 64)
			select {
			case rw.in <- p[:k]:
			case <-time.After(testTimeout):
				t.Fatal("the link stopped reading")
			}
			p = p[k:]
		}
		// One more (empty) chunk: the previous one has been fed.
		rw.in <- nil
		if c := l.current(); c != nil {
			if err := c.Write([][]byte{[]byte("x")}); err != nil && c.ended() == nil {
				t.Fatalf("Write on a live session: %v", err)
			}
		}
	})
}
