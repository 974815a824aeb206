package attack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// issued is a header-mode login or refresh answer.
type issued struct {
	Access    string `json:"access_token"`
	Refresh   string `json:"refresh_token"`
	SessionID string `json:"session_id"`
	status    int
	code      string
}

// refreshHeader refreshes in header mode.
func refreshHeader(t *testing.T, addr, refresh string) issued {
	t.Helper()
	res := sendRaw(t, addr, rawPost("/.auth/refresh", `{"refresh_token":"`+refresh+`"}`, "X-Auth-Mode: header"))
	if res == nil {
		t.Fatal("refresh: no response")
	}
	var is issued
	json.Unmarshal(res.Body, &is)
	is.status, is.code = res.StatusCode, res.Code()
	return is
}

func loginHeader(t *testing.T, addr, user string, hdr ...string) issued {
	t.Helper()
	res := sendRaw(t, addr, rawPost("/.auth/login", `{"username":"`+user+`","password":"`+user+`-pw"}`, append([]string{"X-Auth-Mode: header"}, hdr...)...))
	var is issued
	if res == nil || res.StatusCode != 200 || json.Unmarshal(res.Body, &is) != nil || is.Refresh == "" || is.SessionID == "" {
		t.Fatalf("header-mode login as %s: %v", user, res)
	}
	return is
}

// refused checks that a token is now useless in every place it could be
// presented, and that nothing reached the upstream.
func (e *env) refused(t *testing.T, label string, access, refresh, cookie string) {
	t.Helper()
	var cases []attackCase
	if access != "" {
		cases = append(cases,
			attackCase{name: label + " access as bearer", status: 401, req: rawRequest("GET", "/app/x", "gw.attack.test", "{{case}}", "Accept: application/json", "Authorization: Bearer "+access)},
			attackCase{name: label + " access as cookie", status: 401, req: rawRequest("GET", "/app/x", "gw.attack.test", "{{case}}", "Accept: application/json", "Cookie: gatehouse="+access)},
		)
	}
	if refresh != "" {
		cases = append(cases,
			attackCase{name: label + " refresh in header mode", status: 401, req: rawPost("/.auth/refresh", `{"refresh_token":"`+refresh+`"}`, "X-Auth-Mode: header")},
			attackCase{name: label + " refresh as bearer to /refresh", status: 401, req: rawPost("/.auth/refresh", "", "X-Auth-Mode: header", "Authorization: Bearer "+refresh)},
		)
	}
	if cookie != "" {
		cases = append(cases,
			attackCase{name: label + " cookie", status: 401, req: rawRequest("GET", "/app/x", "gw.attack.test", "{{case}}", "Accept: application/json", "Cookie: gatehouse="+cookie)},
			attackCase{name: label + " cookie to /refresh", status: 401, req: rawRequest("POST", "/.auth/refresh", "gw.attack.test", "{{case}}", "Content-Length: 0", "Cookie: gatehouse="+cookie)},
		)
	}
	for i := range cases {
		cases[i].response = func(t *testing.T, r *rawResponse) {
			for _, sc := range r.Header.Values("Set-Cookie") {
				if !strings.HasPrefix(sc, "gatehouse=;") {
					t.Errorf("a dead credential was given a cookie: %q", sc)
				}
			}
		}
	}
	e.run(t, cases)
}

