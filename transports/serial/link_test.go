package serial

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/wampgate/wampgate/transports"
)

// fakeDevice is a scripted device on the far end of a link. A goroutine
// decodes everything the gateway sends into frames; it ends when the
// device's end of the stream is closed.
type fakeDevice struct {
	t      *testing.T
	rw     io.ReadWriteCloser
	frames chan decoded
	done   chan struct{} // closed when the reader goroutine exits
	txSeq  uint8

	mu  sync.Mutex
	raw []byte // every byte received, guarded by mu
}

func newFakeDevice(t *testing.T, rw io.ReadWriteCloser) *fakeDevice {
	d := &fakeDevice{t: t, rw: rw, frames: make(chan decoded, 1024), done: make(chan struct{})}
	go func() {
		defer close(d.done)
		dec := NewDecoder(1 << 16)
		buf := make([]byte, 256)
		for {
			n, err := rw.Read(buf)
			d.mu.Lock()
			d.raw = append(d.raw, buf[:n]...)
			d.mu.Unlock()
			for p := buf[:n]; len(p) > 0; {
				k, f, ok := dec.Feed(p)
				p = p[k:]
				if ok {
					d.frames <- decoded{f.Type, f.Seq, string(f.Payload)}
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return d
}

// close closes the device's end (an unplug, seen from the gateway) and
// waits for the reader goroutine.
func (d *fakeDevice) close() {
	d.rw.Close()
	<-d.done
}

func (d *fakeDevice) rawBytes() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return bytes.Clone(d.raw)
}

func (d *fakeDevice) write(b []byte) {
	d.t.Helper()
	if _, err := d.rw.Write(b); err != nil {
		d.t.Fatalf("device write: %v", err)
	}
}

func (d *fakeDevice) send(typ FrameType, seq uint8, payload []byte) {
	d.t.Helper()
	d.write(AppendFrame(nil, typ, seq, payload, true))
}

func (d *fakeDevice) handshake(maxLen int, s transports.Serializer) {
	d.t.Helper()
	h := NewHandshake(maxLen, s)
	d.send(FrameHandshake, 0, h[:])
	d.txSeq = 0
}

func (d *fakeDevice) sendWAMP(payload string) {
	d.t.Helper()
	d.send(FrameWAMP, d.txSeq, []byte(payload))
	d.txSeq++
}

// next returns the next frame from the gateway. Inside a synctest bubble the
// timeout is on the fake clock and only fires if the gateway is stuck.
func (d *fakeDevice) next() decoded {
	d.t.Helper()
	select {
	case f := <-d.frames:
		return f
	case <-time.After(time.Minute):
		d.t.Fatal("no frame from the gateway")
		return decoded{}
	}
}

func (d *fakeDevice) expect(typ FrameType, payload string) decoded {
	d.t.Helper()
	f := d.next()
	if f.typ != typ || f.payload != payload {
		d.t.Fatalf("device got %v, want %v with payload % x", f, typ, payload)
	}
	return f
}

// expectNone checks, once every goroutine in the bubble is idle, that the
// gateway sent nothing more. Only valid inside synctest.
func (d *fakeDevice) expectNone() {
	d.t.Helper()
	synctest.Wait()
	select {
	case f := <-d.frames:
		d.t.Fatalf("unexpected frame from the gateway: %v", f)
	default:
	}
}

func handshakeReply(maxLen int, s transports.Serializer) string {
	h := NewHandshake(maxLen, s)
	return string(h[:])
}

func handshakeError(code HandshakeCode) string {
	h := NewHandshakeError(code)
	return string(h[:])
}

// linkPair starts a Link on one end of a net.Pipe and a fake device on the
// other, and checks the start-up RESET. Cleanup closes both and waits for
// every goroutine.
func linkPair(t *testing.T, cfg LinkConfig) (*Link, *fakeDevice) {
	t.Helper()
	gw, dev := net.Pipe()
	d := newFakeDevice(t, dev)
	l := NewLink(gw, cfg)
	t.Cleanup(func() {
		l.Close()
		d.close()
	})
	d.expect(FrameReset, "")
	return l, d
}

// accept returns the next session, failing the test if there is none.
func accept(t *testing.T, l *Link) transports.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c, err := l.Accept(ctx)
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	return c
}

// session completes a handshake for a device with limit 512 and CBOR.
func session(t *testing.T, l *Link, d *fakeDevice) transports.Conn {
	t.Helper()
	d.handshake(512, transports.CBOR)
	d.expect(FrameHandshake, handshakeReply(l.MaxMessageSize(), transports.CBOR))
	return accept(t, l)
}

type readResult struct {
	msg string
	err error
}

// read calls c.Read, failing the test if it blocks for a minute (of fake
// time inside synctest).
func read(t *testing.T, c transports.Conn) readResult {
	t.Helper()
	ch := make(chan readResult, 1)
	go func() {
		m, err := c.Read()
		ch <- readResult{string(m), err}
	}()
	select {
	case r := <-ch:
		return r
	case <-time.After(time.Minute):
		t.Fatal("Read blocked")
		return readResult{}
	}
}

func expectMsg(t *testing.T, c transports.Conn, want string) {
	t.Helper()
	if r := read(t, c); r.err != nil || r.msg != want {
		t.Fatalf("Read = %q, %v; want %q", r.msg, r.err, want)
	}
}

func expectReadErr(t *testing.T, c transports.Conn, want error) {
	t.Helper()
	r := read(t, c)
	if !errors.Is(r.err, want) {
		t.Fatalf("Read = %q, %v; want error wrapping %v", r.msg, r.err, want)
	}
}

func TestLinkStartsWithLeadingZeroAndReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, d := linkPair(t, LinkConfig{})
		want := append([]byte{0}, unhex(t, "02 04 03 d1 cb 00")...)
		if got := d.rawBytes(); !bytes.Equal(got, want) {
			t.Fatalf("first bytes = % x, want % x", got, want)
		}
	})
}

