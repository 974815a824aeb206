package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse/gatehouse/session"
)

// revEntry identifies a revocation: the member of the revocation set. Its
// JSON is deterministic, so adding the same revocation twice yields the
// same member (and only moves its Until later).
type revEntry struct {
	Kind   session.RevocationKind `json:"k"`
	ID     string                 `json:"id"`
	Before *int64                 `json:"b,omitempty"` // ms; absent for the zero time
}

// revMessage is a revocation as announced on the channel.
type revMessage struct {
	revEntry
	Until int64 `json:"u"` // ms
}

func newRevEntry(r session.Revocation) revEntry {
	e := revEntry{Kind: r.Kind, ID: r.ID}
	if !r.Before.IsZero() {
		ms := millis(r.Before)
		e.Before = &ms
	}
	return e
}

func (e revEntry) revocation(untilMS int64) session.Revocation {
	r := session.Revocation{Kind: e.Kind, ID: e.ID, Until: fromMillis(untilMS)}
	if e.Before != nil {
		r.Before = fromMillis(*e.Before)
	}
	return r
}

// AddRevocation records r until r.Until and publishes it to every
// subscriber, in one script (see addRevocationLua). Adding the same
// revocation again is harmless: the entry keeps the later Until.
func (s *Store) AddRevocation(ctx context.Context, r session.Revocation) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("redisstore: add revocation: %w", err)
	}
	e := newRevEntry(r)
	member, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("redisstore: add revocation: %w", err)
	}
	msg, err := json.Marshal(revMessage{revEntry: e, Until: millis(r.Until)})
	if err != nil {
		return fmt.Errorf("redisstore: add revocation: %w", err)
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	err = s.scripts.addRevocation.Run(ctx, s.client, []string{s.revocationsKey()},
		member, fmtMillis(r.Until), fmtMillis(s.now()), s.channel(), msg).Err()
	if err != nil {
		return s.fail("add revocation", err)
	}
	return nil
}

// Revocations returns every revocation whose Until is after now.
func (s *Store) Revocations(ctx context.Context, now time.Time) ([]session.Revocation, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	zs, err := s.client.ZRangeByScoreWithScores(ctx, s.revocationsKey(), &redis.ZRangeBy{
		Min: "(" + strconv.FormatInt(millis(now), 10), // exclusive: Until after now
		Max: "+inf",
	}).Result()
	if err != nil {
		return nil, s.fail("list revocations", err)
	}
	out := make([]session.Revocation, 0, len(zs))
	for _, z := range zs {
		member, _ := z.Member.(string)
		var e revEntry
		if err := json.Unmarshal([]byte(member), &e); err != nil {
			// Fail rather than skip: a revocation nobody can read must not
			// be silently ignored.
			return nil, fmt.Errorf("redisstore: list revocations: corrupt entry %q: %w", member, err)
		}
		out = append(out, e.revocation(int64(z.Score)))
	}
	return out, nil
}
