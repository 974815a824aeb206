package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/memstore"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// metricsEnv is a sessionEnv whose gateway records on its own registry.
type metricsEnv struct {
	*sessionEnv
	reg *prometheus.Registry
}

func newMetricsEnv(t *testing.T, mutate ...func(*config.Config)) *metricsEnv {
	t.Helper()
	return newMetricsEnvWith(t, Options{}, mutate...)
}

// newMetricsEnvWith takes the Options that are not set here (Store).
func newMetricsEnvWith(t *testing.T, opts Options, mutate ...func(*config.Config)) *metricsEnv {
	t.Helper()
	se := newSessionEnv(t, mutate...)
	reg := prometheus.NewRegistry()
	opts.Now, opts.Users, opts.Metrics, opts.Version = se.clock.Now, se.users.Load, reg, "v0.0.0-test"
	gw, err := New(se.cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	se.gw = gw
	return &metricsEnv{sessionEnv: se, reg: reg}
}

// value returns the value of one series — a counter or gauge, or a
// histogram's sample count — by metric name and label pairs; 0 when the
// series does not exist (yet).
func (me *metricsEnv) value(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := me.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !hasLabels(m, labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == pairs[i] && lp.GetValue() == pairs[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// expectDelta runs f and checks that each series moved by its want.
func (me *metricsEnv) expectDelta(t *testing.T, f func(), want ...seriesDelta) {
	t.Helper()
	before := make([]float64, len(want))
	for i, w := range want {
		before[i] = me.value(t, w.name, w.labels...)
	}
	f()
	for i, w := range want {
		if got := me.value(t, w.name, w.labels...) - before[i]; got != w.delta {
			t.Errorf("%s%v moved by %v, want %v", w.name, w.labels, got, w.delta)
		}
	}
}

type seriesDelta struct {
	name   string
	labels []string
	delta  float64
}

func series(delta float64, name string, labels ...string) seriesDelta {
	return seriesDelta{name: name, labels: labels, delta: delta}
}

func (se *sessionEnv) postLogin(body, contentType string) *http.Response {
	r := httptest.NewRequest("POST", "/.auth/login", strings.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	return se.do(r)
}

func TestMetricsLogins(t *testing.T) {
	me := newMetricsEnv(t)
	me.expectDelta(t, func() { me.login(t) },
		series(1, "gatehouse_logins_total", "result", "success", "method", "json"),
		series(1, "gatehouse_requests_total", "rule", "auth", "outcome", "allowed"),
		series(1, "gatehouse_store_operation_duration_seconds", "op", "create"),
	)
	me.expectDelta(t, func() {
		if res := me.postLogin(`{"username":"alice","password":"wrong"}`, "application/json"); res.StatusCode != 401 {
			t.Errorf("wrong password: %d", res.StatusCode)
		}
	},
		series(1, "gatehouse_logins_total", "result", "invalid_credentials", "method", "json"),
		series(0, "gatehouse_logins_total", "result", "success", "method", "json"),
		series(1, "gatehouse_requests_total", "rule", "auth", "outcome", "denied"),
	)
	me.expectDelta(t, func() {
		if res := me.postLogin("username=alice&password=wrong", "application/x-www-form-urlencoded"); res.StatusCode != 401 {
			t.Errorf("form, wrong password: %d", res.StatusCode)
		}
		if res := me.postLogin("username=alice", "application/x-www-form-urlencoded"); res.StatusCode != 400 {
			t.Errorf("form without a password: %d", res.StatusCode)
		}
	},
		series(1, "gatehouse_logins_total", "result", "invalid_credentials", "method", "form"),
		series(1, "gatehouse_logins_total", "result", "invalid_request", "method", "form"),
	)
}

func TestMetricsRateLimitedLogin(t *testing.T) {
	me := newMetricsEnv(t, func(c *config.Config) { c.Login.PerUser = config.RateLimit{Attempts: 1, Window: time.Minute} })
	me.expectDelta(t, func() {
		me.postLogin(`{"username":"alice","password":"wrong"}`, "application/json")
		if res := me.postLogin(`{"username":"alice","password":"pw"}`, "application/json"); res.StatusCode != 429 {
			t.Errorf("second attempt: %d, want 429", res.StatusCode)
		}
	}, series(1, "gatehouse_logins_total", "result", "rate_limited", "method", "json"))
}

// TestMetricsLoginClientGone: a login whose client has gone away before
// its password could be checked is not checked (no session, no 64 MiB
// hash), answered 499 for the record, and counted as throttled.
func TestMetricsLoginClientGone(t *testing.T) {
	me := newMetricsEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	me.expectDelta(t, func() {
		r := httptest.NewRequest("POST", "/.auth/login", strings.NewReader(`{"username":"alice","password":"pw"}`)).WithContext(ctx)
		r.Header.Set("Content-Type", "application/json")
		if res := me.do(r); res.StatusCode != statusClientClosedRequest || len(res.Cookies()) != 0 {
			t.Errorf("client gone: %d, cookies %v; want 499 and none", res.StatusCode, res.Cookies())
		}
	},
		series(1, "gatehouse_logins_total", "result", "rate_limited", "method", "json"),
		series(0, "gatehouse_logins_total", "result", "success", "method", "json"),
		series(0, "gatehouse_store_operation_duration_seconds", "op", "create"),
		series(1, "gatehouse_requests_total", "rule", "auth", "outcome", "denied"),
	)
}

// TestMetricsRefresh walks a refresh chain: a transparent rotation, the
// rotated-away token within its grace window (reissued), then after it
// (reuse: the session is revoked).
func TestMetricsRefresh(t *testing.T) {
	me := newMetricsEnv(t)
	first := me.login(t)
	me.clock.Advance(6 * time.Minute) // past the access token's 5m
	me.expectDelta(t, func() {
		if res := me.get("/app", first); res.StatusCode != 200 {
			t.Fatalf("transparent refresh: %d", res.StatusCode)
		}
	},
		series(1, "gatehouse_refreshes_total", "result", "rotated"),
		series(1, "gatehouse_store_operation_duration_seconds", "op", "rotate"),
		series(1, "gatehouse_auth_decisions_total", "result", "allow", "code", ""),
		series(1, "gatehouse_requests_total", "rule", "default", "outcome", "allowed"),
	)
	me.expectDelta(t, func() {
		if res := me.get("/app", first); res.StatusCode != 200 {
			t.Errorf("within grace: %d", res.StatusCode)
		}
	}, series(1, "gatehouse_refreshes_total", "result", "reissued"), series(0, "gatehouse_refreshes_total", "result", "rotated"))

	me.clock.Advance(31 * time.Second) // past the 30s grace
	me.expectDelta(t, func() {
		res := me.get("/app", first)
		if res.StatusCode != 401 || errorCode(t, res) != CodeRefreshTokenReused {
			t.Errorf("reuse: %d", res.StatusCode)
		}
	},
		series(1, "gatehouse_refreshes_total", "result", "reused"),
		series(1, "gatehouse_revocations_total", "kind", "session"),
		series(1, "gatehouse_auth_decisions_total", "result", "deny", "code", CodeRefreshTokenReused),
		series(1, "gatehouse_requests_total", "rule", "default", "outcome", "denied"),
	)
}

func TestMetricsDecisions(t *testing.T) {
	me := newMetricsEnv(t)
	me.expectDelta(t, func() {
		if res := me.get("/admin/panel", ""); res.StatusCode != 401 {
			t.Errorf("anonymous: %d", res.StatusCode)
		}
	},
		series(1, "gatehouse_auth_decisions_total", "result", "deny", "code", CodeUnauthenticated),
		series(1, "gatehouse_requests_total", "rule", "admin", "outcome", "denied"),
	)
	cookie := me.login(t)
	me.expectDelta(t, func() {
		if res := me.get("/admin/panel", cookie); res.StatusCode != 403 {
			t.Errorf("without the role: %d", res.StatusCode)
		}
		if res := me.get("/public/x", ""); res.StatusCode != 200 {
			t.Errorf("public: %d", res.StatusCode)
		}
		if res := me.get("/public%2Fx", ""); res.StatusCode != 400 {
			t.Errorf("invalid path: %d", res.StatusCode)
		}
	},
		series(1, "gatehouse_auth_decisions_total", "result", "deny", "code", CodeInsufficientRoles),
		series(1, "gatehouse_requests_total", "rule", "public", "outcome", "allowed"),
		series(1, "gatehouse_requests_total", "rule", "none", "outcome", "denied"),
		series(1, "gatehouse_upstream_request_duration_seconds", "class", "2xx"),
	)
}

func TestMetricsForwardAuth(t *testing.T) {
	me := newMetricsEnv(t, trustLoopback)
	cookie := me.login(t)
	me.expectDelta(t, func() {
		me.verify("", "GET", "/app", true, "Cookie", cookie)
		me.verify("", "GET", "/app", true, "Accept", "application/json")
	},
		series(1, "gatehouse_auth_decisions_total", "result", "allow", "code", ""),
		series(1, "gatehouse_auth_decisions_total", "result", "deny", "code", CodeUnauthenticated),
		series(1, "gatehouse_requests_total", "rule", "auth", "outcome", "allowed"),
		series(1, "gatehouse_requests_total", "rule", "auth", "outcome", "denied"),
		series(0, "gatehouse_requests_total", "rule", "default", "outcome", "allowed"),
	)
}

func TestMetricsUpstreamDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there any more
	me := newMetricsEnv(t, func(c *config.Config) { c.Upstream.URL = dead })
	me.expectDelta(t, func() {
		if res := me.get("/public/", ""); res.StatusCode != http.StatusBadGateway {
			t.Errorf("status %d, want 502", res.StatusCode)
		}
	},
		series(1, "gatehouse_upstream_errors_total", "kind", "unavailable"),
		series(0, "gatehouse_upstream_errors_total", "kind", "timeout"),
		series(0, "gatehouse_upstream_request_duration_seconds"),
	)
}

func TestMetricsRevocations(t *testing.T) {
	me := newMetricsEnv(t)
	cookie := me.login(t)
	me.expectDelta(t, func() {
		r := httptest.NewRequest("POST", "/.auth/logout", nil)
		r.Header.Set("Cookie", cookie)
		me.do(r)
		me.admin("POST", "/v1/revoke", `{"user":"alice"}`, adminToken)
		me.admin("POST", "/v1/revoke", `{"jti":"some-jti"}`, adminToken)
	},
		series(1, "gatehouse_revocations_total", "kind", "session"),
		series(1, "gatehouse_revocations_total", "kind", "user"),
		series(1, "gatehouse_revocations_total", "kind", "token"),
		series(1, "gatehouse_store_operation_duration_seconds", "op", "revoke_user"),
	)
}

func TestMetricsCrossOrigin(t *testing.T) {
	me := newMetricsEnv(t, withCORS)
	preflight := func(origin string) {
		r := httptest.NewRequest("OPTIONS", "/api/x", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		me.do(r)
	}
	fetch := func(method, path, origin, site string) *http.Response {
		r := httptest.NewRequest(method, path, nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Sec-Fetch-Site", site)
		return me.do(r)
	}
	me.expectDelta(t, func() {
		preflight(spaOrigin)
		preflight(evilOrigin)
		preflight(evilOrigin)
		fetch("GET", "/public/x", evilOrigin, "cross-site")
		fetch("GET", "/public/x", spaOrigin, "same-site")              // allowed origin
		fetch("GET", "/public/x", "http://example.com", "same-origin") // not cross-origin
		if res := fetch("POST", "/.auth/logout", evilOrigin, "cross-site"); res.StatusCode != 403 {
			t.Errorf("cross-origin logout: %d, want 403", res.StatusCode)
		}
	},
		series(1, "gatehouse_cors_preflights_total", "result", "allowed"),
		series(2, "gatehouse_cors_preflights_total", "result", "refused"),
		series(1, "gatehouse_cors_rejections_total"),
		series(1, "gatehouse_csrf_rejections_total"),
		series(1, "gatehouse_requests_total", "rule", "none", "outcome", "denied"),
	)
}

// quietStore is an in-memory store (so there is a mirror) that cannot
// subscribe: its mirror loads at Start and then only on its ticker.
type quietStore struct{ *memstore.Store }

func (quietStore) SubscribeRevocations(context.Context, func(session.Revocation), func()) error {
	return errors.New("no subscriptions here")
}

func TestMetricsMirror(t *testing.T) {
	me := newMetricsEnvWith(t, Options{Store: quietStore{memstore.New(memstore.Options{})}},
		func(c *config.Config) { c.Store.MaxStaleness = time.Hour }) // ticks every 20 minutes
	if me.value(t, "gatehouse_revocation_reconciliations_total", "result", "ok") != 0 {
		t.Error("reconciled before Start")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := me.gw.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := me.value(t, "gatehouse_revocation_reconciliations_total", "result", "ok"); got != 1 {
		t.Errorf("reconciliations after Start = %v, want 1 (the initial load)", got)
	}
	me.clock.Advance(42 * time.Second)
	if got := me.value(t, "gatehouse_revocation_mirror_staleness_seconds"); got != 42 {
		t.Errorf("staleness = %v, want 42", got)
	}
}

// TestMetricsEndpoint: /metrics is on the admin listener, never the
// public one.
func TestMetricsEndpoint(t *testing.T) {
	me := newMetricsEnv(t)
	cookie := me.login(t)

	res := me.admin("GET", "/metrics", "", "")
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("admin /metrics: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`gatehouse_logins_total{method="json",result="success"} 1`,
		`gatehouse_build_info{goversion="go`,
		`version="v0.0.0-test"} 1`,
		"# TYPE gatehouse_store_operation_duration_seconds histogram",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("admin /metrics lacks %q", want)
		}
	}

	// The public listener: the gateway's own namespace has no metrics,
	// and /metrics is the app's path like any other (here the app has none).
	me.up.h = http.NotFound
	for _, path := range []string{"/metrics", "/.auth/metrics"} {
		res := me.get(path, cookie)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 404 || strings.Contains(string(body), "gatehouse_") {
			t.Errorf("public %s: %d, body %.80q", path, res.StatusCode, body)
		}
	}

	// A gateway built without a registry serves no metrics.
	w := httptest.NewRecorder()
	newTestEnv(t).gw.AdminHandler("").ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 404 {
		t.Errorf("admin /metrics without a registry: %d, want 404", w.Code)
	}
}

// TestMetricsSeparateGatherer: Options.Gatherer, when set, is what
// /metrics serves (for example the registry that also holds the Go and
// process collectors).
func TestMetricsSeparateGatherer(t *testing.T) {
	e := newTestEnv(t)
	reg, other := prometheus.NewRegistry(), prometheus.NewRegistry()
	other.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "other_gauge", Help: "x"}))
	gw, err := New(e.cfg, Options{Metrics: reg, Gatherer: prometheus.Gatherers{reg, other}})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	gw.AdminHandler("").ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(w.Body.String(), "other_gauge 0") || !strings.Contains(w.Body.String(), "gatehouse_requests_total") {
		t.Errorf("/metrics did not serve both registries:\n%.300s", w.Body.String())
	}
}

// scrapeValue reads one sample of the admin listener's /metrics, as
// Prometheus would; -1 when the series is absent.
func (me *metricsEnv) scrapeValue(t *testing.T, series string) float64 {
	t.Helper()
	res := me.admin("GET", "/metrics", "", "")
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("admin /metrics: %d", res.StatusCode)
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	return -1
}

// TestMetricsVerifyCache: two requests with the same session cookie
// through the gateway are one cache miss (the first, verified in full)
// then one hit, on the admin listener's /metrics; with the cache off the
// series are there, at 0, with capacity 0.
func TestMetricsVerifyCache(t *testing.T) {
	const (
		hit      = `gatehouse_verify_cache_lookups_total{result="hit"}`
		miss     = `gatehouse_verify_cache_lookups_total{result="miss"}`
		entries  = "gatehouse_verify_cache_entries"
		capacity = "gatehouse_verify_cache_capacity"
	)
	tests := []struct {
		name                      string
		size                      int
		wantMiss, wantHit         []float64 // after the first and the second request
		wantEntries, wantCapacity float64
	}{
		{"on", 4096, []float64{1, 1}, []float64{0, 1}, 1, 4096},
		{"off", 0, []float64{0, 0}, []float64{0, 0}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			me := newMetricsEnv(t, func(c *config.Config) { c.Tokens.VerifyCacheSize = tt.size })
			cookie := me.login(t)
			if got := me.scrapeValue(t, miss); got != 0 {
				t.Fatalf("after login: %s = %v, want 0", miss, got)
			}
			for i := range 2 {
				if res := me.get("/app", cookie); res.StatusCode != 200 {
					t.Fatalf("request %d: %d", i+1, res.StatusCode)
				}
				if got := me.scrapeValue(t, miss); got != tt.wantMiss[i] {
					t.Errorf("after request %d: %s = %v, want %v", i+1, miss, got, tt.wantMiss[i])
				}
				if got := me.scrapeValue(t, hit); got != tt.wantHit[i] {
					t.Errorf("after request %d: %s = %v, want %v", i+1, hit, got, tt.wantHit[i])
				}
			}
			if got := me.scrapeValue(t, entries); got != tt.wantEntries {
				t.Errorf("%s = %v, want %v", entries, got, tt.wantEntries)
			}
			if got := me.scrapeValue(t, capacity); got != tt.wantCapacity {
				t.Errorf("%s = %v, want %v", capacity, got, tt.wantCapacity)
			}
		})
	}
}

// TestMetricsPerUpstream: with several upstreams, the upstream series say
// which app answered and which one is down.
func TestMetricsPerUpstream(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(api.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	me := newMetricsEnv(t, func(c *config.Config) {
		c.Upstreams = map[string]config.Upstream{"api": {URL: api.URL}, "legacy": {URL: dead}}
		c.Policy.Rules = append([]config.Rule{
			{Name: "api", PathPrefix: "/api", Upstream: "api", Access: "public"},
			{Name: "legacy", PathPrefix: "/legacy", Upstream: "legacy", Access: "public"},
		}, c.Policy.Rules...)
	})
	me.expectDelta(t, func() {
		if res := me.get("/api/x", ""); res.StatusCode != http.StatusOK {
			t.Errorf("api: %d", res.StatusCode)
		}
		if res := me.get("/legacy/x", ""); res.StatusCode != http.StatusBadGateway {
			t.Errorf("legacy: %d, want 502", res.StatusCode)
		}
	},
		series(1, "gatehouse_upstream_request_duration_seconds", "upstream", "api", "class", "2xx"),
		series(0, "gatehouse_upstream_request_duration_seconds", "upstream", "default", "class", "2xx"),
		series(1, "gatehouse_upstream_errors_total", "upstream", "legacy", "kind", "unavailable"),
		series(0, "gatehouse_upstream_errors_total", "upstream", "api", "kind", "unavailable"),
		series(0, "gatehouse_upstream_errors_total", "upstream", "default", "kind", "unavailable"),
	)
}
