package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestOIDCRecheck signs in through a provider with recheck on, then
// changes and removes the user at the provider: each gateway refresh
// (access tokens live 1s here) redeems the kept, rotating refresh token,
// takes the fresh claims, and ends the session once the provider refuses.
func TestOIDCRecheck(t *testing.T) {
	node := oidcNode(t)
	e := newOIDCEnvWith(t, node, `
oidc:
  providers:
    - name: idp
      issuer: %[1]s
      client_id: gatehouse
      client_secret_file: %[2]s
      recheck: true
      claims: {roles: [groups]}
      require: {roles_any: [staff]}
`, "tokens: {access_ttl: 1s, leeway: 0s}\nsession: {secret: "+oidcSecret+", refresh_grace: 0s}")
	issuer := startIdP(t, node, idpConfig{
		Port: e.idpPort,
		Clients: []idpClient{{ID: "gatehouse", Secret: "e2e-client-secret", Refresh: true,
			RedirectURIs: []string{e.gateway + "/.auth/oidc/idp/callback"}}},
		Accounts: map[string]map[string]any{
			"alice": {"email": "alice@example.com", "groups": []string{"admins", "staff"}},
			"bob":   {"email": "bob@example.com", "groups": []string{"staff"}},
		},
	})
	setAccount := func(login string, claims map[string]any) {
		t.Helper()
		method, body := http.MethodDelete, []byte(nil)
		if claims != nil {
			method, body = http.MethodPut, must(json.Marshal(claims))
		}
		req, _ := http.NewRequest(method, issuer+"/__e2e/accounts/"+login, bytes.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusNoContent {
			t.Fatalf("changing %s at the provider: %v %v", login, res, err)
		}
		res.Body.Close()
	}
	// app fetches a page as an API client would (no login redirect) and
	// returns the status, the roles the upstream saw, and the error code.
	app := func(b *browser, path string) (int, string, string) {
		t.Helper()
		before := e.up.count()
		res, body := b.get(t, e.gateway+path, "Accept", "application/json")
		if res.StatusCode != http.StatusOK {
			return res.StatusCode, "", errorCode(body)
		}
		if e.up.count() == before {
			t.Fatalf("%s: 200 without reaching the upstream: %s", path, body)
		}
		return res.StatusCode, e.up.last(t).Header.Get("X-Auth-Roles"), ""
	}
	var discovered bool
	for deadline := time.Now().Add(30 * time.Second); !discovered && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		res, _ := newBrowser(t).get(t, e.start("idp", ""))
		discovered = res.StatusCode != http.StatusServiceUnavailable
	}

	alice, bob := newBrowser(t), newBrowser(t)
	for name, b := range map[string]*browser{"alice": alice, "bob": bob} {
		if res, body := b.signIn(t, e.start("idp", "/app/start"), name); res.StatusCode != http.StatusOK {
			t.Fatalf("%s signs in: %d %s", name, res.StatusCode, body)
		}
	}
	if status, roles, _ := app(alice, "/app/1"); status != 200 || roles != "admins,staff" {
		t.Fatalf("alice before any change: %d roles %q", status, roles)
	}

	// Changed at the provider: alice's groups, and bob leaves staff.
	setAccount("alice", map[string]any{"email": "alice@example.com", "groups": []string{"staff", "auditors"}})
	setAccount("bob", map[string]any{"email": "bob@example.com", "groups": []string{"contractors"}})
	time.Sleep(1100 * time.Millisecond) // the access tokens expire
	if status, roles, _ := app(alice, "/app/2"); status != 200 || roles != "staff,auditors" {
		t.Fatalf("alice after her groups changed: %d roles %q, want the fresh staff,auditors", status, roles)
	}
	if status, _, code := app(bob, "/app/2"); status != 401 || code != "SESSION_REVOKED" {
		t.Fatalf("bob no longer in staff: %d %s, want 401 SESSION_REVOKED", status, code)
	}
	e.logged(t, "none of the required roles")

	// The provider rotated alice's refresh token; the gateway kept the new
	// one, so the next re-check works too.
	time.Sleep(1100 * time.Millisecond)
	if status, roles, code := app(alice, "/app/3"); status != 200 || roles != "staff,auditors" {
		t.Fatalf("alice's second re-check: %d %s roles %q (was the rotated refresh token kept?)", status, code, roles)
	}

	// Removed at the provider: the next refresh ends the session.
	setAccount("alice", nil)
	time.Sleep(1100 * time.Millisecond)
	if status, _, code := app(alice, "/app/4"); status != 401 || code != "SESSION_REVOKED" {
		t.Fatalf("alice removed at the provider: %d %s, want 401 SESSION_REVOKED", status, code)
	}
	e.logged(t, `"user":"alice","cause":"oidc: token refused: token endpoint: oauth2: \"invalid_grant\"`)
	if logs := e.gw.Stderr(); bytes.Contains([]byte(logs), []byte("refresh_token\":")) {
		t.Error("the log contains a refresh token field")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return v
}
