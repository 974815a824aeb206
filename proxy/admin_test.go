package proxy

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/session"
)

const adminToken = "test-admin-token-0123456789"

func (se *sessionEnv) admin(method, path, body, token string) *http.Response {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	se.gw.AdminHandler(adminToken).ServeHTTP(w, r)
	return w.Result()
}

func TestAdminAuth(t *testing.T) {
	se := newSessionEnv(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if res := se.admin("GET", path, "", ""); res.StatusCode != 200 {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
	}
	for name, tok := range map[string]string{"none": "", "wrong": "nope", "prefix": adminToken[:10]} {
		res := se.admin("GET", "/v1/sessions?user=alice", "", tok)
		if res.StatusCode != 401 || errorCode(t, res) != CodeUnauthenticated {
			t.Errorf("token %s: %d", name, res.StatusCode)
		}
	}
	w := httptest.NewRecorder()
	se.gw.AdminHandler("").ServeHTTP(w, httptest.NewRequest("GET", "/v1/sessions?user=alice", nil))
	if w.Code != 404 {
		t.Errorf("session API without a configured token: %d, want 404", w.Code)
	}
}

func TestAdminListAndRevoke(t *testing.T) {
	se := newSessionEnv(t)
	a, b := se.login(t, "User-Agent", "browser-a"), se.login(t, "User-Agent", "browser-b")

	res := se.admin("GET", "/v1/sessions?user=alice", "", adminToken)
	var list struct{ Sessions []adminSession }
	json.NewDecoder(res.Body).Decode(&list)
	if res.StatusCode != 200 || len(list.Sessions) != 2 {
		t.Fatalf("list: %d %+v", res.StatusCode, list)
	}
	agents := list.Sessions[0].UserAgent + "," + list.Sessions[1].UserAgent
	if !strings.Contains(agents, "browser-a") || !strings.Contains(agents, "browser-b") || list.Sessions[0].IP == "" {
		t.Errorf("sessions lack user agent or IP: %+v", list.Sessions)
	}

	// Revoke one session: only that one stops working, at once.
	sidA := sessionOf(t, se, a)
	if res := se.admin("POST", "/v1/revoke", `{"session":"`+sidA+`"}`, adminToken); res.StatusCode != 200 {
		t.Fatalf("revoke session: %d", res.StatusCode)
	}
	if res := se.get("/app", a); res.StatusCode != 401 || errorCode(t, res) != CodeSessionRevoked {
		t.Errorf("revoked session: %d", res.StatusCode)
	}
	if res := se.get("/app", b); res.StatusCode != 200 {
		t.Errorf("the other session: %d", res.StatusCode)
	}

	// Revoke a token by jti: that token dies, a fresh one of the session lives.
	p := principalOf(t, se, b)
	if res := se.admin("POST", "/v1/revoke", `{"jti":"`+p.TokenID+`"}`, adminToken); res.StatusCode != 200 {
		t.Fatalf("revoke jti: %d", res.StatusCode)
	}
	if res := se.get("/app", b); res.StatusCode != 401 {
		t.Errorf("revoked jti: %d", res.StatusCode)
	}

	// Revoke the user: every session ends.
	c := se.login(t)
	if res := se.admin("POST", "/v1/revoke", `{"user":"alice"}`, adminToken); res.StatusCode != 200 {
		t.Fatalf("revoke user: %d", res.StatusCode)
	}
	if res := se.get("/app", c); res.StatusCode != 401 {
		t.Errorf("session after user revocation: %d", res.StatusCode)
	}

	for _, body := range []string{`{}`, `{"session":"x","user":"y"}`, `{"sessions":"x"}`, `not json`} {
		if res := se.admin("POST", "/v1/revoke", body, adminToken); res.StatusCode != 400 {
			t.Errorf("revoke %s: %d, want 400", body, res.StatusCode)
		}
	}
}

// principalOf verifies the access half of a cookie line.
func principalOf(t *testing.T, se *sessionEnv, cookieLine string) *session.Principal {
	t.Helper()
	_, v, _ := strings.Cut(cookieLine, "=")
	cv, err := session.DecodeCookieValue(v)
	if err != nil {
		t.Fatal(err)
	}
	p, err := se.gw.sessions.Verify(cv.Access)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func sessionOf(t *testing.T, se *sessionEnv, cookieLine string) string {
	return principalOf(t, se, cookieLine).SessionID
}
