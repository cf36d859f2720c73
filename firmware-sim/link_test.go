package firmwaresim

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway/wamp/codec"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/serial"
)

// noRetry keeps the first HANDSHAKE the only one unless something else
// triggers another, so a HANDSHAKE seen by the gateway proves "at once".
var noRetry = []time.Duration{time.Hour}

func TestLinkSessionRules(t *testing.T) {
	m, p := ptyPair(t)
	gw := newRawGateway(t, p, 4096)
	l := newLink(t, m, LinkConfig{Name: "t1", Baud: -1, HandshakeRetry: noRetry})

	// Rule 1: HANDSHAKE with the receive limit and serializer.
	f := gw.expect(serial.FrameHandshake)
	want := serial.NewHandshake(512, transports.CBOR)
	if !bytes.Equal(f.Payload, want[:]) {
		t.Fatalf("handshake % x, want % x", f.Payload, want[:])
	}
	reply := serial.NewHandshake(2048, transports.CBOR)
	gw.send(serial.FrameHandshake, 0, reply[:])
	c := acceptConn(t, l)
	equal(t, "MaxOutgoing", c.MaxOutgoing(), 2048)
	equal(t, "Serializer", c.Serializer(), transports.CBOR)
	equal(t, "Info.Kind", c.Info().Kind, "serial-device")

	// WAMP seq from 0 per direction.
	if err := c.Write([][]byte{[]byte("m0"), []byte("m1")}); err != nil {
		t.Fatal(err)
	}
	for i, w := range []string{"m0", "m1"} {
		f := gw.expect(serial.FrameWAMP)
		if f.Seq != uint8(i) || string(f.Payload) != w {
			t.Fatalf("frame %d: seq %d %q, want seq %d %q", i, f.Seq, f.Payload, i, w)
		}
	}
	gw.send(serial.FrameWAMP, 0, []byte("g0"))
	gw.send(serial.FrameWAMP, 1, []byte("g1"))
	for _, w := range []string{"g0", "g1"} {
		got, err := c.Read()
		if err != nil || string(got) != w {
			t.Fatalf("Read = %q, %v; want %q", got, err, w)
		}
	}

	// Rule 6: PING is answered with PONG, same payload.
	gw.send(serial.FramePing, 0, []byte{1, 2, 3, 4})
	f = gw.expect(serial.FramePong)
	if !bytes.Equal(f.Payload, []byte{1, 2, 3, 4}) {
		t.Fatalf("pong payload % x", f.Payload)
	}

	// Rule 2: a duplicate reply is ignored: the session stays up.
	gw.send(serial.FrameHandshake, 0, reply[:])
	if err := c.Write([][]byte{[]byte("m2")}); err != nil {
		t.Fatal(err)
	}
	if f := gw.expect(serial.FrameWAMP); f.Seq != 2 {
		t.Fatalf("after duplicate reply: seq %d, want 2", f.Seq)
	}

	// Rule 4: RESET ends the session and HANDSHAKE follows at once.
	gw.send(serial.FrameReset, 0, nil)
	if _, err := c.Read(); !errors.Is(err, ErrReset) {
		t.Fatalf("Read after RESET: %v, want ErrReset", err)
	}
	gw.expect(serial.FrameHandshake)
	if err := c.Write([][]byte{[]byte("late")}); err == nil {
		t.Fatal("Write on an ended session succeeded")
	}
	gw.send(serial.FrameHandshake, 0, reply[:])
	c2 := acceptConn(t, l)
	if err := c2.Write([][]byte{[]byte("n0")}); err != nil {
		t.Fatal(err)
	}
	if f := gw.expect(serial.FrameWAMP); f.Seq != 0 || string(f.Payload) != "n0" {
		t.Fatalf("new session: seq %d %q, want 0 n0", f.Seq, f.Payload)
	}

	// Too big for the gateway: refused before anything is sent.
	if err := c2.Write([][]byte{make([]byte, 2049)}); !errors.Is(err, transports.ErrMessageTooBig) {
		t.Fatalf("oversize Write: %v, want ErrMessageTooBig", err)
	}

	st := l.Stats()
	equal(t, "Sessions", st.Sessions, 2)
	equal(t, "ResetsReceived", st.ResetsReceived, 1)
	equal(t, "PingsAnswered", st.PingsAnswered, 1)
	equal(t, "HandshakesSent", st.HandshakesSent, 2)
}

