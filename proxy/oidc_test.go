package proxy

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
)

// brokenIdP is an HTTP server standing for a provider that is down: it
// answers every request 503 and counts them.
func brokenIdP(t *testing.T) (issuer string, hits *atomic.Int64) {
	t.Helper()
	hits = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, hits
}

// withProvider adds an OIDC provider named name at issuer.
func withProvider(name, issuer string) func(*config.Config) {
	return func(c *config.Config) {
		c.PublicURL = "http://127.0.0.1:8080"
		c.OIDC.Providers = append(c.OIDC.Providers, config.OIDCProvider{
			Name: name, DisplayName: strings.ToUpper(name), Issuer: issuer, ClientID: "gatehouse", ClientSecret: "s3cret",
		})
	}
}

func TestOIDCDiscoveryBackoff(t *testing.T) {
	issuer, hits := brokenIdP(t)
	cfg := config.Default()
	withProvider("idp", issuer)(&cfg)
	clock := &testClock{time.Unix(1_700_000_000, 0)}
	p, err := newOIDCProvider(&cfg, &cfg.OIDC.Providers[0], newStateKey(""), newUsedStates(10), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	// Each step: advance the clock, try; want the number of discovery
	// requests made so far. The backoff doubles: 1s, 2s, 4s.
	steps := []struct {
		advance time.Duration
		hits    int64
	}{
		{0, 1},                       // first use: tried
		{500 * time.Millisecond, 1},  // within 1s: not tried
		{500 * time.Millisecond, 2},  // 1s later: tried, next in 2s
		{1500 * time.Millisecond, 2}, // not yet
		{500 * time.Millisecond, 3},  // 2s later: tried, next in 4s
		{3 * time.Second, 3},         // not yet
		{time.Second, 4},             // 4s later
		{10 * time.Minute, 5},        // long after: tried once, not more
	}
	for i, s := range steps {
		clock.t = clock.t.Add(s.advance)
		_, err := p.discover()
		if !errors.Is(err, errProviderUnavailable) {
			t.Fatalf("step %d: err = %v, want errProviderUnavailable", i, err)
		}
		if got := hits.Load(); got != s.hits {
			t.Fatalf("step %d: %d discovery requests, want %d", i, got, s.hits)
		}
	}
}

func TestOIDCLoginPage(t *testing.T) {
	issuer, _ := brokenIdP(t)
	tests := []struct {
		name     string
		mutate   []func(*config.Config)
		noUsers  bool
		status   int
		form     bool
		links    []string
		postCode string // the answer to a password login, "" for success
	}{
		{"form and providers", []func(*config.Config){withProvider("keycloak", issuer), withProvider("dex", issuer)}, false, 200, true,
			[]string{`href="/.auth/oidc/keycloak/start?rd=%2fapp"`, `href="/.auth/oidc/dex/start?rd=%2fapp"`, "Sign in with KEYCLOAK"}, ""},
		{"form off", []func(*config.Config){withProvider("keycloak", issuer), func(c *config.Config) { c.Login.Form = false }}, false, 200, false,
			[]string{`href="/.auth/oidc/keycloak/start?rd=%2fapp"`}, CodeNotFound},
		{"providers only, no users file", []func(*config.Config){withProvider("keycloak", issuer)}, true, 200, false,
			[]string{`href="/.auth/oidc/keycloak/start?rd=%2fapp"`}, CodeNotFound},
		{"neither", nil, true, 404, false, nil, CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			se := newSessionEnv(t, tt.mutate...)
			if tt.noUsers {
				se.gw.users = nil
			}
			res := se.do(httptest.NewRequest("GET", "/.auth/login?rd=/app", nil))
			body := readBody(t, res)
			if res.StatusCode != tt.status {
				t.Fatalf("GET login: %d %s", res.StatusCode, body)
			}
			if got := strings.Contains(body, `name="password"`); got != tt.form && tt.status == 200 {
				t.Errorf("password form shown = %v, want %v", got, tt.form)
			}
			for _, l := range tt.links {
				if !strings.Contains(strings.ToLower(body), strings.ToLower(l)) {
					t.Errorf("page lacks %s:\n%s", l, body)
				}
			}
			r := httptest.NewRequest("POST", "/.auth/login", strings.NewReader(`{"username":"alice","password":"pw"}`))
			r.Header.Set("Content-Type", "application/json")
			res = se.do(r)
			if code := jsonCode(t, res); code != tt.postCode {
				t.Errorf("password login: %d %q, want %q", res.StatusCode, code, tt.postCode)
			}
		})
	}
}

