package ratelimit

import (
	"hash/maphash"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable time for Options.Now.
type clock struct{ t atomic.Int64 }

func newClock() *clock { return &clock{} }

func (c *clock) Now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *clock) Advance(d time.Duration) { c.t.Add(int64(d)) }

// newTest returns a limiter of burst events per window, driven by clk.
func newTest(burst int, window time.Duration, maxKeys int, clk *clock) *Limiter {
	return New(Options{Rate: float64(burst) / window.Seconds(), Burst: burst, MaxKeys: maxKeys, Now: clk.Now})
}

type step struct {
	advance time.Duration // before the call
	key     string
	ok      bool
	retry   time.Duration
}

func runSteps(t *testing.T, l *Limiter, clk *clock, steps []step) {
	t.Helper()
	for i, s := range steps {
		clk.Advance(s.advance)
		ok, retry := l.Allow(s.key)
		if ok != s.ok || retry != s.retry {
			t.Fatalf("step %d: Allow(%q) after %v = %v, %v; want %v, %v", i, s.key, s.advance, ok, retry, s.ok, s.retry)
		}
	}
}

// TestAllowBurstThenRefuse: 5 attempts a minute is a burst of 5, then one
// attempt every 12 seconds, and the retry time says exactly when.
func TestAllowBurstThenRefuse(t *testing.T) {
	clk := newClock()
	l := newTest(5, time.Minute, 100, clk)
	runSteps(t, l, clk, []step{
		{0, "u", true, 0},
		{0, "u", true, 0},
		{0, "u", true, 0},
		{0, "u", true, 0},
		{0, "u", true, 0},
		{0, "u", false, 12 * time.Second},
		{0, "u", false, 12 * time.Second}, // a refusal takes nothing
		{5 * time.Second, "u", false, 7 * time.Second},
		{7*time.Second - time.Nanosecond, "u", false, time.Nanosecond},
		{time.Nanosecond, "u", true, 0},
		{0, "u", false, 12 * time.Second},
	})
}

// TestAllowRefill: tokens come back evenly, never beyond the burst.
func TestAllowRefill(t *testing.T) {
	clk := newClock()
	l := newTest(3, 3*time.Second, 100, clk) // one token a second
	runSteps(t, l, clk, []step{
		{0, "k", true, 0}, {0, "k", true, 0}, {0, "k", true, 0},
		{0, "k", false, time.Second},
		{2500 * time.Millisecond, "k", true, 0}, // 2.5 tokens back
		{0, "k", true, 0},
		{0, "k", false, 500 * time.Millisecond},
		{time.Hour, "k", true, 0}, // a long pause refills to the burst, no more
		{0, "k", true, 0}, {0, "k", true, 0},
		{0, "k", false, time.Second},
	})
}

// TestAllowIndependentKeys: one key's use does not touch another's.
func TestAllowIndependentKeys(t *testing.T) {
	clk := newClock()
	l := newTest(2, 2*time.Second, 100, clk)
	runSteps(t, l, clk, []step{
		{0, "ip:192.0.2.1", true, 0}, {0, "ip:192.0.2.1", true, 0},
		{0, "ip:192.0.2.1", false, time.Second},
		{0, "ip:192.0.2.2", true, 0}, {0, "ip:192.0.2.2", true, 0},
		{0, "ip:192.0.2.2", false, time.Second},
		{0, "", true, 0},
	})
}

// TestReset: a reset key starts from a full bucket; others keep theirs.
func TestReset(t *testing.T) {
	clk := newClock()
	l := newTest(2, time.Minute, 100, clk)
	runSteps(t, l, clk, []step{
		{0, "user:ann", true, 0}, {0, "user:ann", true, 0}, {0, "user:ann", false, 30 * time.Second},
		{0, "user:bob", true, 0}, {0, "user:bob", true, 0},
	})
	l.Reset("user:ann")
	l.Reset("user:nobody")
	runSteps(t, l, clk, []step{
		{0, "user:ann", true, 0}, {0, "user:ann", true, 0}, {0, "user:ann", false, 30 * time.Second},
		{0, "user:bob", false, 30 * time.Second},
	})
	if got := len(l.index); got != 2 {
		t.Errorf("%d keys remembered, want 2", got)
	}
}

