package session

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

func TestVerifyCacheExpiresAtExp(t *testing.T) {
	clock := newClock()
	c := NewVerifyCache(16, clock.Now)
	p := &Principal{Identity: Identity{Subject: "u"}}
	exp := clock.Now().Add(time.Minute)
	c.Put("v", "tok", p, exp)
	if got, ok := c.Get("v", "tok"); !ok || got != p {
		t.Fatalf("Get before exp = %v, %v; want the principal", got, ok)
	}
	clock.Advance(time.Minute - time.Nanosecond)
	if _, ok := c.Get("v", "tok"); !ok {
		t.Fatal("missed just before exp")
	}
	clock.Advance(time.Nanosecond) // exactly exp
	if _, ok := c.Get("v", "tok"); ok {
		t.Fatal("served at exp")
	}
	if n := c.Len(); n != 0 {
		t.Errorf("Len after the expired Get = %d, want 0", n)
	}
	c.Put("v", "late", p, clock.Now()) // already at exp
	if _, ok := c.Get("v", "late"); ok {
		t.Error("stored a token at its exp")
	}
}

func TestVerifyCacheKeyedByVerifierAndExactToken(t *testing.T) {
	clock := newClock()
	c := NewVerifyCache(16, clock.Now)
	p := &Principal{Identity: Identity{Subject: "u"}}
	c.Put("issuer-a", "tok", p, clock.Now().Add(time.Minute))
	tests := []struct {
		name, verifier, token string
		hit                   bool
	}{
		{"same verifier, same token", "issuer-a", "tok", true},
		{"another verifier", "issuer-b", "tok", false},
		{"a prefix of the token", "issuer-a", "to", false},
		{"the token with a suffix", "issuer-a", "tok.", false},
		{"verifier and token split differently", "issuer-at", "ok", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := c.Get(tt.verifier, tt.token); ok != tt.hit {
				t.Errorf("hit = %v, want %v", ok, tt.hit)
			}
		})
	}
}

func TestVerifyCacheGetAny(t *testing.T) {
	clock := newClock()
	c := NewVerifyCache(16, clock.Now)
	pa, pb := &Principal{Identity: Identity{Subject: "a"}}, &Principal{Identity: Identity{Subject: "b"}}
	c.Put("issuer-a", "tok", pa, clock.Now().Add(time.Minute))
	c.Put("issuer-b", "tok", pb, clock.Now().Add(2*time.Minute))
	tests := []struct {
		name      string
		verifiers []string
		want      *Principal
	}{
		{"none", nil, nil},
		{"others only", []string{"issuer-c", "issuer-d"}, nil},
		{"the second listed", []string{"issuer-c", "issuer-b"}, pb},
		{"the first that has it", []string{"issuer-a", "issuer-b"}, pa},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := c.GetAny(tt.verifiers, "tok")
			if got != tt.want || ok != (tt.want != nil) {
				t.Errorf("GetAny = %v, %v; want %v", got, ok, tt.want)
			}
		})
	}
	clock.Advance(time.Minute) // issuer-a's entry is at its exp
	if got, ok := c.GetAny([]string{"issuer-a", "issuer-b"}, "tok"); !ok || got != pb {
		t.Errorf("after a's exp: GetAny = %v, %v; want b's", got, ok)
	}
	if n := c.Len(); n != 1 {
		t.Errorf("Len = %d after the expired entry was met, want 1", n)
	}
	var off *VerifyCache
	if _, ok := off.GetAny([]string{"issuer-a"}, "tok"); ok {
		t.Error("a nil cache served a token")
	}
}

