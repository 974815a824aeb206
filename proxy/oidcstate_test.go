package proxy

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// testClock is a clock the test moves.
type testClock struct{ t time.Time }

func (c *testClock) Now() time.Time { return c.t }

func newTestStateCookies(clock *testClock, secure bool) *stateCookies {
	path := "/.auth/oidc/"
	if secure {
		path = "/"
	}
	return &stateCookies{
		key: newStateKey("0123456789abcdef0123456789abcdef"), ttl: 10 * time.Minute, now: clock.Now,
		prefix: stateCookiePrefix(secure) + "idp-", path: path, secure: secure, used: newUsedStates(100),
	}
}

// callbackWith is a callback request carrying cookies.
func callbackWith(cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/.auth/oidc/idp/callback", nil)
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

func TestStateCookieAttributes(t *testing.T) {
	clock := &testClock{time.Unix(1_700_000_000, 0)}
	for _, tt := range []struct {
		secure     bool
		namePrefix string
		path       string
	}{
		{true, "__Host-gatehouse-oidc-idp-", "/"},
		{false, "gatehouse-oidc-idp-", "/.auth/oidc/"},
	} {
		c := newTestStateCookies(clock, tt.secure)
		s, ck := c.issue("idp", "/app")
		line := ck.String()
		for _, want := range []string{tt.namePrefix, "Path=" + tt.path, "Max-Age=600", "HttpOnly", "SameSite=Lax"} {
			if !strings.Contains(line, want) {
				t.Errorf("secure=%v: Set-Cookie %q lacks %q", tt.secure, line, want)
			}
		}
		if strings.Contains(line, "Secure") != tt.secure {
			t.Errorf("secure=%v: Set-Cookie %q", tt.secure, line)
		}
		if strings.Contains(line, "Domain") {
			t.Errorf("state cookie has a Domain: %q", line)
		}
		if len(s.Verifier) != 43 || s.State == s.Nonce || s.Nonce == s.Verifier {
			t.Errorf("state %+v: want distinct random values and a 43-character verifier", s)
		}
		if clr := c.clear(s.State).String(); !strings.Contains(clr, ck.Name+"=;") || !strings.Contains(clr, "Max-Age=0") || !strings.Contains(clr, "Path="+tt.path) {
			t.Errorf("clear %q does not delete %q", clr, ck.Name)
		}
	}
}

func TestStateCookieOpen(t *testing.T) {
	tamper := func(ck *http.Cookie) *http.Cookie {
		p64, m64, _ := strings.Cut(ck.Value, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(p64)
		payload = []byte(strings.Replace(string(payload), `"r":"/app"`, `"r":"https://evil.example"`, 1))
		return &http.Cookie{Name: ck.Name, Value: base64.RawURLEncoding.EncodeToString(payload) + "." + m64}
	}
	tests := []struct {
		name string
		// run returns the error of opening the callback after the
		// scenario's steps.
		run  func(c *stateCookies, clock *testClock) error
		want error // nil: accepted
	}{
		{"accepted", func(c *stateCookies, clock *testClock) error {
			s, ck := c.issue("idp", "/app")
			got, err := c.open(callbackWith(ck), "idp", s.State)
			if err == nil && (got.RD != "/app" || got.Nonce != s.Nonce || got.Verifier != s.Verifier) {
				t.Errorf("opened %+v, issued %+v", got, s)
			}
			return err
		}, nil},
		{"no cookie", func(c *stateCookies, clock *testClock) error {
			s, _ := c.issue("idp", "/app")
			return func() error { _, err := c.open(callbackWith(), "idp", s.State); return err }()
		}, errStateMissing},
		{"empty state", func(c *stateCookies, clock *testClock) error {
			_, ck := c.issue("idp", "/app")
			_, err := c.open(callbackWith(ck), "idp", "")
			return err
		}, errStateMissing},
		{"wrong state (another sign-in's cookie name does not match)", func(c *stateCookies, clock *testClock) error {
			_, ck := c.issue("idp", "/app")
			_, err := c.open(callbackWith(ck), "idp", "attacker-state")
			return err
		}, errStateMissing},
		{"tampered payload", func(c *stateCookies, clock *testClock) error {
			s, ck := c.issue("idp", "/app")
			_, err := c.open(callbackWith(tamper(ck)), "idp", s.State)
			return err
		}, errStateForged},
		{"signed with another key", func(c *stateCookies, clock *testClock) error {
			other := *c
			other.key = newStateKey("another secret, also 32 bytes long!")
			s, ck := other.issue("idp", "/app")
			_, err := c.open(callbackWith(ck), "idp", s.State)
			return err
		}, errStateForged},
		{"expired", func(c *stateCookies, clock *testClock) error {
			s, ck := c.issue("idp", "/app")
			clock.t = clock.t.Add(10 * time.Minute)
			_, err := c.open(callbackWith(ck), "idp", s.State)
			return err
		}, errStateExpired},
		{"just before expiry", func(c *stateCookies, clock *testClock) error {
			s, ck := c.issue("idp", "/app")
			clock.t = clock.t.Add(10*time.Minute - time.Second)
			_, err := c.open(callbackWith(ck), "idp", s.State)
			return err
		}, nil},
		{"another provider's callback", func(c *stateCookies, clock *testClock) error {
			s, ck := c.issue("idp", "/app")
			_, err := c.open(callbackWith(ck), "other", s.State)
			return err
		}, errStateMismatch},
		{"replayed with the cookie", func(c *stateCookies, clock *testClock) error {
			s, ck := c.issue("idp", "/app")
			if _, err := c.open(callbackWith(ck), "idp", s.State); err != nil {
				t.Fatalf("first use: %v", err)
			}
			clock.t = clock.t.Add(time.Minute)
			_, err := c.open(callbackWith(ck), "idp", s.State)
			return err
		}, errStateReplayed},
		{"parallel sign-ins in two tabs both complete", func(c *stateCookies, clock *testClock) error {
			s1, ck1 := c.issue("idp", "/one")
			s2, ck2 := c.issue("idp", "/two")
			if ck1.Name == ck2.Name {
				t.Fatalf("two sign-ins share the cookie name %s", ck1.Name)
			}
			got2, err := c.open(callbackWith(ck1, ck2), "idp", s2.State)
			if err != nil || got2.RD != "/two" {
				t.Fatalf("second tab: %+v, %v", got2, err)
			}
			got1, err := c.open(callbackWith(ck1), "idp", s1.State)
			if err == nil && got1.RD != "/one" {
				t.Errorf("first tab returns to %q", got1.RD)
			}
			return err
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &testClock{time.Unix(1_700_000_000, 0)}
			err := tt.run(newTestStateCookies(clock, true), clock)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("err = %v, want %v", err, tt.want)
			case tt.want != nil && !errors.Is(err, errBadState):
				t.Fatalf("%v does not match errBadState", err)
			}
		})
	}
}

func TestUsedStatesBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	u := newUsedStates(3)
	for i, k := range []string{"a", "b", "c"} {
		if !u.use(k, now.Add(time.Duration(i+1)*time.Minute), now) {
			t.Fatalf("%s refused the first time", k)
		}
	}
	if u.use("b", now.Add(time.Hour), now) {
		t.Fatal("b accepted twice")
	}
	// Full: a new state evicts the one closest to expiry ("a").
	if !u.use("d", now.Add(time.Hour), now) || len(u.m) != 3 {
		t.Fatalf("d refused or the set grew: %v", u.m)
	}
	if _, kept := u.m["a"]; kept {
		t.Errorf("a was not evicted: %v", u.m)
	}
	// Later, expired entries go first and an expired state may be seen
	// again (its cookie has expired anyway).
	later := now.Add(2*time.Minute + time.Second)
	if !u.use("e", later.Add(time.Hour), later) {
		t.Fatal("e refused")
	}
	if _, kept := u.m["b"]; kept {
		t.Errorf("expired b was not dropped: %v", u.m)
	}
}

