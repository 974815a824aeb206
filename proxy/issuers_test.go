package proxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/jwks/jwkstest"
)

// jwksServer is an identity provider's JWKS endpoint (a real HTTP
// server) with one ES256 key, idp-1; it counts fetches and, taken down
// with SetDown, answers 502.
type jwksServer struct{ *jwkstest.Server }

const extIssuer = "https://idp.example.test/realms/main"

func newJWKSServer(t testing.TB) jwksServer {
	t.Helper()
	js := jwksServer{jwkstest.NewServer(t)}
	signer, jwk := jwkstest.NewKey(t, "idp-1", "ES256")
	jwk["alg"], jwk["use"] = "ES256", "sig"
	js.AddSigner(signer, jwk)
	js.SetCacheControl("max-age=3600")
	return js
}

// token signs claims (iss, aud, iat, exp filled in when absent).
func (js jwksServer) token(t testing.TB, now time.Time, claims jwt.MapClaims) string {
	t.Helper()
	base := jwt.MapClaims{"iss": extIssuer, "aud": "orders-api", "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	for k, v := range claims {
		base[k] = v
	}
	return js.Sign(t, "idp-1", "ES256", base, nil)
}

// withIssuer configures js as an external issuer, with assertions on.
func withIssuer(js jwksServer) func(*config.Config) {
	return func(c *config.Config) {
		c.Issuers = []config.Issuer{{
			Issuer: extIssuer, JWKSURL: js.JWKSURL, Audiences: []string{"orders-api"}, Algorithms: []string{"ES256"},
			Claims:        config.ClaimMapping{Roles: []string{"groups"}, Claims: map[string]string{"department": "dept"}},
			Require:       config.ClaimRequirements{EmailDomains: []string{"example.com"}},
			SubjectPrefix: "kc:",
		}}
		c.Assertion.Enabled = true
		c.Assertion.Claims = []string{"department"}
	}
}

func bearer(path, tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

// verifyAssertion checks an assertion with go-jose (not our code) against
// the gateway's published JWKS, and returns its claims.
func verifyAssertion(t *testing.T, gw http.Handler, raw, audience string) map[string]any {
	t.Helper()
	w := httptest.NewRecorder()
	gw.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/.auth/jwks.json", nil))
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(w.Body.Bytes(), &set); err != nil {
		t.Fatal(err)
	}
	tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatalf("assertion %q: %v", raw, err)
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("assertion kid %q not in the JWKS", tok.Headers[0].KeyID)
	}
	var std josejwt.Claims
	var all map[string]any
	if err := tok.Claims(keys[0].Key, &std, &all); err != nil {
		t.Fatalf("assertion signature: %v", err)
	}
	if err := std.ValidateWithLeeway(josejwt.Expected{Issuer: "gatehouse", AnyAudience: josejwt.Audience{audience}, Time: time.Now()}, time.Second); err != nil {
		t.Fatalf("assertion claims: %v", err)
	}
	return all
}

func TestExternalBearerReachesUpstream(t *testing.T) {
	js := newJWKSServer(t)
	se := newSessionEnv(t, withIssuer(js))
	now := se.clock.Now()
	tok := js.token(t, now, jwt.MapClaims{"sub": "bob", "email": "bob@example.com", "groups": []string{"admin"}, "dept": "ops", "jti": "j-1"})

	r := bearer("/admin/x", tok)
	r.Header.Set("X-Auth-Assertion", "forged")
	r.Header.Set("X_Auth_Assertion", "forged")
	res := se.do(r)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d %s", res.StatusCode, errorCode(t, res))
	}
	up := se.up.request(t)
	for h, want := range map[string]string{"X-Auth-User": "kc:bob", "X-Auth-Email": "bob@example.com", "X-Auth-Roles": "admin",
		"X-Auth-Session": "", "X-Auth-Department": "ops", "Authorization": ""} {
		if got := up.Header.Get(h); got != want {
			t.Errorf("upstream %s = %q, want %q", h, got, want)
		}
	}
	if n := len(up.Header.Values("X-Auth-Assertion")); n != 1 || up.Header.Get("X_Auth_Assertion") != "" {
		t.Fatalf("upstream got %d assertion headers (client copies must be stripped): %v", n, up.Header)
	}
	c := verifyAssertion(t, se.gw, up.Header.Get("X-Auth-Assertion"), config.Origin(se.cfg.Upstream.URL))
	if c["sub"] != "kc:bob" || c["idp"] != extIssuer || c["department"] != "ops" || c["sid"] != nil {
		t.Errorf("assertion claims %v", c)
	}

	// The session endpoint describes the caller, with its issuer.
	res = se.do(bearer("/.auth/session", tok))
	var info sessionInfo
	if err := json.NewDecoder(res.Body).Decode(&info); err != nil || res.StatusCode != 200 ||
		info.User != "kc:bob" || info.Issuer != extIssuer || info.SessionID != "" {
		t.Fatalf("session endpoint: %d %+v %v", res.StatusCode, info, err)
	}

	// A public route without credentials: no assertion, client copies gone.
	r = httptest.NewRequest(http.MethodGet, "/public/x", nil)
	r.Header.Set("x-auth-assertion", "forged")
	if res := se.do(r); res.StatusCode != http.StatusOK {
		t.Fatalf("public: %d", res.StatusCode)
	}
	if v := se.up.request(t).Header.Values("X-Auth-Assertion"); len(v) != 0 {
		t.Fatalf("anonymous request reached the upstream with an assertion: %q", v)
	}
}

