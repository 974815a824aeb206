package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse/session/jwks/jwkstest"
)

// rotatingIdP is an identity provider's discovery document and JWKS
// (jwkstest, a real HTTP server in the test): it can be down (503),
// rotate its signing key, and counts JWKS fetches. Its set also holds a
// symmetric key, which must never verify anything.
type rotatingIdP struct {
	*jwkstest.Server
	kid string
}

func newRotatingIdP(t *testing.T) *rotatingIdP {
	t.Helper()
	p := &rotatingIdP{Server: jwkstest.NewServer(t)}
	p.SetCacheControl("public, max-age=600")
	p.rotate(t, "key-1")
	return p
}

// rotate replaces the signing key: the old one leaves the JWKS.
func (p *rotatingIdP) rotate(t *testing.T, kid string) {
	t.Helper()
	signer, jwk := jwkstest.NewKey(t, kid, "ES256")
	jwk["alg"], jwk["use"] = "ES256", "sig"
	p.SetJWKs(map[string]any{"kty": "oct", "kid": "shared", "alg": "HS256",
		"k": base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))})
	p.AddSigner(signer, jwk)
	p.kid = kid
}

// token signs a token for sub with the current key (kid overridable).
func (p *rotatingIdP) token(t *testing.T, sub string, extra map[string]any) string {
	t.Helper()
	now := time.Now()
	c := jwt.MapClaims{"iss": p.URL, "aud": "orders", "sub": sub, "jti": "jti-" + sub,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "realm_access": map[string]any{"roles": []string{"buyer"}}}
	return p.Sign(t, p.kid, "ES256", c, extra)
}

