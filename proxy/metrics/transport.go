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

// Upstream is the series of one upstream, labelled with its name
// ("default" for upstream:, else its key under upstreams:), resolved once
// so that recording does not look labels up. A nil *Upstream records
// nothing.
type Upstream struct {
	seconds [numClasses]prometheus.Observer
	errors  [numUpstreamErrorKinds]prometheus.Counter
}

// Upstream returns the series of the upstream called name, creating them
// at zero so that a quiet upstream is visible too. A nil m returns nil.
func (m *Metrics) Upstream(name string) *Upstream {
	if m == nil {
		return nil
	}
	u := &Upstream{}
	for c, class := range classNames() {
		u.seconds[c] = m.upstreamSeconds.WithLabelValues(name, class)
	}
	for k := range numUpstreamErrorKinds {
		u.errors[k] = m.upstreamErrors.WithLabelValues(name, k.String())
	}
	return u
}

// Error records a proxied request the upstream did not answer in
// gatehouse_upstream_errors_total.
func (u *Upstream) Error(kind UpstreamErrorKind) {
	if u == nil {
		return
	}
	u.errors[min(kind, UpstreamTimeout)].Inc()
}

// InstrumentTransport returns rt, timing each round trip to the upstream
// u — from sending the request to receiving the response headers — in
// gatehouse_upstream_request_duration_seconds{upstream,class}. Failed
// round trips are not timed: the reverse proxy's error handler counts
// them in gatehouse_upstream_errors_total (Upstream.Error), where it also
// decides between 502 and 504. With a nil u it returns rt itself.
func InstrumentTransport(rt http.RoundTripper, u *Upstream) http.RoundTripper {
	if u == nil {
		return rt
	}
	return &transport{rt: rt, u: u}
}

type transport struct {
	rt http.RoundTripper
	u  *Upstream
}

// RoundTrip implements http.RoundTripper. The response is handed on
// untouched, so a protocol upgrade (101, WebSocket) still works.
func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	res, err := t.rt.RoundTrip(r)
	if err == nil {
		t.u.seconds[classOf(res.StatusCode)].Observe(time.Since(start).Seconds())
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
