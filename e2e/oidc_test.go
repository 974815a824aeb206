package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/e2etest"
)

// oidcEnv is a gateway in front of a recording upstream, configured with
// providers of one real OpenID Provider process (e2e/oidc/provider.mjs).
type oidcEnv struct {
	gw       *e2etest.Proc
	gateway  string // http://127.0.0.1:PORT
	up       *upstream
	node     string
	idpPort  int
	accounts map[string]map[string]any
}

// The gateway's providers: each is a client of the same OpenID Provider;
// wrongaud and expired are registered as faulty clients (the provider
// re-signs their ID tokens with a foreign aud, or an exp in the past), and
// ui's ID tokens lack email and groups, which only userinfo has.
const oidcProviders = `
oidc:
  providers:
    - name: idp
      display_name: Test IdP
      issuer: %[1]s
      client_id: gatehouse
      client_secret_file: %[2]s
      userinfo: true
      claims: {roles: [groups, realm_access.roles]}
    - name: strict
      issuer: %[1]s
      client_id: gatehouse-strict
      client_secret_file: %[2]s
      claims: {roles: [groups]}
      require: {email_domains: [example.com], email_verified: true, roles_any: [admins]}
    - name: wrongaud
      issuer: %[1]s
      client_id: gatehouse-wrongaud
      client_secret_file: %[2]s
    - name: expired
      issuer: %[1]s
      client_id: gatehouse-expired
      client_secret_file: %[2]s
    - name: ui
      issuer: %[1]s
      client_id: gatehouse-ui
      client_secret_file: %[2]s
      userinfo: true
      claims: {roles: [groups, realm_access.roles]}
`

// newOIDCEnv starts the gateway; the provider is not started yet (see
// startIdP), so the gateway first runs with its provider down.
func newOIDCEnv(t *testing.T, node string) *oidcEnv {
	t.Helper()
	return newOIDCEnvWith(t, node, oidcProviders, "session: {secret: "+oidcSecret+"}")
}

// newOIDCEnvWith is newOIDCEnv with other providers (a format with the
// issuer as %[1]s and the client secret file as %[2]s) and extra
// top-level configuration.
func newOIDCEnvWith(t *testing.T, node, providers, extra string) *oidcEnv {
	t.Helper()
	dir := t.TempDir()
	e := &oidcEnv{up: newUpstream(t), node: node, idpPort: e2etest.FreePort(t)}
	gwPort := e2etest.FreePort(t)
	e.gateway = fmt.Sprintf("http://127.0.0.1:%d", gwPort)
	secret := writeFile(t, dir, "client-secret", "e2e-client-secret\n")
	cfg := writeFile(t, dir, "gateway.yaml", fmt.Sprintf(`
server: {listen: "127.0.0.1:%d"}
admin: {listen: "127.0.0.1:0"}
public_url: %s
store: {type: memory}
upstream: {url: %s}
keys: [{private_key_file: %s}]
cookie: {secure: false}
log: {level: debug}
%s
`, gwPort, e.gateway, e.up.URL, keygen(t, dir, "EdDSA"), extra)+
		fmt.Sprintf(providers, fmt.Sprintf("http://127.0.0.1:%d", e.idpPort), secret))
	e.gw = start(t, "serve", "--config", cfg)
	e.accounts = map[string]map[string]any{
		"alice":   {"email": "alice@example.com", "email_verified": true, "name": "Alice", "groups": []string{"admins", "staff"}, "realm_access": map[string]any{"roles": []string{"realm-admin"}}},
		"bob":     {"email": "bob@example.com", "email_verified": true, "groups": []string{"staff"}},
		"mallory": {"email": "mallory@other.test", "email_verified": true, "groups": []string{"admins"}},
		"eve":     {"email": "eve@example.com", "email_verified": false, "groups": []string{"admins"}},
	}
	return e
}

