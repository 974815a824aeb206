package session

import (
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

// TestClearIncludesLegacyCookies: logout must also remove a cookie that an
// older setting (another Domain) left, or it later collides with the new
// one as a duplicate.
func TestClearIncludesLegacyCookies(t *testing.T) {
	c, err := NewCookies(config.Cookie{
		Legacy: []config.LegacyCookie{{Name: "gatehouse", Domain: "example.com"}, {Name: "old_sess", Path: "/app"}},
	}, 3600e9)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	c.Clear(h)
	res := http.Response{Header: h}
	got := res.Cookies()
	if len(got) != 3 {
		t.Fatalf("Set-Cookie = %q, want 3 clears", h.Values("Set-Cookie"))
	}
	want := []struct{ name, domain, path string }{
		{"__Host-gatehouse", "", "/"}, {"gatehouse", "example.com", "/"}, {"old_sess", "", "/app"},
	}
	for i, w := range want {
		if got[i].Name != w.name || got[i].Domain != w.domain || got[i].Path != w.path || got[i].MaxAge >= 0 || got[i].Value != "" {
			t.Errorf("clear %d = %+v, want name %s domain %q path %s with Max-Age=0", i, got[i], w.name, w.domain, w.path)
		}
	}
}
