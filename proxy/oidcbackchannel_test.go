package proxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/jwks/jwkstest"
)

// backchannelIdP is a provider whose discovery names no signing
// algorithms (so RS256 only, as for ID tokens) and whose JWKS has one
// RS256 key, idp-1; it also holds an unpublished RS256 key with the same
// kid and a published ES256 key, es-1, to sign what must be refused.
type backchannelIdP struct {
	*jwkstest.Server
	impostor *jwkstest.Server // signs with an unpublished key under kid idp-1
}

func newBackchannelIdP(t *testing.T) backchannelIdP {
	t.Helper()
	js := jwkstest.NewServer(t)
	js.AddKey(t, "idp-1", "RS256")
	js.AddKey(t, "es-1", "ES256")
	impostor := jwkstest.NewServer(t)
	impostor.AddKey(t, "idp-1", "RS256")
	return backchannelIdP{js, impostor}
}

// logoutClaims are a valid logout token's claims for user at now; edit
// deletes (nil) or replaces entries.
func (idp backchannelIdP) logoutClaims(now time.Time, user string, edit map[string]any) jwt.MapClaims {
	c := jwt.MapClaims{
		"iss": idp.URL, "aud": []string{"gatehouse", "other-app"}, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti": "jti-" + user + "-" + now.Format(time.RFC3339Nano), "sub": user, "sid": "idp-session-1",
		"events": map[string]any{backchannelEvent: map[string]any{}},
	}
	for k, v := range edit {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

// unsigned is an alg none JWS of claims.
func unsigned(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "logout+jwt"})
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(b) + "."
}

