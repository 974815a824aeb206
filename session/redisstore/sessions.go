package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse/gatehouse/session"
)

// Create stores a new session; it fails, wrapping ErrExists, if the id is
// taken. The subject's index is written first (see the package doc), so a
// failed Create may leave an index entry that readers skip.
func (s *Store) Create(ctx context.Context, rec session.Record) error {
	if rec.ID == "" {
		return errors.New("redisstore: create: empty session id")
	}
	fields, err := encodeRecord(rec)
	if err != nil {
		return fmt.Errorf("redisstore: create: %w", err)
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	forget := rec.Deadline().Add(s.tombstone)
	if err := s.index(ctx, rec.Identity.Subject, rec.ID, forget); err != nil {
		return s.fail("create", err)
	}
	args := append([]any{fmtMillis(forget)}, fields...)
	created, err := s.scripts.create.Run(ctx, s.client, []string{s.sessionKey(rec.ID)}, args...).Int()
	if err != nil {
		return s.fail("create", err)
	}
	if created != 1 {
		return fmt.Errorf("redisstore: create %s: %w", rec.ID, ErrExists)
	}
	return nil
}

// index records that session id of subject may be forgotten at forget.
func (s *Store) index(ctx context.Context, subject, id string, forget time.Time) error {
	return s.scripts.index.Run(ctx, s.client, []string{s.userKey(subject)},
		id, fmtMillis(forget), fmtMillis(s.now())).Err()
}

// Get returns the session with that id (a revoked one too), or an error
// wrapping session.ErrSessionNotFound.
func (s *Store) Get(ctx context.Context, id string) (session.Record, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	h, err := s.client.HGetAll(ctx, s.sessionKey(id)).Result()
	if err != nil {
		return session.Record{}, s.fail("get", err)
	}
	if len(h) == 0 {
		return session.Record{}, fmt.Errorf("redisstore: get: %w", session.ErrSessionNotFound)
	}
	rec, err := decodeRecord(h)
	if err != nil {
		return session.Record{}, fmt.Errorf("redisstore: get %s: %w", id, err)
	}
	return rec, nil
}

// Rotate checks and advances the refresh chain of session id exactly as
// session.Store documents, in one Lua script (see rotateLua). Before it,
// the rotation's subject index is extended to cover the longest deadline
// the rotation can give (r.Now + r.IdleTimeout), so the index never lags
// behind the session.
func (s *Store) Rotate(ctx context.Context, id string, r session.Rotation) (session.Record, session.Outcome, error) {
	if len(r.Next) == 0 {
		// A caller bug; storing it would leave a chain no token matches.
		return session.Record{}, 0, errors.New("redisstore: rotate: empty Next hash")
	}
	ident, err := json.Marshal(r.Identity)
	if err != nil {
		return session.Record{}, 0, fmt.Errorf("redisstore: rotate: encode identity: %w", err)
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	if err := s.index(ctx, r.Identity.Subject, id, r.Now.Add(r.IdleTimeout).Add(s.tombstone)); err != nil {
		return session.Record{}, 0, s.fail("rotate", err)
	}
	reply, err := s.scripts.rotate.Run(ctx, s.client, []string{s.sessionKey(id)},
		r.Presented, r.Next, fmtMillis(r.Now), r.Grace.Milliseconds(), r.IdleTimeout.Milliseconds(),
		ident, r.Identity.Subject, s.tombstone.Milliseconds(), r.SourceSecret,
	).Slice()
	if err != nil {
		return session.Record{}, 0, s.fail("rotate", err)
	}
	if len(reply) == 0 {
		return session.Record{}, 0, errors.New("redisstore: rotate: empty script reply")
	}
	var out session.Outcome
	switch status, _ := reply[0].(string); status {
	case "rotated":
		out = session.Rotated
	case "reissued":
		out = session.Reissued
	case "notfound":
		return session.Record{}, 0, fmt.Errorf("redisstore: rotate: %w", session.ErrSessionNotFound)
	case "revoked":
		return session.Record{}, 0, fmt.Errorf("redisstore: rotate: %w", session.ErrSessionRevoked)
	case "expired":
		return session.Record{}, 0, fmt.Errorf("redisstore: rotate: %w", session.ErrSessionExpired)
	case "reused":
		return session.Record{}, 0, fmt.Errorf("redisstore: rotate: %w", session.ErrRefreshReused)
	default:
		return session.Record{}, 0, fmt.Errorf("redisstore: rotate: unexpected script reply %q", reply[0])
	}
	h, err := decodePairs(reply[1:])
	if err != nil {
		return session.Record{}, 0, fmt.Errorf("redisstore: rotate %s: %w", id, err)
	}
	rec, err := decodeRecord(h)
	if err != nil {
		return session.Record{}, 0, fmt.Errorf("redisstore: rotate %s: %w", id, err)
	}
	return rec, out, nil
}

// Revoke marks a session revoked; an unknown or already revoked session
// is not an error. The record keeps its TTL, as a tombstone.
func (s *Store) Revoke(ctx context.Context, id string) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	if err := s.scripts.revoke.Run(ctx, s.client, []string{s.sessionKey(id)}, "0", "").Err(); err != nil {
		return s.fail("revoke", err)
	}
	return nil
}

// ListUser returns the sessions of subject that are neither revoked nor
// expired at now, oldest first. Index entries whose session is gone or
// belongs to another subject are skipped; they leave the index when
// their time is up (the index is pruned by time, never by what a reader
// saw, which could race with a Create in progress).
func (s *Store) ListUser(ctx context.Context, subject string, now time.Time) ([]session.Record, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	ids, err := s.client.ZRange(ctx, s.userKey(subject), 0, -1).Result()
	if err != nil {
		return nil, s.fail("list user sessions", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	// One pipeline; in a Cluster go-redis splits it by node.
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, s.sessionKey(id))
		}
		return nil
	})
	if err != nil {
		return nil, s.fail("list user sessions", err)
	}
	var out []session.Record
	for i, cmd := range cmds {
		h := cmd.Val()
		if len(h) == 0 {
			continue // gone
		}
		rec, err := decodeRecord(h)
		if err != nil {
			return nil, fmt.Errorf("redisstore: list user sessions: %s: %w", ids[i], err)
		}
		if rec.Identity.Subject != subject || rec.Revoked || !now.Before(rec.Deadline()) {
			continue
		}
		out = append(out, rec)
	}
	session.SortRecords(out)
	return out, nil
}

// RevokeUser revokes every session of subject and returns, sorted, the ids
// of those it revoked (the ones not revoked already). Each session is
// revoked by its own script, which checks that the session still belongs
// to subject: sessions of one user live in different Cluster slots.
func (s *Store) RevokeUser(ctx context.Context, subject string) ([]string, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	ids, err := s.client.ZRange(ctx, s.userKey(subject), 0, -1).Result()
	if err != nil {
		return nil, s.fail("revoke user sessions", err)
	}
	var revoked []string
	for _, id := range ids {
		n, err := s.scripts.revoke.Run(ctx, s.client, []string{s.sessionKey(id)}, "1", subject).Int()
		if err != nil {
			// The sessions revoked so far stay revoked; the caller retries.
			return nil, s.fail("revoke user sessions", err)
		}
		if n == 1 {
			revoked = append(revoked, id)
		}
	}
	slices.Sort(revoked)
	return revoked, nil
}