func TestExternalBearerRefusals(t *testing.T) {
	js := newJWKSServer(t)
	se := newSessionEnv(t, withIssuer(js))
	now := se.clock.Now()
	good := jwt.MapClaims{"sub": "bob", "email": "bob@example.com"}

	other := js.token(t, now, jwt.MapClaims{"sub": "bob", "email": "bob@example.com", "iss": "https://evil.example"})
	if res := se.do(bearer("/x", other)); res.StatusCode != 401 || errorCode(t, res) != CodeInvalidToken {
		t.Fatalf("unconfigured issuer: %d", res.StatusCode)
	}
	if n := js.Fetches(); n != 0 {
		t.Fatalf("an unconfigured issuer caused %d JWKS fetches", n)
	}
	outsider := js.token(t, now, jwt.MapClaims{"sub": "eve", "email": "eve@elsewhere.org"})
	if res := se.do(bearer("/x", outsider)); res.StatusCode != 403 || errorCode(t, res) != CodeForbidden {
		t.Fatalf("requirement not met: %d", res.StatusCode)
	}
	wrongAud := js.token(t, now, jwt.MapClaims{"sub": "bob", "email": "bob@example.com", "aud": "billing"})
	if res := se.do(bearer("/x", wrongAud)); res.StatusCode != 401 || errorCode(t, res) != CodeInvalidToken {
		t.Fatalf("wrong audience: %d", res.StatusCode)
	}
	expired := js.token(t, now, jwt.MapClaims{"sub": "bob", "email": "bob@example.com", "exp": now.Add(-time.Hour).Unix(), "iat": now.Add(-2 * time.Hour).Unix()})
	if res := se.do(bearer("/x", expired)); res.StatusCode != 401 || errorCode(t, res) != CodeTokenExpired {
		t.Fatalf("expired: %d", res.StatusCode)
	}

	// Never from the cookie: the same valid token as a session cookie.
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	h := http.Header{}
	se.gw.cookies.Set(h, session.CookieValue{Access: js.token(t, now, good), Refresh: "r"})
	for _, c := range (&http.Response{Header: h}).Cookies() {
		r.AddCookie(c)
	}
	if res := se.do(r); res.StatusCode != 401 {
		t.Fatalf("external token in the cookie: %d", res.StatusCode)
	}
}

func TestIssuerDownAnswers503(t *testing.T) {
	js := newJWKSServer(t)
	js.SetDown(http.StatusBadGateway)
	se := newSessionEnv(t, withIssuer(js))
	tok := js.token(t, se.clock.Now(), jwt.MapClaims{"sub": "bob", "email": "bob@example.com"})
	if res := se.do(bearer("/x", tok)); res.StatusCode != 503 || errorCode(t, res) != CodeIssuerUnavailable {
		t.Fatalf("IdP down: %d", res.StatusCode)
	}
}

