package metrics

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/session"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var verifyCacheMetrics = []string{
	"gatehouse_verify_cache_lookups_total", "gatehouse_verify_cache_evictions_total",
	"gatehouse_verify_cache_entries", "gatehouse_verify_cache_capacity",
}

// verifyCacheExposition is what a scrape shows of the verify cache.
func verifyCacheExposition(hit, miss, evictions, entries, capacity int) string {
	return fmt.Sprintf(`
# HELP gatehouse_verify_cache_capacity The most entries the verified-token cache holds (tokens.verify_cache_size); 0 when the cache is off.
# TYPE gatehouse_verify_cache_capacity gauge
gatehouse_verify_cache_capacity %d
# HELP gatehouse_verify_cache_entries Entries in the verified-token cache, expired ones not yet dropped included.
# TYPE gatehouse_verify_cache_entries gauge
gatehouse_verify_cache_entries %d
# HELP gatehouse_verify_cache_evictions_total Entries evicted from the full verified-token cache to make room for another token (not counting entries dropped at their exp).
# TYPE gatehouse_verify_cache_evictions_total counter
gatehouse_verify_cache_evictions_total %d
# HELP gatehouse_verify_cache_lookups_total Lookups in the verified-token cache (tokens.verify_cache_size), by result (hit: no signature verification; miss).
# TYPE gatehouse_verify_cache_lookups_total counter
gatehouse_verify_cache_lookups_total{result="hit"} %d
gatehouse_verify_cache_lookups_total{result="miss"} %d
`, capacity, entries, evictions, hit, miss)
}

// TestVerifyCacheMetrics scrapes the registry while real traffic goes
// through a cache: the counts of its Stats, the cache switched off, and a
// reload's new cache continuing the counters.
func TestVerifyCacheMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	scrape := func(t *testing.T, want string) {
		t.Helper()
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), verifyCacheMetrics...); err != nil {
			t.Error(err)
		}
	}
	if n := testutil.CollectAndCount(reg, verifyCacheMetrics...); n != 0 {
		t.Fatalf("before a cache is watched: %d series, want none", n)
	}

	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	c := session.NewVerifyCache(1, clock) // one entry: the second token evicts the first
	m.WatchVerifyCache(c)
	scrape(t, verifyCacheExposition(0, 0, 0, 0, 1))

	p := &session.Principal{}
	c.Get("v", "a")                          // miss
	c.Put("v", "a", p, now.Add(time.Minute)) //
	c.Get("v", "a")                          // hit
	c.Put("v", "b", p, now.Add(time.Minute)) // evicts a
	c.Get("v", "a")                          // miss
	c.GetAny([]string{"x", "v"}, "b")        // hit
	scrape(t, verifyCacheExposition(2, 2, 1, 1, 1))
	m.WatchVerifyCache(c) // the same cache again: nothing counted twice
	scrape(t, verifyCacheExposition(2, 2, 1, 1, 1))

	// A reload that switches the cache off: present, capacity 0, the
	// counters keep their totals.
	m.WatchVerifyCache(nil)
	scrape(t, verifyCacheExposition(2, 2, 1, 0, 0))

	// A reload that switches it on again: a new, empty cache; the totals
	// go on from where they were.
	c2 := session.NewVerifyCache(8, clock)
	m.WatchVerifyCache(c2)
	c2.Get("v", "a")
	scrape(t, verifyCacheExposition(2, 3, 1, 0, 8))
}
