package metrics

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/memstore"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.golden")

const golden = "testdata/metrics.golden"

// recordOneOfEach builds Metrics on reg and records one of everything.
func recordOneOfEach(t *testing.T, reg *prometheus.Registry) *Metrics {
	t.Helper()
	m := New(reg)
	m.SetBuildInfo("v1.2.3")
	m.Allowed("public")
	m.Denied("admin", "INSUFFICIENT_ROLES", http.StatusForbidden)
	m.AuthDecision("")
	m.Request(RuleAuth, http.StatusOK)
	m.Refresh(session.Rotated, nil)
	m.Login(LoginSuccess, LoginJSON)
	m.Revoked(session.RevokeSessionKind)
	m.Reconciled(nil)
	m.Preflight(true)
	m.CORSRejected()
	m.CSRFRejected()
	m.Upstream("default").Error(UpstreamUnavailable)
	m.JWKSFetched("https://idp.example", nil)
	m.WatchIssuers(func() map[string]bool { return map[string]bool{"https://idp.example": true} })
	m.WatchVerifyCache(session.NewVerifyCache(16, nil))
	m.OIDCRecheck("idp", RecheckOK)

	src := memstore.New(memstore.Options{})
	mir := session.NewMirror(session.MirrorOptions{List: session.NewRevocations(nil), Source: src, MaxStaleness: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := mir.Start(ctx); err != nil {
		t.Fatal(err)
	}
	m.WatchMirror(mir)

	s := InstrumentStore(src, m)
	if _, err := s.Get(context.Background(), "nope"); !errors.Is(err, session.ErrSessionNotFound) {
		t.Fatalf("Get: %v", err)
	}
	rt := InstrumentTransport(roundTripper(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
	}), m.Upstream("default"))
	if _, err := rt.RoundTrip(&http.Request{}); err != nil {
		t.Fatal(err)
	}
	return m
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// describe lists every metric family in g as "name type label,label",
// sorted: the shape of the metrics, without their values.
func describe(t *testing.T, g prometheus.Gatherer) []string {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, mf := range mfs {
		var labels []string
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if !slices.Contains(labels, lp.GetName()) {
					labels = append(labels, lp.GetName())
				}
			}
		}
		slices.Sort(labels)
		lines = append(lines, strings.TrimSpace(fmt.Sprintf("%s %s %s",
			mf.GetName(), strings.ToLower(mf.GetType().String()), strings.Join(labels, ","))))
	}
	slices.Sort(lines)
	return lines
}

// TestGolden pins the name, type and label names of every metric: a
// change here is a change to dashboards and alerts, and to
// docs/metrics.md. Update with go test ./proxy/metrics -run Golden -update.
func TestGolden(t *testing.T) {
	reg := prometheus.NewRegistry()
	recordOneOfEach(t, reg)
	got := strings.Join(describe(t, reg), "\n") + "\n"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("metrics changed (run with -update if intended, and update docs/metrics.md):\n--- got\n%s--- want\n%s", got, want)
	}
}

// TestEveryMetricIsDocumented keeps docs/metrics.md in step with the
// golden file: every metric has its own section, with its type.
func TestEveryMetricIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(want)), "\n")
	if len(lines) < 15 {
		t.Fatalf("the golden file lists only %d metrics; is it broken?", len(lines))
	}
	for _, line := range lines {
		f := strings.Fields(line)
		name, typ := f[0], f[1]
		section := regexp.MustCompile("(?m)^### `" + name + "`\n+Type: " + typ + "\\b")
		if !section.Match(doc) {
			t.Errorf("docs/metrics.md has no section \"### `%s`\" starting with \"Type: %s\"", name, typ)
		}
		for _, label := range f[2:] {
			for _, l := range strings.Split(label, ",") {
				if !strings.Contains(string(doc), "`"+l+"`") {
					t.Errorf("docs/metrics.md does not describe label %q of %s", l, name)
				}
			}
		}
	}
}

// TestNilRecordsNothing: a nil *Metrics is the "no registry" gateway.
func TestNilRecordsNothing(t *testing.T) {
	var m *Metrics
	if New(nil) != nil {
		t.Error("New(nil) is not nil")
	}
	m.SetBuildInfo("v")
	m.Request("r", 200)
	m.Allowed("r")
	m.Denied("r", "X", 401)
	m.AuthDecision("X")
	m.Login(LoginError, LoginForm)
	m.Refresh(session.Rotated, nil)
	m.Revoked(session.RevokeUserKind)
	m.Reconciled(errors.New("x"))
	m.WatchMirror(nil)
	m.Preflight(false)
	m.CORSRejected()
	m.CSRFRejected()
	m.Upstream("default").Error(UpstreamTimeout)
	m.OIDCRecheck("idp", RecheckEnded)
	m.OIDCRecheckProviders([]string{"idp"})
	m.WatchVerifyCache(nil)

	s := memstore.New(memstore.Options{})
	if InstrumentStore(s, nil) != session.Store(s) {
		t.Error("InstrumentStore with nil Metrics wrapped the store")
	}
	rt := http.DefaultTransport
	if InstrumentTransport(rt, nil) != rt {
		t.Error("InstrumentTransport with nil Metrics wrapped the transport")
	}
}

