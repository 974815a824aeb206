// Package ratelimit limits how often something may happen per key, such
// as sign-in attempts per client address and per user name, with a token
// bucket for each key, in bounded memory.
//
// A Limiter remembers at most Options.MaxKeys keys. Forgetting a key must
// not reprieve it: an attacker guessing one user's password who could
// push that user out of the table by trying other names would get a
// fresh burst each time. So a Limiter evicts, in order of preference, a
// bucket that has refilled completely (forgetting it loses nothing), then
// the least recently used one; and the debt of a bucket evicted before it
// refilled moves to a second fixed-size table, from which the key takes
// it back when it returns.
//
// That second table is a set-associative cache keyed by a hash of the key
// (with a random seed per Limiter, so sets cannot be aimed at). A debt
// is dropped from it only when its set is full of debts that are larger
// and still running, so to win a reprieve for a key being hammered an
// attacker must first run up larger debts on about as many other keys as
// the two tables hold: spend many times more attempts on other keys than
// the reprieve gives back.
package ratelimit

import (
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"time"
)

// DefaultMaxKeys is the number of keys a Limiter remembers when
// Options.MaxKeys is 0.
const DefaultMaxKeys = 10_000

// evictScan is how many of the least recently used buckets are looked at
// for a full one before the least recently used is evicted with its debt.
// Buckets touched least recently are the likeliest to have refilled.
const evictScan = 16

// Options configures a Limiter.
type Options struct {
	// Rate is how many tokens a bucket regains per second, evenly (20
	// attempts a minute is 20.0/60). It MUST be positive and finite.
	Rate float64
	// Burst is the size of a bucket: how many events a key may have in a
	// row after a pause. It MUST be at least 1.
	Burst int
	// MaxKeys bounds how many keys are remembered, and so the memory used
	// (about 100 bytes a key). 0 means DefaultMaxKeys.
	MaxKeys int
	// Now returns the current time; nil means time.Now. It should not go
	// backwards: time.Now's monotonic reading does not. Tests move an
	// injected clock instead of sleeping.
	Now func() time.Time
}

// Limiter allows Burst events per key and refills at Rate per second
// (token bucket). It is safe for concurrent use, and its memory is
// bounded: at most MaxKeys keys; when full, fully refilled entries are
// evicted first, then the least recently used, whose debt is remembered
// (see the package doc).
//
// Each bucket is kept as one time, its theoretical arrival time (the
// Generic Cell Rate Algorithm, ITU-T I.371): the bucket is full when that
// time is not after now, and each event pushes it one interval (1/Rate)
// later, up to Burst intervals ahead of now.
type Limiter struct {
	interval int64 // nanoseconds for one token to refill, at least 1
	limit    int64 // interval*Burst: how far ahead of now a tat may run
	maxKeys  int
	now      func() time.Time
	epoch    time.Time // times are kept as nanoseconds since epoch
	seed     maphash.Seed

	mu         sync.Mutex
	index      map[uint64]int32 // key hash -> entries index
	entries    []entry          // a doubly linked LRU list threaded through a slice
	head, tail int32            // most and least recently used; none when empty
	free       []int32          // entries released by Reset
	debts      *debts           // of buckets evicted before they refilled; made on first need
}

// none marks the end of the LRU list.
const none int32 = -1

// entry is one key's bucket. Keys are held as 64-bit keyed hashes, so a
// long key costs no memory and is not retained.
type entry struct {
	key        uint64
	tat        int64 // theoretical arrival time, nanoseconds since epoch
	prev, next int32
}

