package rawsocket

import (
	"fmt"
	"net"
	"runtime"
	"testing"

	"github.com/wampgate/wampgate/transports"
)

// BenchmarkWriteRead measures RawSocket throughput over TCP loopback for
// 100-byte messages: one goroutine writes batches, the benchmark goroutine
// reads every message.
func BenchmarkWriteRead(b *testing.B) {
	for _, batch := range []int{1, 16, 128} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			benchWriteRead(b, batch)
		})
	}
}

func benchWriteRead(b *testing.B, batch int) {
	ln, err := listenTCPB()
	if err != nil {
		b.Fatal(err)
	}
	conns := make(chan transports.Conn, 1)
	stop := make(chan struct{})
	s := &Server{Handler: transports.HandlerFunc(func(c transports.Conn) {
		conns <- c
		<-stop
	})}
	go s.Serve(ln)
	defer func() {
		close(stop)
		s.Close()
		s.Wait()
	}()
	client, err := Dial(b.Context(), "tcp", ln.Addr().String(), transports.MsgPack, transports.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	server := <-conns

	msg := make([]byte, 100)
	msgs := make([][]byte, batch)
	for i := range msgs {
		msgs[i] = msg
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()

	werr := make(chan error, 1)
	go func() {
		for sent := 0; sent < b.N; sent += batch {
			if err := client.Write(msgs[:min(batch, b.N-sent)]); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	for range b.N {
		m, err := server.Read()
		if err != nil {
			b.Fatal(err)
		}
		if len(m) != len(msg) {
			b.Fatalf("read %d bytes", len(m))
		}
	}
	if err := <-werr; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkIdleSessionMemory reports the Go memory (heap plus goroutine
// stacks) held per idle RawSocket connection: the server end with its
// handler blocked in Read, measured over many sessions. The client ends
// live in the same process and are counted too, so the metric is the
// total divided by two connections per session.
func BenchmarkIdleSessionMemory(b *testing.B) {
	const sessions = 500
	ln, err := listenTCPB()
	if err != nil {
		b.Fatal(err)
	}
	s := &Server{Handler: transports.HandlerFunc(func(c transports.Conn) {
		for {
			if _, err := c.Read(); err != nil {
				return
			}
		}
	})}
	go s.Serve(ln)
	defer func() {
		s.Close()
		s.Wait()
	}()
	var clients []transports.Conn
	readers := make(chan struct{}, sessions)
	defer func() {
		for _, c := range clients {
			c.Close()
		}
		for range clients {
			<-readers
		}
	}()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range sessions {
		c, err := Dial(b.Context(), "tcp", ln.Addr().String(), transports.CBOR, transports.Options{})
		if err != nil {
			b.Fatal(err)
		}
		clients = append(clients, c)
		go func() {
			for {
				if _, err := c.Read(); err != nil {
					readers <- struct{}{}
					return
				}
			}
		}()
	}
	// Exchange one message on every session so buffers are in use.
	msg := [][]byte{make([]byte, 200)}
	for _, c := range clients {
		if err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
	for range b.N {
		runtime.GC()
	}
	runtime.ReadMemStats(&after)
	used := float64(after.HeapInuse+after.StackInuse) - float64(before.HeapInuse+before.StackInuse)
	b.ReportMetric(used/(2*sessions), "B/conn")
}

func listenTCPB() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