func TestRequestOutcomes(t *testing.T) {
	tests := []struct {
		name    string
		record  func(*Metrics)
		rule    string
		outcome string
		result  string // auth_decisions_total result; "" when none
		code    string
	}{
		{"allowed", func(m *Metrics) { m.Allowed("public") }, "public", "allowed", "allow", ""},
		{"denied 401", func(m *Metrics) { m.Denied("admin", "UNAUTHENTICATED", 401) }, "admin", "denied", "deny", "UNAUTHENTICATED"},
		{"denied 503 is an error", func(m *Metrics) { m.Denied("admin", "STORE_UNAVAILABLE", 503) }, "admin", "error", "deny", "STORE_UNAVAILABLE"},
		{"unmatched host is rule none", func(m *Metrics) { m.Denied("", "FORBIDDEN", 403) }, RuleNone, "denied", "deny", "FORBIDDEN"},
		{"endpoint redirect", func(m *Metrics) { m.Request(RuleAuth, 303) }, RuleAuth, "allowed", "", ""},
		{"endpoint 429", func(m *Metrics) { m.Request(RuleAuth, 429) }, RuleAuth, "denied", "", ""},
		{"endpoint 502", func(m *Metrics) { m.Request(RuleAuth, 502) }, RuleAuth, "error", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New(prometheus.NewRegistry())
			tc.record(m)
			if got := testutil.ToFloat64(m.requests.WithLabelValues(tc.rule, tc.outcome)); got != 1 {
				t.Errorf("requests_total{rule=%q,outcome=%q} = %v, want 1", tc.rule, tc.outcome, got)
			}
			if tc.result == "" {
				// Only the allow series, created in New, and still at 0.
				if n := testutil.CollectAndCount(m.decisions); n != 1 || testutil.ToFloat64(m.allow) != 0 {
					t.Errorf("auth_decisions_total recorded (%d series) for a request that was no decision", n)
				}
			} else {
				if got := testutil.ToFloat64(m.decisions.WithLabelValues(tc.result, tc.code)); got != 1 {
					t.Errorf("auth_decisions_total{result=%q,code=%q} = %v, want 1", tc.result, tc.code, got)
				}
			}
		})
	}
}

func TestRefreshResults(t *testing.T) {
	tests := []struct {
		outcome session.Outcome
		err     error
		want    string
	}{
		{session.Rotated, nil, "rotated"},
		{session.Reissued, nil, "reissued"},
		{0, fmt.Errorf("session s of user %q: %w", "u", session.ErrRefreshReused), "reused"},
		{0, errors.Join(session.ErrRefreshReused, session.ErrStoreUnavailable), "reused"},
		{0, session.ErrSessionExpired, "expired"},
		{0, session.ErrSessionNotFound, "expired"},
		{0, session.ErrSessionRevoked, "revoked"},
		{0, fmt.Errorf("%w: %w: refresh token", session.ErrInvalidToken, session.ErrBadSignature), "invalid"},
		{0, fmt.Errorf("redis: %w", session.ErrStoreUnavailable), "unavailable"},
		{0, errors.New("session: reading fresh claims: boom"), "error"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			m := New(prometheus.NewRegistry())
			m.Refresh(tc.outcome, tc.err)
			for r, name := range refreshResultNames() {
				want := 0.0
				if name == tc.want {
					want = 1
				}
				if got := testutil.ToFloat64(m.refreshes[r]); got != want {
					t.Errorf("refreshes_total{result=%q} = %v, want %v", name, got, want)
				}
			}
		})
	}
}

