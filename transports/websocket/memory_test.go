package websocket

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/wampgate/wampgate/transports"
)

// rawClient is a minimal WebSocket client on a bare TCP connection: it keeps
// no buffers and no goroutine, so that memory measurements see the server.
type rawClient struct {
	nc net.Conn
}

// rawUpgrade dials addr and performs the opening handshake offering proto.
// The bytes of after are sent together with the request, before the
// response arrives.
func rawUpgrade(addr, proto string, after []byte) (*rawClient, error) {
	nc, err := net.DialTimeout("tcp", addr, testWait)
	if err != nil {
		return nil, err
	}
	if err := nc.SetDeadline(time.Now().Add(testWait)); err != nil {
		nc.Close()
		return nil, err
	}
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Sec-WebSocket-Protocol: " + proto + "\r\n\r\n"
	if _, err := nc.Write(append([]byte(req), after...)); err != nil {
		nc.Close()
		return nil, err
	}
	// Read the response byte by byte, so that nothing after it is consumed.
	var head []byte
	one := make([]byte, 1)
	for len(head) < 4 || string(head[len(head)-4:]) != "\r\n\r\n" {
		if _, err := nc.Read(one); err != nil {
			nc.Close()
			return nil, fmt.Errorf("reading the upgrade response: %w", err)
		}
		head = append(head, one[0])
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(head)), nil)
	if err != nil {
		nc.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		nc.Close()
		return nil, fmt.Errorf("upgrade answered %s", resp.Status)
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		nc.Close()
		return nil, err
	}
	return &rawClient{nc: nc}, nil
}

// clientFrame returns payload as one masked client frame with opcode op
// (0x1 text, 0x2 binary, 0x9 ping, 0x8 close).
func clientFrame(op byte, payload []byte) []byte {
	key := [4]byte{0x1f, 0x2e, 0x3d, 0x4c}
	var f []byte
	switch n := len(payload); {
	case n < 126:
		f = append(f, 0x80|op, 0x80|byte(n))
	case n <= 0xffff:
		f = append(f, 0x80|op, 0x80|126)
		f = binary.BigEndian.AppendUint16(f, uint16(n))
	default:
		f = append(f, 0x80|op, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	f = append(f, key[:]...)
	for i, c := range payload {
		f = append(f, c^key[i%4])
	}
	return f
}

// readServerFrame reads one unmasked, unfragmented server frame and returns
// its opcode and payload.
func readServerFrame(r io.Reader) (byte, []byte, error) {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:2]); err != nil {
		return 0, nil, err
	}
	if h[0]&0x80 == 0 || h[1]&0x80 != 0 {
		return 0, nil, fmt.Errorf("unexpected frame header % x", h[:2])
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		if _, err := io.ReadFull(r, h[:2]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(h[:2]))
	case 127:
		if _, err := io.ReadFull(r, h[:8]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(h[:8])
	}
	if n > 1<<24 {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, err
	}
	return h[0] & 0x0f, p, nil
}

// BenchmarkIdleSessionMemory reports the Go memory (heap in use plus
// goroutine stacks) held per idle WebSocket session on the server: the
// handler echoes one 200-byte message, as a router answers HELLO, and then
// waits in Read. The clients are bare TCP connections in the same process
// (a few hundred bytes each, counted in the figure).
func BenchmarkIdleSessionMemory(b *testing.B) {
	const sessions = 2000
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ended := make(chan struct{}, sessions)
	srv := &Server{Handler: transports.HandlerFunc(func(c transports.Conn) {
		defer func() { ended <- struct{}{} }()
		for {
			m, err := c.Read()
			if err != nil {
				return
			}
			if err := c.Write([][]byte{m}); err != nil {
				return
			}
		}
	})}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: testWait}
	served := make(chan struct{})
	go func() { hs.Serve(ln); close(served) }()

	var clients []*rawClient
	defer func() {
		for _, c := range clients {
			c.nc.Close()
		}
		for range clients {
			<-ended
		}
		hs.Close()
		<-served
	}()

	msg := make([]byte, 200)
	for i := range msg {
		msg[i] = 'a' + byte(i%26)
	}
	frame := clientFrame(0x1, msg)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range sessions {
		c, err := rawUpgrade(ln.Addr().String(), "wamp.2.json", nil)
		if err != nil {
			b.Fatal(err)
		}
		clients = append(clients, c)
		if _, err := c.nc.Write(frame); err != nil {
			b.Fatal(err)
		}
		if _, p, err := readServerFrame(c.nc); err != nil || string(p) != string(msg) {
			b.Fatalf("echo: %q, %v", p, err)
		}
	}
	for range b.N {
		runtime.GC()
	}
	runtime.ReadMemStats(&after)
	heap := float64(after.HeapInuse) - float64(before.HeapInuse)
	stack := float64(after.StackInuse) - float64(before.StackInuse)
	b.ReportMetric((heap+stack)/sessions, "B/session")
	b.ReportMetric(heap/sessions, "heap-B/session")
	b.ReportMetric(stack/sessions, "stack-B/session")
}
