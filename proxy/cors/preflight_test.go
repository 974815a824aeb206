package cors

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"
)

func TestIsPreflight(t *testing.T) {
	tests := []struct {
		name   string
		method string
		header http.Header
		want   bool
	}{
		{"preflight", http.MethodOptions, http.Header{"Origin": {"https://a.example.com"}, "Access-Control-Request-Method": {"PUT"}}, true},
		{"no request method", http.MethodOptions, http.Header{"Origin": {"https://a.example.com"}}, false},
		{"empty request method", http.MethodOptions, http.Header{"Origin": {"https://a.example.com"}, "Access-Control-Request-Method": {""}}, false},
		{"no origin", http.MethodOptions, http.Header{"Access-Control-Request-Method": {"PUT"}}, false},
		{"not OPTIONS", http.MethodPost, http.Header{"Origin": {"https://a.example.com"}, "Access-Control-Request-Method": {"PUT"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/api", nil)
			r.Header = tt.header
			if got := IsPreflight(r); got != tt.want {
				t.Errorf("IsPreflight = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPreflight(t *testing.T) {
	const origin = "https://app.example.com"
	vary := []string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"}
	allowed := func(acah string) http.Header {
		h := http.Header{
			"Access-Control-Allow-Origin":      {origin},
			"Access-Control-Allow-Credentials": {"true"},
			"Access-Control-Allow-Methods":     {"GET, HEAD, POST, PUT, PATCH, DELETE"},
			"Access-Control-Max-Age":           {"600"},
			"Vary":                             vary,
		}
		if acah != "" {
			h["Access-Control-Allow-Headers"] = []string{acah}
		}
		return h
	}
	denied := http.Header{"Vary": vary}

	base := conf(origin, "https://*.example.net")
	base.AllowedHeaders = []string{"X-Csrf-Token", "x-trace"}
	noCredentials := base
	noCredentials.AllowCredentials = new(false)
	shortCache := base
	shortCache.MaxAge = 90 * time.Second
	shortCache.AllowedMethods = []string{"GET", "PATCH", "GET"}

	tests := []struct {
		name    string
		policy  *Policy
		origin  string
		method  string
		headers []string // Access-Control-Request-Headers lines
		want    http.Header
		reason  string
	}{
		{"method and headers", mustNew(t, base), origin, "PUT", []string{"content-type,x-csrf-token"}, allowed("Content-Type, X-Csrf-Token"), ""},
		{"no headers requested", mustNew(t, base), origin, "DELETE", nil, allowed(""), ""},
		{"gateway's own headers", mustNew(t, base), origin, "POST", []string{"authorization,x-auth-mode,x-requested-with"},
			allowed("Authorization, X-Auth-Mode, X-Requested-With"), ""},
		{"header in any case, spaced, on two lines", mustNew(t, base), origin, "POST", []string{"X-TRACE , ", "x-csrf-token"},
			allowed("X-Trace, X-Csrf-Token"), ""},
		{"non-canonical origin echoed", mustNew(t, base), "HTTPS://APP.EXAMPLE.COM:443", "GET", nil, func() http.Header {
			h := allowed("")
			h["Access-Control-Allow-Origin"] = []string{"HTTPS://APP.EXAMPLE.COM:443"}
			return h
		}(), ""},
		{"pattern origin", mustNew(t, base), "https://a.example.net", "GET", nil, func() http.Header {
			h := allowed("")
			h["Access-Control-Allow-Origin"] = []string{"https://a.example.net"}
			return h
		}(), ""},
		{"without credentials", mustNew(t, noCredentials), origin, "PUT", nil, func() http.Header {
			h := allowed("")
			delete(h, "Access-Control-Allow-Credentials")
			return h
		}(), ""},
		{"configured methods and max age", mustNew(t, shortCache), origin, "PATCH", nil, func() http.Header {
			h := allowed("")
			h["Access-Control-Allow-Methods"] = []string{"GET, PATCH"}
			h["Access-Control-Max-Age"] = []string{"90"}
			return h
		}(), ""},

		{"origin not allowed", mustNew(t, base), "https://evil.example", "PUT", nil, denied, "origin not allowed"},
		{"apex of a pattern", mustNew(t, base), "https://example.net", "PUT", nil, denied, "origin not allowed"},
		{"malformed origin", mustNew(t, base), origin + "/", "PUT", nil, denied, "origin not allowed"},
		{"no origins configured", mustNew(t, conf()), origin, "PUT", nil, denied, "origin not allowed"},
		{"method not allowed", mustNew(t, base), origin, "TRACE", nil, denied, "method TRACE not allowed"},
		{"method case matters", mustNew(t, base), origin, "patch", nil, denied, "method patch not allowed"},
		{"method not a token", mustNew(t, base), origin, "PU T", nil, denied, "malformed Access-Control-Request-Method"},
		{"header not allowed", mustNew(t, base), origin, "PUT", []string{"content-type,x-foo"}, denied, "header X-Foo not allowed"},
		{"one of two lines not allowed", mustNew(t, base), origin, "PUT", []string{"x-trace", "x-foo"}, denied, "header X-Foo not allowed"},
		{"header not a token", mustNew(t, base), origin, "PUT", []string{"x-trace,x foo"}, denied, "malformed Access-Control-Request-Headers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodOptions, "/api/things", nil)
			r.Header.Set("Origin", tt.origin)
			r.Header.Set("Access-Control-Request-Method", tt.method)
			for _, line := range tt.headers {
				r.Header.Add("Access-Control-Request-Headers", line)
			}
			w := httptest.NewRecorder()
			reason := tt.policy.Preflight(w, r)
			if reason != tt.reason {
				t.Errorf("reason = %q, want %q", reason, tt.reason)
			}
			if w.Code != http.StatusNoContent {
				t.Errorf("status = %d, want 204", w.Code)
			}
			if got := w.Result().Header; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("headers:\n got %v\nwant %v", got, tt.want)
			}
			if w.Body.Len() != 0 {
				t.Errorf("body = %q, want none", w.Body)
			}
		})
	}
}

// TestPreflightDenialDropsEarlierHeaders checks that a denial carries no
// Access-Control-Allow-* even if a wrapper set some before, and keeps an
// existing Vary.
func TestPreflightDenialDropsEarlierHeaders(t *testing.T) {
	p := mustNew(t, conf("https://app.example.com"))
	r := httptest.NewRequest(http.MethodOptions, "/", nil)
	r.Header.Set("Origin", "https://evil.example")
	r.Header.Set("Access-Control-Request-Method", "GET")
	w := httptest.NewRecorder()
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Vary", "Accept-Encoding, origin")
	p.Preflight(w, r)
	want := http.Header{"Vary": {"Accept-Encoding, origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"}}
	if got := w.Result().Header; !reflect.DeepEqual(got, want) {
		t.Errorf("headers:\n got %v\nwant %v", got, want)
	}
}