// TestMaxKeysBound: 10,000 distinct keys never make a limiter of 100
// keys hold more, and its storage stays at its bound.
func TestMaxKeysBound(t *testing.T) {
	clk := newClock()
	const maxKeys = 100
	l := newTest(5, time.Minute, maxKeys, clk)
	for i := range 10_000 {
		clk.Advance(time.Millisecond)
		if ok, _ := l.Allow("ip:" + strconv.Itoa(i)); !ok {
			t.Fatalf("first attempt of key %d refused", i)
		}
		if i%7 == 0 {
			l.Reset("ip:" + strconv.Itoa(i-3))
		}
		if len(l.index) > maxKeys || len(l.entries) > maxKeys || l.debts != nil && len(l.debts.tat) > 2*maxKeys {
			t.Fatalf("after %d keys: %d keys, %d entries, debts %v; bound %d",
				i+1, len(l.index), len(l.entries), l.debts, maxKeys)
		}
	}
	checkList(t, l)
}

// TestEvictionGivesNoReprieve is the attack the bound must not enable:
// guessing one user's password while trying enough other names to push
// that user out of the table. Whatever the churn, the hammered key gets
// no more than Burst attempts plus what Rate refills.
func TestEvictionGivesNoReprieve(t *testing.T) {
	for _, churn := range []int{0, 5, 50, 1000} {
		t.Run(strconv.Itoa(churn), func(t *testing.T) {
			clk := newClock()
			const burst, maxKeys = 5, 16
			window := time.Minute
			l := newTest(burst, window, maxKeys, clk)
			allowed, other := 0, 0
			const attempts = 600
			for range attempts {
				if ok, _ := l.Allow("user:victim"); ok {
					allowed++
				}
				for range churn {
					l.Allow("user:other" + strconv.Itoa(other))
					other++
				}
				clk.Advance(time.Second)
			}
			// 600s at 5/min refills 50, plus the first burst.
			if limit := burst + attempts*burst/int(window/time.Second); allowed > limit {
				t.Errorf("victim allowed %d times in %ds, limit %d", allowed, attempts, limit)
			}
			if allowed < 50 {
				t.Errorf("victim allowed only %d times: the limiter is stricter than its rate", allowed)
			}
		})
	}
}

// TestEvictionRemembersDebt: an emptied bucket pushed out of the table
// comes back empty, with the same wait.
func TestEvictionRemembersDebt(t *testing.T) {
	clk := newClock()
	l := newTest(3, 3*time.Second, 4, clk)
	for range 3 {
		l.Allow("victim")
	}
	for i := range 100 {
		for range 3 {
			l.Allow("flood" + strconv.Itoa(i)) // empties each flood bucket too
		}
	}
	if _, ok := l.index[l.hash("victim")]; ok {
		t.Fatal("victim is still in the table; the test does not exercise eviction")
	}
	if ok, retry := l.Allow("victim"); ok || retry != time.Second {
		t.Errorf("Allow(victim) after eviction = %v, %v; want false, 1s", ok, retry)
	}
	// Taken back, the debt is the key's alone again: Reset clears it,
	// whether the key is in the table or was evicted.
	for i := 100; i < 200; i++ {
		l.Allow("flood" + strconv.Itoa(i))
	}
	l.Reset("victim")
	if ok, _ := l.Allow("victim"); !ok {
		t.Errorf("Allow(victim) after Reset of the evicted key refused")
	}
}

// TestDebtsTable checks the evicted-debts cache on its own: a debt goes
// back to its key only, once; a full set drops its smallest debt.
func TestDebtsTable(t *testing.T) {
	d := newDebts(4)                                  // one set of 4 ways
	key := func(i uint64) uint64 { return i<<32 | 0 } // same set, distinct fingerprints
	for i := range uint64(4) {
		d.put(key(i+1), int64(100*(i+1))) // debts 100, 200, 300, 400
	}
	d.put(key(1), 150) // raises key 1's own debt
	if got := d.take(key(9)); got != noDebt {
		t.Errorf("take of a key never put = %d", got)
	}
	d.put(key(5), 50) // smaller than all: dropped
	if got := d.take(key(5)); got != noDebt {
		t.Errorf("smallest debt kept: %d", got)
	}
	d.put(key(6), 250) // replaces key 1's 150, the smallest
	for k, want := range map[uint64]int64{1: noDebt, 2: 200, 3: 300, 4: 400, 6: 250} {
		if got := d.take(key(k)); got != want {
			t.Errorf("take(key %d) = %d, want %d", k, got, want)
		}
		if got := d.take(key(k)); got != noDebt {
			t.Errorf("second take(key %d) = %d, want none", k, got)
		}
	}
}

