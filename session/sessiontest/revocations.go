package sessiontest

import (
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/session"
)

// RunRevocations runs the conformance suite for session.RevocationStore
// against stores made by newStore (a fresh, empty store per subtest).
//
// Where the interface leaves a point open, the suite decides it:
//
//   - Revocations(now) returns the entries whose Until is strictly after
//     now; times survive at least to the millisecond.
//   - Adding the same revocation (kind, id, before) twice keeps one entry.
//   - A subscriber receives every revocation added after
//     SubscribeRevocations returned, its own store's included; once its
//     ctx is done it receives nothing more.
//
// Like Run, it uses fixed times in 2100 and synchronises on channels,
// never on sleeps. A subscriber that should get nothing is checked after
// a live subscriber got the same announcement.
func RunRevocations(t *testing.T, newStore func(t *testing.T) session.RevocationStore) {
	t.Helper()
	tests := []struct {
		name string
		run  func(*testing.T, session.RevocationStore)
	}{
		{"AddThenList", testRevAddList},
		{"ExpiredNotReturned", testRevExpired},
		{"Kinds", testRevKinds},
		{"AddTwice", testRevAddTwice},
		{"SubscriberReceives", testRevSubscribe},
		{"TwoSubscribers", testRevTwoSubscribers},
		{"CancelStopsDelivery", testRevCancel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			if s == nil {
				t.Fatal("newStore returned a nil RevocationStore")
			}
			tc.run(t, s)
		})
	}
}

// deliveryTimeout bounds how long an announcement may take to arrive.
const deliveryTimeout = 5 * time.Second

// at is a time in the suite's future, at millisecond precision.
func at(d time.Duration) time.Time { return base().Add(d).Truncate(time.Millisecond) }

func sessionRev(id string, until time.Time) session.Revocation {
	return session.Revocation{Kind: session.RevokeSessionKind, ID: id, Until: until}
}

func addRev(t *testing.T, s session.RevocationStore, r session.Revocation) {
	t.Helper()
	if err := s.AddRevocation(t.Context(), r); err != nil {
		t.Fatalf("AddRevocation(%s %s): %v", r.Kind, r.ID, err)
	}
}

// sameRevocation compares field by field, times with Equal.
func sameRevocation(a, b session.Revocation) bool {
	return a.Kind == b.Kind && a.ID == b.ID && a.Before.Equal(b.Before) && a.Until.Equal(b.Until)
}

func fmtRev(r session.Revocation) string {
	s := string(r.Kind) + " " + r.ID
	if !r.Before.IsZero() {
		s += " before " + fmtValue(r.Before)
	}
	return s + " until " + fmtValue(r.Until)
}

// checkRevocations requires Revocations(now) to be exactly want, in any
// order.
func checkRevocations(t *testing.T, s session.RevocationStore, now time.Time, want ...session.Revocation) {
	t.Helper()
	got, err := s.Revocations(t.Context(), now)
	if err != nil {
		t.Fatalf("Revocations(%v): %v", now, err)
	}
	order := func(a, b session.Revocation) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID), a.Before.Compare(b.Before))
	}
	slices.SortFunc(got, order)
	want = slices.Clone(want)
	slices.SortFunc(want, order)
	if !slices.EqualFunc(got, want, sameRevocation) {
		var g, w []string
		for _, r := range got {
			g = append(g, fmtRev(r))
		}
		for _, r := range want {
			w = append(w, fmtRev(r))
		}
		t.Errorf("Revocations(%v) =\n\t%q\nwant\n\t%q", fmtValue(now), g, w)
	}
}

func testRevAddList(t *testing.T, s session.RevocationStore) {
	r := session.Revocation{Kind: session.RevokeUserKind, ID: "alice", Before: at(1234 * time.Millisecond), Until: at(time.Hour + 567*time.Millisecond)}
	addRev(t, s, r)
	checkRevocations(t, s, base(), r)
}

func testRevExpired(t *testing.T, s session.RevocationStore) {
	now := at(time.Hour)
	live := sessionRev("live", now.Add(time.Millisecond))
	for _, r := range []session.Revocation{
		sessionRev("long gone", now.Add(-time.Minute)),
		sessionRev("until now", now), // Until is not after now
		live,
	} {
		addRev(t, s, r)
	}
	checkRevocations(t, s, now, live)
	checkRevocations(t, s, live.Until)
}

