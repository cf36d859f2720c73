package rawsocket

import (
	"testing"

	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/transporttest"
)

func TestConformanceTCP(t *testing.T) {
	transporttest.Run(t, func(t *testing.T, opts transports.Options) (client, server transports.Conn) {
		ln := listenTCP(t)
		conns := startServer(t, &Server{Options: opts}, ln)
		client = dialT(t, "tcp", ln.Addr().String(), transports.CBOR, opts)
		server = recvConn(t, conns)
		if got := client.Info().Kind; got != "rawsocket" {
			t.Errorf("client kind %q, want rawsocket", got)
		}
		return client, server
	})
}

func TestConformanceUnix(t *testing.T) {
	transporttest.Run(t, func(t *testing.T, opts transports.Options) (client, server transports.Conn) {
		path := socketPath(t)
		ln, err := ListenUnix(path)
		if err != nil {
			t.Fatal(err)
		}
		conns := startServer(t, &Server{Options: opts}, ln)
		client = dialT(t, "unix", path, transports.JSON, opts)
		server = recvConn(t, conns)
		if got := server.Info().Kind; got != "rawsocket-unix" {
			t.Errorf("server kind %q, want rawsocket-unix", got)
		}
		return client, server
	})
}
