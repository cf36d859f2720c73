package firmwaresim

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/serial"
)

// mangleAll runs src through a fault stream in chunks of chunk bytes and
// returns the output and the stalls, with the position they came at.
func mangleAll(cfg LineFaults, seed int64, src []byte, chunk int) ([]byte, []int) {
	var st dirCounters
	f := newFaultStream(cfg, newRand(seed, streamTX), &st)
	var out []byte
	var stalls []int
	for len(src) > 0 {
		p := src[:min(chunk, len(src))]
		src = src[len(p):]
		for len(p) > 0 {
			var n int
			var stall time.Duration
			out, n, stall = f.mangle(out, p)
			p = p[n:]
			if stall > 0 {
				stalls = append(stalls, len(out))
			}
		}
	}
	return out, stalls
}

func TestFaultStreamSeeded(t *testing.T) {
	src := make([]byte, 50000)
	for i := range src {
		src[i] = byte(i * 7)
	}
	cfg := LineFaults{BitErrorRate: 1e-3, DropRate: 1e-3, GarbageRate: 1e-3, GarbageLen: 8, StallRate: 1e-3}
	a, sa := mangleAll(cfg, 42, src, 1<<20)
	// The same seed gives the same faults, however the bytes are chunked.
	b, sb := mangleAll(cfg, 42, src, 13)
	if !bytes.Equal(a, b) || fmt.Sprint(sa) != fmt.Sprint(sb) {
		t.Fatal("same seed, different fault stream")
	}
	c, _ := mangleAll(cfg, 43, src, 1<<20)
	if bytes.Equal(a, c) {
		t.Fatal("different seeds, same fault stream")
	}
	if bytes.Equal(a, src) || len(sa) == 0 {
		t.Fatal("no faults injected")
	}
	clean, stalls := mangleAll(LineFaults{}, 42, src, 1<<20)
	if !bytes.Equal(clean, src) || len(stalls) != 0 {
		t.Fatal("a clean line changed the bytes")
	}
}

// The rates hold on average (for a fixed seed this is exact, not flaky).
func TestFaultStreamRates(t *testing.T) {
	const n = 200000 // bytes
	src := make([]byte, n)
	tests := []struct {
		name string
		cfg  LineFaults
		get  func(DirectionStats) uint64
		want float64
	}{
		{"bit errors", LineFaults{BitErrorRate: 1e-3}, func(s DirectionStats) uint64 { return s.BitErrors }, 8 * n * 1e-3},
		{"drops", LineFaults{DropRate: 1e-2}, func(s DirectionStats) uint64 { return s.DroppedBytes }, n * 1e-2},
		{"garbage", LineFaults{GarbageRate: 1e-3}, func(s DirectionStats) uint64 { return s.GarbageBursts }, n * 1e-3},
		{"stalls", LineFaults{StallRate: 1e-3}, func(s DirectionStats) uint64 { return s.Stalls }, n * 1e-3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st dirCounters
			f := newFaultStream(tt.cfg, newRand(1, streamTX), &st)
			var out []byte
			for p := src; len(p) > 0; {
				var k int
				out, k, _ = f.mangle(out[:0], p)
				p = p[k:]
			}
			got := float64(tt.get(st.snapshot()))
			if got < 0.8*tt.want || got > 1.2*tt.want {
				t.Fatalf("%v events, want about %v", got, tt.want)
			}
		})
	}
	// Every flipped bit shows in the output.
	var st dirCounters
	f := newFaultStream(LineFaults{BitErrorRate: 1e-3}, newRand(3, streamTX), &st)
	out, _, _ := f.mangle(nil, src)
	flips := 0
	for _, b := range out {
		for ; b != 0; b &= b - 1 {
			flips++
		}
	}
	equal(t, "flipped bits", uint64(flips), st.snapshot().BitErrors)
}

// captureRW records what a link writes (unless discard is set) and feeds
// it what the test sends.
type captureRW struct {
	mu      sync.Mutex
	out     bytes.Buffer
	discard bool
	wrote   chan struct{} // cap 1
	in      chan []byte
	closed  chan struct{}
	once    sync.Once
}

