package boltstore

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/session"
)

// TestSubscribe: AddRevocation hands the revocation to every live
// subscriber of the process, after committing it and without a lock
// held (a subscriber may read the store), and never calls resync.
func TestSubscribe(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t, Options{Now: func() time.Time { return base() }})
	var mu sync.Mutex
	got := map[string][]session.Revocation{}
	resyncs := 0
	subscribe := func(name string, ctx context.Context) {
		t.Helper()
		err := s.SubscribeRevocations(ctx, func(r session.Revocation) {
			// Already durable when announced: a reader sees it.
			list, err := s.Revocations(context.Background(), base())
			if err != nil || len(list) == 0 {
				t.Errorf("%s: Revocations inside the callback = %d, %v; want the new entry", name, len(list), err)
			}
			mu.Lock()
			got[name] = append(got[name], r)
			mu.Unlock()
		}, func() {
			mu.Lock()
			resyncs++
			mu.Unlock()
		})
		if err != nil {
			t.Fatalf("SubscribeRevocations(%s): %v", name, err)
		}
	}
	subscribe("a", ctx)
	bctx, cancelB := context.WithCancel(ctx)
	subscribe("b", bctx)

	r1 := session.Revocation{Kind: session.RevokeSessionKind, ID: "s1", Until: base().Add(time.Hour)}
	if err := s.AddRevocation(ctx, r1); err != nil {
		t.Fatal(err)
	}
	cancelB()
	r2 := session.Revocation{Kind: session.RevokeUserKind, ID: "alice", Before: base(), Until: base().Add(time.Hour)}
	if err := s.AddRevocation(ctx, r2); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(got["a"]) != 2 || got["a"][0] != r1 || got["a"][1] != r2 {
		t.Errorf("subscriber a got %+v, want r1 and r2", got["a"])
	}
	if len(got["b"]) != 1 || got["b"][0] != r1 {
		t.Errorf("subscriber b, canceled after r1, got %+v, want r1 only", got["b"])
	}
	if resyncs != 0 {
		t.Errorf("resync called %d times, want never", resyncs)
	}

	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.SubscribeRevocations(done, func(session.Revocation) {}, nil); err == nil {
		t.Errorf("SubscribeRevocations with a done context succeeded")
	}
}
