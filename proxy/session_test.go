package proxy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session/userfile"
)

// clock is a test clock that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// sessionEnv is a gateway with a users file and a clock.
type sessionEnv struct {
	*testEnv
	clock *clock
	users atomic.Pointer[userfile.Users]
}

const grantSecret = "0123456789abcdef0123456789abcdef-grant"

func newSessionEnv(t *testing.T, mutate ...func(*config.Config)) *sessionEnv {
	t.Helper()
	se := &sessionEnv{clock: &clock{t: time.Now()}}
	se.setUsers(t, "user")
	se.testEnv = newTestEnv(t, append([]func(*config.Config){func(c *config.Config) {
		c.Cookie.Secure = new(bool)
		c.Grant.Secret = grantSecret
	}}, mutate...)...)
	// Rebuild with the clock and users (newTestEnv builds a plain one).
	gw, err := New(se.cfg, Options{Now: se.clock.Now, Users: se.users.Load})
	if err != nil {
		t.Fatal(err)
	}
	se.gw = gw
	return se
}

var cheapHash = func() string {
	h, err := userfile.HashPassword("pw")
	if err != nil {
		panic(err)
	}
	return h
}()

// setUsers replaces the users file: alice with the given roles.
func (se *sessionEnv) setUsers(t *testing.T, roles string, more ...string) {
	t.Helper()
	doc := fmt.Sprintf("users:\n  - username: alice\n    password_hash: %q\n    roles: [%s]\n", cheapHash, roles)
	for _, m := range more {
		doc += m
	}
	u, err := userfile.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	se.users.Store(u)
}

// login logs alice in (cookie mode) and returns the cookie line.
func (se *sessionEnv) login(t *testing.T, extra ...string) string {
	t.Helper()
	r := httptest.NewRequest("POST", "/.auth/login", strings.NewReader(`{"username":"alice","password":"pw"}`))
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(extra); i += 2 {
		r.Header.Set(extra[i], extra[i+1])
	}
	res := se.do(r)
	if res.StatusCode != 200 {
		t.Fatalf("login: %d", res.StatusCode)
	}
	cs := res.Cookies()
	if len(cs) != 1 || cs[0].Name != se.gw.cookies.Name() || !cs[0].HttpOnly {
		t.Fatalf("login cookies = %v", cs)
	}
	return cs[0].Name + "=" + cs[0].Value
}

func (se *sessionEnv) get(path, cookie string) *http.Response {
	r := httptest.NewRequest("GET", path, nil)
	r.Header.Set("Accept", "application/json")
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	return se.do(r)
}

// newCookie returns the session cookie a response set, or "" (and
// cleared=true when it cleared it).
func newCookie(res *http.Response, name string) (line string, cleared bool) {
	for _, c := range res.Cookies() {
		if c.Name == name {
			if c.MaxAge < 0 {
				return "", true
			}
			return c.Name + "=" + c.Value, false
		}
	}
	return "", false
}

func TestTransparentRefreshAndFreshClaims(t *testing.T) {
	se := newSessionEnv(t)
	cookie := se.login(t)
	if res := se.get("/app", cookie); res.StatusCode != 200 || se.up.request(t).Header.Get("X-Auth-Roles") != "user" {
		t.Fatalf("first request: %d", res.StatusCode)
	}

	se.setUsers(t, "user, admin") // a role granted at the source
	se.clock.Advance(6 * time.Minute)
	res := se.get("/admin/panel", cookie)
	if res.StatusCode != 200 {
		t.Fatalf("after expiry: %d (want a transparent refresh with fresh roles)", res.StatusCode)
	}
	rotated, _ := newCookie(res, se.gw.cookies.Name())
	if rotated == "" || rotated == cookie {
		t.Fatal("no rotated cookie on the response")
	}
	if got := se.up.request(t).Header.Get("X-Auth-Roles"); got != "user,admin" {
		t.Errorf("upstream roles after refresh = %q", got)
	}

	// Removed at the source: the next refresh ends the session.
	se.setUsers(t, "user")
	se.users.Store(mustParse(t, "users: []\n"))
	se.clock.Advance(6 * time.Minute)
	res = se.get("/app", rotated)
	if res.StatusCode != 401 || errorCode(t, res) != CodeSessionRevoked {
		t.Errorf("removed user: %d", res.StatusCode)
	}
	if _, cleared := newCookie(res, se.gw.cookies.Name()); !cleared {
		t.Error("the cookie of a revoked session was not cleared")
	}
}

