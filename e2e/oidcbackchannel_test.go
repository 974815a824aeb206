package e2e

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// One client of the provider, with back-channel logout registered.
const oidcBackchannelProviders = `
oidc:
  providers:
    - name: idp
      issuer: %[1]s
      client_id: gatehouse
      client_secret_file: %[2]s
      backchannel_logout: true
`

// TestOIDCBackchannelLogout signs alice (in two browsers) and bob in
// through the real provider, then ends alice's session AT THE PROVIDER —
// its end_session page and confirm form, never the gateway's logout. The
// provider posts a logout token to the gateway's back-channel logout
// endpoint before it answers the confirmation, so at once alice's gateway
// sessions are refused (access and refresh) while bob's goes on.
func TestOIDCBackchannelLogout(t *testing.T) {
	node := oidcNode(t)
	e := newOIDCEnvWith(t, node, oidcBackchannelProviders, "session: {secret: "+oidcSecret+"}")
	startIdP(t, node, idpConfig{
		Port: e.idpPort,
		Clients: []idpClient{{
			ID: "gatehouse", Secret: "e2e-client-secret", RedirectURIs: []string{e.gateway + "/.auth/oidc/idp/callback"},
			BackchannelURI: e.gateway + "/.auth/oidc/idp/backchannel-logout",
		}},
		Accounts: e.accounts,
	})
	waitForDiscovery(t, e, "idp")

	alice, aliceElsewhere, bob := newBrowser(t), newBrowser(t), newBrowser(t)
	signInOnce(t, e, alice, "idp", "/app/home", 1)
	signInOnce(t, e, aliceElsewhere, "idp", "/app/home", 1)
	if res, body := bob.signIn(t, e.start("idp", "/app/bob"), "bob"); res.StatusCode != http.StatusOK || body != "app:/app/bob" {
		t.Fatalf("bob's sign-in: %d %s", res.StatusCode, body)
	}
	for name, b := range map[string]*browser{"alice": alice, "alice elsewhere": aliceElsewhere, "bob": bob} {
		if res, body := b.get(t, e.gateway+"/.auth/session"); res.StatusCode != http.StatusOK {
			t.Fatalf("%s's session before: %d %s", name, res.StatusCode, body)
		}
	}

	// Sign out at the provider itself, as a user does on its account page.
	end := "http://127.0.0.1:" + strconv.Itoa(e.idpPort) + "/session/end"
	if res, body := confirmAtProvider(t, alice, end); res.StatusCode != http.StatusOK || res.Request.URL.Host != "127.0.0.1:"+strconv.Itoa(e.idpPort) {
		t.Fatalf("the provider's logout: %d at %s %s", res.StatusCode, res.Request.URL, body)
	}
	e.logged(t, `"msg":"oidc back-channel logout","provider":"idp","user":"alice","sessions":2`)

	for name, b := range map[string]*browser{"alice": alice, "alice elsewhere": aliceElsewhere} {
		if res, body := b.get(t, e.gateway+"/.auth/session"); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s's session after the provider's logout: %d %s, want 401", name, res.StatusCode, body)
		}
		b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		if res, _ := b.get(t, e.gateway+"/app/home", "Accept", "text/html", "Sec-Fetch-Mode", "navigate"); res.StatusCode != http.StatusFound ||
			!strings.HasPrefix(res.Header.Get("Location"), "/.auth/login") {
			t.Errorf("%s navigating after the provider's logout: %d to %q, want a redirect to login", name, res.StatusCode, res.Header.Get("Location"))
		}
		req, _ := http.NewRequest(http.MethodPost, e.gateway+"/.auth/refresh", nil)
		if res, body := b.send(t, req); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s's refresh after the provider's logout: %d %s, want 401", name, res.StatusCode, body)
		}
	}
	if res, body := bob.get(t, e.gateway+"/.auth/session"); res.StatusCode != http.StatusOK || !strings.Contains(body, `"bob"`) {
		t.Errorf("bob's session after alice's logout at the provider: %d %s, want it kept", res.StatusCode, body)
	}
	if res, body := bob.get(t, e.gateway+"/app/bob"); res.StatusCode != http.StatusOK || body != "app:/app/bob" {
		t.Errorf("bob at the app: %d %s", res.StatusCode, body)
	}
}