// TestSessionAttacks: refresh reuse, parallel rotation, logout replay,
// revocation racing a refresh, and session fixation.
func TestSessionAttacks(t *testing.T) {
	t.Parallel()
	// A short grace window for the reuse case; parallel rotation runs on
	// a gateway with the default 30s, so a loaded machine cannot turn a
	// late parallel request into a reuse.
	e := newEnv(t, envOptions{grace: "2s"})
	long := newEnv(t, envOptions{grace: "30s"})

	t.Run("refresh reuse after the grace window", func(t *testing.T) {
		t1 := loginHeader(t, e.addr, "alice")
		t2 := refreshHeader(t, e.addr, t1.Refresh)
		again := refreshHeader(t, e.addr, t1.Refresh) // within the grace window: the same successor
		if t2.status != 200 || again.status != 200 || again.Refresh != t2.Refresh {
			t.Fatalf("refresh and its retry within grace: %d %d, same successor %v", t2.status, again.status, again.Refresh == t2.Refresh)
		}
		time.Sleep(2500 * time.Millisecond) // refresh_grace 2s
		if r := refreshHeader(t, e.addr, t1.Refresh); r.status != 401 || r.code != "REFRESH_TOKEN_REUSED" {
			t.Errorf("reuse after grace: %d %s, want 401 REFRESH_TOKEN_REUSED", r.status, r.code)
		}
		e.refused(t, "after reuse, the legitimate", t2.Access, t2.Refresh, "")
		e.refused(t, "after reuse, the first", t1.Access, t1.Refresh, "")
	})

	t.Run("parallel rotation", func(t *testing.T) {
		e := long
		t1 := loginHeader(t, e.addr, "alice")
		var wg sync.WaitGroup
		out := make([]issued, 20)
		for i := range out {
			wg.Add(1)
			go func() { defer wg.Done(); out[i] = refreshHeader(t, e.addr, t1.Refresh) }()
		}
		wg.Wait()
		for i, o := range out {
			if o.status != 200 || o.Refresh != out[0].Refresh {
				t.Fatalf("parallel refresh %d: %d, same successor %v", i, o.status, o.Refresh == out[0].Refresh)
			}
		}
		if r := refreshHeader(t, e.addr, out[0].Refresh); r.status != 200 {
			t.Errorf("the session did not survive parallel rotation: %d %s", r.status, r.code)
		}
	})

	t.Run("logout, then every token ever held", func(t *testing.T) {
		_, _, c1 := login(t, e.base, "alice", false)
		var cookies = []string{c1}
		for i := 0; i < 3; i++ { // rotate a few times, keeping every cookie
			res := sendRaw(t, e.addr, rawRequest("POST", "/.auth/refresh", "gw.attack.test", "Content-Length: 0", "Cookie: gatehouse="+cookies[len(cookies)-1]))
			c := setCookie(res)
			if res == nil || res.StatusCode != 200 || c == "" {
				t.Fatalf("cookie refresh %d: %v", i, res)
			}
			cookies = append(cookies, c)
		}
		res := sendRaw(t, e.addr, rawRequest("POST", "/.auth/logout", "gw.attack.test", "Content-Length: 0", "Cookie: gatehouse="+cookies[len(cookies)-1]))
		if res == nil || res.StatusCode != 204 {
			t.Fatalf("logout: %v", res)
		}
		for i, c := range cookies {
			access, refresh, _ := strings.Cut(c, "~")
			e.refused(t, fmt.Sprintf("cookie %d", i), access, refresh, c)
		}
		// Header mode: logout with the access token.
		h := loginHeader(t, e.addr, "alice")
		h2 := refreshHeader(t, e.addr, h.Refresh)
		res = sendRaw(t, e.addr, rawPost("/.auth/logout", "", "X-Auth-Mode: header", "Authorization: Bearer "+h2.Access))
		if res == nil || res.StatusCode != 204 {
			t.Fatalf("header-mode logout: %v", res)
		}
		e.refused(t, "header first", h.Access, h.Refresh, "")
		e.refused(t, "header second", h2.Access, h2.Refresh, "")
	})

	t.Run("revocation racing a refresh", func(t *testing.T) {
		for round := 0; round < 3; round++ {
			t1 := loginHeader(t, e.addr, "alice")
			var wg sync.WaitGroup
			var mu sync.Mutex
			held := []issued{t1}
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if r := refreshHeader(t, e.addr, t1.Refresh); r.status == 200 {
						mu.Lock()
						held = append(held, r)
						mu.Unlock()
					}
				}()
			}
			wg.Add(1)
			go func() { defer wg.Done(); adminRevoke(t, e, `{"session":"`+t1.SessionID+`"}`) }()
			wg.Wait()
			for i, h := range held {
				e.refused(t, fmt.Sprintf("round %d token %d", round, i), h.Access, h.Refresh, "")
			}
		}
	})

	t.Run("fixation: a planted session is discarded at login", func(t *testing.T) {
		_, _, planted := login(t, e.base, "bob", false)
		// The victim signs in with the attacker's cookie in the jar.
		res := sendRaw(t, e.addr, rawPost("/.auth/login", `{"username":"alice","password":"alice-pw"}`, "Cookie: gatehouse="+planted))
		victim := setCookie(res)
		if res == nil || res.StatusCode != 200 || victim == "" || victim == planted {
			t.Fatalf("login with a planted cookie: %v, new cookie %v", res, victim != planted)
		}
		pa, pr, _ := strings.Cut(planted, "~")
		va, vr, _ := strings.Cut(victim, "~")
		if va == pa || vr == pr {
			t.Errorf("the victim's session reuses a planted token")
		}
		e.refused(t, "planted", pa, pr, planted)
		e.run(t, []attackCase{{name: "the victim's own session", status: 200, reaches: true, upstream: wantIdentity("alice", "user"),
			req: rawRequest("GET", "/app/x", "gw.attack.test", "{{case}}", "Cookie: gatehouse="+victim)}})
		// Header mode, with the attacker's bearer token presented.
		bob := loginHeader(t, e.addr, "bob")
		alice := loginHeader(t, e.addr, "alice", "Authorization: Bearer "+bob.Access)
		if alice.SessionID == bob.SessionID {
			t.Errorf("header-mode login kept the presented session %s", bob.SessionID)
		}
	})
}

// setCookie returns the value of the response's gatehouse cookie, or "".
func setCookie(r *rawResponse) string {
	if r == nil {
		return ""
	}
	for _, c := range r.Cookies() {
		if c.Name == "gatehouse" && c.MaxAge >= 0 {
			return c.Value
		}
	}
	return ""
}

// adminRevoke calls the admin API.
func adminRevoke(t *testing.T, e *env, body string) {
	req, _ := http.NewRequest("POST", "http://"+e.gw.AdminAddr(t)+"/v1/revoke", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer attack-admin-token-0123456789")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		t.Errorf("admin revoke: %d", res.StatusCode)
	}
}
