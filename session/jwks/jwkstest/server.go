// Package jwkstest provides a real identity provider for tests, in the
// manner of net/http/httptest: an HTTP server publishing a JWK set (and an
// OpenID discovery document) whose keys, Cache-Control and health a test
// changes, counting every JWKS request, and signing tokens with the keys
// it made.
package jwkstest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// Server is a JWKS server started by NewServer and closed when its test
// ends. JWKS is served at JWKSURL (and any path below it); discovery at
// URL + "/.well-known/openid-configuration" names URL as the issuer.
type Server struct {
	// URL is the server's base URL: the issuer and discovery base.
	URL string
	// JWKSURL is where the JWK set is served.
	JWKSURL string
	// Mux is the server's handler; a test may add handlers of its own.
	Mux *http.ServeMux

	srv     *httptest.Server
	mu      sync.Mutex
	jwks    []map[string]any
	signers map[string]crypto.Signer
	down    int
	cc      string
	fetches atomic.Int64
}

// NewServer starts a Server with no keys; it is closed by t.Cleanup.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{Mux: http.NewServeMux(), signers: map[string]crypto.Signer{}}
	s.Mux.HandleFunc("/jwks", s.serveJWKS)
	s.Mux.HandleFunc("/jwks/", s.serveJWKS)
	s.Mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		down := s.down
		s.mu.Unlock()
		if down != 0 {
			http.Error(w, "down", down)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": s.URL, "jwks_uri": s.JWKSURL})
	})
	s.srv = httptest.NewServer(s.Mux)
	s.URL, s.JWKSURL = s.srv.URL, s.srv.URL+"/jwks"
	t.Cleanup(s.srv.Close)
	return s
}

func (s *Server) serveJWKS(w http.ResponseWriter, r *http.Request) {
	s.fetches.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down != 0 {
		http.Error(w, "down", s.down)
		return
	}
	if s.cc != "" {
		w.Header().Set("Cache-Control", s.cc)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": s.jwks})
}

var b64u = base64.RawURLEncoding.EncodeToString

// NewKey generates a key for alg (ES256, RS256/PS256 with 2048 bits, or
// EdDSA) and returns its private half and public JWK, carrying kid when
// kid is not empty. It publishes nothing.
func NewKey(t testing.TB, kid, alg string) (crypto.Signer, map[string]any) {
	t.Helper()
	var signer crypto.Signer
	var j map[string]any
	switch alg {
	case "ES256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := k.PublicKey.Bytes()
		signer, j = k, map[string]any{"kty": "EC", "crv": "P-256", "x": b64u(b[1:33]), "y": b64u(b[33:])}
	case "RS256", "PS256":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		signer, j = k, map[string]any{"kty": "RSA", "n": b64u(k.N.Bytes()), "e": b64u(big.NewInt(int64(k.E)).Bytes())}
	case "EdDSA":
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		signer, j = priv, map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64u(pub)}
	default:
		t.Fatalf("jwkstest: unsupported alg %q", alg)
	}
	if kid != "" {
		j["kid"] = kid
	}
	return signer, j
}

// AddKey generates a key for alg (see NewKey), publishes it under kid
// and keeps its private half for Sign.
func (s *Server) AddKey(t testing.TB, kid, alg string) crypto.Signer {
	t.Helper()
	signer, j := NewKey(t, kid, alg)
	s.AddSigner(signer, j)
	return signer
}

// AddSigner publishes jwk (made by NewKey, perhaps with "alg" or "use"
// added) and keeps signer for Sign under jwk's kid.
func (s *Server) AddSigner(signer crypto.Signer, jwk map[string]any) {
	kid, _ := jwk["kid"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signers[kid] = signer
	s.jwks = append(s.jwks, jwk)
}

// AddJWK publishes a raw JWK as given (symmetric, malformed or odd keys).
func (s *Server) AddJWK(jwk map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jwks = append(s.jwks, jwk)
}

// SetJWKs replaces the published set with jwks (none: an empty set);
// keys made by AddKey stay usable by Sign.
func (s *Server) SetJWKs(jwks ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jwks = jwks
}

// Remove unpublishes every JWK whose kid is kid.
func (s *Server) Remove(kid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.jwks[:0:0]
	for _, j := range s.jwks {
		if j["kid"] != kid {
			kept = append(kept, j)
		}
	}
	s.jwks = kept
}

// SetDown makes the JWKS and discovery endpoints answer status (with no
// keys); 0 brings them back.
func (s *Server) SetDown(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = status
}

// SetCacheControl sets the Cache-Control header of JWKS answers ("" for none).
func (s *Server) SetCacheControl(cc string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cc = cc
}

// Fetches is the number of JWKS requests served so far, down or not.
func (s *Server) Fetches() int64 { return s.fetches.Load() }

// Sign mints a token of claims with the key AddKey made under kid, using
// alg, with kid in the header; header overrides the JOSE header (a nil
// value deletes the entry).
func (s *Server) Sign(t testing.TB, kid, alg string, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	s.mu.Lock()
	key, ok := s.signers[kid]
	s.mu.Unlock()
	if !ok {
		t.Fatalf("jwkstest: no key %q made by AddKey", kid)
	}
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(alg), claims)
	tok.Header["kid"] = kid
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("jwkstest: sign: %v", err)
	}
	return raw
}
