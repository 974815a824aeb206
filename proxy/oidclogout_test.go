package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
)

// discoveryIdP serves a provider's discovery document only (logout needs
// nothing else); endSession, given the server's URL, is its
// end_session_endpoint ("" leaves it out).
func discoveryIdP(t *testing.T, endSession func(base string) string) string {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		doc := map[string]any{
			"issuer": srv.URL, "authorization_endpoint": srv.URL + "/auth", "token_endpoint": srv.URL + "/token",
			"jwks_uri": srv.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
		}
		if e := endSession(srv.URL); e != "" {
			doc["end_session_endpoint"] = e
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// withLogger rebuilds se's gateway logging to the returned buffer.
func withLogger(t *testing.T, se *sessionEnv) *syncBuffer {
	t.Helper()
	buf := &syncBuffer{}
	gw, err := New(se.cfg, Options{Now: se.clock.Now, Users: se.users.Load, Logger: slog.New(slog.NewTextHandler(buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	se.gw = gw
	return buf
}

// oidcSession starts a session for alice with source (as an OIDC
// callback would) and returns its cookie line.
func (se *sessionEnv) oidcSession(t *testing.T, source string) string {
	t.Helper()
	issued, err := se.gw.sessions.Login(context.Background(), alice, session.Client{Source: source})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	se.gw.cookies.Set(h, session.CookieValue{Access: issued.Access, Refresh: issued.Refresh})
	line, _ := newCookie(&http.Response{Header: h}, se.gw.cookies.Name())
	return line
}

func TestOIDCLogout(t *testing.T) {
	withEnd := discoveryIdP(t, func(base string) string { return base + "/session/end?ui=compact" })
	withoutEnd := discoveryIdP(t, func(string) string { return "" })
	hostileEnd := discoveryIdP(t, func(string) string { return "javascript:alert(1)" })
	down, _ := brokenIdP(t)
	const postLogout = "http://127.0.0.1:8080/.auth/oidc/idp/logged-out"
	form := []string{"Accept", "text/html", "Content-Type", "application/x-www-form-urlencoded"}
	api := []string{"Accept", "application/json"}
	tests := []struct {
		name      string
		issuer    string
		logout    bool
		source    string
		method    string
		path      string
		hdr       []string
		status    int
		provider  bool   // sent to the provider's end_session_endpoint
		location  string // the local redirect, when not to the provider
		returnsTo string // where the post-logout landing then goes
		logged    string
	}{
		{"form post goes to the provider", withEnd, true, "oidc:idp", "POST", "/.auth/logout?rd=/app/bye", form, 303, true, "", "/app/bye", ""},
		{"navigation goes to the provider", withEnd, true, "oidc:idp", "GET", "/.auth/logout?rd=/app/bye", nil, 302, true, "", "/app/bye", ""},
		{"hostile rd is not carried", withEnd, true, "oidc:idp", "GET", "/.auth/logout?rd=https://evil.example/", nil, 302, true, "", "/", ""},
		{"logout everywhere too", withEnd, true, "oidc:idp", "POST", "/.auth/logout?all=1&rd=/x", form, 303, true, "", "/x", ""},
		{"API caller gets the URL in JSON", withEnd, true, "oidc:idp", "POST", "/.auth/logout", api, 200, true, "", "/", ""},
		{"logout off: unchanged form post", withEnd, false, "oidc:idp", "POST", "/.auth/logout?rd=/app/bye", form, 303, false, "/app/bye", "", ""},
		{"logout off: unchanged API answer", withEnd, false, "oidc:idp", "POST", "/.auth/logout", api, 204, false, "", "", ""},
		{"users-file session: local only", withEnd, true, sourceUsers, "GET", "/.auth/logout?rd=/app", nil, 302, false, "/app", "", ""},
		{"no end_session_endpoint: local, warned", withoutEnd, true, "oidc:idp", "GET", "/.auth/logout?rd=/app", nil, 302, false, "/app", "", "no usable end_session_endpoint"},
		{"unusable end_session_endpoint: local, warned", hostileEnd, true, "oidc:idp", "GET", "/.auth/logout?rd=/app", nil, 302, false, "/app", "", "no usable end_session_endpoint"},
		{"provider down: local, warned", down, true, "oidc:idp", "POST", "/.auth/logout", api, 204, false, "", "", "provider unavailable"},
		{"provider removed from the configuration: local", withEnd, true, "oidc:gone", "GET", "/.auth/logout?rd=/app", nil, 302, false, "/app", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			se := newSessionEnv(t, withProvider("idp", tt.issuer), func(c *config.Config) { c.OIDC.Providers[0].Logout.Enabled = tt.logout })
			logs := withLogger(t, se)
			cookie := se.oidcSession(t, tt.source)
			r := httptest.NewRequest(tt.method, tt.path, nil)
			for i := 0; i+1 < len(tt.hdr); i += 2 {
				r.Header.Set(tt.hdr[i], tt.hdr[i+1])
			}
			r.Header.Set("Cookie", cookie)
			res := se.do(r)
			body := readBody(t, res)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d %s, want %d", res.StatusCode, body, tt.status)
			}
			// The gateway's session ended first, whatever follows.
			if _, cleared := newCookie(res, se.gw.cookies.Name()); !cleared {
				t.Error("the session cookie was not cleared")
			}
			if res := se.get("/app", cookie); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("the session still works after logout: %d", res.StatusCode)
			}
			if tt.logged != "" && !strings.Contains(logs.String(), tt.logged) {
				t.Errorf("the log does not say %q:\n%s", tt.logged, logs)
			}
			to := res.Header.Get("Location")
			if tt.status == http.StatusOK {
				var v logoutAnswer
				if err := json.Unmarshal([]byte(body), &v); err != nil || v.LogoutURL == "" || to != "" {
					t.Fatalf("JSON answer %s (Location %q), want logout_url and no redirect", body, to)
				}
				to = v.LogoutURL
			}
			if !tt.provider {
				if to != tt.location {
					t.Fatalf("Location %q, want %q", to, tt.location)
				}
				return
			}
			u, err := url.Parse(to)
			if err != nil || u.Scheme+"://"+u.Host+u.Path != withEnd+"/session/end" {
				t.Fatalf("sent to %q, want the provider's end_session_endpoint %s/session/end", to, withEnd)
			}
			q := u.Query()
			if q.Get("client_id") != "gatehouse" || q.Get("post_logout_redirect_uri") != postLogout || q.Get("ui") != "compact" || q.Get("state") == "" || q.Has("id_token_hint") {
				t.Fatalf("end_session parameters %v", q)
			}
			// The provider sends the browser back with the state: on to rd.
			back := se.do(httptest.NewRequest("GET", "/.auth/oidc/idp/logged-out?state="+url.QueryEscape(q.Get("state")), nil))
			if back.StatusCode != http.StatusFound || back.Header.Get("Location") != tt.returnsTo {
				t.Errorf("post-logout landing: %d to %q, want 302 to %q", back.StatusCode, back.Header.Get("Location"), tt.returnsTo)
			}
		})
	}
}

func TestOIDCLoggedOutState(t *testing.T) {
	clock := &testClock{time.Unix(1_700_000_000, 0)}
	c := newTestStateCookies(clock, false)
	good := c.logoutState("idp", "/app/bye")
	signIn, _ := c.issue("idp", "/app/signin")
	_, ck := c.issue("idp", "/app/signin")
	tampered := []byte(good)
	tampered[2] ^= 1
	tests := []struct {
		name, provider, state string
		advance               time.Duration
		want                  string // "" for refused
	}{
		{"valid", "idp", good, 0, "/app/bye"},
		{"just before state_ttl", "idp", good, 10*time.Minute - time.Second, "/app/bye"},
		{"expired", "idp", good, 10 * time.Minute, ""},
		{"another provider", "other", good, 0, ""},
		{"tampered", "idp", string(tampered), 0, ""},
		{"missing", "idp", "", 0, ""},
		{"a sign-in state", "idp", signIn.State, 0, ""},
		{"a signed state cookie", "idp", ck.Value, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := *clock
			clock.t = clock.t.Add(tt.advance)
			c := *c
			c.now = clock.Now
			rd, err := c.openLogoutState(tt.provider, tt.state)
			if tt.want == "" {
				if err == nil || !errors.Is(err, errBadLogoutState) {
					t.Fatalf("accepted (%q, %v), want errBadLogoutState", rd, err)
				}
				return
			}
			if err != nil || rd != tt.want {
				t.Fatalf("= %q, %v, want %q", rd, err, tt.want)
			}
		})
	}
}

func TestOIDCLoggedOutLanding(t *testing.T) {
	se := newSessionEnv(t, withProvider("idp", "https://idp.example.com"), withCORS)
	p := se.gw.oidc.byName["idp"]
	tests := []struct{ name, state, want string }{
		{"to rd", p.state.logoutState("idp", "/app/bye"), "/app/bye"},
		{"to an allowed origin", p.state.logoutState("idp", spaOrigin+"/home"), spaOrigin + "/home"},
		{"a signed but foreign rd is validated again", p.state.logoutState("idp", "https://evil.example/"), "/"},
		{"forged", "e30.AAAA", "/"},
		{"none", "", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := se.do(httptest.NewRequest("GET", "/.auth/oidc/idp/logged-out?state="+url.QueryEscape(tt.state), nil))
			if res.StatusCode != http.StatusFound || res.Header.Get("Location") != tt.want {
				t.Fatalf("%d to %q, want 302 to %q", res.StatusCode, res.Header.Get("Location"), tt.want)
			}
		})
	}
	if res := se.do(httptest.NewRequest("POST", "/.auth/oidc/idp/logged-out", nil)); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST logged-out: %d, want 405", res.StatusCode)
	}
}

func TestEndSessionEndpoint(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://idp.example.com/logout":           true,
		"http://127.0.0.1:9000/session/end?x=1":    true,
		"":                                         false,
		"javascript:alert(1)":                      false,
		"/relative/logout":                         false,
		"https://user:pw@idp.example.com/logout":   false,
		"ftp://idp.example.com/logout":             false,
		"https://idp.example.com/%zz":              false,
		"data:text/html,<script>alert(1)</script>": false,
	} {
		if got := endSessionEndpoint(raw) != ""; got != want {
			t.Errorf("endSessionEndpoint(%q) usable = %v, want %v", raw, got, want)
		}
	}
}
