package jwks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRotationAcceptsNewKeyWithoutRestart(t *testing.T) {
	p, c := newIDP(t), newClock()
	a, _ := ecJWK(t, "a")
	b, _ := ecJWK(t, "b")
	p.set(a)
	s, err := New(options(p, c))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(t.Context(), "a"); err != nil {
		t.Fatalf("key a: %v", err)
	}
	p.set(b) // the IdP rotates: a is gone, b signs
	c.Advance(31 * time.Second)
	k, err := s.Lookup(t.Context(), "b")
	if err != nil || k.ID != "b" {
		t.Fatalf("key b after rotation: %v %v", k.ID, err)
	}
	if _, err := s.Lookup(t.Context(), "a"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("key a after rotation: %v, want ErrUnknownKey", err)
	}
	if got := p.Fetches(); got != 2 {
		t.Errorf("fetches = %d, want 2 (a lookup of the removed kid within the interval must not fetch)", got)
	}
}

func TestUnknownKidFloodIsBounded(t *testing.T) {
	p, c := newIDP(t), newClock()
	a, _ := ecJWK(t, "a")
	p.set(a)
	s, _ := New(options(p, c))
	flood := func() {
		var wg sync.WaitGroup
		for i := range 500 {
			wg.Go(func() {
				_, err := s.Lookup(context.Background(), fmt.Sprintf("made-up-%d", i))
				if !errors.Is(err, ErrUnknownKey) {
					t.Errorf("kid %d: %v, want ErrUnknownKey", i, err)
				}
			})
		}
		wg.Wait()
	}
	if err := s.Refresh(t.Context()); err != nil { // as Run does at start
		t.Fatal(err)
	}
	flood()
	if got := p.Fetches(); got != 2 {
		t.Fatalf("after 500 made-up kids: %d fetches, want 2 (initial + one refetch)", got)
	}
	flood() // same interval: no more fetches
	if got := p.Fetches(); got != 2 {
		t.Fatalf("second flood in the same interval: %d fetches, want 2", got)
	}
	c.Advance(30 * time.Second)
	flood()
	if got := p.Fetches(); got != 3 {
		t.Fatalf("flood in the next interval: %d fetches, want 3", got)
	}
}

func TestIgnoredKeys(t *testing.T) {
	p, c := newIDP(t), newClock()
	good, _ := ecJWK(t, "good")
	enc, _ := ecJWK(t, "enc")
	enc["use"] = "enc"
	odd, _ := ecJWK(t, "odd-alg")
	odd["alg"] = "ES999"
	hs, _ := ecJWK(t, "hs-alg")
	hs["alg"] = "HS256"
	weak := rsaJWK(t, "weak", 1024)
	p.set(map[string]any{"kty": "oct", "kid": "oct", "k": b64u([]byte("0123456789abcdef0123456789abcdef")), "alg": "HS256"},
		enc, odd, hs, weak, good, edJWK(t, "ed"), rsaJWK(t, "rsa", 2048))
	s, _ := New(options(p, c))
	for _, kid := range []string{"oct", "enc", "odd-alg", "hs-alg", "weak"} {
		if _, err := s.Lookup(t.Context(), kid); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("%s: %v, want ErrUnknownKey (the key must be ignored)", kid, err)
		}
	}
	for kid, alg := range map[string]string{"good": "ES256", "ed": "EdDSA", "rsa": ""} {
		k, err := s.Lookup(t.Context(), kid)
		if err != nil || k.Alg != alg {
			t.Errorf("%s: alg %q err %v, want alg %q", kid, k.Alg, err, alg)
		}
	}
	if _, err := s.Lookup(t.Context(), ""); !errors.Is(err, ErrKidRequired) {
		t.Errorf("no kid with 3 keys: %v, want ErrKidRequired", err)
	}
}

