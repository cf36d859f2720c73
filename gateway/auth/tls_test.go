package auth_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wampgate/wampgate/gateway/auth"
	"github.com/wampgate/wampgate/gateway/wamp"
)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

var serial atomic.Int64

func newSerial() *big.Int { return big.NewInt(serial.Add(1)) }

func newCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-48 * time.Hour),
		NotAfter:              time.Now().Add(48 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

type certSpec struct {
	cn        string
	dns       []string
	emails    []string
	uris      []string
	notBefore time.Time
	notAfter  time.Time
	usage     []x509.ExtKeyUsage
}

func (ca *testCA) issue(t testing.TB, s certSpec) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if s.notBefore.IsZero() {
		s.notBefore = time.Now().Add(-time.Hour)
	}
	if s.notAfter.IsZero() {
		s.notAfter = time.Now().Add(time.Hour)
	}
	if s.usage == nil {
		s.usage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}
	}
	tmpl := &x509.Certificate{
		SerialNumber:   newSerial(),
		Subject:        pkix.Name{CommonName: s.cn},
		DNSNames:       s.dns,
		EmailAddresses: s.emails,
		NotBefore:      s.notBefore,
		NotAfter:       s.notAfter,
		KeyUsage:       x509.KeyUsageDigitalSignature,
		ExtKeyUsage:    s.usage,
	}
	for _, u := range s.uris {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, pu)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func certRealm(anonymous string) auth.Realm {
	return auth.Realm{
		Name:          "realm1",
		AnonymousRole: anonymous,
		Users: []auth.User{
			{AuthID: "device-1", Role: "device"},
			{AuthID: "device-2", Role: "device", Ticket: "t2"},
			{AuthID: "ops@example.com", Role: "ops"},
			{AuthID: "spiffe://edge/gw", Role: "uplink"},
		},
	}
}