func TestLinkSeqGap(t *testing.T) {
	for _, lenient := range []bool{false, true} {
		name := "strict"
		if lenient {
			name = "lenient"
		}
		t.Run(name, func(t *testing.T) {
			m, p := ptyPair(t)
			gw := newRawGateway(t, p, 4096)
			l := newLink(t, m, LinkConfig{Baud: -1, HandshakeRetry: noRetry, Lenient: lenient})
			gw.handshake(1024)
			c := acceptConn(t, l)
			gw.send(serial.FrameWAMP, 0, []byte("a"))
			gw.send(serial.FrameWAMP, 2, []byte("c")) // seq 1 lost
			if got, err := c.Read(); err != nil || string(got) != "a" {
				t.Fatalf("Read = %q, %v", got, err)
			}
			got, err := c.Read()
			if lenient {
				if err != nil || string(got) != "c" {
					t.Fatalf("lenient Read = %q, %v; want c", got, err)
				}
			} else {
				if !errors.Is(err, ErrSeqGap) {
					t.Fatalf("strict Read = %q, %v; want ErrSeqGap", got, err)
				}
				gw.expect(serial.FrameHandshake) // re-handshake at once
			}
			equal(t, "SeqGaps", l.Stats().SeqGaps, 1)
		})
	}
}

func TestLinkHandshakeRetry(t *testing.T) {
	m, p := ptyPair(t)
	gw := newRawGateway(t, p, 4096)
	retry := []time.Duration{40 * time.Millisecond, 80 * time.Millisecond}
	start := time.Now()
	l := newLink(t, m, LinkConfig{Baud: -1, HandshakeRetry: retry})
	gw.expect(serial.FrameHandshake)
	// An error reply does not stop the schedule (rule 2).
	errReply := serial.NewHandshakeError(serial.CodeMaxConnections)
	gw.send(serial.FrameHandshake, 0, errReply[:])
	gw.expect(serial.FrameHandshake)
	gw.expect(serial.FrameHandshake)
	gw.expect(serial.FrameHandshake)
	// The fourth HANDSHAKE leaves 40+80+80 ms after the first at the
	// earliest.
	if el := time.Since(start); el < 200*time.Millisecond {
		t.Fatalf("four handshakes within %v, want >= 200ms", el)
	}
	st := l.Stats()
	equal(t, "HandshakeErrors", st.HandshakeErrors, 1)
	equal(t, "LastHandshakeError", st.LastHandshakeError, serial.CodeMaxConnections)
	equal(t, "Sessions", st.Sessions, 0)
}

func TestLinkMutePings(t *testing.T) {
	m, p := ptyPair(t)
	gw := newRawGateway(t, p, 4096)
	l := newLink(t, m, LinkConfig{Baud: -1, HandshakeRetry: noRetry,
		Faults: FaultConfig{MutePings: true, MutePingsAfter: 2}})
	gw.handshake(1024)
	acceptConn(t, l)
	for i := range 2 {
		gw.send(serial.FramePing, 0, []byte{byte(i)})
		if f := gw.expect(serial.FramePong); !bytes.Equal(f.Payload, []byte{byte(i)}) {
			t.Fatalf("pong % x", f.Payload)
		}
	}
	gw.send(serial.FramePing, 0, []byte{9})
	waitFor(t, "the third PING to be ignored", func() bool { return l.Stats().PingsIgnored == 1 })
	if f, ok := gw.next(50 * time.Millisecond); ok {
		t.Fatalf("muted device sent %v % x", f.Type, f.Payload)
	}
	equal(t, "PingsAnswered", l.Stats().PingsAnswered, 2)
}

func TestLinkRebootMidFrame(t *testing.T) {
	m, p := ptyPair(t)
	gw := newRawGateway(t, p, 4096)
	l := newLink(t, m, LinkConfig{Baud: -1, HandshakeRetry: noRetry})
	gw.handshake(1024)
	c := acceptConn(t, l)
	l.Reboot(true)
	if _, err := c.Read(); !errors.Is(err, ErrRebooted) {
		t.Fatalf("Read after reboot: %v, want ErrRebooted", err)
	}
	gw.expect(serial.FrameHandshake)
	var dropped uint64
	for r := range serial.DropReasonCount {
		dropped += gw.dec.Dropped(serial.DropReason(r))
	}
	if dropped != 1 {
		t.Fatalf("gateway dropped %d frames, want the cut one", dropped)
	}
	st := l.Stats()
	equal(t, "Reboots", st.Reboots, 1)
	equal(t, "CutFrames", st.Faults.CutFrames, 1)
}

func TestLinkRebootProbCutsRealFrame(t *testing.T) {
	m, p := ptyPair(t)
	gw := newRawGateway(t, p, 4096)
	l := newLink(t, m, LinkConfig{Baud: -1, HandshakeRetry: noRetry, Faults: FaultConfig{RebootProb: 1}})
	gw.handshake(1024)
	c := acceptConn(t, l)
	if err := c.Write([][]byte{bytes.Repeat([]byte("x"), 100)}); !errors.Is(err, ErrRebooted) {
		t.Fatalf("Write: %v, want ErrRebooted", err)
	}
	gw.expect(serial.FrameHandshake)
	equal(t, "gateway COBS+CRC drops", gw.dec.Dropped(serial.DropCOBS)+gw.dec.Dropped(serial.DropCRC), 1)
}