func TestEmptyKidWithOneKey(t *testing.T) {
	p, c := newIDP(t), newClock()
	a, _ := ecJWK(t, "")
	oct := map[string]any{"kty": "oct", "k": "c2VjcmV0"}
	p.set(a, oct)
	s, _ := New(options(p, c))
	if k, err := s.Lookup(t.Context(), ""); err != nil || k.Alg != "ES256" {
		t.Fatalf("single key without kid: %v %v", k, err)
	}
}

func TestCacheControl(t *testing.T) {
	tests := []struct {
		name     string
		cc       string
		lifetime time.Duration // with CacheMin 1m, CacheMax 1h
	}{
		{"max-age honoured", "public, max-age=600", 10 * time.Minute},
		{"short max-age raised to the minimum", "max-age=5", time.Minute},
		{"long max-age capped at the maximum", "max-age=86400", time.Hour},
		{"no-cache is the minimum", "no-cache", time.Minute},
		{"none is the minimum", "", time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, c := newIDP(t), newClock()
			a, _ := ecJWK(t, "a")
			p.set(a)
			p.setCacheControl(tt.cc)
			s, _ := New(options(p, c))
			if _, err := s.Lookup(t.Context(), "a"); err != nil {
				t.Fatal(err)
			}
			c.Advance(tt.lifetime - time.Second)
			if _, err := s.Lookup(t.Context(), "a"); err != nil || p.Fetches() != 1 {
				t.Fatalf("just before the lifetime: err %v, %d fetches, want 1", err, p.Fetches())
			}
			c.Advance(time.Second)
			if _, err := s.Lookup(t.Context(), "a"); err != nil || p.Fetches() != 2 {
				t.Fatalf("at the lifetime: err %v, %d fetches, want 2", err, p.Fetches())
			}
		})
	}
}

func TestCachedKeysSurviveOutageUntilExpiry(t *testing.T) {
	p, c := newIDP(t), newClock()
	a, _ := ecJWK(t, "a")
	p.set(a)
	p.setCacheControl("max-age=600")
	s, _ := New(options(p, c))
	if err := s.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	p.setDown(true)
	c.Advance(9 * time.Minute)
	if err := s.Refresh(t.Context()); err == nil {
		t.Fatal("refresh against a down IdP succeeded")
	}
	if _, err := s.Lookup(t.Context(), "a"); err != nil {
		t.Fatalf("cached key during the outage: %v", err)
	}
	if err := s.Ready(); err != nil {
		t.Fatalf("Ready during the outage with cached keys: %v", err)
	}
	c.Advance(time.Minute)
	if _, err := s.Lookup(t.Context(), "a"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("after expiry: %v, want ErrUnavailable", err)
	}
	if err := s.Ready(); err == nil || !strings.Contains(err.Error(), "status 503") {
		t.Fatalf("Ready after expiry = %v, want the fetch error", err)
	}
}

func TestDiscovery(t *testing.T) {
	p, c := newIDP(t), newClock()
	a, _ := ecJWK(t, "a")
	p.set(a)
	o := options(p, c)
	o.URL = ""
	s, _ := New(o)
	if _, err := s.Lookup(t.Context(), "a"); err != nil {
		t.Fatalf("via discovery: %v", err)
	}

	o.Issuer = p.URL + "/other" // the metadata names p.URL
	s, _ = New(o)
	if err := s.Refresh(t.Context()); err == nil || !strings.Contains(err.Error(), "issuer is") {
		t.Fatalf("issuer mismatch: %v, want a refusal", err)
	}
}

