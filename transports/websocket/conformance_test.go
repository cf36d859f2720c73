package websocket

import (
	"testing"

	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/transporttest"
)

func TestConformance(t *testing.T) {
	for _, ser := range []transports.Serializer{transports.JSON, transports.MsgPack, transports.CBOR} {
		t.Run(ser.String(), func(t *testing.T) {
			transporttest.Run(t, func(t *testing.T, opts transports.Options) (client, server transports.Conn) {
				url, conns := startServer(t, &Server{Options: opts})
				client = dialT(t, url, ser, opts)
				server = recvConn(t, conns)
				if client.Serializer() != ser || server.Serializer() != ser {
					t.Errorf("serializers: client %v, server %v, want %v", client.Serializer(), server.Serializer(), ser)
				}
				return client, server
			})
		})
	}
}

// TestConformanceWithoutSocket runs the suite on connections that do not
// know their TCP connection, the fallback where contexts bound reads,
// writes and Close.
func TestConformanceWithoutSocket(t *testing.T) {
	transporttest.Run(t, func(t *testing.T, opts transports.Options) (client, server transports.Conn) {
		conns := make(chan transports.Conn, 1)
		stop := make(chan struct{})
		url, _ := startServer(t, &Server{Options: opts, Handler: transports.HandlerFunc(func(c transports.Conn) {
			c.(*conn).nc = nil // before anything uses it
			conns <- c
			<-stop
		})})
		t.Cleanup(func() { close(stop) })
		client = dialT(t, url, transports.JSON, opts)
		client.(*conn).nc = nil
		return client, recvConn(t, conns)
	})
}
