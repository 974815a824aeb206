package cors

import (
	"net/http"
	"testing"
)

// benchPolicy is a realistic policy: a few exact origins and patterns.
func benchPolicy(tb testing.TB) *Policy {
	tb.Helper()
	c := conf("https://app.example.com", "https://admin.example.com", "http://localhost:3000",
		"https://*.preview.example.com", "https://*.example.net")
	c.ExposedHeaders = []string{"X-Total-Count"}
	return mustNew(tb, c)
}

// TestHotPathAllocations guards the request path: Allowed allocates
// nothing for the canonical origins browsers send, and Decorate one
// backing array plus the Vary value.
func TestHotPathAllocations(t *testing.T) {
	p := benchPolicy(t)
	for _, origin := range []string{"https://app.example.com", "https://pr-42.preview.example.com", "https://evil.example"} {
		if n := testing.AllocsPerRun(100, func() { p.Allowed(origin) }); n != 0 {
			t.Errorf("Allowed(%q): %v allocations, want 0", origin, n)
		}
	}
	h := http.Header{}
	if n := testing.AllocsPerRun(100, func() {
		clear(h)
		p.Decorate(h, "https://app.example.com")
	}); n > 2 {
		t.Errorf("Decorate: %v allocations, want at most 2", n)
	}
}

func BenchmarkAllowed(b *testing.B) {
	p := benchPolicy(b)
	for _, bc := range []struct{ name, origin string }{
		{"exact", "https://app.example.com"},
		{"pattern", "https://pr-42.preview.example.com"},
		{"denied", "https://evil.example"},
		{"non-canonical", "HTTPS://App.Example.com:443"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Allowed(bc.origin)
			}
		})
	}
}

func BenchmarkDecorate(b *testing.B) {
	p := benchPolicy(b)
	for _, bc := range []struct{ name, origin string }{
		{"allowed", "https://app.example.com"},
		{"denied", "https://evil.example"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			// A typical upstream response, with CORS headers of its own; the
			// values are made once so that only Decorate's allocations count.
			contentType, vary, acao := []string{"application/json"}, []string{"Accept-Encoding"}, []string{"*"}
			h := make(http.Header, 8)
			for b.Loop() {
				clear(h)
				h["Content-Type"], h["Vary"], h["Access-Control-Allow-Origin"] = contentType, vary, acao
				p.Decorate(h, bc.origin)
			}
		})
	}
}