func TestVerifyCacheFixedSize(t *testing.T) {
	for _, size := range []int{1, 7, 100, 1000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			clock := newClock()
			c := NewVerifyCache(size, clock.Now)
			p := &Principal{}
			for i := range 20 * size {
				c.Put("v", fmt.Sprintf("token-%d", i), p, clock.Now().Add(time.Hour))
				if n := c.Len(); n > size {
					t.Fatalf("after %d distinct tokens Len = %d, over %d", i+1, n, size)
				}
			}
			if n := c.Len(); n < size/2 {
				t.Errorf("Len = %d: most of %d slots unused", n, size)
			}
			// The newest token is always kept.
			if _, ok := c.Get("v", fmt.Sprintf("token-%d", 20*size-1)); !ok {
				t.Error("the token just put is missing")
			}
		})
	}
}

func TestVerifyCacheEvictsExpiredFirst(t *testing.T) {
	clock := newClock()
	c := NewVerifyCache(1, clock.Now)
	c.Put("v", "old", &Principal{}, clock.Now().Add(time.Second))
	clock.Advance(time.Second)
	c.Put("v", "new", &Principal{}, clock.Now().Add(time.Hour))
	if _, ok := c.Get("v", "new"); !ok || c.Len() != 1 {
		t.Fatalf("new entry missing or old one kept: Len %d", c.Len())
	}
}

func TestVerifyCacheOff(t *testing.T) {
	c := NewVerifyCache(0, nil)
	if c != nil {
		t.Fatal("size 0 built a cache")
	}
	c.Put("v", "tok", &Principal{}, time.Now().Add(time.Hour))
	if _, ok := c.Get("v", "tok"); ok || c.Len() != 0 {
		t.Fatal("a nil cache served a token")
	}
}

// BenchmarkVerifyCacheMemory fills a cache with real access tokens from
// many distinct users and reports the heap each entry costs: the number
// behind the memory estimate in docs/configuration.md
// (tokens.verify_cache_size).
func BenchmarkVerifyCacheMemory(b *testing.B) {
	const size = 4096
	clock := newClock()
	tk := newTestTokens(b, clock, testKey(b, "EdDSA", "a"))
	toks := make([]string, size)
	for i := range toks {
		id := testIdentity
		id.Subject = fmt.Sprintf("user-%06d", i)
		raw, _, err := tk.Mint(id, fmt.Sprintf("sess-%06d", i))
		if err != nil {
			b.Fatal(err)
		}
		toks[i] = raw
	}
	var perEntry float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c := NewVerifyCache(size, clock.Now)
		for _, raw := range toks {
			p, err := tk.Verify(raw)
			if err != nil {
				b.Fatal(err)
			}
			c.Put(tk.VerifierID(), raw, p, p.ExpiresAt)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perEntry = float64(after.HeapAlloc-before.HeapAlloc) / float64(c.Len())
		runtime.KeepAlive(c)
	}
	b.ReportMetric(perEntry, "B/entry")
	b.ReportMetric(float64(len(toks[0])), "token-bytes")
}