func newCaptureRW() *captureRW {
	return &captureRW{wrote: make(chan struct{}, 1), in: make(chan []byte), closed: make(chan struct{})}
}

func (c *captureRW) Read(p []byte) (int, error) {
	select {
	case b := <-c.in:
		return copy(p, b), nil
	case <-c.closed:
		return 0, io.EOF
	}
}

func (c *captureRW) Write(p []byte) (int, error) {
	c.mu.Lock()
	if !c.discard {
		c.out.Write(p)
	}
	c.mu.Unlock()
	select {
	case c.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (c *captureRW) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

func (c *captureRW) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.out.Bytes())
}

// linkByteStream runs a link with transmit faults and misbehaviour through
// a fixed sequence of messages and returns the bytes it put on the line.
func linkByteStream(t *testing.T, seed int64, faults FaultConfig) ([]byte, LinkStats) {
	rw := newCaptureRW()
	l, err := NewDeviceLink(rw, LinkConfig{Baud: -1, HandshakeRetry: noRetry, Seed: seed, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	<-rw.wrote // the first HANDSHAKE is under way
	reply := serial.NewHandshake(512, transports.CBOR)
	rw.in <- serial.AppendFrame(nil, serial.FrameHandshake, 0, reply[:], true)
	c := acceptConn(t, l)
	for i := range 300 {
		if err := c.Write([][]byte{fmt.Appendf(nil, "reading %d: 21.5 C", i)}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	return rw.bytes(), l.Stats()
}

func TestSeededLinkFaultsReplay(t *testing.T) {
	faults := FaultConfig{
		TX: LineFaults{BitErrorRate: 1e-3, DropRate: 1e-3, GarbageRate: 2e-3,
			StallRate: 1e-3, StallDuration: time.Millisecond},
		MalformedProb: 0.05,
		OversizeProb:  0.02,
	}
	a, st := linkByteStream(t, 7, faults)
	b, _ := linkByteStream(t, 7, faults)
	if !bytes.Equal(a, b) {
		t.Fatal("the same seed produced different byte streams")
	}
	c, _ := linkByteStream(t, 8, faults)
	if bytes.Equal(a, c) {
		t.Fatal("different seeds produced the same byte stream")
	}
	clean, _ := linkByteStream(t, 7, FaultConfig{})
	if bytes.Equal(a, clean) {
		t.Fatal("faults changed nothing")
	}
	f := st.Faults
	if f.TX.BitErrors == 0 || f.TX.DroppedBytes == 0 || f.TX.GarbageBursts == 0 || f.Malformed == 0 || f.Oversize == 0 {
		t.Fatalf("some faults were never injected: %+v", f)
	}
}

// Receive faults damage frames on their way in: the decoder drops them.
func TestLinkReceiveFaults(t *testing.T) {
	m, p := ptyPair(t)
	gw := newRawGateway(t, p, 4096)
	l := newLink(t, m, LinkConfig{Baud: -1, HandshakeRetry: fastRetry, Lenient: true,
		Faults: FaultConfig{RX: LineFaults{BitErrorRate: 1e-3}}})
	// Keep answering handshakes until a session is up: replies may be
	// damaged too.
	reply := serial.NewHandshake(1024, transports.CBOR)
	waitFor(t, "a session despite receive faults", func() bool {
		if f, ok := gw.next(20 * time.Millisecond); ok && f.Type == serial.FrameHandshake {
			gw.send(serial.FrameHandshake, 0, reply[:])
		}
		return l.Stats().Sessions > 0
	})
	msg := bytes.Repeat([]byte("0123456789"), 50) // 4000 bits: about 4 flips each
	for i := range 20 {
		gw.send(serial.FrameWAMP, uint8(i), msg)
	}
	waitFor(t, "damaged frames to be dropped", func() bool { return l.Stats().Dropped[serial.DropCRC]+l.Stats().Dropped[serial.DropCOBS] > 0 })
	if l.Stats().Faults.RX.BitErrors == 0 {
		t.Fatal("no receive bit errors counted")
	}
}
