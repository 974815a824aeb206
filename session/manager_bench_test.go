package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/benchbudget"
	"github.com/gatehouse/gatehouse/session"
)

// BenchmarkManagerVerify is what the request path calls: Manager.Verify
// with the mirror's freshness and the revocation list checked, the
// verified-token cache on (a hit) and off (a full EdDSA verification).
func BenchmarkManagerVerify(b *testing.B) {
	for _, tc := range []struct {
		name   string
		size   int
		budget float64
	}{{"cache-hit", 4096, 0}, {"cache-off", 0, 12}} {
		b.Run(tc.name, func(b *testing.B) {
			clock := &lockedClock{t: time.Now()}
			m, _ := cachedManager(b, clock, newKeySet(b), session.NewVerifyCache(tc.size, clock.Now), nil)
			iss, err := m.Login(context.Background(), session.Identity{Subject: "alice", Roles: []string{"user"}}, session.Client{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := m.Verify(iss.Access); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			done := benchbudget.Allocs(b, tc.budget)
			for b.Loop() {
				if _, err := m.Verify(iss.Access); err != nil {
					b.Fatal(err)
				}
			}
			done()
		})
	}
}