func testRevKinds(t *testing.T, s session.RevocationStore) {
	rs := []session.Revocation{
		sessionRev("sid-1", at(time.Hour)),
		{Kind: session.RevokeUserKind, ID: "alice", Before: at(time.Minute), Until: at(2 * time.Hour)},
		{Kind: session.RevokeUserKind, ID: "bob", Before: at(2 * time.Minute), Until: at(2 * time.Hour)},
		{Kind: session.RevokeTokenKind, ID: "jti-1", Until: at(15 * time.Minute)},
		// The same id under another kind is another entry.
		{Kind: session.RevokeTokenKind, ID: "sid-1", Until: at(15 * time.Minute)},
	}
	for _, r := range rs {
		addRev(t, s, r)
	}
	checkRevocations(t, s, base(), rs...)
	checkRevocations(t, s, at(time.Hour), rs[1], rs[2])
}

func testRevAddTwice(t *testing.T, s session.RevocationStore) {
	r := session.Revocation{Kind: session.RevokeUserKind, ID: "alice", Before: at(time.Minute), Until: at(time.Hour)}
	addRev(t, s, r)
	addRev(t, s, r)
	checkRevocations(t, s, base(), r)
}

// collector receives a subscription's deliveries on a channel.
type collector struct {
	got    chan session.Revocation
	resync chan struct{}
}

// subscribe subscribes with ctx and returns the collector.
func subscribe(t *testing.T, ctx context.Context, s session.RevocationStore) *collector {
	t.Helper()
	c := &collector{got: make(chan session.Revocation, 100), resync: make(chan struct{}, 100)}
	err := s.SubscribeRevocations(ctx, func(r session.Revocation) {
		select {
		case c.got <- r:
		default:
			t.Errorf("subscriber's buffer full; dropped %s", fmtRev(r))
		}
	}, func() {
		select {
		case c.resync <- struct{}{}:
		default:
		}
	})
	if err != nil {
		t.Fatalf("SubscribeRevocations: %v", err)
	}
	return c
}

// expect waits for want on c.
func (c *collector) expect(t *testing.T, who string, want session.Revocation) {
	t.Helper()
	timeout := time.NewTimer(deliveryTimeout)
	defer timeout.Stop()
	select {
	case got := <-c.got:
		if !sameRevocation(got, want) {
			t.Errorf("%s received %s, want %s", who, fmtRev(got), fmtRev(want))
		}
	case <-timeout.C:
		t.Fatalf("%s did not receive %s within %s", who, fmtRev(want), deliveryTimeout)
	}
}

// nothing requires that c has received nothing (so far).
func (c *collector) nothing(t *testing.T, who string) {
	t.Helper()
	select {
	case got := <-c.got:
		t.Errorf("%s received %s, want nothing", who, fmtRev(got))
	default:
	}
}

func testRevSubscribe(t *testing.T, s session.RevocationStore) {
	c := subscribe(t, t.Context(), s)
	for _, r := range []session.Revocation{
		sessionRev("sid-1", at(time.Hour)),
		{Kind: session.RevokeUserKind, ID: "alice", Before: at(time.Minute + 5*time.Millisecond), Until: at(time.Hour)},
		{Kind: session.RevokeTokenKind, ID: "jti-1", Until: at(time.Minute)},
	} {
		addRev(t, s, r)
		c.expect(t, "the subscriber", r)
	}
	c.nothing(t, "the subscriber")
}

func testRevTwoSubscribers(t *testing.T, s session.RevocationStore) {
	a, b := subscribe(t, t.Context(), s), subscribe(t, t.Context(), s)
	r := sessionRev("sid-1", at(time.Hour))
	addRev(t, s, r)
	a.expect(t, "subscriber A", r)
	b.expect(t, "subscriber B", r)
}

func testRevCancel(t *testing.T, s session.RevocationStore) {
	ctx, cancel := context.WithCancel(t.Context())
	gone := subscribe(t, ctx, s)
	live := subscribe(t, t.Context(), s)
	r1 := sessionRev("before cancel", at(time.Hour))
	addRev(t, s, r1)
	gone.expect(t, "the subscriber to be cancelled", r1)
	live.expect(t, "the live subscriber", r1)

	cancel()
	// Two announcements after the cancel, each awaited on the live
	// subscriber: by then the cancelled one would have had the first.
	for _, id := range []string{"after cancel 1", "after cancel 2"} {
		r := sessionRev(id, at(time.Hour))
		addRev(t, s, r)
		live.expect(t, "the live subscriber", r)
	}
	gone.nothing(t, "the cancelled subscriber")
}
