package jwks

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/session/jwks/jwkstest"
)

// idp is a real JWKS server (jwkstest) whose keys, Cache-Control and
// health the test changes; down, it answers 503.
type idp struct{ *jwkstest.Server }

func newIDP(t *testing.T) idp {
	t.Helper()
	p := idp{jwkstest.NewServer(t)}
	// /other/... is a provider that claims to be someone else.
	p.Mux.HandleFunc("/other/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": p.URL, "jwks_uri": p.JWKSURL})
	})
	return p
}

func (p idp) set(keys ...map[string]any) { p.SetJWKs(keys...) }

func (p idp) setDown(down bool) {
	if down {
		p.SetDown(http.StatusServiceUnavailable)
	} else {
		p.SetDown(0)
	}
}

func (p idp) setCacheControl(cc string) { p.SetCacheControl(cc) }

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func options(p idp, c *clock) Options {
	return Options{
		Issuer: p.URL, URL: p.JWKSURL, Timeout: 5 * time.Second, MaxBytes: 1 << 16,
		RefetchInterval: 30 * time.Second, CacheMin: time.Minute, CacheMax: time.Hour, Now: c.Now,
	}
}

var b64u = base64.RawURLEncoding.EncodeToString

func ecJWK(t *testing.T, kid string) (map[string]any, crypto.Signer) {
	t.Helper()
	k, j := jwkstest.NewKey(t, kid, "ES256")
	j["use"], j["alg"] = "sig", "ES256"
	return j, k
}

func edJWK(t *testing.T, kid string) map[string]any {
	t.Helper()
	_, j := jwkstest.NewKey(t, kid, "EdDSA")
	return j
}

// rsaJWK makes an RSA key of any size (jwkstest makes only 2048 bits),
// for the weak-key case.
func rsaJWK(t *testing.T, kid string, bits int) map[string]any {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"kty": "RSA", "kid": kid, "n": b64u(k.N.Bytes()), "e": b64u(big.NewInt(int64(k.E)).Bytes())}
}

// newBlockingServer answers only once block is closed.
func newBlockingServer(t *testing.T, block chan struct{}) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