// startIdP starts the OpenID Provider on the port the gateway expects.
func (e *oidcEnv) startIdP(t *testing.T) {
	t.Helper()
	client := func(id string) idpClient {
		name := strings.TrimPrefix(strings.TrimPrefix(id, "gatehouse"), "-")
		if name == "" {
			name = "idp"
		}
		return idpClient{ID: id, Secret: "e2e-client-secret", RedirectURIs: []string{e.gateway + "/.auth/oidc/" + name + "/callback"}}
	}
	wrongAud, expired, ui := client("gatehouse-wrongaud"), client("gatehouse-expired"), client("gatehouse-ui")
	wrongAud.IDTokenOverride = map[string]any{"aud": "someone-else"}
	expired.IDTokenExpired = true
	ui.IDTokenOmit = []string{"email", "email_verified", "groups", "realm_access"}
	startIdP(t, e.node, idpConfig{
		Port:     e.idpPort,
		Clients:  []idpClient{client("gatehouse"), client("gatehouse-strict"), wrongAud, expired, ui},
		Accounts: e.accounts,
	})
}

func (e *oidcEnv) start(provider, rd string) string {
	u := e.gateway + "/.auth/oidc/" + provider + "/start"
	if rd != "" {
		u += "?rd=" + url.QueryEscape(rd)
	}
	return u
}

// logged waits briefly for the gateway's log to contain s: the reason
// behind a code, which the client never sees.
func (e *oidcEnv) logged(t *testing.T, s string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(e.gw.Stderr(), s) {
			return
		}
	}
	t.Errorf("the gateway's log does not mention %q", s)
}

