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
