package proxy

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
)

// recorder is an upstream that remembers the last request it received.
type recorder struct {
	mu   sync.Mutex
	last *http.Request
	hits int
	h    http.HandlerFunc // optional custom answer
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.last = r.Clone(r.Context())
	rec.hits++
	h := rec.h
	rec.mu.Unlock()
	if h != nil {
		h(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "upstream saw "+r.URL.Path)
}

func (rec *recorder) request(t *testing.T) *http.Request {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.last == nil {
		t.Fatal("the upstream received no request")
	}
	return rec.last
}

func (rec *recorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.hits
}

type testEnv struct {
	cfg    *config.Config
	gw     *Gateway
	up     *recorder
	tokens *session.Tokens
	now    time.Time
}

// newTestEnv builds a gateway in front of a recording upstream, with a
// fresh EdDSA key and a policy with a public, an admin and a verified area.
func newTestEnv(t *testing.T, mutate ...func(*config.Config)) *testEnv {
	t.Helper()
	up := &recorder{}
	upSrv := httptest.NewServer(up)
	t.Cleanup(upSrv.Close)

	key, err := session.GenerateKey("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	pem, err := key.PrivatePEM()
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Upstream.URL = upSrv.URL
	cfg.Keys = []config.Key{{PrivateKey: string(pem)}}
	cfg.Tokens.Claims = []string{"email_verified", "department"}
	cfg.IdentityHeaders.Claims = map[string]string{"department": "X-Auth-Department"}
	cfg.Policy.Rules = []config.Rule{
		{Name: "public", PathPrefix: "/public", Access: "public"},
		{Name: "admin", PathPrefix: "/admin", RolesAny: []string{"admin"}},
		{Name: "verified", PathPrefix: "/verified", Claims: map[string]any{"email_verified": true}},
		{Name: "blocked", PathPrefix: "/internal", Access: "deny"},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config invalid: %v", err)
	}
	gw, err := New(&cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	keys, err := session.LoadKeySet(cfg.Keys, "")
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := session.NewTokens(cfg.Tokens, keys, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{cfg: &cfg, gw: gw, up: up, tokens: tokens, now: now}
}

// mint returns an access token for id issued at the env's clock.
func (e *testEnv) mint(t *testing.T, id session.Identity) string {
	t.Helper()
	tok, _, err := e.tokens.Mint(id, "sid-"+id.Subject)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (e *testEnv) do(r *http.Request) *http.Response {
	w := httptest.NewRecorder()
	e.gw.ServeHTTP(w, r)
	return w.Result()
}

var alice = session.Identity{Subject: "alice", Email: "alice@example.test", Roles: []string{"user"},
	Claims: map[string]any{"department": "research", "email_verified": false}}
var root = session.Identity{Subject: "root", Email: "root@example.test", Roles: []string{"admin"},
	Claims: map[string]any{"email_verified": true}}

// errorCode decodes the JSON error body.
func errorCode(t *testing.T, res *http.Response) string {
	t.Helper()
	var body errorBody
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("error body is not JSON: %v", err)
	}
	if body.Error.Message == "" {
		t.Errorf("error %s has no message", body.Error.Code)
	}
	return body.Error.Code
}

func TestDecisions(t *testing.T) {
	e := newTestEnv(t)
	expired, _, err := func() (string, *session.Principal, error) {
		old, _ := session.NewTokens(e.cfg.Tokens, mustKeys(t, e.cfg), func() time.Time { return e.now.Add(-time.Hour) })
		return old.Mint(alice, "sid-old")
	}()
	if err != nil {
		t.Fatal(err)
	}
	otherEnv := newTestEnv(t) // a different key: a forged token for this gateway
	forged := otherEnv.mint(t, root)

	tests := []struct {
		name       string
		path       string
		authz      string
		wantStatus int
		wantCode   string
		wantWWW    string // substring of WWW-Authenticate
		wantUser   string // X-Auth-User at the upstream
	}{
		{"anonymous on authenticated route", "/app", "", 401, CodeUnauthenticated, "Bearer", ""},
		{"anonymous on public route", "/public/x", "", 200, "", "", ""},
		{"valid token", "/app", "Bearer " + e.mint(t, alice), 200, "", "", "alice"},
		{"valid token on public route still identifies", "/public/", "Bearer " + e.mint(t, alice), 200, "", "", "alice"},
		{"expired token", "/app", "Bearer " + expired, 401, CodeTokenExpired, `error_description="The access token expired"`, ""},
		{"token from another key", "/app", "Bearer " + forged, 401, CodeInvalidToken, `error="invalid_token"`, ""},
		{"garbage token", "/app", "Bearer abc.def.ghi", 401, CodeInvalidToken, `error="invalid_token"`, ""},
		{"malformed Authorization", "/app", "Bearer a b", 400, CodeMalformedAuthorization, `error="invalid_request"`, ""},
		{"missing role", "/admin/users", "Bearer " + e.mint(t, alice), 403, CodeInsufficientRoles, "", ""},
		{"role present", "/admin/users", "Bearer " + e.mint(t, root), 200, "", "", "root"},
		{"claim missing", "/verified/x", "Bearer " + e.mint(t, alice), 403, CodeClaimRequired, "", ""},
		{"claim present", "/verified/x", "Bearer " + e.mint(t, root), 200, "", "", "root"},
		{"deny rule", "/internal/metrics", "Bearer " + e.mint(t, root), 403, CodeForbidden, "", ""},
		{"dot segments cannot escape into admin", "/public/../admin/users", "Bearer " + e.mint(t, alice), 403, CodeInsufficientRoles, "", ""},
		{"encoded slash refused", "/public%2F..%2Fadmin", "", 400, CodeInvalidPath, "", ""},
		{"unknown gateway endpoint", "/.auth/nothing", "", 404, CodeNotFound, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.up.count()
			r := httptest.NewRequest("GET", "http://gw.example.test"+tt.path, nil)
			r.Header.Set("Accept", "application/json")
			if tt.authz != "" {
				r.Header.Set("Authorization", tt.authz)
			}
			res := e.do(r)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if res.Header.Get(requestIDHeader) == "" {
				t.Error("no X-Request-Id on the response")
			}
			if tt.wantStatus != 200 {
				if got := errorCode(t, res); got != tt.wantCode {
					t.Errorf("code = %q, want %q", got, tt.wantCode)
				}
				if e.up.count() != before {
					t.Error("a denied request reached the upstream")
				}
				www := res.Header.Get("WWW-Authenticate")
				if tt.wantWWW != "" && !strings.Contains(www, tt.wantWWW) {
					t.Errorf("WWW-Authenticate = %q, want it to contain %q", www, tt.wantWWW)
				}
				if tt.wantStatus == 403 && www != "" {
					t.Errorf("403 carries WWW-Authenticate %q", www)
				}
				return
			}
			up := e.up.request(t)
			if got := up.Header.Get("X-Auth-User"); got != tt.wantUser {
				t.Errorf("upstream X-Auth-User = %q, want %q", got, tt.wantUser)
			}
			if got := up.Header.Get("Authorization"); got != "" {
				t.Errorf("upstream received the gateway's Authorization header %q", got)
			}
		})
	}
}

func mustKeys(t *testing.T, cfg *config.Config) *session.KeySet {
	t.Helper()
	ks, err := session.LoadKeySet(cfg.Keys, "")
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestIdentityHeadersInjected(t *testing.T) {
	e := newTestEnv(t)
	r := httptest.NewRequest("GET", "/app", nil)
	r.Header.Set("Authorization", "Bearer "+e.mint(t, alice))
	if res := e.do(r); res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	up := e.up.request(t)
	want := map[string]string{
		"X-Auth-User":       "alice",
		"X-Auth-Email":      "alice@example.test",
		"X-Auth-Roles":      "user",
		"X-Auth-Session":    "sid-alice",
		"X-Auth-Department": "research",
	}
	for h, v := range want {
		if got := up.Header.Values(h); len(got) != 1 || got[0] != v {
			t.Errorf("upstream %s = %q, want exactly [%q]", h, got, v)
		}
	}
}

func TestBrowserNavigationRedirectsToLogin(t *testing.T) {
	e := newTestEnv(t)
	r := httptest.NewRequest("GET", "/app/page?x=1", nil)
	r.Header.Set("Accept", "text/html,application/xhtml+xml")
	r.Header.Set("Sec-Fetch-Mode", "navigate")
	res := e.do(r)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("status = %d, want 302", res.StatusCode)
	}
	if got, want := res.Header.Get("Location"), "/.auth/login?rd=%2Fapp%2Fpage%3Fx%3D1"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}

	// The same request from fetch() gets JSON, not a redirect.
	r.Header.Set("Sec-Fetch-Mode", "cors")
	if res := e.do(r); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("fetch: status = %d, want 401", res.StatusCode)
	}
}

func TestJWKS(t *testing.T) {
	e := newTestEnv(t)
	res := e.do(httptest.NewRequest("GET", "/.auth/jwks.json", nil))
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 || set.Keys[0]["kty"] != "OKP" || set.Keys[0]["d"] != nil {
		t.Errorf("JWKS = %v, want one public OKP key", set.Keys)
	}
	if res := e.do(httptest.NewRequest("POST", "/.auth/jwks.json", nil)); res.StatusCode != 405 {
		t.Errorf("POST jwks: status %d, want 405", res.StatusCode)
	}
}
