package boltstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/session"
)

// BenchmarkRotate measures one rotation: a read-write transaction,
// committed with an fsync of the file (bbolt syncs every Update), so the
// figure is mostly the disk's sync latency. Run it on the disk the
// gateway will use; a tmpfs hides the sync.
func BenchmarkRotate(b *testing.B) {
	for _, n := range []int{1, 10_000} {
		b.Run(fmt.Sprint("sessions=", n), func(b *testing.B) {
			ctx := context.Background()
			s := openTemp(b, Options{Now: func() time.Time { return base() }})
			bulkCreate(b, s, n)
			// Alternate between two hashes: each rotation presents the
			// current one and makes the other current.
			h0, h1 := tokenHash("s0", 0), session.HashRefreshToken("s0 other")
			rots := [2]session.Rotation{{
				Presented: h0, Next: h1, Now: base().Add(time.Minute), Grace: 10 * time.Second, IdleTimeout: idle,
				Identity: session.Identity{Subject: "user0", Email: "u@example.com", Roles: []string{"user", "admin"},
					Claims: map[string]any{"team": "blue"}},
			}}
			rots[1] = rots[0]
			rots[1].Presented, rots[1].Next = h1, h0
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				if _, out, err := s.Rotate(ctx, "s0", rots[i]); err != nil || out != session.Rotated {
					b.Fatalf("Rotate = %v, %v", out, err)
				}
				i ^= 1
			}
		})
	}
}
