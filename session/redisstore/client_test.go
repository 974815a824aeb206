package redisstore

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/internal/redistest"
)

func TestNewRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		cfg   config.Redis
		wants []string // each must be named in the error
	}{
		{"no address", config.Redis{}, []string{"addrs"}},
		{"two addresses, one server", config.Redis{Addrs: []string{"a:1", "b:1"}}, []string{"addrs", "cluster: true", "master_name"}},
		{"empty address", config.Redis{Addrs: []string{""}}, []string{"addrs[0]"}},
		{"cluster and sentinel", config.Redis{Addrs: []string{"a:1"}, Cluster: true, MasterName: "m"}, []string{"cluster and master_name"}},
		{"cluster with a db", config.Redis{Addrs: []string{"a:1"}, Cluster: true, DB: 2}, []string{"db"}},
		{"ca file without tls", config.Redis{Addrs: []string{"a:1"}, CAFile: notPEM}, []string{"tls: true"}},
		{"missing ca file", config.Redis{Addrs: []string{"a:1"}, TLS: true, CAFile: filepath.Join(dir, "nope.pem")}, []string{"ca_file"}},
		{"ca file without a certificate", config.Redis{Addrs: []string{"a:1"}, TLS: true, CAFile: notPEM}, []string{"ca_file", "no PEM"}},
		{"every problem at once", config.Redis{Addrs: []string{"", ""}, Cluster: true, MasterName: "m", DB: -1},
			[]string{"addrs[0]", "addrs[1]", "cluster and master_name", "db"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.cfg, Options{})
			if err == nil {
				_ = s.Close()
				t.Fatal("New succeeded, want an error")
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestNewClientKinds: the config picks the client, and nothing connects
// until the first call (the addresses here lead nowhere).
func TestNewClientKinds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   config.Redis
		check func(t *testing.T, c redis.UniversalClient)
	}{
		{"single", config.Redis{Addrs: []string{"127.0.0.1:1"}, DB: 3, PoolSize: 7}, func(t *testing.T, c redis.UniversalClient) {
			o := c.(*redis.Client).Options()
			if o.Addr != "127.0.0.1:1" || o.DB != 3 || o.PoolSize != 7 || !o.ContextTimeoutEnabled {
				t.Errorf("options: addr %s db %d pool %d context timeouts %v", o.Addr, o.DB, o.PoolSize, o.ContextTimeoutEnabled)
			}
		}},
		{"cluster", config.Redis{Addrs: []string{"127.0.0.1:1", "127.0.0.1:2"}, Cluster: true}, func(t *testing.T, c redis.UniversalClient) {
			if o := c.(*redis.ClusterClient).Options(); len(o.Addrs) != 2 || !o.ContextTimeoutEnabled {
				t.Errorf("cluster options: addrs %q, context timeouts %v", o.Addrs, o.ContextTimeoutEnabled)
			}
		}},
		{"sentinel", config.Redis{Addrs: []string{"127.0.0.1:1", "127.0.0.1:2"}, MasterName: "mymaster", DB: 2, Password: "pw"},
			func(t *testing.T, c redis.UniversalClient) {
				// A failover client is a *redis.Client whose Options are
				// those of the master connection.
				if o := c.(*redis.Client).Options(); o.DB != 2 || o.Password != "pw" {
					t.Errorf("sentinel options: db %d, password set %v", o.DB, o.Password != "")
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, tc.cfg, Options{})
			tc.check(t, s.client)
		})
	}
}

// TestTLS connects to a real TLS-only redis-server, trusting its CA from
// ca_file and checking the name given by server_name.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	caFile, certFile, keyFile := writeTLSFiles(t, dir, "redis.test")
	tlsPort := freePort(t)
	redistest.Start(t, redistest.WithArgs(
		"--tls-port", strconv.Itoa(tlsPort),
		"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-ca-cert-file", caFile,
		"--tls-auth-clients", "no",
	))
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(tlsPort))

	good := open(t, config.Redis{Addrs: []string{addr}, TLS: true, CAFile: caFile, ServerName: "redis.test", KeyPrefix: prefix()}, Options{})
	if err := good.Ping(t.Context()); err != nil {
		t.Fatalf("Ping over TLS: %v", err)
	}
	mustCreate(t, good, newRecord("s1", "alice"))

	wrongName := open(t, config.Redis{Addrs: []string{addr}, TLS: true, CAFile: caFile, ServerName: "other.test"}, Options{Timeout: time.Second})
	if err := wrongName.Ping(t.Context()); err == nil {
		t.Error("Ping with the wrong server_name succeeded")
	}
	untrusted := open(t, config.Redis{Addrs: []string{addr}, TLS: true, ServerName: "redis.test"}, Options{Timeout: time.Second})
	if err := untrusted.Ping(t.Context()); err == nil {
		t.Error("Ping without the CA succeeded")
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// writeTLSFiles writes a CA and a server certificate for name (signed by
// it) with its key, as PEM files in dir.
func writeTLSFiles(t *testing.T, dir, name string) (caFile, certFile, keyFile string) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, srvKey := newKey(), newKey()
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "redisstore test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(file, typ string, der []byte) string {
		path := filepath.Join(dir, file)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("server.pem", "CERTIFICATE", leafDER), write("server.key", "EC PRIVATE KEY", keyDER)
}

// TestSentinel finds the master through a real Sentinel (with its own
// password) and writes to the configured database.
func TestSentinel(t *testing.T) {
	master := redistest.Start(t)
	sentinel := redistest.StartSentinel(t, master, "mymaster", redistest.WithPassword("sentinel-pw"))
	cfg := config.Redis{Addrs: []string{sentinel.Addr}, MasterName: "mymaster", DB: 2, SentinelPassword: "sentinel-pw", KeyPrefix: prefix()}
	s := open(t, cfg, Options{})
	mustCreate(t, s, newRecord("s1", "alice"))
	if _, err := s.Get(t.Context(), "s1"); err != nil {
		t.Fatalf("Get through Sentinel: %v", err)
	}
	raw := redis.NewClient(&redis.Options{Addr: master.Addr, DB: 2})
	t.Cleanup(func() { _ = raw.Close() })
	if n, err := raw.Exists(t.Context(), cfg.KeyPrefix+"s:{s1}").Result(); err != nil || n != 1 {
		t.Errorf("the session in the master's db 2: exists %d, %v; want 1", n, err)
	}

	wrong := cfg
	wrong.SentinelPassword = "wrong"
	if err := open(t, wrong, Options{Timeout: time.Second}).Ping(t.Context()); err == nil {
		t.Error("Ping with the wrong sentinel password succeeded")
	}
}
