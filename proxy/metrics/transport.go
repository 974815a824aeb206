package metrics

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Response classes, the class label of
// gatehouse_upstream_request_duration_seconds.
const numClasses = 5

func classNames() [numClasses]string { return [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"} }

// classOf returns the index of status's class; a status outside 100-599
// counts with the nearest class.
func classOf(status int) int { return min(max(status/100-1, 0), numClasses-1) }

// InstrumentTransport returns rt, timing each upstream round trip — from
// sending the request to receiving the response headers — in
// gatehouse_upstream_request_duration_seconds{class}. Failed round trips
// are not timed: the reverse proxy's error handler counts them in
// gatehouse_upstream_errors_total (UpstreamError), where it also decides
// between 502 and 504. With a nil m it returns rt itself.
func InstrumentTransport(rt http.RoundTripper, m *Metrics) http.RoundTripper {
	if m == nil {
		return rt
	}
	return &transport{rt: rt, m: m}
}

type transport struct {
	rt http.RoundTripper
	m  *Metrics
}

// RoundTrip implements http.RoundTripper. The response is handed on
// untouched, so a protocol upgrade (101, WebSocket) still works.
func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	res, err := t.rt.RoundTrip(r)
	if err == nil {
		t.m.upstreamSeconds[classOf(res.StatusCode)].Observe(time.Since(start).Seconds())
	}
	return res, err
}

// Handler serves the metrics gathered from g in the Prometheus text (or
// OpenMetrics) format, logging gathering errors to log (nil: none). Serve
// it on the private admin listener only.
func Handler(g prometheus.Gatherer, log *slog.Logger) http.Handler {
	opts := promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}
	if log != nil {
		opts.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	return promhttp.HandlerFor(g, opts)
}