func TestExternalTokenRevokedViaAdmin(t *testing.T) {
	js := newJWKSServer(t)
	se := newSessionEnv(t, withIssuer(js))
	now := se.clock.Now()
	byJTI := js.token(t, now, jwt.MapClaims{"sub": "bob", "email": "bob@example.com", "jti": "revoke-me"})
	byUser := js.token(t, now, jwt.MapClaims{"sub": "carol", "email": "carol@example.com", "jti": "c-1"})
	for _, tok := range []string{byJTI, byUser} {
		if res := se.do(bearer("/x", tok)); res.StatusCode != 200 {
			t.Fatalf("before revocation: %d", res.StatusCode)
		}
	}
	for _, body := range []string{`{"jti":"revoke-me"}`, `{"user":"kc:carol"}`} {
		if res := se.admin("POST", "/v1/revoke", body, adminToken); res.StatusCode != 200 {
			t.Fatalf("revoke %s: %d", body, res.StatusCode)
		}
	}
	for name, tok := range map[string]string{"jti": byJTI, "user": byUser} {
		if res := se.do(bearer("/x", tok)); res.StatusCode != 401 || errorCode(t, res) != CodeSessionRevoked {
			t.Errorf("revoked by %s: %d", name, res.StatusCode)
		}
	}
}