func TestStripStateCookies(t *testing.T) {
	h := http.Header{"Cookie": {
		"app=1; __Host-gatehouse-oidc-idp-0011223344556677=x.y; gatehouse-oidc-idp-aa=z",
		"gatehouse-oidc-idp-bb=1",
		"other=2",
	}}
	stripStateCookies(h)
	if got := strings.Join(h["Cookie"], " | "); got != "app=1 | other=2" {
		t.Errorf("Cookie after strip = %q", got)
	}
	h = http.Header{"Cookie": {"gatehouse-oidc-idp-bb=1"}}
	stripStateCookies(h)
	if _, ok := h["Cookie"]; ok {
		t.Errorf("an emptied Cookie header is kept: %q", h["Cookie"])
	}
}

// FuzzStateCookie feeds arbitrary cookie values and states to the
// callback check: it must never panic, and with a key the fuzzer cannot
// know (random per process), nothing may pass. The seeds are well-formed
// cookies signed with another key, so the fuzzer starts past the format
// checks.
func FuzzStateCookie(f *testing.F) {
	clock := &testClock{time.Unix(1_700_000_000, 0)}
	other := newTestStateCookies(clock, false)
	s, ck := other.issue("idp", "/app")
	f.Add(ck.Value, s.State)
	f.Add("e30.AAAA", "x")
	f.Add("..", "")
	f.Add(strings.Repeat("A", 5000)+"."+strings.Repeat("B", 50), "state")
	c := newTestStateCookies(clock, false)
	c.key = newStateKey("") // random: unknowable to the fuzzer
	f.Fuzz(func(t *testing.T, value, state string) {
		r := httptest.NewRequest(http.MethodGet, "/.auth/oidc/idp/callback", nil)
		r.Header.Set("Cookie", c.name(state)+"="+value)
		if got, err := c.open(r, "idp", state); err == nil {
			t.Fatalf("accepted a cookie the gateway did not sign: %q for state %q: %+v", value, state, got)
		} else if !errors.Is(err, errBadState) {
			t.Fatalf("error %v does not match errBadState", err)
		}
	})
}