func TestLinkHandshakeAndWAMP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, d := linkPair(t, LinkConfig{MaxMessageSize: 3000, Name: "/dev/ttyUSB7"})
		if l.MaxMessageSize() != 2048 {
			t.Fatalf("MaxMessageSize = %d, want 2048 (3000 rounded down)", l.MaxMessageSize())
		}
		start := time.Now()
		c := session(t, l, d)
		if c.Serializer() != transports.CBOR || c.MaxOutgoing() != 512 {
			t.Fatalf("Serializer %v MaxOutgoing %d", c.Serializer(), c.MaxOutgoing())
		}
		info := c.Info()
		if info.Kind != "serial" || info.Remote.String() != "/dev/ttyUSB7" || info.Remote.Network() != "serial" || info.Established.Before(start) {
			t.Fatalf("Info = %+v", info)
		}

		// Device to gateway: seq 0, 1, 2 after the handshake.
		for _, m := range []string{"hello", "", "\x00\x01\x00"} {
			d.sendWAMP(m)
			expectMsg(t, c, m)
		}
		// Gateway to device: a batch, then another write, seq continues.
		if err := c.Write([][]byte{[]byte("welcome"), []byte("event")}); err != nil {
			t.Fatal(err)
		}
		if err := c.Write([][]byte{[]byte("result")}); err != nil {
			t.Fatal(err)
		}
		for i, want := range []string{"welcome", "event", "result"} {
			if f := d.expect(FrameWAMP, want); f.seq != uint8(i) {
				t.Fatalf("frame %q has seq %d, want %d", want, f.seq, i)
			}
		}
		d.expectNone()
		s := l.Stats()
		if s.Handshakes != 1 || s.FramesIn != 4 || s.FramesOut != 5 || s.BytesIn == 0 || s.BytesOut == 0 ||
			s.ResetsSent != 1 || s.SeqGaps != 0 || !s.LastSeen.Equal(time.Now()) {
			t.Fatalf("Stats = %+v", s)
		}
	})
}

// The sequence numbers wrap modulo 256 in both directions.
func TestLinkSeqWraps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, d := linkPair(t, LinkConfig{})
		c := session(t, l, d)
		for i := range 300 {
			d.sendWAMP("m")
			expectMsg(t, c, "m")
			if err := c.Write([][]byte{[]byte("r")}); err != nil {
				t.Fatal(err)
			}
			if f := d.expect(FrameWAMP, "r"); f.seq != uint8(i) {
				t.Fatalf("write %d has seq %d", i, f.seq)
			}
		}
		if s := l.Stats(); s.SeqGaps != 0 {
			t.Fatalf("SeqGaps = %d", s.SeqGaps)
		}
	})
}

