package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/gatehouse/gatehouse/config"
)

// upstreamTransport builds the transport to one upstream: the pooled
// transport of newTransport, plus the upstream's TLS settings (a custom
// CA, a client certificate, a server name), read once here. field is the
// upstream's YAML path, for errors.
func upstreamTransport(field string, u config.Upstream) (*http.Transport, error) {
	t := newTransport(u)
	c := u.TLS
	if c == (config.UpstreamTLS{}) {
		return t, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if c.CAFile != "" {
		pemData, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, &config.FieldError{Field: field + ".tls.ca_file", Problem: "cannot read the CA file", Fix: "check the path and permissions", Err: err}
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pemData) {
			return nil, &config.FieldError{Field: field + ".tls.ca_file", Problem: "holds no PEM certificate", Fix: "use a PEM file with -----BEGIN CERTIFICATE----- blocks",
				Err: errors.New("no certificates found")}
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, &config.FieldError{Field: field + ".tls.cert_file", Problem: "cannot load the client certificate and key", Fix: "check that cert_file and key_file are a matching PEM pair",
				Err: fmt.Errorf("load key pair: %w", err)}
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	t.TLSClientConfig = tc
	return t, nil
}