func TestClientCertIdentity(t *testing.T) {
	ca := newCA(t, "client-ca")
	a := newAuth(t, certRealm("guest"))
	cert := func(s certSpec) auth.Transport {
		c, _ := ca.issue(t, s)
		return auth.Transport{ClientCert: c}
	}

	tests := []struct {
		name    string
		h       *wamp.Hello
		tr      auth.Transport
		authid  string // granted over tls; "" for another outcome
		method  string // other outcome: method chosen, or "" for an error
		errURI  string
		errText string
	}{
		{name: "CN, no methods offered", h: hello(nil, "", nil), tr: cert(certSpec{cn: "device-1"}), authid: "device-1"},
		{name: "CN, empty methods", h: hello(methods(), "", nil), tr: cert(certSpec{cn: "device-1"}), authid: "device-1"},
		{name: "tls offered with authid", h: hello(methods("tls"), "device-1", nil), tr: cert(certSpec{cn: "device-1"}), authid: "device-1"},
		{name: "DNS SAN when CN is unknown", h: hello(methods("tls"), "", nil), tr: cert(certSpec{cn: "somebody", dns: []string{"x.example", "device-2"}}), authid: "device-2"},
		{name: "CN preferred over SAN", h: hello(nil, "", nil), tr: cert(certSpec{cn: "device-1", dns: []string{"device-2"}}), authid: "device-1"},
		{name: "authid picks a SAN", h: hello(methods("tls"), "device-2", nil), tr: cert(certSpec{cn: "device-1", dns: []string{"device-2"}}), authid: "device-2"},
		{name: "e-mail SAN", h: hello(nil, "", nil), tr: cert(certSpec{cn: "x", emails: []string{"ops@example.com"}}), authid: "ops@example.com"},
		{name: "URI SAN", h: hello(nil, "", nil), tr: cert(certSpec{uris: []string{"spiffe://edge/gw"}}), authid: "spiffe://edge/gw"},
		{name: "authid not in certificate falls through", h: hello(methods("tls", "ticket"), "device-2", nil), tr: cert(certSpec{cn: "device-1"}), method: "ticket"},
		{name: "unmapped certificate, implicit", h: hello(nil, "", nil), tr: cert(certSpec{cn: "stranger"}), method: "anonymous"},
		{name: "unmapped certificate, explicit", h: hello(methods("tls"), "", nil), tr: cert(certSpec{cn: "stranger"}), errURI: wamp.ErrNoAuthMethod},
		{name: "anonymous before tls", h: hello(methods("anonymous", "tls"), "", nil), tr: cert(certSpec{cn: "device-1"}), method: "anonymous"},
		{name: "no certificate", h: hello(methods("tls"), "device-1", nil), tr: auth.Transport{}, errURI: wamp.ErrNoAuthMethod},
		{name: "expired certificate", h: hello(nil, "", nil),
			tr:     cert(certSpec{cn: "device-1", notBefore: time.Now().Add(-2 * time.Hour), notAfter: time.Now().Add(-time.Hour)}),
			errURI: wamp.ErrAuthenticationFailed, errText: "expired"},
		{name: "expired certificate, explicit", h: hello(methods("tls", "anonymous"), "", nil),
			tr:     cert(certSpec{cn: "device-1", notBefore: time.Now().Add(-2 * time.Hour), notAfter: time.Now().Add(-time.Hour)}),
			errURI: wamp.ErrAuthenticationFailed, errText: "expired"},
		{name: "certificate not yet valid", h: hello(methods("tls"), "", nil),
			tr:     cert(certSpec{cn: "device-1", notBefore: time.Now().Add(time.Hour), notAfter: time.Now().Add(2 * time.Hour)}),
			errURI: wamp.ErrAuthenticationFailed, errText: "not yet valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := a.Begin(tt.h, 1, tt.tr)
			switch {
			case tt.errURI != "":
				if x != nil {
					t.Fatalf("got method %q", x.Method())
				}
				e := authErr(t, err, tt.errURI)
				if tt.errText != "" {
					contains(t, e.Message, tt.errText)
				}
			case tt.authid != "":
				if err != nil {
					t.Fatal(err)
				}
				if x.Challenge() != nil {
					t.Fatal("tls exchange has a challenge")
				}
				id := x.Identity()
				role := "device"
				switch tt.authid {
				case "ops@example.com":
					role = "ops"
				case "spiffe://edge/gw":
					role = "uplink"
				}
				wantIdentity(t, id, tt.authid, role, auth.MethodTLS, "static")
			default:
				if err != nil {
					t.Fatal(err)
				}
				if x.Method() != tt.method {
					t.Fatalf("method %q, want %q", x.Method(), tt.method)
				}
			}
		})
	}

	t.Run("anonymous refused, unmapped certificate", func(t *testing.T) {
		a := newAuth(t, certRealm(""))
		_, err := a.Begin(hello(nil, "", nil), 1, cert(certSpec{cn: "stranger"}))
		authErr(t, err, wamp.ErrNoAuthMethod)
	})
}