func TestLinkBadHandshake(t *testing.T) {
	tests := []struct {
		name    string
		cfg     LinkConfig
		payload []byte
		code    HandshakeCode
	}{
		{"serializer 0", LinkConfig{}, []byte{0x7f, 0x00, 0, 0}, CodeSerializerUnsupported},
		{"serializer 9", LinkConfig{}, []byte{0x7f, 0x09, 0, 0}, CodeSerializerUnsupported},
		{"serializer not configured", LinkConfig{Serializers: []transports.Serializer{transports.MsgPack}}, []byte{0x7f, 0x03, 0, 0}, CodeSerializerUnsupported},
		{"device limit too small", LinkConfig{MinDeviceMessageSize: 1024}, []byte{0x7f, 0x03, 0, 0}, CodeMaxLenUnacceptable},
		{"bad magic", LinkConfig{}, []byte{0x7e, 0x03, 0, 0}, CodeReservedBits},
		{"reserved octet 2", LinkConfig{}, []byte{0x7f, 0x03, 1, 0}, CodeReservedBits},
		{"reserved octet 3", LinkConfig{}, []byte{0x7f, 0x03, 0, 0x80}, CodeReservedBits},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l, d := linkPair(t, tt.cfg)
				d.send(FrameHandshake, 0, tt.payload)
				d.expect(FrameHandshake, handshakeError(tt.code))
				// The port stays open and a later good handshake works.
				d.send(FramePing, 0, []byte("still there"))
				d.expect(FramePong, "still there")
				d.handshake(1024, transports.MsgPack)
				d.expect(FrameHandshake, handshakeReply(l.MaxMessageSize(), transports.MsgPack))
				c := accept(t, l)
				if c.Serializer() != transports.MsgPack || c.MaxOutgoing() != 1024 {
					t.Fatalf("session after retry: %v %d", c.Serializer(), c.MaxOutgoing())
				}
				d.sendWAMP("hello")
				expectMsg(t, c, "hello")
				if s := l.Stats(); s.HandshakeErrors != 1 || s.Handshakes != 1 {
					t.Fatalf("Stats = %+v", s)
				}
			})
		})
	}
}

func TestLinkDeviceReboot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, d := linkPair(t, LinkConfig{})
		c1 := session(t, l, d)
		d.sendWAMP("old-1")
		d.sendWAMP("old-2")
		if err := c1.Write([][]byte{[]byte("to-old")}); err != nil {
			t.Fatal(err)
		}
		d.expect(FrameWAMP, "to-old")

		// Reboot: a new handshake, with another serializer.
		d.handshake(4096, transports.JSON)
		d.expect(FrameHandshake, handshakeReply(l.MaxMessageSize(), transports.JSON))
		// Messages sent before the reboot are still delivered, then the
		// typed error.
		expectMsg(t, c1, "old-1")
		expectMsg(t, c1, "old-2")
		expectReadErr(t, c1, ErrDeviceReset)
		if err := c1.Write([][]byte{[]byte("late")}); !errors.Is(err, ErrDeviceReset) {
			t.Fatalf("Write on the old session: %v, want ErrDeviceReset", err)
		}

		c2 := accept(t, l)
		if c2 == c1 || c2.Serializer() != transports.JSON || c2.MaxOutgoing() != 4096 {
			t.Fatalf("new session %p (old %p) %v %d", c2, c1, c2.Serializer(), c2.MaxOutgoing())
		}
		// Seq starts again at 0 both ways.
		d.sendWAMP("new-1")
		expectMsg(t, c2, "new-1")
		if err := c2.Write([][]byte{[]byte("to-new")}); err != nil {
			t.Fatal(err)
		}
		if f := d.expect(FrameWAMP, "to-new"); f.seq != 0 {
			t.Fatalf("first frame of the new session has seq %d", f.seq)
		}
		// Closing the old Conn now must not disturb the new session.
		c1.Close()
		d.expectNone()
		if s := l.Stats(); s.DeviceResets != 1 || s.Handshakes != 2 {
			t.Fatalf("Stats = %+v", s)
		}
	})
}

