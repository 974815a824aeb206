package proxy

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

// syncBuffer is a log sink safe for the gateway's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestDebugAreas(t *testing.T) {
	e := newTestEnv(t, func(c *config.Config) { c.Log.Debug = []string{"session"} })
	var logs syncBuffer
	gw, err := New(e.cfg, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}) // info level
	if err != nil {
		t.Fatal(err)
	}
	admin := gw.AdminHandler(adminToken)
	put := func(body string) int {
		r := httptest.NewRequest("PUT", "/v1/debug", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+adminToken)
		w := httptest.NewRecorder()
		admin.ServeHTTP(w, r)
		return w.Code
	}
	deny := func() {
		r := httptest.NewRequest("GET", "/admin/x", nil)
		r.Header.Set("Authorization", "Bearer "+e.mint(t, alice))
		gw.ServeHTTP(httptest.NewRecorder(), r)
	}
	bad := func() {
		r := httptest.NewRequest("GET", "/app", nil)
		r.Header.Set("Authorization", "Bearer not.a.token")
		gw.ServeHTTP(httptest.NewRecorder(), r)
	}

	bad()
	if !strings.Contains(logs.String(), `"area":"session"`) {
		t.Errorf("log.debug: [session] did not explain a rejected token:\n%s", logs.String())
	}
	deny()
	if strings.Contains(logs.String(), `"area":"policy"`) {
		t.Error("the policy area logged while off")
	}
	if code := put(`{"areas":["policy"]}`); code != 200 {
		t.Fatalf("PUT /v1/debug: %d", code)
	}
	deny()
	out := logs.String()
	if !strings.Contains(out, `"area":"policy"`) || !strings.Contains(out, `"rule":"admin"`) || !strings.Contains(out, "INSUFFICIENT_ROLES") {
		t.Errorf("the policy area did not explain the decision:\n%s", out)
	}
	if code := put(`{"areas":["nonsense"]}`); code != 400 {
		t.Errorf("unknown area: %d, want 400", code)
	}
	e.cfg.Log.Debug = []string{"nonsense"}
	if _, err := New(e.cfg, Options{}); err == nil || !strings.Contains(err.Error(), "log.debug") {
		t.Errorf("unknown area in the config: %v", err)
	}
}
