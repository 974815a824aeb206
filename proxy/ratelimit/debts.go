package ratelimit

import "math"

// ways is the associativity of the debt table: how many debts of keys
// whose hashes share a set it holds at once.
const ways = 4

// noDebt is the tat of an empty way; it is never after now.
const noDebt = math.MinInt64

// debts remembers the tat of buckets evicted before they refilled, so
// that an evicted key does not come back with a full bucket. It is a
// set-associative cache: the low bits of a key's hash choose a set of
// ways, the high 32 bits tell keys apart within it. Its size is fixed
// when made, so memory stays bounded however many keys come and go.
//
// A debt is only ever taken back by the key that left it (up to 32-bit
// fingerprint collisions within a set), so one key's debt never spreads
// to others and never compounds.
type debts struct {
	fp  []uint32 // fingerprint of the key in each way
	tat []int64  // its tat, or noDebt when the way is empty
}

// newDebts makes a table of at least n ways (a power of two, at least
// one set).
func newDebts(n int) *debts {
	size := ways
	for size < n {
		size <<= 1
	}
	d := &debts{fp: make([]uint32, size), tat: make([]int64, size)}
	for i := range d.tat {
		d.tat[i] = noDebt
	}
	return d
}

// set returns the first way of h's set, and h's fingerprint.
func (d *debts) set(h uint64) (int, uint32) {
	sets := uint64(len(d.tat) / ways)
	return int(h&(sets-1)) * ways, uint32(h >> 32)
}

// put records the debt of h, evicted with the given tat (after now). It
// raises h's own way if it has one; else it takes the way with the
// smallest tat (an empty way, then an expired one, then the smallest
// running debt) if that is smaller than h's. Otherwise h's is the
// smallest running debt of the set, and is the one dropped.
func (d *debts) put(h uint64, tat int64) {
	first, fp := d.set(h)
	victim := first
	for i := first; i < first+ways; i++ {
		if d.fp[i] == fp && d.tat[i] != noDebt {
			d.tat[i] = max(d.tat[i], tat)
			return
		}
		if d.tat[i] < d.tat[victim] {
			victim = i
		}
	}
	if d.tat[victim] < tat {
		d.fp[victim], d.tat[victim] = fp, tat
	}
}

// take removes h's debt from the table and returns it, or noDebt.
func (d *debts) take(h uint64) int64 {
	first, fp := d.set(h)
	for i := first; i < first+ways; i++ {
		if d.fp[i] == fp && d.tat[i] != noDebt {
			tat := d.tat[i]
			d.tat[i] = noDebt
			return tat
		}
	}
	return noDebt
}