// Rule 3 holds for any HANDSHAKE, also one that gets an error reply.
func TestLinkRebootWithBadHandshake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, d := linkPair(t, LinkConfig{})
		c := session(t, l, d)
		d.send(FrameHandshake, 0, []byte{0x7f, 0x00, 0, 0})
		d.expect(FrameHandshake, handshakeError(CodeSerializerUnsupported))
		expectReadErr(t, c, ErrDeviceReset)
		// No session now: a WAMP frame gets a RESET (once the rate limit
		// allows another after the start-up one).
		time.Sleep(ResetInterval)
		d.sendWAMP("orphan")
		d.expect(FrameReset, "")
	})
}

// A session the device abandons before the router accepted it is skipped.
func TestLinkRebootBeforeAccept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, d := linkPair(t, LinkConfig{})
		d.handshake(512, transports.CBOR)
		d.expect(FrameHandshake, handshakeReply(l.MaxMessageSize(), transports.CBOR))
		d.handshake(512, transports.MsgPack)
		d.expect(FrameHandshake, handshakeReply(l.MaxMessageSize(), transports.MsgPack))
		if c := accept(t, l); c.Serializer() != transports.MsgPack {
			t.Fatalf("Accept returned the abandoned %v session", c.Serializer())
		}
	})
}

func TestLinkDeviceSendsReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, d := linkPair(t, LinkConfig{})
		c := session(t, l, d)
		d.send(FrameReset, 0, nil)
		expectReadErr(t, c, ErrDeviceReset)
		d.expectNone()
	})
}

func TestLinkSeqGapStrict(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, d := linkPair(t, LinkConfig{})
		c := session(t, l, d)
		d.send(FrameWAMP, 0, []byte("m0"))
		d.send(FrameWAMP, 2, []byte("m2")) // m1 lost
		d.expect(FrameReset, "")
		expectMsg(t, c, "m0")
		expectReadErr(t, c, ErrSeqGap)
		if s := l.Stats(); s.SeqGaps != 1 || s.ResetsSent != 2 {
			t.Fatalf("Stats = %+v", s)
		}
		// The device handshakes again after the RESET.
		c2 := session(t, l, d)
		d.sendWAMP("again")
		expectMsg(t, c2, "again")
	})
}

func TestLinkSeqGapLenient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, d := linkPair(t, LinkConfig{Lenient: true})
		c := session(t, l, d)
		for _, seq := range []uint8{0, 2, 3, 7} {
			d.send(FrameWAMP, seq, []byte{'m', '0' + seq})
		}
		for _, want := range []string{"m0", "m2", "m3", "m7"} {
			expectMsg(t, c, want)
		}
		d.expectNone()
		if s := l.Stats(); s.SeqGaps != 2 || s.ResetsSent != 1 {
			t.Fatalf("Stats = %+v", s)
		}
	})
}

func TestLinkNoiseAndCorruption(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, d := linkPair(t, LinkConfig{})
		c := session(t, l, d)
		d.write([]byte("boot log: ok\r\n\x00\x05\x05\x05\x00\xff\xfe"))
		d.sendWAMP("m0")
		d.write([]byte{0x13, 0x37, 0x00, 0x00, 0x00})
		d.sendWAMP("m1")
		expectMsg(t, c, "m0")
		expectMsg(t, c, "m1")

		// A corrupted PING is dropped and counted, and not answered.
		bad := AppendFrame(nil, FramePing, 0, []byte{1, 2, 3}, true)
		bad[4] ^= 0x40
		d.write(bad)
		d.expectNone()
		s := l.Stats()
		if s.Dropped[DropCRC] != 1 || s.Dropped[DropCOBS] == 0 {
			t.Fatalf("drops = %v", s.Dropped)
		}
		// The session survived all of it.
		d.sendWAMP("m2")
		expectMsg(t, c, "m2")
	})
}

func TestLinkWAMPWithoutSessionGetsReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, d := linkPair(t, LinkConfig{})
		// The start-up RESET went out just now, so the rate limit holds
		// back the first answer until a second has passed.
		d.send(FrameWAMP, 5, []byte("stale"))
		d.expectNone()
		time.Sleep(ResetInterval) // advances the bubble's fake clock
		d.send(FrameWAMP, 6, []byte("stale"))
		d.expect(FrameReset, "")
		d.send(FrameWAMP, 7, []byte("stale"))
		d.send(FrameWAMP, 8, []byte("stale"))
		d.expectNone()
		time.Sleep(ResetInterval)
		d.send(FrameWAMP, 9, []byte("stale"))
		d.expect(FrameReset, "")
		if s := l.Stats(); s.NoSession != 5 || s.ResetsSent != 3 {
			t.Fatalf("Stats = %+v", s)
		}
	})
}

func TestLinkPingAnswered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, d := linkPair(t, LinkConfig{})
		d.send(FramePing, 0, []byte("before"))
		d.expect(FramePong, "before")
		session(t, l, d)
		d.send(FramePing, 0, bytes.Repeat([]byte{0xAB}, MaxPingPayload))
		d.expect(FramePong, string(bytes.Repeat([]byte{0xAB}, MaxPingPayload)))
		d.send(FramePing, 0, nil)
		d.expect(FramePong, "")
		// A PING over 16 bytes is dropped.
		d.send(FramePing, 0, make([]byte, MaxPingPayload+1))
		d.expectNone()
		if s := l.Stats(); s.Dropped[DropOversize] != 1 {
			t.Fatalf("drops = %v", s.Dropped)
		}
	})
}

func TestLinkPingTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, d := linkPair(t, LinkConfig{})
		c := session(t, l, d)
		start := time.Now()
		// An answering device keeps the session.
		f := d.next()
		if f.typ != FramePing || time.Since(start) != DefaultPingInterval {
			t.Fatalf("got %v after %v, want PING after %v", f, time.Since(start), DefaultPingInterval)
		}
		d.send(FramePong, 0, []byte(f.payload))
		// Then it goes silent: 3 more PINGs, one per interval, then RESET.
		start = time.Now()
		for i := 1; i <= MaxUnansweredPings; i++ {
			f := d.next()
			if f.typ != FramePing || time.Since(start) != time.Duration(i)*DefaultPingInterval {
				t.Fatalf("got %v after %v, want PING %d", f, time.Since(start), i)
			}
		}
		d.expect(FrameReset, "")
		if time.Since(start) != (MaxUnansweredPings+1)*DefaultPingInterval {
			t.Fatalf("session ended after %v", time.Since(start))
		}
		expectReadErr(t, c, transports.ErrPingTimeout)
		if s := l.Stats(); s.PingsSent != 4 || s.PingTimeouts != 1 {
			t.Fatalf("Stats = %+v", s)
		}
		// No session, no pings.
		time.Sleep(10 * DefaultPingInterval)
		d.expectNone()
	})
}

func TestLinkPingsDisabled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, d := linkPair(t, LinkConfig{PingInterval: -1})
		c := session(t, l, d)
		time.Sleep(time.Hour)
		d.expectNone()
		d.sendWAMP("alive")
		expectMsg(t, c, "alive")
	})
}

func TestLinkWriteRespectsDeviceLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, d := linkPair(t, LinkConfig{})
		c := session(t, l, d) // device limit 512
		err := c.Write([][]byte{[]byte("small"), make([]byte, 513)})
		if !errors.Is(err, transports.ErrMessageTooBig) {
			t.Fatalf("Write(513 bytes) = %v, want ErrMessageTooBig", err)
		}
		d.expectNone() // nothing of the batch was sent
		big := string(bytes.Repeat([]byte{0, 1}, 256))
		if err := c.Write([][]byte{[]byte(big)}); err != nil {
			t.Fatalf("Write(512 bytes) = %v", err)
		}
		if f := d.expect(FrameWAMP, big); f.seq != 0 {
			t.Fatalf("seq %d after a refused write, want 0", f.seq)
		}
	})
}

func TestLinkConnCloseSendsReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, d := linkPair(t, LinkConfig{})
		c := session(t, l, d)
		readDone := make(chan error, 1)
		go func() {
			_, err := c.Read()
			readDone <- err
		}()
		synctest.Wait()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-readDone; !errors.Is(err, transports.ErrClosed) {
			t.Fatalf("Read after Close: %v", err)
		}
		d.expect(FrameReset, "")
		if err := c.Write([][]byte{[]byte("x")}); !errors.Is(err, transports.ErrClosed) {
			t.Fatalf("Write after Close: %v", err)
		}
		c.Close() // idempotent, no second RESET
		d.expectNone()
		// The device handshakes again and gets a new session.
		c2 := session(t, l, d)
		d.sendWAMP("hi")
		expectMsg(t, c2, "hi")
	})
}

func TestLinkCloseUnblocksEverything(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, d := linkPair(t, LinkConfig{})
		c := session(t, l, d)
		acceptDone := make(chan error, 1)
		readDone := make(chan error, 1)
		go func() {
			_, err := l.Accept(t.Context())
			acceptDone <- err
		}()
		go func() {
			_, err := c.Read()
			readDone <- err
		}()
		synctest.Wait()
		if err := l.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		for name, ch := range map[string]chan error{"Accept": acceptDone, "Read": readDone} {
			if err := <-ch; !errors.Is(err, transports.ErrClosed) {
				t.Fatalf("%s after Close: %v, want ErrClosed", name, err)
			}
		}
		if err := c.Write([][]byte{[]byte("x")}); err == nil {
			t.Fatal("Write after link Close succeeded")
		}
		if _, err := l.Accept(t.Context()); !errors.Is(err, transports.ErrClosed) {
			t.Fatalf("Accept after Close: %v", err)
		}
		if !errors.Is(l.Err(), transports.ErrClosed) {
			t.Fatalf("Err() = %v", l.Err())
		}
		l.Close() // idempotent
		c.Close()
		// synctest.Test fails if any goroutine of the link is left.
	})
}

// Close also unblocks the reader while it waits for a router that does not
// read (the session's queue is full).
func TestLinkCloseWithFullQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, d := linkPair(t, LinkConfig{})
		session(t, l, d)
		for range inQueue + 1 {
			d.sendWAMP("unread")
		}
		synctest.Wait()
		l.Close()
	})
}

func TestLinkUnplug(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, d := linkPair(t, LinkConfig{})
		c := session(t, l, d)
		d.close()
		expectReadErr(t, c, io.EOF)
		if _, err := l.Accept(t.Context()); !errors.Is(err, io.EOF) {
			t.Fatalf("Accept after unplug: %v, want io.EOF", err)
		}
		<-l.Done()
	})
}

func TestLinkAcceptContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, _ := linkPair(t, LinkConfig{})
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := l.Accept(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Accept = %v, want DeadlineExceeded", err)
		}
		if l.Err() != nil {
			t.Fatalf("Err() = %v while running", l.Err())
		}
	})
}

// A device that stops reading makes Write time out after the line-rate
// deadline; the session ends.
func TestLinkWriteTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gw, dev := net.Pipe()
		l := NewLink(gw, LinkConfig{Baud: 9600, PingInterval: -1})
		defer dev.Close()
		defer l.Close()
		// Script the device by hand: read the RESET, handshake, read the
		// reply, then stop reading.
		dec := NewDecoder(1024)
		readOne := func() Frame {
			buf := make([]byte, 1)
			for {
				if _, err := dev.Read(buf); err != nil {
					t.Fatalf("device read: %v", err)
				}
				if _, f, ok := dec.Feed(buf); ok {
					return f
				}
			}
		}
		if f := readOne(); f.Type != FrameReset {
			t.Fatalf("got %v, want RESET", f.Type)
		}
		h := NewHandshake(512, transports.CBOR)
		dev.Write(AppendFrame(nil, FrameHandshake, 0, h[:], true))
		if f := readOne(); f.Type != FrameHandshake {
			t.Fatalf("got %v, want HANDSHAKE", f.Type)
		}
		c := accept(t, l)
		start := time.Now()
		err := c.Write([][]byte{[]byte("nobody reads this")})
		if !errors.Is(err, transports.ErrWriteTimeout) {
			t.Fatalf("Write = %v, want ErrWriteTimeout", err)
		}
		// 9600 baud 8N1: 960 bytes/s; the deadline covers the frame and a
		// full kernel buffer, plus slack.
		// No leading zero: the frame follows the handshake reply at once.
		frame := len(AppendFrame(nil, FrameWAMP, 0, []byte("nobody reads this"), false))
		want := time.Duration(frame+txBacklog)*time.Second/960 + writeSlack
		if got := time.Since(start); got != want {
			t.Fatalf("Write timed out after %v, want about %v", got, want)
		}
		expectReadErr(t, c, transports.ErrWriteTimeout)
	})
}

