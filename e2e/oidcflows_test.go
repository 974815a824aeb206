package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// oidcHappyPath signs alice in and checks what the gateway sets and what
// the upstream sees.
func oidcHappyPath(t *testing.T, e *oidcEnv) {
	b, cb := stopAtCallback(t, e, "idp", "alice")
	b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, body := b.get(t, cb.String())
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/app/page?x=1" {
		t.Fatalf("callback: %d %s Location %q, want 302 to /app/page?x=1", res.StatusCode, body, res.Header.Get("Location"))
	}
	// Only the gateway's own compact session cookie is set (and the state
	// cookie cleared): the provider's tokens never reach a cookie.
	var session string
	for _, c := range res.Cookies() {
		switch {
		case c.Name == "gatehouse" && c.Value != "":
			session = c.Value
		case strings.HasPrefix(c.Name, "gatehouse-oidc-idp-") && c.MaxAge < 0:
		default:
			t.Errorf("the callback set an unexpected cookie %s (%d bytes)", c.Name, len(c.Value))
		}
	}
	if session == "" {
		t.Fatalf("no session cookie: %v", res.Header["Set-Cookie"])
	}
	b.CheckRedirect = nil
	res, body = b.get(t, e.gateway+"/app/page?x=1")
	if res.StatusCode != http.StatusOK || body != "app:/app/page" {
		t.Fatalf("the app: %d %s", res.StatusCode, body)
	}
	r := e.up.last(t)
	for h, want := range map[string]string{
		"X-Auth-User":  "alice",
		"X-Auth-Email": "alice@example.com",
		"X-Auth-Roles": "admins,staff,realm-admin",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("upstream %s = %q, want %q", h, got, want)
		}
	}
	if c := r.Header.Get("Cookie"); strings.Contains(c, "gatehouse") {
		t.Errorf("a gateway cookie reached the upstream: %q", c)
	}
	res, body = b.get(t, e.gateway+"/.auth/session")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `"user":"alice"`) {
		t.Errorf("session: %d %s", res.StatusCode, body)
	}
	e.logged(t, `"source":"oidc:idp"`)
	// Nothing secret about the sign-in reaches the log.
	logs := e.gw.Stderr()
	for what, secret := range map[string]string{
		"the code": cb.Query().Get("code"), "the state": cb.Query().Get("state"),
		"the client secret": "e2e-client-secret", "the session cookie": session,
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("the gateway logged %s", what)
		}
	}
}

// oidcLoginPage checks the provider buttons, carrying rd, and that with no
// users file the password form is not offered.
func oidcLoginPage(t *testing.T, e *oidcEnv) {
	res, body := newBrowser(t).get(t, e.gateway+"/.auth/login?rd="+url.QueryEscape("/app/x"))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login page: %d", res.StatusCode)
	}
	for _, want := range []string{
		`href="/.auth/oidc/idp/start?rd=%2fapp%2fx"`, ">Sign in with Test IdP<",
		`href="/.auth/oidc/strict/start?rd=%2fapp%2fx"`, ">Sign in with strict<",
	} {
		if !strings.Contains(strings.ToLower(body), strings.ToLower(want)) {
			t.Errorf("login page lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, `name="password"`) {
		t.Error("the password form is shown without a users file")
	}
	res, body = newBrowser(t).signIn(t, e.gateway+`/.auth/oidc/idp/start?rd=%2Fapp%2Fx`, "bob")
	if res.StatusCode != http.StatusOK || body != "app:/app/x" {
		t.Errorf("following the login page's link: %d %s", res.StatusCode, body)
	}
}

// oidcReplay completes a sign-in, then replays its callback (without and
// with the state cookie) and its code (with a fresh, valid state).
func oidcReplay(t *testing.T, e *oidcEnv) {
	b, cb := stopAtCallback(t, e, "idp", "alice")
	var stateCookie *http.Cookie
	stateURL, _ := url.Parse(e.gateway + cb.Path)
	for _, c := range b.Jar.Cookies(stateURL) {
		if strings.HasPrefix(c.Name, "gatehouse-oidc-") {
			stateCookie = &http.Cookie{Name: c.Name, Value: c.Value, Path: "/.auth/oidc/"}
		}
	}
	if stateCookie == nil {
		t.Fatal("no state cookie")
	}
	b.stopAtCallback = false
	if res, body := b.get(t, cb.String()); res.StatusCode != http.StatusOK || body != "app:/app/page" {
		t.Fatalf("first callback: %d %s", res.StatusCode, body)
	}
	res, body := b.get(t, cb.String())
	wantCode(t, res, body, http.StatusBadRequest, "OIDC_STATE_INVALID")

	b.Jar.SetCookies(stateURL, []*http.Cookie{stateCookie})
	res, body = b.get(t, cb.String())
	wantCode(t, res, body, http.StatusBadRequest, "OIDC_STATE_INVALID")
	e.logged(t, "this state was already used")

	// The code again, with a state this browser legitimately started.
	other := newBrowser(t)
	other.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, _ = other.get(t, e.start("idp", "/app"))
	auth, err := url.Parse(res.Header.Get("Location"))
	if err != nil || auth.Query().Get("state") == "" {
		t.Fatalf("start: %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	replay := *cb
	q := replay.Query()
	q.Set("state", auth.Query().Get("state"))
	replay.RawQuery = q.Encode()
	res, body = other.get(t, replay.String())
	wantCode(t, res, body, http.StatusUnauthorized, "OIDC_TOKEN_INVALID")
	e.logged(t, "invalid_grant")
}

// stopAtCallback signs in as login through provider with a fresh browser
// and stops at the provider's redirect to the gateway's callback, which
// it returns.
func stopAtCallback(t *testing.T, e *oidcEnv, provider, login string) (*browser, *url.URL) {
	t.Helper()
	b := newBrowser(t)
	b.stopAtCallback = true
	res, body := b.signIn(t, e.start(provider, "/app/page?x=1"), login)
	if res.StatusCode/100 != 3 {
		t.Fatalf("the provider did not redirect to the callback: %d %s", res.StatusCode, body)
	}
	cb, err := res.Request.URL.Parse(res.Header.Get("Location"))
	if err != nil || !strings.HasSuffix(cb.Path, "/.auth/oidc/"+provider+"/callback") || cb.Query().Get("code") == "" {
		t.Fatalf("redirect to %q, want the %s callback with a code", res.Header.Get("Location"), provider)
	}
	return b, cb
}

// wantCode checks an error answer's status and code.
func wantCode(t *testing.T, res *http.Response, body string, status int, code string) {
	t.Helper()
	if res.StatusCode != status || errorCode(body) != code {
		t.Fatalf("got %d %s, want %d %s", res.StatusCode, body, status, code)
	}
}
