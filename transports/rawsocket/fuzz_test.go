package rawsocket

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/wampgate/wampgate/transports"
)

// FuzzHandshake feeds arbitrary client octets to the server handshake over
// net.Pipe and checks the reply against a model of the rules. It must never
// panic or hang.
//
// mask selects the server's serializers (bits 0..2 = JSON, MsgPack, CBOR)
// and, in its high nibble, the smallest client length exponent accepted.
func FuzzHandshake(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, mask byte, full bool) {
		var sers []transports.Serializer
		for i, s := range []transports.Serializer{transports.JSON, transports.MsgPack, transports.CBOR} {
			if mask&(1<<i) != 0 {
				sers = append(sers, s)
			}
		}
		h := &hsConfig{serializers: sers, ourExp: 11, minPeerExp: mask >> 4}
		if full {
			h.reject = CodeMaxConnections
		}

		cli, srv := net.Pipe()
		defer cli.Close()
		type result struct {
			ser  transports.Serializer
			peer int
			err  error
		}
		res := make(chan result, 1)
		go func() {
			srv.SetDeadline(time.Now().Add(testWait))
			ser, peer, err := serverHandshake(srv, h)
			if err != nil {
				srv.Close() // as Server.serveConn does
			}
			res <- result{ser, peer, err}
		}()

		in := data[:min(len(data), 4)]
		cli.SetDeadline(time.Now().Add(testWait))
		var reply []byte
		if _, err := cli.Write(in); err == nil {
			if len(in) < 4 {
				cli.Close() // end of stream inside the handshake
			} else {
				reply, _ = io.ReadAll(io.LimitReader(cli, 4))
			}
		}
		var r result
		select {
		case r = <-res:
		case <-time.After(testWait):
			t.Fatal("server handshake hung")
		}
		if r.err == nil {
			defer srv.Close()
		}

		// Model.
		switch {
		case len(in) < 4:
			if r.err == nil || len(reply) != 0 {
				t.Fatalf("short input % x: err %v reply % x", in, r.err, reply)
			}
			return
		case in[0] != magic:
			if !errors.Is(r.err, ErrBadMagic) || len(reply) != 0 {
				t.Fatalf("bad magic % x: err %v reply % x", in, r.err, reply)
			}
			return
		}
		ser, exp := in[1]&0x0f, in[1]>>4
		var code byte
		switch {
		case ser == 0 || ser > 3 || mask&(1<<(ser-1)) == 0:
			code = CodeSerializerUnsupported
		case in[2] != 0 || in[3] != 0:
			code = CodeReservedBits
		case exp < mask>>4:
			code = CodeMaxLengthUnacceptable
		case full:
			code = CodeMaxConnections
		}
		if code != 0 {
			var he *HandshakeError
			if !errors.As(r.err, &he) || he.Code != code {
				t.Fatalf("input % x: err %v, want code %d", in, r.err, code)
			}
			if want := []byte{magic, code << 4, 0, 0}; !bytes.Equal(reply, want) {
				t.Fatalf("input % x: reply % x, want % x", in, reply, want)
			}
			return
		}
		if r.err != nil {
			t.Fatalf("input % x: %v", in, r.err)
		}
		if want := []byte{magic, 11<<4 | ser, 0, 0}; !bytes.Equal(reply, want) {
			t.Fatalf("input % x: reply % x, want % x", in, reply, want)
		}
		if r.ser != transports.Serializer(ser) || r.peer != 1<<(9+int(exp)) {
			t.Fatalf("input % x: serializer %v limit %d", in, r.ser, r.peer)
		}
	})
}

// memConn is a net.Conn that reads a fixed input and records writes. It
// never blocks, so a reader over it cannot hang.
type memConn struct {
	in  *bytes.Reader
	mu  sync.Mutex
	out bytes.Buffer
}

func (m *memConn) Read(p []byte) (int, error) { return m.in.Read(p) }
func (m *memConn) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.out.Write(p)
}
func (m *memConn) Close() error                     { return nil }
func (m *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (m *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (m *memConn) SetDeadline(time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzFrameReader feeds arbitrary bytes after a good handshake to Read and
// compares the messages, PONG replies and final error with a reference
// parser. exp sets our receive limit to 2^(9+exp%16).
func FuzzFrameReader(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, exp byte) {
		exp %= 16
		opts := transports.Options{MaxMessageSize: 1 << (9 + int(exp))}.WithDefaults()
		mc := &memConn{in: bytes.NewReader(append([]byte{magic, 0xF1, 0, 0}, data...))}
		h := &hsConfig{serializers: []transports.Serializer{transports.JSON}, ourExp: lenExp(opts.MaxMessageSize)}
		ser, peer, err := serverHandshake(mc, h)
		if err != nil {
			t.Fatal(err)
		}
		c := newConn(mc, connConfig{ser: ser, kind: "rawsocket", maxIn: recvLimit(opts.MaxMessageSize), peerMax: peer, writeTimeout: opts.WriteTimeout})

		wantMsgs, wantPongs, wantErr := parseFrames(data, c.maxIn)
		var gotErr error
		for i := 0; ; i++ {
			m, err := c.Read()
			if err != nil {
				gotErr = err
				break
			}
			if len(m) > c.maxIn {
				t.Fatalf("message of %d bytes over the limit %d", len(m), c.maxIn)
			}
			if i >= len(wantMsgs) || !bytes.Equal(m, wantMsgs[i]) {
				t.Fatalf("message %d: %d bytes not expected (model has %d messages)", i, len(m), len(wantMsgs))
			}
			wantMsgs[i] = nil
		}
		for i, m := range wantMsgs {
			if m != nil {
				t.Fatalf("message %d of %d never read (error %v)", i, len(wantMsgs), gotErr)
			}
		}
		if !errors.Is(gotErr, wantErr) {
			t.Fatalf("final error %v, want %v", gotErr, wantErr)
		}
		// The handshake reply, then one PONG per PING, echoing it.
		want := []byte{magic, h.ourExp<<4 | 1, 0, 0}
		for _, p := range wantPongs {
			want = append(want, frame(framePong, string(p))...)
		}
		if !bytes.Equal(mc.out.Bytes(), want) {
			t.Fatalf("wrote % .64x, want % .64x", mc.out.Bytes(), want)
		}
	})
}

// parseFrames is a straightforward reference parser for the frame rules.
func parseFrames(data []byte, limit int) (msgs, pings [][]byte, err error) {
	for {
		if len(data) == 0 {
			return msgs, pings, io.EOF
		}
		if len(data) < 4 {
			return msgs, pings, io.ErrUnexpectedEOF
		}
		b0 := data[0]
		n := int(data[1])<<16 | int(data[2])<<8 | int(data[3])
		if b0>>4 != 0 || b0&7 > 2 {
			return msgs, pings, transports.ErrProtocol
		}
		if b0&8 != 0 {
			if n != 0 {
				return msgs, pings, transports.ErrProtocol
			}
			n = 1 << 24
		}
		if n > limit {
			return msgs, pings, transports.ErrMessageTooBig
		}
		data = data[4:]
		if len(data) < n {
			return msgs, pings, io.ErrUnexpectedEOF
		}
		switch b0 & 7 {
		case frameMessage:
			msgs = append(msgs, data[:n])
		case framePing:
			pings = append(pings, data[:n])
		}
		data = data[n:]
	}
}