// postLogout posts a back-channel logout request with body as the form.
func (se *sessionEnv) postLogout(provider, body string) *http.Response {
	r := httptest.NewRequest(http.MethodPost, "/.auth/oidc/"+provider+"/backchannel-logout", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return se.do(r)
}

// sessionOf starts a session for subject from source, as a sign-in would.
func (se *sessionEnv) sessionOf(t *testing.T, subject, source string) session.Issued {
	t.Helper()
	is, err := se.gw.sessions.Login(context.Background(), session.Identity{Subject: subject}, session.Client{Source: source})
	if err != nil {
		t.Fatal(err)
	}
	return is
}

func TestBackchannelLogout(t *testing.T) {
	idp := newBackchannelIdP(t)
	rs := func(c jwt.MapClaims) func(*testing.T) string {
		return func(t *testing.T) string {
			return idp.Sign(t, "idp-1", "RS256", c, map[string]any{"typ": "logout+jwt"})
		}
	}
	t0 := time.Now().Truncate(time.Second)
	claims := func(edit map[string]any) jwt.MapClaims { return idp.logoutClaims(t0, "alice", edit) }
	tests := []struct {
		name   string
		token  func(*testing.T) string
		status int
		error  string // the error member of a 400
		ended  bool   // alice's sessions from the provider ended
		cause  string // in the log of a refusal
	}{
		{"good token", rs(claims(nil)), 200, "", true, ""},
		{"good token without typ", func(t *testing.T) string {
			return idp.Sign(t, "idp-1", "RS256", claims(nil), map[string]any{"typ": nil})
		}, 200, "", true, ""},
		{"typ application/logout+jwt", func(t *testing.T) string {
			return idp.Sign(t, "idp-1", "RS256", claims(nil), map[string]any{"typ": "application/logout+jwt"})
		}, 200, "", true, ""},
		{"sub only", rs(claims(map[string]any{"sid": nil})), 200, "", true, ""},
		{"a single aud string", rs(claims(map[string]any{"aud": "gatehouse"})), 200, "", true, ""},
		{"expired within the leeway", rs(claims(map[string]any{"iat": t0.Add(-time.Minute).Unix(), "exp": t0.Add(-20 * time.Second).Unix()})), 200, "", true, ""},
		{"wrong iss", rs(claims(map[string]any{"iss": "https://evil.example"})), 400, "invalid_request", false, "issued by a different provider"},
		{"wrong aud", rs(claims(map[string]any{"aud": "other-app"})), 400, "invalid_request", false, "audience"},
		{"expired", rs(claims(map[string]any{"iat": t0.Add(-3 * time.Minute).Unix(), "exp": t0.Add(-time.Minute).Unix()})), 400, "invalid_request", false, "expired at"},
		{"no exp", rs(claims(map[string]any{"exp": nil})), 400, "invalid_request", false, "'exp'"},
		{"no iat", rs(claims(map[string]any{"iat": nil})), 400, "invalid_request", false, "no iat"},
		{"iat in the future", rs(claims(map[string]any{"iat": t0.Add(time.Hour).Unix(), "exp": t0.Add(2 * time.Hour).Unix()})), 400, "invalid_request", false, "in the future"},
		{"no jti", rs(claims(map[string]any{"jti": nil})), 400, "invalid_request", false, "'jti'"},
		{"missing events", rs(claims(map[string]any{"events": nil})), 400, "invalid_request", false, "backchannel-logout event"},
		{"events without the logout member", rs(claims(map[string]any{"events": map[string]any{"http://example.com/other": map[string]any{}}})), 400, "invalid_request", false, "backchannel-logout event"},
		{"events member not an object", rs(claims(map[string]any{"events": map[string]any{backchannelEvent: "yes"}})), 400, "invalid_request", false, "backchannel-logout object"},
		{"nonce present", rs(claims(map[string]any{"nonce": "n-0S6_WzA2Mj"})), 400, "invalid_request", false, "'nonce'"},
		{"neither sub nor sid", rs(claims(map[string]any{"sub": nil, "sid": nil})), 400, "invalid_request", false, "'sub' claim, a 'sid' claim"},
		{"sid only", rs(claims(map[string]any{"sub": nil})), 400, "invalid_request", false, "has no sub"},
		{"typ of an ID token", func(t *testing.T) string {
			return idp.Sign(t, "idp-1", "RS256", claims(nil), map[string]any{"typ": "JWT"})
		}, 400, "invalid_request", false, "is not logout+jwt"},
		{"bad signature", func(t *testing.T) string {
			return idp.impostor.Sign(t, "idp-1", "RS256", claims(nil), map[string]any{"typ": "logout+jwt"})
		}, 400, "invalid_request", false, "failed to verify signature"},
		{"alg not pinned (ES256 key of the provider)", func(t *testing.T) string {
			return idp.Sign(t, "es-1", "ES256", claims(nil), map[string]any{"typ": "logout+jwt"})
		}, 400, "invalid_request", false, `unexpected signature algorithm \"ES256`},
		{"alg none", func(t *testing.T) string { return unsigned(t, claims(nil)) }, 400, "invalid_request", false, `unexpected signature algorithm \"none`},
		{"not a JWT", func(*testing.T) string { return "not-a-token" }, 400, "invalid_request", false, "not a JWS"},
		{"no logout_token", func(*testing.T) string { return "" }, 400, "invalid_request", false, "no logout_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			se := newSessionEnv(t, withProvider("idp", idp.URL), func(c *config.Config) { c.OIDC.Providers[0].BackchannelLogout = true })
			se.clock.Advance(t0.Sub(se.clock.Now()))
			logs := withLogger(t, se)
			mine := []session.Issued{se.sessionOf(t, "alice", "oidc:idp"), se.sessionOf(t, "alice", "oidc:idp")}
			others := []session.Issued{se.sessionOf(t, "alice", sourceUsers), se.sessionOf(t, "bob", "oidc:idp")}
			body := ""
			if tok := tt.token(t); tok != "" {
				body = url.Values{"logout_token": {tok}}.Encode()
			}
			res := se.postLogout("idp", body)
			if res.StatusCode != tt.status || res.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("status %d, Cache-Control %q (%s), want %d and no-store", res.StatusCode, res.Header.Get("Cache-Control"), readBody(t, res), tt.status)
			}
			if tt.status == http.StatusBadRequest {
				var e struct{ Error, ErrorDescription string }
				if err := json.NewDecoder(res.Body).Decode(&struct {
					Error            *string `json:"error"`
					ErrorDescription *string `json:"error_description"`
				}{&e.Error, &e.ErrorDescription}); err != nil || e.Error != tt.error || e.ErrorDescription == "" {
					t.Errorf("error body %+v (%v), want error %q and a description", e, err, tt.error)
				}
			}
			if tt.cause != "" && !strings.Contains(logs.String(), tt.cause) {
				t.Errorf("the log does not give the cause %q:\n%s", tt.cause, logs)
			}
			for _, is := range mine {
				if _, err := se.gw.sessions.Verify(is.Access); (err != nil) != tt.ended {
					t.Errorf("alice's provider session: Verify = %v, want ended %v", err, tt.ended)
				}
			}
			for _, is := range others {
				if _, err := se.gw.sessions.Verify(is.Access); err != nil {
					t.Errorf("session of %s from %s: %v, want it kept", is.Principal.Subject, is.Record.Source, err)
				}
			}
		})
	}
}

