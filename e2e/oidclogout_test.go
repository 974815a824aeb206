package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Two clients of one provider: idp signs out at the provider too
// (RP-initiated logout), plain does not (the behaviour before it).
const oidcLogoutProviders = `
oidc:
  providers:
    - name: idp
      issuer: %[1]s
      client_id: gatehouse
      client_secret_file: %[2]s
      logout: {enabled: true}
    - name: plain
      issuer: %[1]s
      client_id: gatehouse-plain
      client_secret_file: %[2]s
`

// TestOIDCLogout signs in through the real provider, logs out at the
// gateway, follows the redirect to the provider's end_session_endpoint,
// confirms there as a browser would, lands back on rd, and then finds the
// provider asking for credentials again. A provider without logout keeps
// the old behaviour: a local logout, and the provider's session lives on.
func TestOIDCLogout(t *testing.T) {
	node := oidcNode(t)
	e := newOIDCEnvWith(t, node, oidcLogoutProviders, `
session: {secret: `+oidcSecret+`}
policy:
  rules:
    - path_prefix: /bye
      access: public
`)
	callback := func(name string) string { return e.gateway + "/.auth/oidc/" + name + "/callback" }
	startIdP(t, node, idpConfig{
		Port: e.idpPort,
		Clients: []idpClient{
			{ID: "gatehouse", Secret: "e2e-client-secret", RedirectURIs: []string{callback("idp")},
				PostLogoutURIs: []string{e.gateway + "/.auth/oidc/idp/logged-out"}},
			{ID: "gatehouse-plain", Secret: "e2e-client-secret", RedirectURIs: []string{callback("plain")}},
		},
		Accounts: e.accounts,
	})
	waitForDiscovery(t, e, "idp")
	waitForDiscovery(t, e, "plain")

	t.Run("form logout ends the provider's session too", func(t *testing.T) {
		b := newBrowser(t)
		signInOnce(t, e, b, "idp", "/app/home", 1)
		res := logoutNoFollow(t, b, e.gateway+"/.auth/logout?rd=/bye/now", "text/html")
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d, want 303 to the provider", res.StatusCode)
		}
		end := endSessionURL(t, e, res.Header.Get("Location"))
		// The gateway's session ended before the browser left.
		if s, body := b.get(t, e.gateway+"/.auth/session"); s.StatusCode != http.StatusUnauthorized {
			t.Fatalf("session after logout: %d %s", s.StatusCode, body)
		}
		landed, body := confirmAtProvider(t, b, end)
		if landed.StatusCode != http.StatusOK || body != "app:/bye/now" || landed.Request.URL.Host != strings.TrimPrefix(e.gateway, "http://") {
			t.Fatalf("after the provider's logout: %d %q at %s, want the app's /bye/now on the gateway", landed.StatusCode, body, landed.Request.URL)
		}
		// Signing in again needs the password again.
		signInOnce(t, e, b, "idp", "/app/again", 2)
	})

	t.Run("API caller gets logout_url", func(t *testing.T) {
		b := newBrowser(t)
		signInOnce(t, e, b, "idp", "/app/spa", 1)
		req, _ := http.NewRequest(http.MethodPost, e.gateway+"/.auth/logout", nil)
		req.Header.Set("Accept", "application/json")
		res, body := b.send(t, req)
		var v struct {
			LogoutURL string `json:"logout_url"`
		}
		if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil || res.Header.Get("Location") != "" {
			t.Fatalf("API logout: %d %s, want 200 with logout_url", res.StatusCode, body)
		}
		end := endSessionURL(t, e, v.LogoutURL)
		landed, _ := confirmAtProvider(t, b, end) // the SPA navigates there
		if landed.Request.URL.Host != strings.TrimPrefix(e.gateway, "http://") || landed.Request.URL.Path != "/" {
			t.Fatalf("after the provider's logout: at %s, want the gateway's /", landed.Request.URL)
		}
		signInOnce(t, e, b, "idp", "/app/again", 2)
	})

	t.Run("provider without logout: local logout only, as before", func(t *testing.T) {
		b := newBrowser(t)
		signInOnce(t, e, b, "plain", "/app/home", 1)
		res := logoutNoFollow(t, b, e.gateway+"/.auth/logout?rd=/bye/now", "text/html")
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/bye/now" {
			t.Fatalf("logout: %d to %q, want 303 to /bye/now", res.StatusCode, res.Header.Get("Location"))
		}
		if s, body := b.get(t, e.gateway+"/.auth/session"); s.StatusCode != http.StatusUnauthorized {
			t.Fatalf("session after logout: %d %s", s.StatusCode, body)
		}
		// The provider's session lives on: no password the second time.
		signInOnce(t, e, b, "plain", "/app/again", 1)
		res = logoutNoFollow(t, b, e.gateway+"/.auth/logout", "application/json")
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("API logout: %d, want 204", res.StatusCode)
		}
	})
}