func TestExternalIssuerEndToEnd(t *testing.T) {
	dir := t.TempDir()
	up := newUpstream(t)
	idp := newRotatingIdP(t)
	idp.SetDown(http.StatusServiceUnavailable) // down when the gateway starts
	keyFile := keygen(t, dir, "EdDSA")
	cfgFile := writeFile(t, dir, "gateway.yaml", fmt.Sprintf(`
server: {listen: 127.0.0.1:0}
store: {type: memory}
admin: {listen: "127.0.0.1:0", token: e2e-admin-token-0123456789}
upstream: {url: %s}
keys: [{private_key_file: %s}]
issuers:
  - issuer: %s
    audiences: [orders]
    algorithms: [ES256]
    claims: {roles: [realm_access.roles]}
    subject_prefix: "idp:"
external_tokens:
  refetch_interval: 1m
assertion: {enabled: true, ttl: 20s}
`, up.URL, keyFile, idp.URL))
	gw := start(t, "serve", "--config", cfgFile)
	base, admin := "http://"+gw.Addr, "http://"+gw.AdminAddr(t)

	get := func(url string, hdr ...string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	code, body, _ := get(admin + "/readyz")
	if code != 200 || !strings.Contains(body, `"degraded"`) || !strings.Contains(body, idp.URL) {
		t.Fatalf("readyz with the IdP down: %d %s", code, body)
	}

	idp.SetDown(0)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if code, body, _ = get(admin + "/readyz"); code == 200 && strings.Contains(body, `"ready"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz after the IdP came back: %d %s\n%s", code, body, gw.Stderr())
		}
	}

	t.Run("token accepted, identity and assertion reach the app", func(t *testing.T) {
		code, body, _ := get(base+"/orders", "Authorization", "Bearer "+idp.token(t, "ann", nil), "X-Auth-Assertion", "forged")
		if code != 200 {
			t.Fatalf("status %d %s", code, body)
		}
		r := up.last(t)
		if r.Header.Get("X-Auth-User") != "idp:ann" || r.Header.Get("X-Auth-Roles") != "buyer" || r.Header.Get("X-Auth-Session") != "" {
			t.Fatalf("upstream identity headers: %v", r.Header)
		}
		claims := verifyWithGoJose(t, base, r.Header.Get("X-Auth-Assertion"), up.URL)
		if claims["sub"] != "idp:ann" || claims["idp"] != idp.URL {
			t.Fatalf("assertion claims %v", claims)
		}
	})

	t.Run("rotation: the new key works without a restart", func(t *testing.T) {
		idp.rotate(t, "key-2")
		if code, body, _ := get(base+"/orders", "Authorization", "Bearer "+idp.token(t, "ben", nil)); code != 200 {
			t.Fatalf("token signed with the rotated key: %d %s", code, body)
		}
	})

	t.Run("a flood of made-up kids causes a bounded number of fetches", func(t *testing.T) {
		before := idp.Fetches()
		for i := range 100 {
			tok := idp.token(t, "mallory", map[string]any{"kid": fmt.Sprintf("made-up-%d", i)})
			if code, _, _ := get(base+"/orders", "Authorization", "Bearer "+tok); code != 401 {
				t.Fatalf("made-up kid %d: %d", i, code)
			}
		}
		// refetch_interval is 1m and the rotation above used this
		// minute's refetch: no fetch at all is allowed (one if the
		// minute turned over during the test).
		if n := idp.Fetches() - before; n > 1 {
			t.Fatalf("100 made-up kids caused %d JWKS fetches", n)
		}
	})

	t.Run("the oct key in the JWKS is ignored", func(t *testing.T) {
		now := time.Now()
		hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": idp.URL, "aud": "orders", "sub": "oscar",
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
		hs.Header["kid"] = "shared"
		raw, _ := hs.SignedString([]byte("0123456789abcdef0123456789abcdef"))
		code, body, _ := get(base+"/orders", "Authorization", "Bearer "+raw, "Accept", "application/json")
		if code != 401 || !strings.Contains(body, "INVALID_TOKEN") {
			t.Fatalf("HS256 token with the published oct key: %d %s", code, body)
		}
	})

	t.Run("unconfigured issuer: refused without a fetch", func(t *testing.T) {
		before := idp.Fetches()
		now := time.Now()
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": "http://127.0.0.1:1/evil", "aud": "orders", "sub": "x",
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
		raw, _ := tok.SignedString(k)
		if code, _, _ := get(base+"/orders", "Authorization", "Bearer "+raw); code != 401 || idp.Fetches() != before {
			t.Fatalf("unconfigured issuer: %d, fetches +%d", code, idp.Fetches()-before)
		}
	})

	t.Run("revocation by jti and by user via the admin API", func(t *testing.T) {
		cora, dan := idp.token(t, "cora", nil), idp.token(t, "dan", nil)
		for _, body := range []string{`{"jti":"jti-cora"}`, `{"user":"idp:dan"}`} {
			req, _ := http.NewRequest("POST", admin+"/v1/revoke", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer e2e-admin-token-0123456789")
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("revoke %s: %v %v", body, res.StatusCode, err)
			}
			res.Body.Close()
		}
		for _, tok := range []string{cora, dan} {
			code, body, _ := get(base+"/orders", "Authorization", "Bearer "+tok, "Accept", "application/json")
			if code != 401 || !strings.Contains(body, "SESSION_REVOKED") {
				t.Fatalf("revoked external token: %d %s", code, body)
			}
		}
	})
}

// verifyWithGoJose checks an assertion with go-jose, an implementation
// independent of the gateway's, against the gateway's published JWKS.
func verifyWithGoJose(t *testing.T, base, raw, audience string) map[string]any {
	t.Helper()
	res, err := http.Get(base + "/.auth/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256, jose.RS256})
	if err != nil {
		t.Fatalf("assertion %q: %v", raw, err)
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("assertion kid %q is not in the JWKS", tok.Headers[0].KeyID)
	}
	var std josejwt.Claims
	var all map[string]any
	if err := tok.Claims(keys[0].Key, &std, &all); err != nil {
		t.Fatalf("assertion signature: %v", err)
	}
	if err := std.ValidateWithLeeway(josejwt.Expected{Issuer: "gatehouse", AnyAudience: josejwt.Audience{audience}, Time: time.Now()}, 0); err != nil {
		t.Fatalf("assertion claims: %v", err)
	}
	if got := std.Expiry.Time().Sub(std.IssuedAt.Time()); got != 20*time.Second {
		t.Fatalf("assertion lifetime %v, want assertion.ttl 20s", got)
	}
	return all
}
