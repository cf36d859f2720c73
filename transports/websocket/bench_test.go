package websocket

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wampgate/wampgate/transports"
)

// BenchmarkWriteRead measures WebSocket throughput over loopback for
// 100-byte msgpack messages, client to server.
func BenchmarkWriteRead(b *testing.B) {
	for _, batch := range []int{1, 16, 128} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			conns := make(chan transports.Conn, 1)
			stop := make(chan struct{})
			hs := httptest.NewServer(&Server{Handler: transports.HandlerFunc(func(c transports.Conn) {
				conns <- c
				<-stop
			})})
			defer hs.Close()
			defer close(stop)
			client, err := Dial(b.Context(), "ws"+strings.TrimPrefix(hs.URL, "http"), transports.MsgPack, transports.Options{})
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
				if _, err := server.Read(); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-werr; err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			go server.Read() // let the close handshake complete
		})
	}
}
