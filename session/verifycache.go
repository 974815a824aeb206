package session

import (
	"hash/maphash"
	"strings"
	"sync"
	"time"
)

// verifyCacheShards spreads the cache over several locks, so concurrent
// requests on different tokens rarely wait for each other.
const verifyCacheShards = 8

// VerifyCache is a bounded cache of verified tokens: it lets a token that
// has been verified once skip signature verification and claim parsing on
// later requests. It is safe for concurrent use. A nil *VerifyCache is a
// cache that is off: every Get misses and Put does nothing.
//
// It caches the verification of a token and nothing decided after it:
//   - the key is the exact token text together with the identity of the
//     verifier that accepted it (VerifierID), so an entry is never valid
//     for another issuer, audience or key set — any verifier (our own
//     tokens, an external issuer) can share one cache;
//   - an entry never outlives the token's exp: at exp it is dropped and
//     the token goes through full verification again (which then applies
//     the leeway and reports the expiry);
//   - revocation and the policy decision are NOT cached: the Manager checks
//     the revocation list on every hit, and the proxy decides every
//     request.
//
// The size is fixed: when a shard is full, an entry is evicted — an
// expired one if the first few looked at include one, else an arbitrary
// one (map iteration order) — so many distinct users cost at most size
// entries, never a leak.
//
// A cached *Principal is shared by every request presenting the same
// token: callers MUST treat Principals as read-only (they already are
// throughout the gateway).
//
// Stats reports its lookups, evictions and size for metrics. The counts
// are kept per shard, under the lock each operation takes anyway, so
// counting costs no atomic operation, no shared cache line and no
// allocation on the request path.
type VerifyCache struct {
	seed   maphash.Seed
	now    func() time.Time
	size   int    // capacity: the sum of the shards' max
	n      uint64 // shards in use: fewer than verifyCacheShards for a tiny size
	shards [verifyCacheShards]cacheShard
}

type cacheShard struct {
	mu      sync.Mutex
	max     int
	entries map[cacheKey]cacheEntry
	// Counts since the cache was built, guarded by mu.
	hits, misses, evictions uint64
}

// VerifyCacheStats are a VerifyCache's counts since it was built, and
// its size, as Stats reports them.
type VerifyCacheStats struct {
	// Hits are lookups (Get, GetAny) that found a live entry.
	Hits uint64
	// Misses are lookups that found none, or only an entry whose exp had
	// passed (which the lookup then dropped).
	Misses uint64
	// Evictions are entries removed to make room for a new one in a full
	// shard, expired or not. Entries dropped at their exp by a lookup are
	// not evictions.
	Evictions uint64
	// Entries is the number of entries, expired ones not yet dropped
	// included (as Len).
	Entries int
	// Capacity is the most entries the cache holds (its size).
	Capacity int
}

type cacheKey struct{ verifier, token string }

type cacheEntry struct {
	p   *Principal
	exp time.Time
}

// NewVerifyCache returns a cache of at most size entries, or nil (off)
// when size is 0 or less. now is the clock for expiry (nil: time.Now).
func NewVerifyCache(size int, now func() time.Time) *VerifyCache {
	if size <= 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	n := min(size, verifyCacheShards)
	c := &VerifyCache{seed: maphash.MakeSeed(), now: now, size: size, n: uint64(n)}
	for i := range n {
		s := &c.shards[i]
		s.max = size / n
		if i < size%n {
			s.max++
		}
		s.entries = make(map[cacheKey]cacheEntry, min(s.max, 1024))
	}
	return c
}

// shard returns the shard of token.
func (c *VerifyCache) shard(token string) *cacheShard {
	return &c.shards[maphash.String(c.seed, token)%c.n]
}

// Get returns the Principal that verifier (a VerifierID) verified token
// into, if it is cached and the token's exp has not passed.
func (c *VerifyCache) Get(verifier, token string) (*Principal, bool) {
	if c == nil {
		return nil, false
	}
	k := cacheKey{verifier, token}
	s := c.shard(token)
	s.mu.Lock()
	e, ok := s.entries[k]
	if ok && !c.now().Before(e.exp) {
		delete(s.entries, k)
		ok = false
	}
	if ok {
		s.hits++
	} else {
		s.misses++
	}
	s.mu.Unlock()
	return e.p, ok
}

// GetAny is Get for the first of verifiers that has token cached: one
// hash of the token and one lock, then a map lookup per verifier. The
// Manager uses it for a bearer token before routing it by iss, with the
// ids of every verifier the router could pick. It counts as one lookup
// in Stats, whatever the number of verifiers.
func (c *VerifyCache) GetAny(verifiers []string, token string) (*Principal, bool) {
	if c == nil {
		return nil, false
	}
	s := c.shard(token)
	now := c.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range verifiers {
		k := cacheKey{v, token}
		if e, ok := s.entries[k]; ok {
			if now.Before(e.exp) {
				s.hits++
				return e.p, true
			}
			delete(s.entries, k)
		}
	}
	s.misses++
	return nil, false
}

// Put records that verifier verified token into p, until exp (the token's
// exp claim). A token already at or past exp is not stored.
func (c *VerifyCache) Put(verifier, token string, p *Principal, exp time.Time) {
	if c == nil || p == nil || !c.now().Before(exp) {
		return
	}
	s := c.shard(token)
	// Clone: token is usually a slice of a request header, which the
	// entry must not keep alive.
	k := cacheKey{verifier, strings.Clone(token)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[k]; !ok && len(s.entries) >= s.max {
		s.evict(c.now())
	}
	s.entries[k] = cacheEntry{p: p, exp: exp}
}

// evict removes one entry: the first expired one among a few, else the
// first looked at. The caller holds s.mu.
func (s *cacheShard) evict(now time.Time) {
	var victim cacheKey
	n := 0
	for k, e := range s.entries {
		if !now.Before(e.exp) {
			victim = k
			break
		}
		if n == 0 {
			victim = k
		}
		if n++; n == 4 {
			break
		}
	}
	delete(s.entries, victim)
	s.evictions++
}

// Len returns the number of entries, expired ones not yet dropped
// included.
func (c *VerifyCache) Len() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.entries)
		s.mu.Unlock()
	}
	return n
}

// Stats returns the cache's counts since it was built and its size. It
// takes each shard's lock in turn (as Len), so it is meant for a metrics
// scrape, not for the request path; the counts of different shards are
// not taken at one instant. A nil cache (off) has zero Stats.
func (c *VerifyCache) Stats() VerifyCacheStats {
	if c == nil {
		return VerifyCacheStats{}
	}
	st := VerifyCacheStats{Capacity: c.size}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		st.Hits += s.hits
		st.Misses += s.misses
		st.Evictions += s.evictions
		st.Entries += len(s.entries)
		s.mu.Unlock()
	}
	return st
}
