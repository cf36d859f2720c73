package rawsocket_test

import (
	"context"
	"fmt"
	"net"

	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/rawsocket"
)

// A server echoing every message, and a client talking to it.
func Example() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &rawsocket.Server{
		Handler: transports.HandlerFunc(func(c transports.Conn) {
			for {
				m, err := c.Read()
				if err != nil {
					return
				}
				if err := c.Write([][]byte{m}); err != nil {
					return
				}
			}
		}),
		Options: transports.Options{MaxMessageSize: 1 << 20},
	}
	go srv.Serve(ln)

	c, err := rawsocket.Dial(context.Background(), "tcp", ln.Addr().String(), transports.JSON, transports.Options{})
	if err != nil {
		panic(err)
	}
	c.Write([][]byte{[]byte(`[1,"realm1",{}]`)})
	m, _ := c.Read()
	fmt.Printf("%s %s, server accepts %d bytes\n", m, c.Serializer(), c.MaxOutgoing())

	c.Close()
	srv.Close() // stop accepting
	srv.Wait()  // sessions have ended
	// Output: [1,"realm1",{}] json, server accepts 1048576 bytes
}