func mustParse(t *testing.T, doc string) *userfile.Users {
	t.Helper()
	u, err := userfile.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestIdleAndAbsoluteExpiry(t *testing.T) {
	se := newSessionEnv(t, func(c *config.Config) {
		c.Session.IdleTimeout = time.Hour
		c.Session.AbsoluteLifetime = 3 * time.Hour
	})
	cookie := se.login(t)
	se.clock.Advance(61 * time.Minute)
	res := se.get("/app", cookie)
	if res.StatusCode != 401 || errorCode(t, res) != CodeSessionExpired {
		t.Fatalf("idle: %d", res.StatusCode)
	}

	cookie = se.login(t)
	for i := 0; i < 3; i++ { // active every 50 minutes...
		se.clock.Advance(50 * time.Minute)
		res := se.get("/app", cookie)
		if res.StatusCode != 200 {
			t.Fatalf("active session, step %d: %d", i, res.StatusCode)
		}
		cookie, _ = newCookie(res, se.gw.cookies.Name())
	}
	se.clock.Advance(31 * time.Minute) // ...but 3h after login it ends
	if res := se.get("/app", cookie); res.StatusCode != 401 {
		t.Errorf("past the absolute lifetime: %d", res.StatusCode)
	}
}

func TestLoginDiscardsExistingSession(t *testing.T) {
	se := newSessionEnv(t)
	old := se.login(t)
	fresh := se.login(t, "Cookie", old) // logging in while holding a session
	if fresh == old {
		t.Fatal("login reused the session")
	}
	if res := se.get("/app", old); res.StatusCode != 401 || errorCode(t, res) != CodeSessionRevoked {
		t.Errorf("the previous session still works: %d", res.StatusCode)
	}
	if res := se.get("/app", fresh); res.StatusCode != 200 {
		t.Errorf("the new session: %d", res.StatusCode)
	}
}

func TestLogoutEverywhere(t *testing.T) {
	se := newSessionEnv(t)
	a, b := se.login(t), se.login(t)
	r := httptest.NewRequest("POST", "/.auth/logout?all=1", nil)
	r.Header.Set("Cookie", a)
	if res := se.do(r); res.StatusCode != 204 {
		t.Fatalf("logout all: %d", res.StatusCode)
	}
	for name, c := range map[string]string{"a": a, "b": b} {
		if res := se.get("/app", c); res.StatusCode != 401 {
			t.Errorf("session %s after logout everywhere: %d", name, res.StatusCode)
		}
	}
}

func TestHeaderModeExpiredToken(t *testing.T) {
	se := newSessionEnv(t)
	r := httptest.NewRequest("POST", "/.auth/login", strings.NewReader(`{"username":"alice","password":"pw"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Auth-Mode", "header")
	res := se.do(r)
	var body bearerTokens
	json.NewDecoder(res.Body).Decode(&body)
	if len(res.Cookies()) != 0 || body.AccessToken == "" || body.ExpiresIn != 300 {
		t.Fatalf("header-mode login: cookies %v, body %+v", res.Cookies(), body)
	}
	se.clock.Advance(6 * time.Minute)
	r = httptest.NewRequest("GET", "/app", nil)
	r.Header.Set("Authorization", "Bearer "+body.AccessToken)
	res = se.do(r)
	if res.StatusCode != 401 || errorCode(t, res) != CodeTokenExpired ||
		!strings.Contains(res.Header.Get("WWW-Authenticate"), "expired") {
		t.Errorf("expired bearer: %d %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
}

// grant builds an upstream grant signed with key.
func grant(key string, claims map[string]any) string {
	raw, _ := json.Marshal(claims)
	p := base64.RawURLEncoding.EncodeToString(raw)
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(p))
	return p + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func TestUpstreamGrant(t *testing.T) {
	se := newSessionEnv(t)
	now := se.clock.Now().Unix()
	cases := []struct {
		name      string
		grant     string
		wantLogin bool
	}{
		{"valid", grant(grantSecret, map[string]any{"sub": "legacy-7", "roles": []string{"user"}, "iat": now}), true},
		{"wrong key", grant("another-secret-another-secret-xx", map[string]any{"sub": "x", "iat": now}), false},
		{"stale", grant(grantSecret, map[string]any{"sub": "x", "iat": now - 3600}), false},
		{"no sub", grant(grantSecret, map[string]any{"iat": now}), false},
		{"garbage", "not-a-grant", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			se.up.h = func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Gatehouse-Grant") != "" {
					t.Error("a client-sent grant header reached the upstream")
				}
				w.Header().Set("Gatehouse-Grant", tc.grant)
				w.Write([]byte("welcome"))
			}
			r := httptest.NewRequest("POST", "/public/login", nil)
			r.Header.Set("Gatehouse-Grant", grant(grantSecret, map[string]any{"sub": "forged-by-client", "iat": now}))
			res := se.do(r)
			if res.Header.Get("Gatehouse-Grant") != "" {
				t.Error("the grant header reached the client")
			}
			cookie, _ := newCookie(res, se.gw.cookies.Name())
			if (cookie != "") != tc.wantLogin {
				t.Fatalf("session cookie set = %v, want %v", cookie != "", tc.wantLogin)
			}
			if tc.wantLogin {
				se.up.h = nil
				if res := se.get("/app", cookie); res.StatusCode != 200 || se.up.request(t).Header.Get("X-Auth-User") != "legacy-7" {
					t.Errorf("grant session: %d", res.StatusCode)
				}
				// A grant session keeps its identity across refreshes.
				se.clock.Advance(6 * time.Minute)
				if res := se.get("/app", cookie); res.StatusCode != 200 {
					t.Errorf("grant session after refresh: %d", res.StatusCode)
				}
			}
		})
	}
}

func TestLoginRateLimitRecovers(t *testing.T) {
	se := newSessionEnv(t, func(c *config.Config) { c.Login.PerUser = config.RateLimit{Attempts: 2, Window: time.Minute} })
	login := func(pw string) *http.Response {
		r := httptest.NewRequest("POST", "/.auth/login", strings.NewReader(`{"username":"alice","password":"`+pw+`"}`))
		r.Header.Set("Content-Type", "application/json")
		return se.do(r)
	}
	for i := 0; i < 2; i++ {
		if res := login("wrong"); res.StatusCode != 401 {
			t.Fatalf("attempt %d: %d", i, res.StatusCode)
		}
	}
	res := login("pw")
	if res.StatusCode != 429 || res.Header.Get("Retry-After") != "30" {
		t.Fatalf("3rd attempt: %d, Retry-After %q (want 30: one attempt per 30s)", res.StatusCode, res.Header.Get("Retry-After"))
	}
	se.clock.Advance(29 * time.Second)
	if res := login("pw"); res.StatusCode != 429 {
		t.Fatalf("before Retry-After: %d", res.StatusCode)
	}
	se.clock.Advance(time.Second)
	if res := login("pw"); res.StatusCode != 200 {
		t.Fatalf("after Retry-After: %d", res.StatusCode)
	}
	// A success resets the username's count.
	for i := 0; i < 2; i++ {
		if res := login("wrong"); res.StatusCode != 401 {
			t.Errorf("after a success, attempt %d: %d", i, res.StatusCode)
		}
	}
}

// TestReloadKeepsPasswordSlots: the bound on concurrent password checks
// (64 MiB each) is one per process: a reload's gateway shares its
// predecessor's slots rather than adding a second set.
func TestReloadKeepsPasswordSlots(t *testing.T) {
	se := newSessionEnv(t)
	if se.gw.hashes == nil || se.gw.hashes.Limit() != userfile.DefaultVerifications() {
		t.Fatalf("password slots: %v, want the default (%d)", se.gw.hashes, userfile.DefaultVerifications())
	}
	next, err := New(se.cfg, Options{Previous: se.gw, Users: se.users.Load})
	if err != nil {
		t.Fatal(err)
	}
	if next.hashes != se.gw.hashes {
		t.Error("the reloaded gateway has its own password slots")
	}
}