// New returns a Limiter. It panics if o.Rate is not positive and finite,
// o.Burst is less than 1, o.MaxKeys is negative, or Burst/Rate is
// longer than a century: these are programming errors, since the
// configuration is validated before (config.RateLimit).
func New(o Options) *Limiter {
	if !(o.Rate > 0) || math.IsInf(o.Rate, 1) {
		panic(fmt.Sprintf("ratelimit: Options.Rate must be positive and finite, got %v", o.Rate))
	}
	if o.Burst < 1 {
		panic(fmt.Sprintf("ratelimit: Options.Burst must be at least 1, got %d", o.Burst))
	}
	if o.MaxKeys < 0 || o.MaxKeys > math.MaxInt32 {
		panic(fmt.Sprintf("ratelimit: Options.MaxKeys must be between 0 and 2^31-1, got %d", o.MaxKeys))
	}
	const century = float64(100 * 365 * 24 * time.Hour)
	iv := math.Round(float64(time.Second) / o.Rate)
	if iv*float64(o.Burst) > century {
		panic(fmt.Sprintf("ratelimit: Options.Burst/Rate must be at most a century, got %d/%v", o.Burst, o.Rate))
	}
	interval := max(int64(iv), 1)
	l := &Limiter{
		interval: interval,
		limit:    interval * int64(o.Burst),
		maxKeys:  o.MaxKeys,
		now:      o.Now,
		seed:     maphash.MakeSeed(),
		index:    make(map[uint64]int32),
		head:     none,
		tail:     none,
	}
	if l.maxKeys == 0 {
		l.maxKeys = DefaultMaxKeys
	}
	if l.now == nil {
		l.now = time.Now
	}
	l.epoch = l.now()
	return l
}

// Allow takes one token for key. When none is left it returns false and
// how long until one is available (for Retry-After, rounded up to whole
// seconds by the caller). A refused attempt takes nothing, so it does
// not push the wait further, but it does mark the key as recently used.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	h := maphash.String(l.seed, key)
	now := int64(l.now().Sub(l.epoch))
	l.mu.Lock()
	defer l.mu.Unlock()
	e := &l.entries[l.lookup(h, now)]
	next := max(e.tat, now) + l.interval
	if wait := next - now - l.limit; wait > 0 {
		return false, time.Duration(wait)
	}
	e.tat = next
	return true, 0
}

// Reset forgets key (e.g. after a successful login, for the per-username
// limit), so its next event starts from a full bucket.
func (l *Limiter) Reset(key string) {
	h := maphash.String(l.seed, key)
	l.mu.Lock()
	defer l.mu.Unlock()
	i, ok := l.index[h]
	if !ok {
		if l.debts != nil {
			l.debts.take(h) // an evicted key's debt
		}
		return
	}
	delete(l.index, h)
	l.unlink(i)
	l.free = append(l.free, i)
}

// lookup returns the index of h's entry, made most recently used,
// creating it (and evicting another) if need be. l.mu is held.
func (l *Limiter) lookup(h uint64, now int64) int32 {
	if i, ok := l.index[h]; ok {
		if i != l.head {
			l.unlink(i)
			l.pushFront(i)
		}
		return i
	}
	var i int32
	switch {
	case len(l.free) > 0:
		i = l.free[len(l.free)-1]
		l.free = l.free[:len(l.free)-1]
	case len(l.entries) < l.maxKeys:
		l.entries = append(l.entries, entry{})
		i = int32(len(l.entries) - 1)
	default:
		i = l.evict(now)
	}
	tat := now
	if l.debts != nil {
		tat = max(tat, l.debts.take(h))
	}
	l.entries[i] = entry{key: h, tat: tat}
	l.index[h] = i
	l.pushFront(i)
	return i
}

// evict removes an entry from a full table and returns its index: a
// full bucket among the evictScan least recently used if there is one,
// else the least recently used, whose tat goes to the debt table.
func (l *Limiter) evict(now int64) int32 {
	victim := l.tail
	for i, n := l.tail, 0; i != none && n < evictScan; i, n = l.entries[i].prev, n+1 {
		if l.entries[i].tat <= now {
			victim = i
			break
		}
	}
	e := &l.entries[victim]
	if e.tat > now {
		if l.debts == nil {
			l.debts = newDebts(l.maxKeys)
		}
		l.debts.put(e.key, e.tat)
	}
	delete(l.index, e.key)
	l.unlink(victim)
	return victim
}

func (l *Limiter) unlink(i int32) {
	e := &l.entries[i]
	if e.prev != none {
		l.entries[e.prev].next = e.next
	} else {
		l.head = e.next
	}
	if e.next != none {
		l.entries[e.next].prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = none, none
}

func (l *Limiter) pushFront(i int32) {
	e := &l.entries[i]
	e.prev, e.next = none, l.head
	if l.head != none {
		l.entries[l.head].prev = i
	} else {
		l.tail = i
	}
	l.head = i
}
