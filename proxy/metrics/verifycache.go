package metrics

import (
	"sync"

	"github.com/gatehouse/gatehouse/session"
	"github.com/prometheus/client_golang/prometheus"
)

// verifyCache exports the verified-token cache's Stats at scrape time:
// gatehouse_verify_cache_lookups_total{result}, _evictions_total, _entries
// and _capacity. The cache counts under the locks it takes anyway, so the
// request path pays nothing for these metrics; a scrape reads the counts.
//
// A reload builds a new cache with counts from zero. So that the counters
// never go down, the counts of the cache being replaced are added to base
// at the swap (increments the old gateway makes after it, for requests
// still in flight, are not counted).
type verifyCache struct {
	lookups, evictions, entries, capacity *prometheus.Desc

	mu      sync.Mutex
	watched bool                     // WatchVerifyCache was called
	cache   *session.VerifyCache     // nil: the cache is off
	base    session.VerifyCacheStats // counts of the caches replaced
}

func newVerifyCache() *verifyCache {
	name := func(n string) string { return prometheus.BuildFQName(namespace, "verify_cache", n) }
	return &verifyCache{
		lookups: prometheus.NewDesc(name("lookups_total"),
			"Lookups in the verified-token cache (tokens.verify_cache_size), by result (hit: no signature verification; miss).",
			[]string{"result"}, nil),
		evictions: prometheus.NewDesc(name("evictions_total"),
			"Entries evicted from the full verified-token cache to make room for another token (not counting entries dropped at their exp).",
			nil, nil),
		entries: prometheus.NewDesc(name("entries"),
			"Entries in the verified-token cache, expired ones not yet dropped included.",
			nil, nil),
		capacity: prometheus.NewDesc(name("capacity"),
			"The most entries the verified-token cache holds (tokens.verify_cache_size); 0 when the cache is off.",
			nil, nil),
	}
}

// watch makes c the cache reported from now on, keeping the counts of
// the one it replaces.
func (v *verifyCache) watch(c *session.VerifyCache) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.watched && v.cache == c {
		return
	}
	old := v.cache.Stats() // zero for nil
	v.base.Hits += old.Hits
	v.base.Misses += old.Misses
	v.base.Evictions += old.Evictions
	v.cache, v.watched = c, true
}

// Describe implements prometheus.Collector.
func (v *verifyCache) Describe(ch chan<- *prometheus.Desc) {
	ch <- v.lookups
	ch <- v.evictions
	ch <- v.entries
	ch <- v.capacity
}

// Collect implements prometheus.Collector.
func (v *verifyCache) Collect(ch chan<- prometheus.Metric) {
	v.mu.Lock()
	watched, c, base := v.watched, v.cache, v.base
	v.mu.Unlock()
	if !watched {
		return
	}
	st := c.Stats()
	counter := prometheus.CounterValue
	ch <- prometheus.MustNewConstMetric(v.lookups, counter, float64(base.Hits+st.Hits), "hit")
	ch <- prometheus.MustNewConstMetric(v.lookups, counter, float64(base.Misses+st.Misses), "miss")
	ch <- prometheus.MustNewConstMetric(v.evictions, counter, float64(base.Evictions+st.Evictions))
	ch <- prometheus.MustNewConstMetric(v.entries, prometheus.GaugeValue, float64(st.Entries))
	ch <- prometheus.MustNewConstMetric(v.capacity, prometheus.GaugeValue, float64(st.Capacity))
}

// WatchVerifyCache makes the gatehouse_verify_cache_* metrics report c's
// Stats at each scrape. A nil c is the cache switched off
// (tokens.verify_cache_size: 0): the series are present, capacity 0 and
// the counters standing still. Before the first call they are absent.
// Watching another cache (a reload) keeps the counters' totals.
func (m *Metrics) WatchVerifyCache(c *session.VerifyCache) {
	if m == nil {
		return
	}
	m.verifyCache.watch(c)
}
