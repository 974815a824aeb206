package proxy

import (
	"net/http/httptest"
	"testing"
)

// TestOnlyWebSocketUpgradesReachUpstream: an h2c upgrade accepted by the
// upstream would tunnel the client past the policy (e2e/attack
// TestH2CSmuggling runs the whole attack); only WebSocket is relayed.
func TestOnlyWebSocketUpgradesReachUpstream(t *testing.T) {
	for _, tc := range []struct {
		upgrade, connection string
		want                string
	}{
		{"h2c", "Upgrade, HTTP2-Settings", ""},
		{"H2C", "upgrade, http2-settings", ""},
		{"TLS/1.2", "Upgrade, HTTP2-Settings", ""},
		{"websocket", "Upgrade", "websocket"},
		{"WebSocket", "keep-alive, Upgrade", "WebSocket"},
	} {
		t.Run(tc.upgrade, func(t *testing.T) {
			e := newTestEnv(t)
			r := httptest.NewRequest("GET", "/public/", nil)
			r.Header.Set("Upgrade", tc.upgrade)
			r.Header.Set("Connection", tc.connection)
			r.Header.Set("HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA")
			if res := e.do(r); res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			up := e.up.request(t)
			if got := up.Header.Get("Upgrade"); got != tc.want {
				t.Errorf("upstream Upgrade = %q, want %q", got, tc.want)
			}
			if got := up.Header.Get("HTTP2-Settings"); got != "" && tc.want == "" {
				t.Errorf("upstream HTTP2-Settings = %q, want none", got)
			}
		})
	}
}

// TestMethodOverrideNeverReachesUpstream: the policy judged the request's
// own method; an app must not be told to run another one.
func TestMethodOverrideNeverReachesUpstream(t *testing.T) {
	e := newTestEnv(t)
	r := httptest.NewRequest("GET", "/public/", nil)
	for _, name := range []string{"X-HTTP-Method-Override", "X-Http-Method", "x-method-override", "X_HTTP_Method_Override", "X.HTTP.Method"} {
		r.Header[name] = []string{"DELETE"}
	}
	r.Header.Set("X-HTTP-Method-Overrides", "kept") // another header
	if res := e.do(r); res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	up := e.up.request(t)
	for name := range up.Header {
		if methodOverrideHeaders[fold(name)] {
			t.Errorf("upstream received %s: %q", name, up.Header[name])
		}
	}
	if up.Header.Get("X-HTTP-Method-Overrides") != "kept" {
		t.Errorf("an unrelated header was removed")
	}
}
