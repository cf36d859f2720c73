package rawsocket

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/transporttest"
)

// TestTLS runs RawSocket over TLS: Serve on a TLS listener, Client over a
// tls.Conn. Both ends report the TLS state in Info.
func TestTLS(t *testing.T) {
	// Borrow the test certificate and a client config trusting it.
	hs := httptest.NewTLSServer(http.NotFoundHandler())
	defer hs.Close()
	serverConf := hs.TLS.Clone()
	clientConf := hs.Client().Transport.(*http.Transport).TLSClientConfig.Clone()

	ln := tls.NewListener(listenTCP(t), serverConf)
	conns := startServer(t, &Server{}, ln)
	tc, err := tls.Dial("tcp", ln.Addr().String(), clientConf)
	if err != nil {
		t.Fatal(err)
	}
	client, err := Client(tc, transports.CBOR, transports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server := recvConn(t, conns)
	for _, c := range []transports.Conn{client, server} {
		if st := c.Info().TLS; st == nil || !st.HandshakeComplete {
			t.Errorf("%s: Info().TLS = %v, want a completed handshake", c.Info().Kind, st)
		}
	}
	if err := client.Write([][]byte{[]byte("over tls")}); err != nil {
		t.Fatal(err)
	}
	if m, err := server.Read(); err != nil || string(m) != "over tls" {
		t.Fatalf("Read: %q, %v", m, err)
	}
}

// TestConformanceTLS runs the suite over TLS, where frames go through the
// write buffer instead of writev.
func TestConformanceTLS(t *testing.T) {
	hs := httptest.NewTLSServer(http.NotFoundHandler())
	defer hs.Close()
	serverConf := hs.TLS.Clone()
	clientConf := hs.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	transporttest.Run(t, func(t *testing.T, opts transports.Options) (client, server transports.Conn) {
		ln := tls.NewListener(listenTCP(t), serverConf)
		conns := startServer(t, &Server{Options: opts}, ln)
		tc, err := tls.Dial("tcp", ln.Addr().String(), clientConf)
		if err != nil {
			t.Fatal(err)
		}
		client, err = Client(tc, transports.JSON, opts)
		if err != nil {
			t.Fatal(err)
		}
		return client, recvConn(t, conns)
	})
}
