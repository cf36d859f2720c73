package firmwaresim

import (
	"testing"

	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/serial"
)

func BenchmarkFaultStream(b *testing.B) {
	src := make([]byte, 4096)
	for i := range src {
		src[i] = byte(i)
	}
	var st dirCounters
	f := newFaultStream(LineFaults{BitErrorRate: 1e-4, DropRate: 1e-4, GarbageRate: 1e-4}, newRand(1, streamTX), &st)
	out := make([]byte, 0, 8192)
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		for p := src; len(p) > 0; {
			var n int
			out, n, _ = f.mangle(out[:0], p)
			p = p[n:]
		}
	}
}

// BenchmarkLinkWrite measures framing one WAMP message on an unpaced,
// fault-free link.
func BenchmarkLinkWrite(b *testing.B) {
	rw := newCaptureRW()
	rw.discard = true
	l, err := NewDeviceLink(rw, LinkConfig{Baud: -1, HandshakeRetry: noRetry})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	<-rw.wrote
	reply := serial.NewHandshake(4096, transports.CBOR)
	rw.in <- serial.AppendFrame(nil, serial.FrameHandshake, 0, reply[:], true)
	c, err := l.Accept(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	msg := [][]byte{make([]byte, 30)} // an EVENT {temp, hum}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
}