func TestVerifyClientCert(t *testing.T) {
	ca := newCA(t, "client-ca")
	other := newCA(t, "other-ca")
	now := time.Now()

	good, _ := ca.issue(t, certSpec{cn: "device-1"})
	leaf, err := auth.VerifyClientCert([]*x509.Certificate{good}, ca.pool, now)
	if err != nil || leaf != good {
		t.Fatalf("good certificate: %v", err)
	}

	expired, _ := ca.issue(t, certSpec{cn: "device-1", notBefore: now.Add(-2 * time.Hour), notAfter: now.Add(-time.Hour)})
	_, err = auth.VerifyClientCert([]*x509.Certificate{expired}, ca.pool, now)
	var inv x509.CertificateInvalidError
	if !errors.Is(err, auth.ErrUntrustedCert) || !errors.As(err, &inv) || inv.Reason != x509.Expired {
		t.Fatalf("expired certificate: %v", err)
	}

	foreign, _ := other.issue(t, certSpec{cn: "device-1"})
	_, err = auth.VerifyClientCert([]*x509.Certificate{foreign}, ca.pool, now)
	var ua x509.UnknownAuthorityError
	if !errors.Is(err, auth.ErrUntrustedCert) || !errors.As(err, &ua) {
		t.Fatalf("foreign certificate: %v", err)
	}

	serverOnly, _ := ca.issue(t, certSpec{cn: "device-1", usage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if _, err = auth.VerifyClientCert([]*x509.Certificate{serverOnly}, ca.pool, now); !errors.Is(err, auth.ErrUntrustedCert) {
		t.Fatalf("server-only certificate: %v", err)
	}

	if _, err = auth.VerifyClientCert(nil, ca.pool, now); !errors.Is(err, auth.ErrUntrustedCert) {
		t.Fatalf("empty chain: %v", err)
	}
	if _, err = auth.VerifyClientCert([]*x509.Certificate{good}, nil, now); !errors.Is(err, auth.ErrUntrustedCert) {
		t.Fatalf("no roots: %v", err)
	}
}

func TestCertNames(t *testing.T) {
	ca := newCA(t, "ca")
	c, _ := ca.issue(t, certSpec{cn: "cn", dns: []string{"d1", "d2"}, emails: []string{"e@x"}, uris: []string{"urn:u"}})
	got := auth.CertNames(c)
	want := []string{"cn", "d1", "d2", "e@x", "urn:u"}
	if len(got) != len(want) {
		t.Fatalf("CertNames = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("CertNames = %v, want %v", got, want)
		}
	}
}

// handshake runs a TLS handshake over net.Pipe and returns both states.
func handshake(t *testing.T, version uint16) (client, server tls.ConnectionState) {
	t.Helper()
	ca := newCA(t, "ca")
	srvCert, srvKey := ca.issue(t, certSpec{cn: "router", dns: []string{"router"}})
	c1, c2 := net.Pipe()
	t.Cleanup(func() { c1.Close(); c2.Close() })

	srv := tls.Server(c2, &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{srvCert.Raw}, PrivateKey: srvKey, Leaf: srvCert}},
		MinVersion:   version, MaxVersion: version,
	})
	cli := tls.Client(c1, &tls.Config{RootCAs: ca.pool, ServerName: "router", MinVersion: version, MaxVersion: version})
	errc := make(chan error, 1)
	go func() { errc <- srv.Handshake() }()
	if err := cli.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	return cli.ConnectionState(), srv.ConnectionState()
}

func TestChannelBindings(t *testing.T) {
	if auth.ChannelBindings(nil) != nil || auth.ChannelBindings(&tls.ConnectionState{}) != nil {
		t.Fatal("bindings without a handshake")
	}
	t.Run("TLS 1.2", func(t *testing.T) {
		cs, ss := handshake(t, tls.VersionTLS12)
		cb, sb := auth.ChannelBindings(&cs), auth.ChannelBindings(&ss)
		want := sha256.Sum256(cs.TLSUnique)
		if len(cs.TLSUnique) == 0 || !bytes.Equal(cb["tls-unique"], want[:]) {
			t.Fatalf("tls-unique %x, want sha256(%x)", cb["tls-unique"], cs.TLSUnique)
		}
		for _, k := range []string{"tls-unique", "tls-exporter"} {
			if len(cb[k]) != 32 || !bytes.Equal(cb[k], sb[k]) {
				t.Fatalf("%s: client %x server %x", k, cb[k], sb[k])
			}
		}
	})
	t.Run("TLS 1.3", func(t *testing.T) {
		cs, ss := handshake(t, tls.VersionTLS13)
		cb, sb := auth.ChannelBindings(&cs), auth.ChannelBindings(&ss)
		if _, ok := cb["tls-unique"]; ok {
			t.Fatal("tls-unique offered on TLS 1.3")
		}
		if len(cb["tls-exporter"]) != 32 || !bytes.Equal(cb["tls-exporter"], sb["tls-exporter"]) {
			t.Fatalf("tls-exporter: client %x server %x", cb["tls-exporter"], sb["tls-exporter"])
		}
	})
	t.Run("distinct per connection", func(t *testing.T) {
		a, _ := handshake(t, tls.VersionTLS13)
		b, _ := handshake(t, tls.VersionTLS13)
		if bytes.Equal(auth.ChannelBindings(&a)["tls-exporter"], auth.ChannelBindings(&b)["tls-exporter"]) {
			t.Fatal("two connections share a channel id")
		}
	})
}
