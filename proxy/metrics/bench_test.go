package metrics

import (
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse/session"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkRecordRequest is what every proxied request pays: one allowed
// decision under a policy rule. It must not allocate.
func BenchmarkRecordRequest(b *testing.B) {
	m := New(prometheus.NewRegistry())
	rule := "api" // found in the children cache after the first call
	b.ReportAllocs()
	for b.Loop() {
		m.Allowed(rule)
	}
}

// BenchmarkRecordRequestParallel is the same under contention.
func BenchmarkRecordRequestParallel(b *testing.B) {
	m := New(prometheus.NewRegistry())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Allowed("api")
		}
	})
}

// BenchmarkRecordDenied is a refused request: a cached error code.
func BenchmarkRecordDenied(b *testing.B) {
	m := New(prometheus.NewRegistry())
	b.ReportAllocs()
	for b.Loop() {
		m.Denied("admin", "UNAUTHENTICATED", http.StatusUnauthorized)
	}
}

// BenchmarkRecordRequestUncached is the vector lookup the children cache
// saves, for comparison.
func BenchmarkRecordRequestUncached(b *testing.B) {
	m := New(prometheus.NewRegistry())
	b.ReportAllocs()
	for b.Loop() {
		m.requests.WithLabelValues("api", "allowed").Inc()
		m.decisions.WithLabelValues("allow", "").Inc()
	}
}

// BenchmarkRecordNil is the cost with metrics off.
func BenchmarkRecordNil(b *testing.B) {
	var m *Metrics
	b.ReportAllocs()
	for b.Loop() {
		m.Allowed("api")
	}
}

// BenchmarkRecordRefresh is a refresh (the request path's other hot spot).
func BenchmarkRecordRefresh(b *testing.B) {
	m := New(prometheus.NewRegistry())
	b.ReportAllocs()
	for b.Loop() {
		m.Refresh(session.Rotated, nil)
	}
}