func TestBodyLimitAndStatus(t *testing.T) {
	p, c := newIDP(t), newClock()
	var keys []map[string]any
	for i := range 40 {
		k, _ := ecJWK(t, fmt.Sprint(i))
		keys = append(keys, k)
	}
	p.set(keys...)
	o := options(p, c)
	o.MaxBytes = 1024
	s, _ := New(o)
	if err := s.Refresh(t.Context()); !errors.Is(err, errTooLarge) {
		t.Fatalf("oversized JWKS: %v, want errTooLarge", err)
	}
	o.URL = p.URL + "/missing"
	s, _ = New(o)
	if err := s.Refresh(t.Context()); err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Fatalf("404: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := newBlockingServer(t, block)
	c := newClock()
	s, _ := New(Options{Issuer: "x", URL: srv, Timeout: 50 * time.Millisecond, MaxBytes: 100, RefetchInterval: time.Second, CacheMin: time.Second, CacheMax: time.Second, Now: c.Now})
	err := s.Refresh(t.Context())
	close(block)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hanging IdP: %v, want a deadline error", err)
	}
}

func TestRunRecoversFromIdPDownAtStart(t *testing.T) {
	p := newIDP(t)
	a, _ := ecJWK(t, "a")
	p.set(a)
	p.setDown(true)
	o := options(p, newClock())
	o.Now, o.Backoff = nil, 5*time.Millisecond // Run waits on real timers
	s, _ := New(o)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for p.Fetches() < 2 {
		time.Sleep(time.Millisecond)
	}
	if err := s.Ready(); err == nil {
		t.Fatal("ready while the IdP is down")
	}
	p.setDown(false)
	deadline := time.Now().Add(10 * time.Second)
	for s.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("not ready after the IdP came back: %v", s.Ready())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMaxAge(t *testing.T) {
	tests := []struct {
		cc, age string
		want    time.Duration
	}{
		{"max-age=60", "", time.Minute},
		{"public, max-age=60, must-revalidate", "", time.Minute},
		{"max-age=60", "20", 40 * time.Second},
		{"max-age=60", "100", 0},
		{"max-age=60, no-store", "", 0},
		{"max-age=abc", "", 0},
		{"max-age=-5", "", 0},
		{"", "", 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		h.Set("Cache-Control", tt.cc)
		if tt.age != "" {
			h.Set("Age", tt.age)
		}
		if got := maxAge(h); got != tt.want {
			t.Errorf("maxAge(%q, Age %q) = %v, want %v", tt.cc, tt.age, got, tt.want)
		}
	}
}

func TestNoDowngradeRedirect(t *testing.T) {
	req := func(u string) *http.Request { r, _ := http.NewRequest("GET", u, nil); return r }
	https := []*http.Request{req("https://idp.example/jwks")}
	if err := noDowngrade(req("http://idp.example/jwks"), https); err == nil {
		t.Error("https -> http redirect followed")
	}
	if err := noDowngrade(req("https://cdn.example/jwks"), https); err != nil {
		t.Errorf("https -> https redirect refused: %v", err)
	}
	if err := noDowngrade(req("http://127.0.0.1/b"), []*http.Request{req("http://127.0.0.1/a")}); err != nil {
		t.Errorf("http -> http redirect refused: %v", err)
	}
	if err := noDowngrade(req("https://x/6"), make([]*http.Request, 5)); err == nil {
		t.Error("sixth redirect followed")
	}
}

// TestConcurrentFirstLookups: before any fetch, a burst of lookups for a
// key the IdP has shares one fetch and every one of them gets the key. A
// lookup arriving between another's claim of the interval's fetch and
// the start of that fetch used to find no fetch in flight and fail with
// ErrUnavailable (a 503 for a valid token at start-up).
func TestConcurrentFirstLookups(t *testing.T) {
	a, _ := ecJWK(t, "a")
	for round := range 200 {
		p := newIDP(t)
		p.set(a)
		s, err := New(options(p, newClock()))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := s.Lookup(context.Background(), "a"); err != nil {
					t.Errorf("round %d: %v", round, err)
				}
			})
		}
		wg.Wait()
		if got := p.Fetches(); got != 1 {
			t.Fatalf("round %d: %d fetches for concurrent first lookups, want 1", round, got)
		}
		if t.Failed() {
			return
		}
	}
}