func TestReadyzNamesIssuerUntilItRecovers(t *testing.T) {
	js := newJWKSServer(t)
	js.SetDown(http.StatusBadGateway)
	se := newSessionEnv(t, withIssuer(js))
	se.gw, _ = New(se.cfg, Options{}) // real clock: Start's retries run on real timers
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if err := se.gw.Start(ctx); err != nil {
		t.Fatalf("Start with the IdP down: %v", err)
	}
	readyz := func() (int, string) {
		w := httptest.NewRecorder()
		se.gw.AdminHandler("").ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
		b, _ := io.ReadAll(w.Body)
		return w.Code, string(b)
	}
	for js.Fetches() == 0 {
		time.Sleep(time.Millisecond)
	}
	// Ready (one IdP must not take every replica out of the Service), but
	// degraded, naming the issuer.
	if code, body := readyz(); code != 200 || !strings.Contains(body, `"degraded"`) || !strings.Contains(body, extIssuer) {
		t.Fatalf("readyz with the IdP down: %d %s", code, body)
	}
	js.SetDown(0)
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := readyz()
		if code == 200 && strings.Contains(body, `"ready"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz after the IdP came back: %d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestForwardAuthCarriesAssertion(t *testing.T) {
	js := newJWKSServer(t)
	se := newSessionEnv(t, withIssuer(js), trustLoopback)
	tok := js.token(t, se.clock.Now(), jwt.MapClaims{"sub": "dan", "email": "dan@example.com"})
	res := se.verify("", "GET", "/x", true, "Authorization", "Bearer "+tok)
	if res.StatusCode != 200 || res.Header.Get("X-Auth-User") != "kc:dan" {
		t.Fatalf("verify: %d %v", res.StatusCode, res.Header)
	}
	c := verifyAssertion(t, se.gw, res.Header.Get("X-Auth-Assertion"), config.Origin(se.cfg.Upstream.URL))
	if c["sub"] != "kc:dan" {
		t.Fatalf("claims %v", c)
	}
	// No caller (a public route): the header is present and empty, like
	// the identity headers, for proxies that copy a fixed list.
	res = se.verify("", "GET", "/public/x", true)
	if v, ok := res.Header["X-Auth-Assertion"]; res.StatusCode != 200 || !ok || len(v) != 1 || v[0] != "" {
		t.Fatalf("anonymous verify: %d X-Auth-Assertion %q (present %v)", res.StatusCode, v, ok)
	}
}

// TestConcurrentExternalRequests shares one fetch among many first
// requests.
func TestConcurrentExternalRequests(t *testing.T) {
	js := newJWKSServer(t)
	se := newSessionEnv(t, withIssuer(js))
	tok := js.token(t, se.clock.Now(), jwt.MapClaims{"sub": "bob", "email": "bob@example.com"})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if res := se.do(bearer("/x", tok)); res.StatusCode != 200 {
				t.Errorf("status %d", res.StatusCode)
			}
		})
	}
	wg.Wait()
	if n := js.Fetches(); n != 1 {
		t.Fatalf("%d fetches for 50 concurrent first requests, want 1", n)
	}
}

// TestReloadKeepsIssuerKeys: a reload with the same issuer settings keeps
// the fetched keys (no new fetch, no not-ready gap); a changed issuer gets
// a fresh key set and the dropped one stops refreshing.
func TestReloadKeepsIssuerKeys(t *testing.T) {
	js := newJWKSServer(t)
	se := newSessionEnv(t, withIssuer(js))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if err := se.gw.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for se.gw.issuersNotReady() != nil {
		time.Sleep(time.Millisecond)
	}
	fetched := js.Fetches()
	same, err := New(se.cfg, Options{Previous: se.gw})
	if err != nil {
		t.Fatal(err)
	}
	if len(same.issuerKeys) != 1 || same.issuerKeys[0] != se.gw.issuerKeys[0] || same.issuersNotReady() != nil {
		t.Fatal("a reload with unchanged issuer settings did not keep the key set")
	}
	if js.Fetches() != fetched {
		t.Fatal("the reload fetched the JWKS again")
	}

	changed := *se.cfg
	changed.Issuers = []config.Issuer{se.cfg.Issuers[0]}
	changed.Issuers[0].JWKSURL = js.JWKSURL + "/v2"
	gw3, err := New(&changed, Options{Previous: same})
	if err != nil {
		t.Fatal(err)
	}
	if gw3.issuerKeys[0] == same.issuerKeys[0] {
		t.Fatal("a changed jwks_url kept the old key set")
	}
	for gw3.issuersNotReady() != nil { // started by New, under Start's context
		time.Sleep(time.Millisecond)
	}
	old := same.issuerKeys[0]
	old.mu.Lock()
	stopped := old.cancel != nil && old.stopped
	old.mu.Unlock()
	if !stopped {
		t.Fatal("the dropped key set was not stopped")
	}
	if gw3.issuerKeys[0].stopped {
		t.Fatal("the new key set is stopped")
	}
}

// TestMetricsIssuerKeysReady: 0 while the IdP was never reached.
func TestMetricsIssuerKeysReady(t *testing.T) {
	js := newJWKSServer(t)
	js.SetDown(http.StatusBadGateway)
	me := newMetricsEnv(t, withIssuer(js))
	tok := js.token(t, me.clock.Now(), jwt.MapClaims{"sub": "bob", "email": "bob@example.com"})
	if res := me.do(bearer("/x", tok)); res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d with the IdP down, want 503", res.StatusCode)
	}
	if v := me.value(t, "gatehouse_issuer_keys_ready", "issuer", extIssuer); v != 0 {
		t.Fatalf("gatehouse_issuer_keys_ready = %v without keys, want 0", v)
	}
}

func TestMetricsJWKSFetches(t *testing.T) {
	js := newJWKSServer(t)
	me := newMetricsEnv(t, withIssuer(js))
	tok := js.token(t, me.clock.Now(), jwt.MapClaims{"sub": "bob", "email": "bob@example.com"})
	if res := me.do(bearer("/x", tok)); res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	js.SetDown(http.StatusBadGateway)
	me.clock.Advance(time.Minute) // past refetch_interval
	unknown := js.token(t, me.clock.Now(), jwt.MapClaims{"sub": "bob", "email": "bob@example.com"})
	parts := strings.SplitN(unknown, ".", 2)
	hdr, _ := json.Marshal(map[string]string{"alg": "ES256", "kid": "rotated", "typ": "JWT"})
	if res := me.do(bearer("/x", base64.RawURLEncoding.EncodeToString(hdr)+"."+parts[1])); res.StatusCode != 401 {
		t.Fatalf("unknown kid: %d", res.StatusCode)
	}
	// The cached keys still work: the issuer is ready.
	if v := me.value(t, "gatehouse_issuer_keys_ready", "issuer", extIssuer); v != 1 {
		t.Fatalf("gatehouse_issuer_keys_ready = %v with cached keys, want 1", v)
	}
	ok := me.value(t, "gatehouse_jwks_fetches_total", "issuer", extIssuer, "result", "ok")
	failed := me.value(t, "gatehouse_jwks_fetches_total", "issuer", extIssuer, "result", "error")
	if ok != 1 || failed != 1 {
		t.Fatalf("jwks fetches ok=%v error=%v, want 1 and 1", ok, failed)
	}
}

func TestAssertionNeedsAnAsymmetricSigner(t *testing.T) {
	cfg := config.Default()
	cfg.Upstream.URL = "http://127.0.0.1:3000"
	cfg.Keys = []config.Key{{ID: "hs", Alg: "HS256", Secret: "0123456789abcdef0123456789abcdef"}}
	cfg.Assertion.Enabled = true
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	_, err := New(&cfg, Options{})
	if fes := config.FieldErrors(err); len(fes) != 1 || fes[0].Field != "assertion.enabled" {
		t.Fatalf("New = %v, want one problem naming assertion.enabled", err)
	}
}
