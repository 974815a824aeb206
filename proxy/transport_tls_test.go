package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
)

// testCA issues certificates for the TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a PEM certificate and key for a server name or client.
func (ca *testCA) issue(t *testing.T, name string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		DNSNames: []string{name}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestUpstreamTLS runs a real TLS upstream with a private CA that
// requires a client certificate, and checks which settings reach it.
func TestUpstreamTLS(t *testing.T) {
	ca := newTestCA(t)
	srvCert, srvKey := ca.issue(t, "app.internal", x509.ExtKeyUsageServerAuth)
	pair, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	clientPool := x509.NewCertPool()
	clientPool.AddCert(ca.cert)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("client " + r.TLS.PeerCertificates[0].Subject.CommonName))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientPool}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	cliCert, cliKey := ca.issue(t, "gateway", x509.ExtKeyUsageClientAuth)
	caFile := writeFile(t, "ca.pem", ca.pem)
	certFile, keyFile := writeFile(t, "client.pem", cliCert), writeFile(t, "client.key", cliKey)

	tests := []struct {
		name string
		tls  config.UpstreamTLS
		ok   bool
	}{
		{"CA, client certificate and server name", config.UpstreamTLS{CAFile: caFile, CertFile: certFile, KeyFile: keyFile, ServerName: "app.internal"}, true},
		{"no client certificate", config.UpstreamTLS{CAFile: caFile, ServerName: "app.internal"}, false},
		{"no CA", config.UpstreamTLS{CertFile: certFile, KeyFile: keyFile, ServerName: "app.internal"}, false},
		{"wrong server name", config.UpstreamTLS{CAFile: caFile, CertFile: certFile, KeyFile: keyFile, ServerName: "other.internal"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := config.Default().Upstream
			u.URL, u.TLS = srv.URL, tt.tls
			tr, err := upstreamTransport("upstream", u)
			if err != nil {
				t.Fatal(err)
			}
			res, err := (&http.Client{Transport: tr}).Get(srv.URL)
			if tt.ok {
				if err != nil {
					t.Fatalf("GET: %v", err)
				}
				defer res.Body.Close()
				if body, _ := io.ReadAll(res.Body); string(body) != "client gateway" {
					t.Errorf("upstream answered %q, want it to have seen the client certificate", body)
				}
				return
			}
			if err == nil {
				res.Body.Close()
				t.Fatalf("GET succeeded, want a TLS failure")
			}
		})
	}
}

func TestUpstreamTLSFileErrors(t *testing.T) {
	notPEM := writeFile(t, "ca.pem", []byte("not a certificate"))
	tests := []struct {
		name, field string
		tls         config.UpstreamTLS
	}{
		{"missing CA file", "upstreams.api.tls.ca_file", config.UpstreamTLS{CAFile: filepath.Join(t.TempDir(), "none.pem")}},
		{"CA file without PEM", "upstreams.api.tls.ca_file", config.UpstreamTLS{CAFile: notPEM}},
		{"bad key pair", "upstreams.api.tls.cert_file", config.UpstreamTLS{CertFile: notPEM, KeyFile: notPEM}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := config.Default().Upstream
			u.URL, u.TLS = "https://app.internal", tt.tls
			_, err := upstreamTransport("upstreams.api", u)
			var fe *config.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || fe.Fix == "" {
				t.Fatalf("error %v, want a FieldError for %s with a fix", err, tt.field)
			}
		})
	}
}
