package proxy

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestErrorPageForNavigations: a person who navigates to a refused page
// reads the error; scripts and API clients get the JSON, whatever else.
func TestErrorPageForNavigations(t *testing.T) {
	e := newTestEnv(t)
	nav := []string{"Accept", "text/html,application/xhtml+xml", "Sec-Fetch-Mode", "navigate"}
	tests := []struct {
		name, path string
		hdr        []string
		status     int
		code       string
		html       bool
	}{
		{"navigation to a deny rule", "/internal/x", nav, 403, CodeForbidden, true},
		{"navigation to a bad path", "/a/%2e%2e%2fb%5c", nav, 400, CodeInvalidPath, true},
		{"fetch from a page", "/internal/x", []string{"Accept", "text/html", "Sec-Fetch-Mode", "cors"}, 403, CodeForbidden, false},
		{"API client", "/internal/x", []string{"Accept", "application/json"}, 403, CodeForbidden, false},
		{"XMLHttpRequest", "/internal/x", append(nav[:2:2], "X-Requested-With", "XMLHttpRequest"), 403, CodeForbidden, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tt.path, nil)
			for i := 0; i+1 < len(tt.hdr); i += 2 {
				r.Header.Set(tt.hdr[i], tt.hdr[i+1])
			}
			w := httptest.NewRecorder()
			e.gw.ServeHTTP(w, r)
			res := w.Result()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.status, body)
			}
			id := res.Header.Get(requestIDHeader)
			if !tt.html {
				var eb errorBody
				if err := json.Unmarshal(body, &eb); err != nil || eb.Error.Code != tt.code {
					t.Fatalf("want JSON with %s, got %q (%v)", tt.code, body, err)
				}
				return
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Fatalf("Content-Type %q, want an HTML page", ct)
			}
			for _, want := range []string{tt.code, id, `role="alert"`} {
				if !strings.Contains(string(body), want) {
					t.Errorf("page lacks %q:\n%s", want, body)
				}
			}
			if res.Header.Get("Cache-Control") != "no-store" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Errorf("headers %v", res.Header)
			}
		})
	}
}