// TestEvictionPrefersFullBuckets: a refilled bucket is evicted before a
// less recently used one that is still in debt, and no debt is recorded
// for it (forgetting a full bucket loses nothing).
func TestEvictionPrefersFullBuckets(t *testing.T) {
	clk := newClock()
	l := newTest(2, 2*time.Second, 3, clk) // one token a second
	l.Allow("a")
	l.Allow("a") // empty until t=2s
	l.Allow("b") // full again at t=1s
	clk.Advance(1500 * time.Millisecond)
	l.Allow("c") // LRU order now: a, b, c
	l.Allow("d") // evicts b, which is full, not a
	for key, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if _, got := l.index[l.hash(key)]; got != want {
			t.Errorf("key %q remembered = %v, want %v", key, got, want)
		}
	}
	if l.debts != nil {
		t.Errorf("a debt was recorded for a full bucket")
	}
	checkList(t, l)
}

// TestConcurrentAllow: under -race, many goroutines on one key get
// exactly the burst, and on many keys never break the bound.
func TestConcurrentAllow(t *testing.T) {
	clk := newClock()
	const burst, maxKeys = 50, 64
	l := newTest(burst, time.Hour, maxKeys, clk)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				if ok, _ := l.Allow("shared"); ok {
					allowed.Add(1)
				}
				l.Allow("g" + strconv.Itoa(g) + ":" + strconv.Itoa(i))
				if i%10 == 0 {
					l.Reset("g" + strconv.Itoa(g) + ":" + strconv.Itoa(i-5))
				}
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != burst {
		t.Errorf("shared key allowed %d times with a frozen clock, want the burst, %d", got, burst)
	}
	if len(l.index) > maxKeys {
		t.Errorf("%d keys remembered, bound %d", len(l.index), maxKeys)
	}
	checkList(t, l)
}

// TestNewPanicsOnInvalidOptions: a misconfigured limiter is a
// programming error, reported at construction.
func TestNewPanicsOnInvalidOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"zero rate":     {Rate: 0, Burst: 1},
		"negative rate": {Rate: -1, Burst: 1},
		"NaN rate":      {Rate: nanRate(), Burst: 1},
		"zero burst":    {Rate: 1, Burst: 0},
		"negative keys": {Rate: 1, Burst: 1, MaxKeys: -1},
		"endless":       {Rate: 1e-12, Burst: 1},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%+v) did not panic", o)
				}
			}()
			New(o)
		})
	}
	if l := New(Options{Rate: 1, Burst: 1}); l.maxKeys != DefaultMaxKeys {
		t.Errorf("MaxKeys 0 gives %d keys, want DefaultMaxKeys", l.maxKeys)
	}
}

func nanRate() float64 {
	zero := 0.0
	return zero / zero
}

// BenchmarkAllow measures the login path's limiter step: one hot key,
// keys that fit the table, and churn that evicts on every call.
func BenchmarkAllow(b *testing.B) {
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = "ip:198.51.100." + strconv.Itoa(i)
	}
	for _, bc := range []struct {
		name    string
		maxKeys int
	}{{"fits", 8192}, {"evicting", 1024}} {
		b.Run(bc.name, func(b *testing.B) {
			l := New(Options{Rate: 20.0 / 60, Burst: 20, MaxKeys: bc.maxKeys})
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				l.Allow(keys[i%len(keys)])
				i++
			}
		})
	}
	b.Run("parallel", func(b *testing.B) {
		l := New(Options{Rate: 20.0 / 60, Burst: 20, MaxKeys: 8192})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				l.Allow(keys[i%len(keys)])
				i++
			}
		})
	})
}

// hash is the table key of key.
func (l *Limiter) hash(key string) uint64 { return maphash.String(l.seed, key) }

// checkList verifies the LRU list against the index: every remembered
// key on it once, linked both ways.
func checkList(t *testing.T, l *Limiter) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	n, prev := 0, none
	for i := l.head; i != none; i = l.entries[i].next {
		e := l.entries[i]
		if e.prev != prev {
			t.Fatalf("entry %d: prev %d, want %d", i, e.prev, prev)
		}
		if j, ok := l.index[e.key]; !ok || j != i {
			t.Fatalf("entry %d on the list is not indexed", i)
		}
		prev = i
		if n++; n > len(l.entries) {
			t.Fatal("cycle in the LRU list")
		}
	}
	if prev != l.tail || n != len(l.index) {
		t.Fatalf("list of %d ending at %d; index of %d, tail %d", n, prev, len(l.index), l.tail)
	}
}
