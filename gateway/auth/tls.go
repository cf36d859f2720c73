package auth

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"
)

// exporterLabel is the RFC 9266 label for the tls-exporter channel binding.
const exporterLabel = "EXPORTER-Channel-Binding"

// ChannelBindings returns the cryptosign channel ids a TLS connection can
// offer, for Transport.ChannelBinding:
//
//   - "tls-unique": SHA-256 of the RFC 5929 tls-unique value (the first
//     Finished message), as autobahn-python computes it. Only TLS 1.2 and
//     earlier have it.
//   - "tls-exporter": 32 bytes of RFC 9266 keying material (label
//     EXPORTER-Channel-Binding, no context). TLS 1.3, or TLS 1.2 with
//     extended master secret.
//
// It returns nil for a nil or incomplete handshake.
func ChannelBindings(cs *tls.ConnectionState) map[string][]byte {
	if cs == nil || !cs.HandshakeComplete {
		return nil
	}
	m := make(map[string][]byte, 2)
	if len(cs.TLSUnique) > 0 {
		sum := sha256.Sum256(cs.TLSUnique)
		m[BindingTLSUnique] = sum[:]
	}
	if b, err := cs.ExportKeyingMaterial(exporterLabel, nil, 32); err == nil {
		m[BindingTLSExporter] = b
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// VerifyClientCert checks a peer's certificate chain (leaf first, as in
// tls.ConnectionState.PeerCertificates) against the client_ca pool at time
// now, for client authentication. It returns the leaf for
// Transport.ClientCert. Listeners that request but do not require a client
// certificate (tls.RequestClientCert) can use it to turn a bad certificate
// into a WAMP ABORT instead of a failed TLS handshake. Errors wrap
// ErrUntrustedCert and the x509 error.
func VerifyClientCert(chain []*x509.Certificate, roots *x509.CertPool, now time.Time) (*x509.Certificate, error) {
	if len(chain) == 0 {
		return nil, fmt.Errorf("%w: no certificate", ErrUntrustedCert)
	}
	if roots == nil {
		return nil, fmt.Errorf("%w: no client_ca configured", ErrUntrustedCert)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUntrustedCert, err)
	}
	return chain[0], nil
}
