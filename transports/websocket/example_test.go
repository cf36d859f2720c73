package websocket_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/websocket"
)

// A WebSocket endpoint echoing every message, and a client talking to it.
func Example() {
	srv := &websocket.Server{
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
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()

	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"
	c, err := websocket.Dial(context.Background(), url, transports.CBOR, transports.Options{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	c.Write([][]byte{{0x83, 0x01, 0x61, 0x72, 0xa0}}) // CBOR [1, "r", {}]
	m, _ := c.Read()
	fmt.Printf("% x over %s\n", m, c.Serializer().Subprotocol())
	// Output: 83 01 61 72 a0 over wamp.2.cbor
}
