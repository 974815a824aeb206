package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
)

// upstream is a real HTTP server that records what reached it.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.reqs = append(u.reqs, r.Clone(r.Context()))
		u.mu.Unlock()
		fmt.Fprintf(w, "app:%s", r.URL.Path)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) last(t *testing.T) *http.Request {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.reqs) == 0 {
		t.Fatal("the upstream received nothing")
	}
	return u.reqs[len(u.reqs)-1]
}

func (u *upstream) count() int { u.mu.Lock(); defer u.mu.Unlock(); return len(u.reqs) }

// keygen runs `gateway keygen` into a file and returns the path.
func keygen(t *testing.T, dir, alg string) string {
	t.Helper()
	path := dir + "/" + alg + ".pem"
	_, stderr, code := runCmd(t, "", "keygen", "--alg", alg, "--out", path)
	if code != 0 {
		t.Fatalf("keygen: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "kid ") {
		t.Errorf("keygen did not report the kid: %q", stderr)
	}
	return path
}

// minter issues tokens with the same key file the gateway was given, the
// way another gateway replica would, for audience and with tokens.claims
// claims.
func minter(t *testing.T, keyFile, audience string, claims ...string) *session.Tokens {
	t.Helper()
	pem, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := session.LoadKeySet([]config.Key{{PrivateKey: string(pem)}}, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default().Tokens
	cfg.Issuer, cfg.Audience, cfg.Claims = "https://gw.example.test", audience, claims
	tk, err := session.NewTokens(cfg, ks, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	up := newUpstream(t)
	keyFile := keygen(t, dir, "ES256")
	t.Setenv("GATEHOUSE_UPSTREAM", up.URL)
	cfgFile := writeFile(t, dir, "gateway.yaml", fmt.Sprintf(`
server:
  listen: 127.0.0.1:0
store: {type: memory}
admin: {listen: "127.0.0.1:0"}
upstream:
  url: ${GATEHOUSE_UPSTREAM}
tokens:
  issuer: https://gw.example.test
  audience: example-app
keys:
  - private_key_file: %s
policy:
  rules:
    - path_prefix: /health
      access: public
    - path: /admin/**
      roles_any: [admin]
`, keyFile))
	gw := start(t, "serve", "--config", cfgFile)
	base := "http://" + gw.Addr
	tokens := minter(t, keyFile, "example-app")
	userTok, _, err := tokens.Mint(session.Identity{Subject: "alice", Roles: []string{"user"}}, "s1")
	if err != nil {
		t.Fatal(err)
	}

	get := func(path string, hdr ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Add(hdr[i], hdr[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}

	t.Run("public route", func(t *testing.T) {
		if res := get("/health"); res.StatusCode != 200 {
			t.Errorf("status %d", res.StatusCode)
		}
	})
	t.Run("anonymous API request", func(t *testing.T) {
		res := get("/app", "Accept", "application/json")
		if res.StatusCode != 401 || decodeError(t, res.Body) != "UNAUTHENTICATED" {
			t.Errorf("status %d", res.StatusCode)
		}
		if res.Header.Get("WWW-Authenticate") != "Bearer" {
			t.Errorf("WWW-Authenticate = %q", res.Header.Get("WWW-Authenticate"))
		}
	})
	t.Run("bearer session with forged headers", func(t *testing.T) {
		res := get("/app/x", "Authorization", "Bearer "+userTok,
			"X-Auth-User", "admin", "X_Auth_User", "admin", "X-Auth-Roles", "admin", "Connection", "X-Auth-User")
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		r := up.last(t)
		if got := r.Header.Values("X-Auth-User"); len(got) != 1 || got[0] != "alice" {
			t.Errorf("upstream X-Auth-User = %q, want [alice]", got)
		}
		if got := r.Header.Get("X-Auth-Roles"); got != "user" {
			t.Errorf("upstream X-Auth-Roles = %q", got)
		}
		if len(r.Header["X_Auth_User"]) != 0 || r.Header.Get("Authorization") != "" {
			t.Errorf("forged or consumed headers reached the upstream: %v", r.Header)
		}
	})
	t.Run("wrong role", func(t *testing.T) {
		n := up.count()
		res := get("/admin/panel", "Authorization", "Bearer "+userTok)
		if res.StatusCode != 403 || decodeError(t, res.Body) != "INSUFFICIENT_ROLES" || up.count() != n {
			t.Errorf("status %d", res.StatusCode)
		}
	})
	t.Run("token for another audience", func(t *testing.T) {
		tok, _, err := minter(t, keyFile, "another-app").Mint(session.Identity{Subject: "alice"}, "s2")
		if err != nil {
			t.Fatal(err)
		}
		res := get("/app", "Authorization", "Bearer "+tok)
		if res.StatusCode != 401 || decodeError(t, res.Body) != "INVALID_TOKEN" {
			t.Errorf("status %d", res.StatusCode)
		}
	})
	t.Run("jwks", func(t *testing.T) {
		res := get("/.auth/jwks.json")
		var set struct{ Keys []map[string]any }
		if err := json.NewDecoder(res.Body).Decode(&set); err != nil || len(set.Keys) != 1 || set.Keys[0]["crv"] != "P-256" {
			t.Errorf("jwks: %v %v", set, err)
		}
	})
}

func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", fmt.Sprintf("upstream: {url: http://127.0.0.1:9}\nkeys: [{private_key_file: %s}]\n", keygen(t, dir, "EdDSA")))
	out, _, code := runCmd(t, "", "check", "--config", good)
	if code != 0 || !strings.Contains(out, "OK") {
		t.Errorf("check good config: exit %d\n%s", code, out)
	}

	// The doctor: valid, but a cross-site frontend with Lax cookies.
	doubtful := writeFile(t, dir, "doubtful.yaml", fmt.Sprintf(`
public_url: https://api.example.com
upstream: {url: http://127.0.0.1:9}
keys: [{private_key_file: %s}]
cors: {allowed_origins: ["https://app.other.test"]}
`, dir+"/EdDSA.pem"))
	out, _, code = runCmd(t, "", "check", "--config", doubtful)
	if code != 0 || !strings.Contains(out, "cross-site-frontend") || !strings.Contains(out, "header mode") {
		t.Errorf("check on a cross-site setup: exit %d\n%s", code, out)
	}

	bad := writeFile(t, dir, "bad.yaml", `
upstream: {url: "127.0.0.1:3000"}
cookie:
  same_site: none
  secure: false
  same_sit: lax
`)
	out, _, code = runCmd(t, "", "check", "--config", bad)
	if code != 1 {
		t.Errorf("check bad config: exit %d, want 1\n%s", code, out)
	}
	// Every problem is reported at once, each naming its field.
	for _, want := range []string{"same_sit", "same_site", "keys", "upstream.url"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output does not mention %q:\n%s", want, out)
		}
	}
}

func TestServeRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", "upstream: {url: http://127.0.0.1:9}\n")
	_, stderr, code := runCmd(t, "", "serve", "--config", bad)
	if code != 1 || !strings.Contains(stderr, "keys") || !strings.Contains(stderr, "gateway keygen") {
		t.Errorf("serve with no keys: exit %d, stderr:\n%s", code, stderr)
	}
}

func TestDemo(t *testing.T) {
	gw := start(t, "demo", "--listen", "127.0.0.1:0")
	// The demo prints ready-to-use tokens before it listens.
	m := gw.WaitStdout(t, regexp.MustCompile(`DEMO=(\S+)`))
	req, _ := http.NewRequest("GET", "http://"+gw.Addr+"/", nil)
	req.Header.Set("Authorization", "Bearer "+m[1])
	req.Header.Set("X-Auth-User", "root")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		User    string
		Headers map[string]string
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != 200 {
		t.Fatalf("status %d, %v", res.StatusCode, err)
	}
	if body.User != "demo" {
		t.Errorf("the demo app saw X-Auth-User %q, want demo", body.User)
	}

	// And the login works with demo / demo, as the README says.
	res, b := do(t, http.DefaultClient, "POST", "http://"+gw.Addr+"/.auth/login", `{"username":"demo","password":"demo"}`, "X-Auth-Mode", "header")
	if res.StatusCode != 200 || !strings.Contains(string(b), `"access_token"`) {
		t.Errorf("demo login: %d %s", res.StatusCode, b)
	}
	res, page := do(t, newClient(t), "GET", "http://"+gw.Addr+"/", "", "Accept", "text/html")
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/.auth/login?rd=%2F" {
		t.Errorf("demo navigation without a session: %d %q %s", res.StatusCode, res.Header.Get("Location"), page)
	}

	_, stderr, code := runCmd(t, "", "demo", "--listen", "0.0.0.0:0")
	if code != 2 || !strings.Contains(stderr, "loopback") {
		t.Errorf("demo on 0.0.0.0: exit %d, %s", code, stderr)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := runCmd(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "gatehouse ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}
