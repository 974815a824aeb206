package boltstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/session/sessiontest"
)

// BenchmarkRotate measures one rotation: a read-write transaction,
// committed with an fsync of the file (bbolt syncs every Update), so the
// figure is mostly the disk's sync latency. Run it on the disk the
// gateway will use; a tmpfs hides the sync.
func BenchmarkRotate(b *testing.B) {
	for _, n := range []int{1, 10_000} {
		b.Run(fmt.Sprint("sessions=", n), func(b *testing.B) {
			s := openTemp(b, Options{Now: func() time.Time { return base() }})
			bulkCreate(b, s, n)
			sessiontest.BenchStoreRotate(b, s, "s0", tokenHash("s0", 0), base().Add(time.Minute), idle)
		})
	}
}
