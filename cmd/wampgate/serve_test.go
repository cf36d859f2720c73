package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	firmwaresim "github.com/wampgate/wampgate/firmware-sim"
	"github.com/wampgate/wampgate/gateway/client"
	"github.com/wampgate/wampgate/gateway/wamp"
	"github.com/wampgate/wampgate/transports"
	"github.com/wampgate/wampgate/transports/rawsocket"
)

const authConfig = `
listen:
  - {type: rawsocket, address: "127.0.0.1:0"}
  - {type: websocket, address: "127.0.0.2:0", path: /ws}
realms:
  - name: iot
    roles:
      backend:
        - {uri: "", match: prefix, allow: [call, register, subscribe, publish]}
        - {uri: "admin.", match: prefix, deny: [call]}
    users:
%s
`

func writeConfig(t *testing.T, path, users string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Replace(authConfig, "%s", users, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

func ticketOptions(authid, ticket string) client.Options {
	return client.Options{
		AuthID:      authid,
		AuthMethods: []string{"ticket"},
		OnChallenge: func(context.Context, *wamp.Challenge) (string, wamp.Dict, error) { return ticket, wamp.Dict{}, nil },
		JoinTimeout: 5 * time.Second,
	}
}

func TestE2EServeConfigAuthAndReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wampgate.yaml")
	writeConfig(t, path, `      - {authid: alice, role: backend, ticket: "a-secret"}
      - {authid: bob, role: backend, ticket_file: bob.ticket}`)
	if err := os.WriteFile(filepath.Join(dir, "bob.ticket"), []byte("b-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startTestServer(t, "--config", path)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Anonymous is refused; wrong tickets fail; good tickets join.
	if _, err := client.Connect(ctx, s.tcp, "iot", client.Options{JoinTimeout: 5 * time.Second}); err == nil ||
		!strings.Contains(err.Error(), wamp.ErrNoAuthMethod) {
		t.Fatalf("anonymous join: %v", err)
	}
	if _, err := client.Connect(ctx, s.tcp, "iot", ticketOptions("alice", "nope")); err == nil ||
		!strings.Contains(err.Error(), wamp.ErrAuthenticationFailed) {
		t.Fatalf("bad ticket: %v", err)
	}
	alice, err := client.Connect(ctx, s.tcp, "iot", ticketOptions("alice", "a-secret"))
	if err != nil {
		t.Fatalf("alice: %v", err)
	}
	defer alice.Close()
	bob, err := client.Connect(ctx, s.ws, "iot", ticketOptions("bob", "b-secret"))
	if err != nil {
		t.Fatalf("bob (ticket from file): %v", err)
	}
	defer bob.Close()
	_, err = bob.Call(ctx, "admin.reset", nil, nil, nil)
	var werr *client.Error
	if !errors.As(err, &werr) || werr.URI != wamp.ErrNotAuthorized {
		t.Fatalf("denied call: %v", err)
	}
	if _, err := bob.Call(ctx, "wamp.session.count", nil, nil, nil); err != nil {
		t.Fatalf("session still usable after a denied call: %v", err)
	}

	// The CLI authenticates with --authid/--ticket (or $WAMPGATE_TICKET).
	code, out, stderr := runCLI(t, ctx, "call", "--url", s.tcp, "--realm", "iot", "--authid", "alice", "--ticket", "a-secret", "wamp.session.count")
	if code != 0 || strings.TrimSpace(out) != "3" {
		t.Fatalf("cli ticket call: exit %d out %q err %q", code, out, stderr)
	}
	code, _, stderr = runCLI(t, ctx, "call", "--url", s.tcp, "--realm", "iot", "--authid", "alice", "--ticket", "bad", "wamp.session.count")
	if code != 3 || !strings.Contains(stderr, wamp.ErrAuthenticationFailed) {
		t.Fatalf("cli bad ticket: exit %d err %q", code, stderr)
	}

	// An invalid config is rejected on SIGHUP and the old one stays.
	if err := os.WriteFile(path, []byte("realms: [{name: iot, bogus: 1}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.stderr.String(), "reload rejected") {
		if time.Now().After(deadline) {
			t.Fatalf("no rejection logged:\n%s", s.stderr)
		}
		time.Sleep(20 * time.Millisecond) // polling the log of another process
	}
	if _, err := alice.Call(ctx, "wamp.session.count", nil, nil, nil); err != nil {
		t.Fatalf("alice after rejected reload: %v", err)
	}

	// A valid config without bob ends bob's session and keeps alice's.
	writeConfig(t, path, `      - {authid: alice, role: backend, ticket: "a-secret"}`)
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-bob.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("bob still connected after his user was removed:\n%s", s.stderr)
	}
	if _, err := alice.Call(ctx, "wamp.session.count", nil, nil, nil); err != nil {
		t.Fatalf("alice after reload: %v", err)
	}
	if _, err := client.Connect(ctx, s.tcp, "iot", ticketOptions("bob", "b-secret")); err == nil {
		t.Fatal("bob can still join after reload")
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("serve exit: %v", err)
	}
}

func TestServeRejectsBadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("listen:\n  - {type: websocket, adress: \"x\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, _, stderr := runCLI(t, ctx, "serve", "--config", path)
	if code != 1 || !strings.Contains(stderr, path+":2: ") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

// testPKI writes a CA, a server certificate for 127.0.0.1 and client
// certificates (one from the CA, one self-signed) into dir.
func testPKI(t *testing.T, dir string) (good, rogue tls.Certificate) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	now := time.Now()
	caKey := newKey()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) ([]byte, *ecdsa.PrivateKey) {
		k := newKey()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
		if parent == nil {
			parent, parentKey = tmpl, k
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	writePEM := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srvDER, srvKey := issue(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, ca, caKey)
	kb, _ := x509.MarshalECPrivateKey(srvKey)
	writePEM("ca.crt", "CERTIFICATE", caDER)
	writePEM("server.crt", "CERTIFICATE", srvDER)
	writePEM("server.key", "EC PRIVATE KEY", kb)
	cliDER, cliKey := issue(3, "sensor-hub", x509.ExtKeyUsageClientAuth, ca, caKey)
	rogueDER, rogueKey := issue(4, "sensor-hub", x509.ExtKeyUsageClientAuth, nil, nil)
	return tls.Certificate{Certificate: [][]byte{cliDER}, PrivateKey: cliKey},
		tls.Certificate{Certificate: [][]byte{rogueDER}, PrivateKey: rogueKey}
}

func TestE2EServeTLSClientCertificates(t *testing.T) {
	dir := t.TempDir()
	good, rogue := testPKI(t, dir)
	cfg := `
listen:
  - {type: rawsocket, address: "127.0.0.1:0", tls: {cert: server.crt, key: server.key, client_ca: ca.crt}}
  - {type: websocket, address: "127.0.0.2:0", path: /ws}
realms:
  - name: iot
    roles:
      backend:
        - {uri: "", match: prefix, allow: [call, register, subscribe, publish]}
    users:
      - {authid: sensor-hub, role: backend, ticket: "unused-ticket"}
`
	path := filepath.Join(dir, "wampgate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startTestServer(t, "--config", path)
	if !strings.HasPrefix(s.tcp, "tcps://") {
		t.Fatalf("TLS listener printed as %q", s.tcp)
	}
	addr := strings.TrimPrefix(s.tcp, "tcps://")
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(filepath.Join(dir, "ca.crt"))
	pool.AppendCertsFromPEM(caPEM)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dial := func(cert tls.Certificate) (*client.Session, error) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		if err != nil {
			return nil, err
		}
		rc, err := rawsocket.Client(conn, transports.CBOR, transports.Options{})
		if err != nil {
			conn.Close()
			return nil, err
		}
		return client.Join(ctx, rc, "iot", client.Options{JoinTimeout: 5 * time.Second})
	}
	sess, err := dial(good)
	if err != nil {
		t.Fatalf("join with a CA-signed client certificate: %v", err)
	}
	d := sess.Details()
	if d["authid"] != "sensor-hub" || d["authmethod"] != "tls" || d["authrole"] != "backend" {
		t.Fatalf("welcome details %v", d)
	}
	if _, err := sess.Call(ctx, "wamp.session.count", nil, nil, nil); err != nil {
		t.Fatalf("call over TLS: %v", err)
	}
	sess.Close()
	if sess, err := dial(rogue); err == nil {
		sess.Close()
		t.Fatal("a self-signed client certificate was accepted")
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("serve exit: %v", err)
	}
}

func TestE2EServeDevicesReload(t *testing.T) {
	fleet := firmwaresim.MustStartFleet(t, firmwaresim.FleetConfig{Count: 2})
	p1, p2 := fleet.Devices()[0].Path(), fleet.Devices()[1].Path()
	dir := t.TempDir()
	path := filepath.Join(dir, "wampgate.yaml")
	write := func(devs string) {
		cfg := `
listen:
  - {type: rawsocket, address: "127.0.0.1:0"}
  - {type: websocket, address: "127.0.0.2:0", path: /ws}
realms:
  - name: realm1
    anonymous: public
    roles:
      public:
        - {uri: "", match: prefix, allow: [call, subscribe]}
      device:
        - {uri: "dev.", match: prefix, allow: [register, publish, subscribe, call]}
devices:
` + devs
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`  - {name: pump1, port: ` + p1 + `, realm: realm1, role: device, prefix: dev.pump1.}` + "\n")
	s := startTestServer(t, "--config", path)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	callUntil := func(proc, want string) {
		t.Helper()
		var out, errs string
		for i := 0; i < 200; i++ {
			var code int
			code, out, errs = runCLI(t, ctx, "call", "--url", s.tcp, proc, "2", "3")
			if code == 0 && strings.TrimSpace(out) == want {
				return
			}
			time.Sleep(50 * time.Millisecond) // polling while the device joins
		}
		t.Fatalf("call %s: got %q %q, want %s", proc, out, errs, want)
	}
	callUntil("dev.pump1.add", "5")
	code, out, _ := runCLI(t, ctx, "devices", "--url", s.tcp, "--json")
	if code != 0 || !strings.Contains(out, `"name":"pump1"`) || !strings.Contains(out, `"state":"online"`) {
		t.Fatalf("devices: exit %d, %s", code, out)
	}
	// Reload: pump1 goes, pump2 comes.
	write(`  - {name: pump2, port: ` + p2 + `, realm: realm1, role: device, prefix: dev.pump2.}` + "\n")
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	callUntil("dev.pump2.add", "5")
	code, _, stderr := runCLI(t, ctx, "call", "--url", s.tcp, "dev.pump1.add", "1", "1")
	if code != 1 || !strings.Contains(stderr, wamp.ErrNoSuchProcedure) {
		t.Fatalf("removed device still answers: exit %d %q", code, stderr)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("serve exit: %v", err)
	}
}
