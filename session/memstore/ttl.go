package memstore

import (
	"container/heap"
	"time"

	"github.com/gatehouse/gatehouse/session"
)

// entry is one stored session.
type entry struct {
	rec session.Record
	// removeAt is rec.Deadline() plus the tombstone time: the record is
	// deleted once the store's clock reaches it.
	removeAt time.Time
	// index is the entry's position in the expiry heap.
	index int
}

// expiryHeap orders entries by removeAt (container/heap), so that the
// next one due is always at the root.
type expiryHeap []*entry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].removeAt.Before(h[j].removeAt) }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *expiryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil // let the record be collected
	*h = old[:len(old)-1]
	e.index = -1
	return e
}

// sweepLocked deletes every record whose removeAt has been reached. It
// runs at the start of every operation: O(1) when nothing is due, and
// O(log n) per deleted record, each record being deleted once. So no
// background goroutine is needed for memory to stay bounded by the
// records that are live or within their tombstone time.
func (s *Store) sweepLocked() {
	now := s.now()
	for len(s.expiry) > 0 && !s.expiry[0].removeAt.After(now) {
		s.removeLocked(s.expiry[0])
	}
}

// insertLocked adds e to the id and subject indexes and the expiry heap.
func (s *Store) insertLocked(e *entry) {
	s.byID[e.rec.ID] = e
	s.indexSubjectLocked(e)
	e.removeAt = e.rec.Deadline().Add(s.tombstone)
	heap.Push(&s.expiry, e)
}

// removeLocked deletes e from every index.
func (s *Store) removeLocked(e *entry) {
	heap.Remove(&s.expiry, e.index)
	delete(s.byID, e.rec.ID)
	s.unindexSubjectLocked(e)
}

// rescheduleLocked moves e in the expiry heap after its deadline changed.
func (s *Store) rescheduleLocked(e *entry) {
	e.removeAt = e.rec.Deadline().Add(s.tombstone)
	heap.Fix(&s.expiry, e.index)
}

// setIdentityLocked replaces e's identity, moving e in the subject index
// should the subject have changed (the source renamed the user; the
// session follows so that RevokeUser of the new subject ends it).
func (s *Store) setIdentityLocked(e *entry, id session.Identity) {
	if id.Subject == e.rec.Identity.Subject {
		e.rec.Identity = id
		return
	}
	s.unindexSubjectLocked(e)
	e.rec.Identity = id
	s.indexSubjectLocked(e)
}

func (s *Store) indexSubjectLocked(e *entry) {
	sub := e.rec.Identity.Subject
	m := s.bySubject[sub]
	if m == nil {
		m = make(map[string]*entry)
		s.bySubject[sub] = m
	}
	m[e.rec.ID] = e
}

func (s *Store) unindexSubjectLocked(e *entry) {
	sub := e.rec.Identity.Subject
	delete(s.bySubject[sub], e.rec.ID)
	if len(s.bySubject[sub]) == 0 {
		delete(s.bySubject, sub) // the index shrinks with the sessions
	}
}
