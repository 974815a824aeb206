package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// issuerReady is gatehouse_issuer_keys_ready{issuer}: 1 while an external
// issuer has usable keys, 0 while it has none (its tokens then get 503
// ISSUER_UNAVAILABLE). Computed at scrape time from the function the
// current gateway gives WatchIssuers, so a reload's issuers replace the
// old ones.
type issuerReady struct {
	desc  *prometheus.Desc
	ready atomic.Pointer[func() map[string]bool]
}

func newIssuerReady() *issuerReady {
	return &issuerReady{desc: prometheus.NewDesc(
		prometheus.BuildFQName(namespace, "", "issuer_keys_ready"),
		"1 while an external issuer (issuers[].issuer) has usable keys, 0 while it has none.",
		[]string{"issuer"}, nil,
	)}
}

// Describe implements prometheus.Collector.
func (c *issuerReady) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *issuerReady) Collect(ch chan<- prometheus.Metric) {
	f := c.ready.Load()
	if f == nil {
		return
	}
	for issuer, ok := range (*f)() {
		v := 0.0
		if ok {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, issuer)
	}
}

// WatchIssuers reports, at each scrape, which external issuers have
// usable keys: ready returns each configured issuer and whether it has.
func (m *Metrics) WatchIssuers(ready func() map[string]bool) {
	if m == nil {
		return
	}
	m.issuers.ready.Store(&ready)
}