func TestLinkMisbehaviour(t *testing.T) {
	m, p := ptyPair(t)
	gw := newRawGateway(t, p, 1024)
	l := newLink(t, m, LinkConfig{Baud: -1, HandshakeRetry: noRetry})
	if err := l.Inject(FaultOversize); !errors.Is(err, ErrNoSession) {
		t.Fatalf("oversize without session: %v, want ErrNoSession", err)
	}
	gw.handshake(1024)
	acceptConn(t, l)
	if err := l.Inject(FaultOversize); err != nil {
		t.Fatal(err)
	}
	if err := l.Inject(FaultMalformed); err != nil {
		t.Fatal(err)
	}
	f := gw.expect(serial.FrameWAMP)
	equal(t, "gateway oversize drops", gw.dec.Dropped(serial.DropOversize), 1)
	equal(t, "malformed frame seq", f.Seq, 1) // the oversize frame took seq 0
	if _, err := codec.CBOR.Decode(f.Payload); err == nil {
		t.Fatalf("malformed payload % x decodes as a WAMP message", f.Payload)
	}
	if err := l.Inject(FaultGarbage); err != nil {
		t.Fatal(err)
	}
	if err := l.Inject(FaultUnplug); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("unplug on a link: %v, want ErrNotSupported", err)
	}
	st := l.Stats()
	equal(t, "Oversize", st.Faults.Oversize, 1)
	equal(t, "Malformed", st.Faults.Malformed, 1)
	equal(t, "GarbageBursts", st.Faults.TX.GarbageBursts, 1)
}

func TestLinkWrongSerializerGetsErrorOctet(t *testing.T) {
	tests := []struct {
		name     string
		faults   FaultConfig
		accepted []transports.Serializer
	}{
		{"undefined nibble", FaultConfig{WrongSerializer: 15}, nil},
		{"not accepted", FaultConfig{}, []transports.Serializer{transports.JSON}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, p := ptyPair(t)
			gl := serial.NewLink(p, serial.LinkConfig{Serializers: tt.accepted, PingInterval: -1})
			t.Cleanup(func() { gl.Close() })
			l := newLink(t, m, LinkConfig{Baud: -1, HandshakeRetry: fastRetry, Faults: tt.faults})
			waitFor(t, "a handshake error reply", func() bool { return l.Stats().HandshakeErrors >= 1 })
			equal(t, "LastHandshakeError", l.Stats().LastHandshakeError, serial.CodeSerializerUnsupported)
			equal(t, "device sessions", l.Stats().Sessions, 0)
			// The device keeps trying on its schedule.
			waitFor(t, "a retried handshake", func() bool { return gl.Stats().HandshakeErrors >= 2 })
			equal(t, "gateway sessions", gl.Stats().Handshakes, 0)
		})
	}
}

func TestLinkClose(t *testing.T) {
	m, p := ptyPair(t)
	gw := newRawGateway(t, p, 4096)
	l := newLink(t, m, LinkConfig{Baud: -1, HandshakeRetry: noRetry})
	gw.handshake(1024)
	c := acceptConn(t, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(); !errors.Is(err, ErrLinkClosed) {
		t.Fatalf("Read after Close: %v, want ErrLinkClosed", err)
	}
	if _, err := l.Accept(testCtx(t)); !errors.Is(err, ErrLinkClosed) {
		t.Fatalf("Accept after Close: %v, want ErrLinkClosed", err)
	}
	select {
	case <-l.Done():
	default:
		t.Fatal("Done not closed after Close")
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// At 9600 baud 8N1 a line carries 960 bytes per second; a pty would take
// them in microseconds, so only pacing makes this last a second.
func TestLinkPacing(t *testing.T) {
	m, p := ptyPair(t)
	gw := newRawGateway(t, p, 4096)
	l := newLink(t, m, LinkConfig{Baud: 9600, HandshakeRetry: noRetry})
	gw.handshake(4096)
	c := acceptConn(t, l)
	// 954 bytes of payload: 958 of body, at least one COBS code byte and
	// the closing zero make 960 bytes on the wire.
	msg := bytes.Repeat([]byte{0x55}, 954)
	start := time.Now()
	if err := c.Write([][]byte{msg}); err != nil {
		t.Fatal(err)
	}
	f := gw.expect(serial.FrameWAMP)
	el := time.Since(start)
	if !bytes.Equal(f.Payload, msg) {
		t.Fatal("payload damaged")
	}
	if el < 900*time.Millisecond {
		t.Fatalf("960 bytes at 9600 baud arrived in %v, want >= 0.9s", el)
	}
	if out := l.Stats().BytesOut; out < 960 {
		t.Fatalf("BytesOut %d < 960", out)
	}
}