// TestVerifyCacheStats drives real traffic through a one-entry cache (one
// shard, so which entry is evicted is known) and checks the counts after
// each step.
func TestVerifyCacheStats(t *testing.T) {
	clock := newClock()
	c := NewVerifyCache(1, clock.Now)
	p := &Principal{}
	steps := []struct {
		name string
		do   func()
		want VerifyCacheStats
	}{
		{"empty", func() {}, VerifyCacheStats{Capacity: 1}},
		{"miss", func() { c.Get("v", "a") }, VerifyCacheStats{Misses: 1, Capacity: 1}},
		{"put then hit", func() {
			c.Put("v", "a", p, clock.Now().Add(time.Minute))
			c.Get("v", "a")
		}, VerifyCacheStats{Hits: 1, Misses: 1, Entries: 1, Capacity: 1}},
		{"another verifier misses", func() { c.Get("w", "a") }, VerifyCacheStats{Hits: 1, Misses: 2, Entries: 1, Capacity: 1}},
		{"put into the full cache evicts", func() { c.Put("v", "b", p, clock.Now().Add(time.Minute)) },
			VerifyCacheStats{Hits: 1, Misses: 2, Evictions: 1, Entries: 1, Capacity: 1}},
		{"the evicted token misses, the new one hits", func() { c.Get("v", "a"); c.Get("v", "b") },
			VerifyCacheStats{Hits: 2, Misses: 3, Evictions: 1, Entries: 1, Capacity: 1}},
		{"putting the same token again evicts nothing", func() { c.Put("v", "b", p, clock.Now().Add(time.Minute)) },
			VerifyCacheStats{Hits: 2, Misses: 3, Evictions: 1, Entries: 1, Capacity: 1}},
		{"an expired entry misses and is dropped, not evicted", func() {
			clock.Advance(time.Minute)
			c.Get("v", "b")
		}, VerifyCacheStats{Hits: 2, Misses: 4, Evictions: 1, Capacity: 1}},
		{"GetAny over two verifiers is one miss", func() { c.GetAny([]string{"v", "w"}, "c") },
			VerifyCacheStats{Hits: 2, Misses: 5, Evictions: 1, Capacity: 1}},
		{"GetAny finding the second verifier is one hit", func() {
			c.Put("w", "c", p, clock.Now().Add(time.Minute))
			c.GetAny([]string{"v", "w"}, "c")
		}, VerifyCacheStats{Hits: 3, Misses: 5, Evictions: 1, Entries: 1, Capacity: 1}},
		{"an expired entry met by GetAny misses", func() {
			clock.Advance(time.Minute)
			c.GetAny([]string{"w"}, "c")
		}, VerifyCacheStats{Hits: 3, Misses: 6, Evictions: 1, Capacity: 1}},
		{"a token put at its exp is not stored and evicts nothing", func() { c.Put("v", "d", p, clock.Now()) },
			VerifyCacheStats{Hits: 3, Misses: 6, Evictions: 1, Capacity: 1}},
	}
	for _, s := range steps {
		s.do()
		if got := c.Stats(); got != s.want {
			t.Fatalf("after %q: Stats = %+v, want %+v", s.name, got, s.want)
		}
	}
}

// TestVerifyCacheStatsSharded: over many shards, every distinct token put
// is either still there or was evicted, and capacity is the size asked for.
func TestVerifyCacheStatsSharded(t *testing.T) {
	for _, size := range []int{7, 100, 1000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			clock := newClock()
			c := NewVerifyCache(size, clock.Now)
			const puts = 3000
			for i := range puts {
				c.Put("v", fmt.Sprintf("token-%d", i), &Principal{}, clock.Now().Add(time.Hour))
			}
			st := c.Stats()
			if st.Capacity != size || st.Entries > size || st.Entries+int(st.Evictions) != puts {
				t.Errorf("Stats = %+v: want Capacity %d, Entries <= it, Entries + Evictions = %d", st, size, puts)
			}
			if st.Entries != c.Len() {
				t.Errorf("Stats.Entries = %d, Len = %d", st.Entries, c.Len())
			}
		})
	}
}

// TestVerifyCacheStatsConcurrent: concurrent lookups are each counted
// once (run with -race).
func TestVerifyCacheStatsConcurrent(t *testing.T) {
	c := NewVerifyCache(64, nil)
	exp := time.Now().Add(time.Hour)
	c.Put("v", "hot", &Principal{}, exp)
	const workers, each = 4, 500
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				c.Get("v", "hot")                         // a hit
				c.GetAny([]string{"v"}, fmt.Sprint(w, i)) // a miss
				_ = c.Stats()
			}
		}()
	}
	for range workers {
		<-done
	}
	if st := c.Stats(); st.Hits != workers*each || st.Misses != workers*each {
		t.Errorf("Stats = %+v, want %d hits and %d misses", st, workers*each, workers*each)
	}
}

func TestVerifyCacheStatsOff(t *testing.T) {
	var c *VerifyCache
	c.Get("v", "a")
	c.GetAny([]string{"v"}, "a")
	if st := c.Stats(); st != (VerifyCacheStats{}) {
		t.Errorf("a nil cache's Stats = %+v, want zero", st)
	}
}
