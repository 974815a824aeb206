package metrics

import (
	"sync/atomic"

	"github.com/gatehouse/gatehouse/session"
	"github.com/prometheus/client_golang/prometheus"
)

// mirrorAge is gatehouse_revocation_mirror_staleness_seconds: a gauge
// computed at scrape time from the mirror's Age, like a GaugeFunc, but
// absent — rather than a misleading 0 — while there is no mirror to
// watch or it has not been started.
type mirrorAge struct {
	desc *prometheus.Desc
	mir  atomic.Pointer[session.Mirror]
}

func newMirrorAge() *mirrorAge {
	return &mirrorAge{desc: prometheus.NewDesc(
		prometheus.BuildFQName(namespace, "", "revocation_mirror_staleness_seconds"),
		"Seconds since this replica's revocation mirror last loaded the shared list successfully (very large before the first success).",
		nil, nil,
	)}
}

func (c *mirrorAge) watch(mir *session.Mirror) { c.mir.Store(mir) }

// Describe implements prometheus.Collector.
func (c *mirrorAge) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *mirrorAge) Collect(ch chan<- prometheus.Metric) {
	mir := c.mir.Load()
	if mir == nil || !mir.Started() {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, mir.Age().Seconds())
}