func TestLoginsAndRevocations(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.Login(LoginRateLimited, LoginForm)
	m.Login(LoginSuccess, LoginGrant)
	m.Revoked(session.RevokeTokenKind)
	m.Revoked(session.RevokeUserKind)
	m.Revoked("bogus") // not a kind: ignored
	m.Reconciled(errors.New("timeout"))
	for _, c := range []struct {
		name, labels string
		c            prometheus.Collector
		want         float64
	}{
		{"logins_total", "rate_limited,form", m.logins[LoginRateLimited][LoginForm], 1},
		{"logins_total", "success,grant", m.logins[LoginSuccess][LoginGrant], 1},
		{"logins_total", "success,json", m.logins[LoginSuccess][LoginJSON], 0},
		{"revocations_total", "token", m.revocations[revokedToken], 1},
		{"revocations_total", "user", m.revocations[revokedUser], 1},
		{"revocations_total", "session", m.revocations[revokedSession], 0},
		{"revocation_reconciliations_total", "error", m.reconciliations[1], 1},
		{"revocation_reconciliations_total", "ok", m.reconciliations[0], 0},
	} {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("%s{%s} = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// Every result x method pair exists from the start, at 0, so that
	// rate() and absent() work before the first login.
	if n := testutil.CollectAndCount(reg, "gatehouse_logins_total"); n != int(numLoginResults)*int(numLoginMethods) {
		t.Errorf("logins_total has %d series, want %d", n, int(numLoginResults)*int(numLoginMethods))
	}
}

// TestRegisterTwice: a second Metrics on one registry shares the first's
// collectors instead of panicking.
func TestRegisterTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, b := New(reg), New(reg)
	a.CSRFRejected()
	b.CSRFRejected()
	if got := testutil.ToFloat64(a.csrfRejections); got != 2 {
		t.Errorf("shared csrf_rejections_total = %v, want 2", got)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

// TestRegisterConflictPanics: another collector under one of our names is
// a programming error, reported as MustRegister would.
func TestRegisterConflictPanics(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gatehouse_requests_total", Help: "other"}, []string{"path"}))
	defer func() {
		if recover() == nil {
			t.Error("New did not panic on a conflicting collector")
		}
	}()
	New(reg)
}

func TestMirrorStaleness(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	count := func() int { return testutil.CollectAndCount(reg, "gatehouse_revocation_mirror_staleness_seconds") }
	if n := count(); n != 0 {
		t.Errorf("without a mirror: %d series, want none", n)
	}
	var now atomic.Int64 // the mirror's goroutine reads the clock too
	now.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	mir := session.NewMirror(session.MirrorOptions{
		List: session.NewRevocations(clock), Source: memstore.New(memstore.Options{}),
		MaxStaleness: time.Minute, Now: clock, OnSync: m.Reconciled,
	})
	m.WatchMirror(mir)
	if n := count(); n != 0 {
		t.Errorf("before Start: %d series, want none", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := mir.Start(ctx); err != nil {
		t.Fatal(err)
	}
	now.Add(int64(90 * time.Second))
	if got := testutil.ToFloat64(m.mirror); got != 90 {
		t.Errorf("staleness = %v, want 90", got)
	}
	if got := testutil.ToFloat64(m.reconciliations[0]); got < 1 {
		t.Errorf("reconciliations_total{ok} = %v after Start, want at least 1", got)
	}
}

func TestUpstreamClasses(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	api, other := m.Upstream("api"), m.Upstream("legacy")
	status := 0
	rt := InstrumentTransport(roundTripper(func(*http.Request) (*http.Response, error) {
		if status == 0 {
			return nil, errors.New("connection refused")
		}
		return &http.Response{StatusCode: status, Body: http.NoBody}, nil
	}), api)
	for _, s := range []int{101, 200, 204, 302, 404, 503, 0} {
		status = s
		rt.RoundTrip(&http.Request{})
	}
	api.Error(UpstreamTimeout)
	want := map[string]uint64{"1xx": 1, "2xx": 2, "3xx": 1, "4xx": 1, "5xx": 1}
	count := func(u *Upstream, c int) uint64 {
		var pb dto.Metric
		if err := u.seconds[c].(prometheus.Histogram).Write(&pb); err != nil {
			t.Fatal(err)
		}
		return pb.GetHistogram().GetSampleCount()
	}
	for c, name := range classNames() {
		if got := count(api, c); got != want[name] {
			t.Errorf("upstream_request_duration_seconds{upstream=api,class=%q} count = %d, want %d", name, got, want[name])
		}
		// Each upstream has its own series, present at zero.
		if got := count(other, c); got != 0 {
			t.Errorf("upstream_request_duration_seconds{upstream=legacy,class=%q} count = %d, want 0", name, got)
		}
	}
	if got := testutil.ToFloat64(m.upstreamErrors.WithLabelValues("api", "timeout")); got != 1 {
		t.Errorf("upstream_errors_total{upstream=api,kind=timeout} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.upstreamErrors.WithLabelValues("legacy", "timeout")); got != 0 {
		t.Errorf("upstream_errors_total{upstream=legacy,kind=timeout} = %v, want 0", got)
	}
	for _, tc := range []struct{ status, want int }{{99, 0}, {100, 0}, {599, 4}, {600, 4}, {999, 4}} {
		if got := classOf(tc.status); got != tc.want {
			t.Errorf("classOf(%d) = %d, want %d", tc.status, got, tc.want)
		}
	}
}

func TestChildrenCache(t *testing.T) {
	m := New(prometheus.NewRegistry())
	a := m.byRule.get("a")
	if m.byRule.get("a") != a {
		t.Error("a second lookup created new children")
	}
	for i := range maxChildren + 10 {
		m.byRule.get(fmt.Sprint("r", i))
	}
	if n := len(*m.byRule.m.Load()); n > maxChildren {
		t.Errorf("cache grew to %d entries, bound %d", n, maxChildren)
	}
	m.Allowed("r1500") // beyond the bound: still counted
	if got := testutil.ToFloat64(m.requests.WithLabelValues("r1500", "allowed")); got != 1 {
		t.Errorf("uncached rule: %v, want 1", got)
	}
}