func TestOIDCEndpointErrors(t *testing.T) {
	issuer, _ := brokenIdP(t)
	se := newSessionEnv(t, withProvider("idp", issuer))
	html := []string{"Accept", "text/html", "Sec-Fetch-Mode", "navigate"}
	tests := []struct {
		name, method, path string
		hdr                []string
		status             int
		code               string
		html               bool // answered with the login page
	}{
		{"start, provider down", "GET", "/.auth/oidc/idp/start?rd=/app", nil, 503, CodeOIDCProviderUnavailable, false},
		{"start, provider down, navigation", "GET", "/.auth/oidc/idp/start", html, 503, CodeOIDCProviderUnavailable, true},
		{"callback without state", "GET", "/.auth/oidc/idp/callback?code=abc", nil, 400, CodeOIDCStateInvalid, false},
		{"callback with an unknown state", "GET", "/.auth/oidc/idp/callback?code=abc&state=xyz", html, 400, CodeOIDCStateInvalid, true},
		{"callback with error=", "GET", "/.auth/oidc/idp/callback?error=access_denied&state=xyz", nil, 401, CodeOIDCCallbackError, false},
		{"unknown provider", "GET", "/.auth/oidc/nope/start", nil, 404, CodeNotFound, false},
		{"unknown action", "GET", "/.auth/oidc/idp/logout", nil, 404, CodeNotFound, false},
		{"POST start", "POST", "/.auth/oidc/idp/start", nil, 405, CodeMethodNotAllowed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, nil)
			for i := 0; i+1 < len(tt.hdr); i += 2 {
				r.Header.Set(tt.hdr[i], tt.hdr[i+1])
			}
			res := se.do(r)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if tt.html {
				body := readBody(t, res)
				if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, tt.code) || !strings.Contains(body, `href="/.auth/oidc/idp/start"`) {
					t.Fatalf("want the login page with %s and the provider link:\n%s", tt.code, body)
				}
				return
			}
			if code := jsonCode(t, res); code != tt.code {
				t.Fatalf("code %q, want %q", code, tt.code)
			}
		})
	}
}

func TestOIDCErrorClassification(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{&callbackError{code: "access_denied"}, 401, CodeOIDCCallbackError},
		{errStateExpired, 400, CodeOIDCStateInvalid},
		{fmt.Errorf("%w: discovery: dial", errProviderUnavailable), 503, CodeOIDCProviderUnavailable},
		{fmt.Errorf("%w: email domain not allowed", session.ErrRequirementNotMet), 403, CodeOIDCRequirementNotMet},
		{fmt.Errorf("%w: id_token: expired", errTokenInvalid), 401, CodeOIDCTokenInvalid},
		{fmt.Errorf("%w: sub", session.ErrMissingClaim), 401, CodeOIDCTokenInvalid},
		{session.ErrStoreUnavailable, 503, CodeStoreUnavailable},
	}
	for _, tt := range tests {
		e := oidcError(tt.err)
		if e.Status != tt.status || e.Code != tt.code || !errors.Is(e, tt.err) {
			t.Errorf("%v -> %d %s, want %d %s (wrapping the cause)", tt.err, e.Status, e.Code, tt.status, tt.code)
		}
	}
}

func TestStateCookiesNeverReachTheUpstream(t *testing.T) {
	issuer, _ := brokenIdP(t)
	se := newSessionEnv(t, withProvider("idp", issuer))
	cookie := se.login(t)
	r := httptest.NewRequest("GET", "/app", nil)
	r.Header.Set("Cookie", cookie+"; __Host-gatehouse-oidc-idp-0011223344556677=x.y; theme=dark")
	if res := se.do(r); res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if got := se.up.request(t).Header.Get("Cookie"); got != "theme=dark" {
		t.Errorf("upstream Cookie = %q, want only theme=dark", got)
	}
}

// readBody returns a response's body.
func readBody(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsonCode is the code of a JSON error answer, or "" for a 2xx.
func jsonCode(t *testing.T, res *http.Response) string {
	t.Helper()
	if res.StatusCode < 300 {
		return ""
	}
	return errorCode(t, res)
}

func TestAuthCodeURL(t *testing.T) {
	cfg := config.Default()
	withProvider("idp", "https://idp.example.com")(&cfg)
	cfg.OIDC.Providers[0].AuthParams = map[string]string{"access_type": "offline", "hd": "example.com"}
	clock := &testClock{time.Unix(1_700_000_000, 0)}
	p, err := newOIDCProvider(&cfg, &cfg.OIDC.Providers[0], newStateKey(""), newUsedStates(10), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	d := &discovered{oauth: p.oauth, params: p.authParams}
	d.oauth.Endpoint.AuthURL = "https://idp.example.com/auth"
	s, _ := p.state.issue("idp", "/")
	u, err := url.Parse(d.authCodeURL(s))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(s.Verifier))
	want := map[string]string{
		"response_type": "code", "client_id": "gatehouse", "state": s.State, "nonce": s.Nonce,
		"redirect_uri":          "http://127.0.0.1:8080/.auth/oidc/idp/callback",
		"scope":                 "openid email profile",
		"code_challenge_method": "S256",
		"code_challenge":        base64.RawURLEncoding.EncodeToString(sum[:]),
		"access_type":           "offline", "hd": "example.com",
	}
	q := u.Query()
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if q.Has("code_verifier") || strings.Contains(u.String(), s.Verifier) {
		t.Error("the PKCE verifier is in the authorization URL")
	}
}