func TestLinkLineTime(t *testing.T) {
	tests := []struct {
		baud, bits, n int
		want          time.Duration
	}{
		{9600, 10, 0, 4096*time.Second/960 + writeSlack},
		{115200, 10, 7424, 11520*10*time.Second/115200 + writeSlack},
		{300, 11, 4, 4100*11*time.Second/300 + writeSlack},
	}
	for _, tt := range tests {
		l := &Link{cfg: LinkConfig{Baud: tt.baud, BitsPerChar: tt.bits}}
		if got := l.lineTime(tt.n); got != tt.want {
			t.Errorf("lineTime(%d) at %d/%d = %v, want %v", tt.n, tt.baud, tt.bits, got, tt.want)
		}
	}
}

// BenchmarkLinkRoundTrip measures one WAMP message each way through a Link
// over an in-memory pipe.
func BenchmarkLinkRoundTrip(b *testing.B) {
	gw, dev := net.Pipe()
	l := NewLink(gw, LinkConfig{PingInterval: -1})
	defer l.Close()
	defer dev.Close()
	// net.Pipe is synchronous: the device side must read concurrently, or
	// the link's writes block until their deadline.
	frames := make(chan Frame, 16)
	go func() {
		defer close(frames)
		dec := NewDecoder(1 << 16)
		buf := make([]byte, 512)
		for {
			n, err := dev.Read(buf)
			if err != nil {
				return
			}
			for p := buf[:n]; len(p) > 0; {
				k, f, ok := dec.Feed(p)
				p = p[k:]
				if ok {
					frames <- Frame{Type: f.Type, Seq: f.Seq}
				}
			}
		}
	}()
	readFrame := func() Frame {
		f, ok := <-frames
		if !ok {
			b.Fatal("device side closed")
		}
		return f
	}
	readFrame() // RESET
	h := NewHandshake(1024, transports.CBOR)
	dev.Write(AppendFrame(nil, FrameHandshake, 0, h[:], true))
	readFrame()
	c, err := l.Accept(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	msg := bytes.Repeat([]byte{0x85, 0x18, 0x30, 0x01}, 8)
	out := make([]byte, 0, 128)
	var seq uint8
	b.ReportAllocs()
	for b.Loop() {
		out = AppendFrame(out[:0], FrameWAMP, seq, msg, false)
		seq++
		dev.Write(out)
		m, err := c.Read()
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Write([][]byte{m}); err != nil {
			b.Fatal(err)
		}
		readFrame()
	}
}

// A frame after more than LeadingZeroSilence of transmit silence starts with
// a leading zero; frames in quick succession do not.
func TestLinkLeadingZeroAfterSilence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, d := linkPair(t, LinkConfig{PingInterval: -1})
		c := session(t, l, d)
		write := func(m string) []byte {
			t.Helper()
			before := len(d.rawBytes())
			if err := c.Write([][]byte{[]byte(m)}); err != nil {
				t.Fatal(err)
			}
			d.expect(FrameWAMP, m)
			return d.rawBytes()[before:]
		}
		if b := write("quick"); b[0] == 0 {
			t.Fatalf("leading zero right after the handshake reply: % x", b)
		}
		time.Sleep(LeadingZeroSilence)
		if b := write("at the limit"); b[0] == 0 {
			t.Fatalf("leading zero after exactly %v: % x", LeadingZeroSilence, b)
		}
		time.Sleep(LeadingZeroSilence + time.Millisecond)
		if b := write("after silence"); b[0] != 0 || b[1] == 0 {
			t.Fatalf("want one leading zero after silence: % x", b)
		}
	})
}