// TestBackchannelLogoutReplay: a token is accepted once within its
// lifetime; a replay is refused even after a reload, and sessions started
// since are kept.
func TestBackchannelLogoutReplay(t *testing.T) {
	idp := newBackchannelIdP(t)
	se := newSessionEnv(t, withProvider("idp", idp.URL), func(c *config.Config) { c.OIDC.Providers[0].BackchannelLogout = true })
	body := url.Values{"logout_token": {idp.Sign(t, "idp-1", "RS256", idp.logoutClaims(se.clock.Now(), "alice", nil), map[string]any{"typ": "logout+jwt"})}}.Encode()
	se.sessionOf(t, "alice", "oidc:idp")
	if res := se.postLogout("idp", body); res.StatusCode != http.StatusOK {
		t.Fatalf("first: %d %s", res.StatusCode, readBody(t, res))
	}
	gw, err := New(se.cfg, Options{Now: se.clock.Now, Users: se.users.Load, Previous: se.gw})
	if err != nil {
		t.Fatal(err)
	}
	se.gw = gw
	later := se.sessionOf(t, "alice", "oidc:idp")
	res := se.postLogout("idp", body)
	if b := readBody(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(b, "already received") {
		t.Fatalf("replay: %d %s, want 400 already received", res.StatusCode, b)
	}
	if _, err := se.gw.sessions.Verify(later.Access); err != nil {
		t.Errorf("a session started after the logout ended on the replay: %v", err)
	}
}

// TestBackchannelLogoutEndpoint: the endpoint exists only when enabled,
// for POST only, and bounds its body.
func TestBackchannelLogoutEndpoint(t *testing.T) {
	idp := newBackchannelIdP(t)
	on := func(c *config.Config) { c.OIDC.Providers[0].BackchannelLogout = true }
	tests := []struct {
		name    string
		enabled bool
		method  string
		body    string
		status  int
		code    string
	}{
		{"off: not found", false, "POST", "logout_token=x", 404, CodeNotFound},
		{"GET", true, "GET", "", 405, CodeMethodNotAllowed},
		{"a body too large", true, "POST", "logout_token=" + strings.Repeat("a", maxLogoutRequestBytes), 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mutate := []func(*config.Config){withProvider("idp", idp.URL)}
			if tt.enabled {
				mutate = append(mutate, on)
			}
			se := newSessionEnv(t, mutate...)
			r := httptest.NewRequest(tt.method, "/.auth/oidc/idp/backchannel-logout", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res := se.do(r)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if tt.code != "" {
				if code := jsonCode(t, res); code != tt.code {
					t.Fatalf("code %q, want %q", code, tt.code)
				}
			}
		})
	}
}

// TestBackchannelForgedTokensFetchNoKeys: anyone can post to the
// endpoint. Forged tokens, signed with keys the provider never published
// under made-up kids, must not each make the gateway fetch the provider's
// JWKS: at most one fetch per external_tokens.refetch_interval.
func TestBackchannelForgedTokensFetchNoKeys(t *testing.T) {
	idp := newBackchannelIdP(t)
	se := newSessionEnv(t, withProvider("idp", idp.URL), func(c *config.Config) { c.OIDC.Providers[0].BackchannelLogout = true })
	good := func() string {
		return url.Values{"logout_token": {idp.Sign(t, "idp-1", "RS256", idp.logoutClaims(se.clock.Now(), "alice", nil), map[string]any{"typ": "logout+jwt"})}}.Encode()
	}
	if res := se.postLogout("idp", good()); res.StatusCode != http.StatusOK {
		t.Fatalf("a good token: %d %s", res.StatusCode, readBody(t, res))
	}
	before := idp.Fetches()
	for i := range 50 {
		kid := fmt.Sprintf("made-up-%d", i)
		idp.impostor.AddKey(t, kid, "RS256")
		forged := idp.impostor.Sign(t, kid, "RS256", idp.logoutClaims(se.clock.Now(), "alice", map[string]any{"jti": kid}), map[string]any{"typ": "logout+jwt"})
		if res := se.postLogout("idp", url.Values{"logout_token": {forged}}.Encode()); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("forged token %d: %d, want 400", i, res.StatusCode)
		}
	}
	if n := idp.Fetches() - before; n > 1 {
		t.Errorf("50 forged tokens made %d JWKS fetches, want at most 1 per refetch_interval", n)
	}
	se.clock.Advance(se.cfg.ExternalTokens.RefetchInterval)
	if res := se.postLogout("idp", good()); res.StatusCode != http.StatusOK {
		t.Errorf("a good token after the flood: %d %s", res.StatusCode, readBody(t, res))
	}
}