func TestOIDC(t *testing.T) {
	node := oidcNode(t)
	e := newOIDCEnv(t, node)

	// The provider is down: the gateway serves anyway and says so.
	res, body := newBrowser(t).get(t, e.start("idp", "/app"))
	if res.StatusCode != http.StatusServiceUnavailable || errorCode(body) != "OIDC_PROVIDER_UNAVAILABLE" {
		t.Fatalf("start with the provider down: %d %s, want 503 OIDC_PROVIDER_UNAVAILABLE", res.StatusCode, body)
	}
	if res, _ := newBrowser(t).get(t, e.gateway+"/.auth/login"); res.StatusCode != http.StatusOK {
		t.Fatalf("login page with the provider down: %d", res.StatusCode)
	}

	// Once it is up, discovery is retried (with backoff) and succeeds
	// without restarting the gateway.
	e.startIdP(t)
	noFollow := newBrowser(t)
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		res, body := noFollow.get(t, e.start("idp", "/app"))
		if res.StatusCode == http.StatusFound {
			break
		}
		if time.Now().After(deadline) || errorCode(body) != "OIDC_PROVIDER_UNAVAILABLE" {
			t.Fatalf("discovery was not retried: %d %s\n%s", res.StatusCode, body, e.gw.Stderr())
		}
	}

	t.Run("sign-in maps the identity and returns to rd", func(t *testing.T) { oidcHappyPath(t, e) })
	t.Run("login page lists the providers", func(t *testing.T) { oidcLoginPage(t, e) })
	t.Run("userinfo claims are merged", func(t *testing.T) {
		res, body := newBrowser(t).signIn(t, e.start("ui", "/app/ui"), "alice")
		if res.StatusCode != http.StatusOK || body != "app:/app/ui" {
			t.Fatalf("sign-in: %d %s", res.StatusCode, body)
		}
		r := e.up.last(t)
		if r.Header.Get("X-Auth-Email") != "alice@example.com" || r.Header.Get("X-Auth-Roles") != "admins,staff,realm-admin" {
			t.Errorf("upstream saw email %q roles %q: userinfo was not merged", r.Header.Get("X-Auth-Email"), r.Header.Get("X-Auth-Roles"))
		}
	})
	t.Run("parallel sign-ins in two tabs", func(t *testing.T) {
		b := newBrowser(t)
		b.stopAtCallback = true
		var callbacks []string
		for _, rd := range []string{"/app/one", "/app/two"} {
			res, body := b.signIn(t, e.start("idp", rd), "alice")
			if res.StatusCode/100 != 3 {
				t.Fatalf("tab %s: %d %s", rd, res.StatusCode, body)
			}
			callbacks = append(callbacks, res.Header.Get("Location"))
		}
		b.stopAtCallback = false
		for i, want := range []string{"app:/app/two", "app:/app/one"} { // the later tab finishes first
			res, body := b.get(t, callbacks[1-i])
			if res.StatusCode != http.StatusOK || body != want {
				t.Fatalf("callback %d: %d %s, want %s", 1-i, res.StatusCode, body, want)
			}
		}
	})
	t.Run("hostile rd is refused", func(t *testing.T) {
		res, body := newBrowser(t).signIn(t, e.start("idp", "https://evil.example/steal"), "alice")
		if res.StatusCode != http.StatusOK || body != "app:/" || res.Request.URL.Host != strings.TrimPrefix(e.gateway, "http://") {
			t.Fatalf("after sign-in with a hostile rd: %d %s at %s, want the app's / on the gateway", res.StatusCode, body, res.Request.URL)
		}
	})
	t.Run("wrong state", func(t *testing.T) {
		b, cb := stopAtCallback(t, e, "idp", "alice")
		q := cb.Query()
		q.Set("state", "not-the-state")
		cb.RawQuery = q.Encode()
		res, body := b.get(t, cb.String())
		wantCode(t, res, body, http.StatusBadRequest, "OIDC_STATE_INVALID")
		e.logged(t, "no state cookie for this state")
	})
	t.Run("wrong nonce", func(t *testing.T) {
		b, cb := stopAtCallback(t, e, "idp", "alice")
		forgeStateCookie(t, b.Jar, e.gateway, cb.String(), func(s map[string]any) { s["n"] = "a-nonce-the-provider-never-saw" })
		res, body := b.get(t, cb.String())
		wantCode(t, res, body, http.StatusUnauthorized, "OIDC_TOKEN_INVALID")
		e.logged(t, "the nonce does not match this sign-in")
	})
	t.Run("replayed callback and code", func(t *testing.T) { oidcReplay(t, e) })
	t.Run("expired ID token", func(t *testing.T) {
		res, body := newBrowser(t).signIn(t, e.start("expired", "/app"), "alice")
		wantCode(t, res, body, http.StatusUnauthorized, "OIDC_TOKEN_INVALID")
		e.logged(t, "token is expired")
	})
	t.Run("wrong audience", func(t *testing.T) {
		res, body := newBrowser(t).signIn(t, e.start("wrongaud", "/app"), "alice")
		wantCode(t, res, body, http.StatusUnauthorized, "OIDC_TOKEN_INVALID")
		e.logged(t, `expected audience \"gatehouse-wrongaud\"`)
	})
	t.Run("requirements", func(t *testing.T) {
		for _, tt := range []struct{ login, reason string }{
			{"mallory", "email domain not allowed"},
			{"bob", "none of the required roles"},
			{"eve", "email not verified"},
		} {
			res, body := newBrowser(t).signIn(t, e.start("strict", "/app"), tt.login)
			wantCode(t, res, body, http.StatusForbidden, "OIDC_REQUIREMENT_NOT_MET")
			e.logged(t, tt.reason)
		}
		res, body := newBrowser(t).signIn(t, e.start("strict", "/app/strict"), "alice")
		if res.StatusCode != http.StatusOK || body != "app:/app/strict" {
			t.Fatalf("alice meets the requirements but got %d %s", res.StatusCode, body)
		}
	})
	t.Run("provider error answer", func(t *testing.T) {
		res, body := newBrowser(t).get(t, e.gateway+"/.auth/oidc/idp/callback?error=access_denied&error_description=no&state=x")
		wantCode(t, res, body, http.StatusUnauthorized, "OIDC_CALLBACK_ERROR")
	})
	t.Run("browser navigations get the login page, not JSON", func(t *testing.T) {
		res, body := newBrowser(t).get(t, e.gateway+"/.auth/oidc/idp/callback?state=forged&code=x",
			"Accept", "text/html,application/xhtml+xml", "Sec-Fetch-Mode", "navigate")
		if res.StatusCode != http.StatusBadRequest || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(body, "OIDC_STATE_INVALID") || !strings.Contains(body, `href="/.auth/oidc/idp/start"`) {
			t.Fatalf("navigation to a bad callback: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	})
	t.Run("unknown provider", func(t *testing.T) {
		res, body := newBrowser(t).get(t, e.start("nope", ""))
		wantCode(t, res, body, http.StatusNotFound, "NOT_FOUND")
	})
}