// waitForDiscovery waits until provider's sign-in starts: the gateway ran
// before the provider, so its discovery is retried with backoff.
func waitForDiscovery(t *testing.T, e *oidcEnv, provider string) {
	t.Helper()
	b := newBrowser(t)
	b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		res, body := b.get(t, e.start(provider, "/"))
		if res.StatusCode == http.StatusFound {
			return
		}
		if time.Now().After(deadline) || errorCode(body) != "OIDC_PROVIDER_UNAVAILABLE" {
			t.Fatalf("discovery of %s: %d %s", provider, res.StatusCode, body)
		}
	}
}

// signInOnce signs alice in through provider, returning to rd, and
// checks how many login forms the browser has filled in so far.
func signInOnce(t *testing.T, e *oidcEnv, b *browser, provider, rd string, loginForms int) {
	t.Helper()
	res, body := b.signIn(t, e.start(provider, rd), "alice")
	if res.StatusCode != http.StatusOK || body != "app:"+rd {
		t.Fatalf("sign-in through %s: %d %s", provider, res.StatusCode, body)
	}
	if b.loginForms != loginForms {
		t.Fatalf("the provider showed its login form %d times, want %d", b.loginForms, loginForms)
	}
}

// logoutNoFollow posts to the gateway's logout as a form (accept
// text/html) or an API call, and returns the answer without following it.
func logoutNoFollow(t *testing.T, b *browser, u, accept string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, nil)
	req.Header.Set("Accept", accept)
	if accept == "text/html" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	follow := b.CheckRedirect
	b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	defer func() { b.CheckRedirect = follow }()
	res, _ := b.send(t, req)
	if c := cookieSet(res, "gatehouse"); c == nil || c.MaxAge >= 0 {
		t.Errorf("logout did not clear the session cookie: %v", res.Header["Set-Cookie"])
	}
	return res
}

// cookieSet returns the cookie name a response set, or nil.
func cookieSet(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// endSessionURL checks that u is the provider's end_session_endpoint
// with the gateway's client_id, post-logout landing and a state.
func endSessionURL(t *testing.T, e *oidcEnv, u string) string {
	t.Helper()
	end, err := url.Parse(u)
	if err != nil || end.Host != "127.0.0.1:"+strconv.Itoa(e.idpPort) || !strings.HasPrefix(end.Path, "/session/end") {
		t.Fatalf("sent to %q, want the provider's end_session_endpoint", u)
	}
	q := end.Query()
	if q.Get("client_id") != "gatehouse" || q.Get("post_logout_redirect_uri") != e.gateway+"/.auth/oidc/idp/logged-out" || q.Get("state") == "" {
		t.Fatalf("end_session parameters: %v", q)
	}
	return u
}

// confirmAtProvider opens the provider's logout page and clicks "Yes,
// sign me out" (the button carries logout=yes into the confirm form), then
// follows the redirects back.
func confirmAtProvider(t *testing.T, b *browser, end string) (*http.Response, string) {
	t.Helper()
	res, body := b.get(t, end)
	form, ok := findForm(t, res.Request.URL, body)
	if res.StatusCode != http.StatusOK || !ok || !strings.Contains(body, "sign-out") {
		t.Fatalf("the provider's logout page: %d %s", res.StatusCode, body)
	}
	form.values.Set("logout", "yes")
	req, _ := http.NewRequest(http.MethodPost, form.action, strings.NewReader(form.values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.send(t, req)
}
