// Package sessiontest is the conformance suite for session.Store. Every
// implementation runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		sessiontest.Run(t, func(t *testing.T) session.Store {
//			return memstore.New(memstore.Options{})
//		})
//	}
//
// The suite is the detailed statement of the Store contract. Where the doc
// comments in session/store.go leave a point open, the suite decides it:
//
//   - A session is over at its Deadline: Rotate returns ErrSessionExpired,
//     and ListUser leaves it out, when now is not before Record.Deadline()
//     (the same exclusive bound as PrevValidUntil, which accepts the
//     previous token only while Now is strictly before it).
//   - Rotate decides only from Rotation.Now, never from the store's clock;
//     a failed Rotate (not found, revoked, expired) changes nothing, and
//     only reuse revokes.
//   - RevokeUser returns the ids of the sessions it revoked, that is the
//     subject's sessions that were not revoked already.
//   - A store cannot tell a forged refresh token from a reused one: any
//     Presented hash that is neither current nor the previous one within
//     grace revokes the session. Authenticity MUST therefore be checked
//     before the store, by session.RefreshTokens.Parse, so that a stranger
//     who knows a session id cannot end the session.
//   - Records are values: a store keeps its own copy of what it is given
//     and hands out copies, down to the hash slices and the Identity's
//     roles and claims.
//
// All times are fixed and lie in the year 2100, so that a store whose TTLs
// follow a wall clock (Redis PEXPIREAT, or memstore with its default
// clock) never reaps a record in the middle of a test. No test sleeps.
package sessiontest

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/session"
)

// Run runs the conformance suite against stores made by newStore (a fresh,
// empty store per subtest).
func Run(t *testing.T, newStore func(t *testing.T) session.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(*testing.T, *harness)
	}{
		{"CreateGet", testCreateGet},
		{"GetUnknown", testGetUnknown},
		{"CreateDuplicateID", testCreateDuplicate},
		{"RotateCurrent", testRotateCurrent},
		{"RotateUnknown", testRotateUnknown},
		{"RotateSourceSecret", testRotateSourceSecret},
		{"RotateIdleCappedAtExpiresAt", testIdleCapped},
		{"GraceReissue", testGraceReissue},
		{"GraceOver", testGraceOver},
		{"GracePreviousWithOtherNext", testGraceOtherNext},
		{"ReuseOlderToken", testReuseOlder},
		{"ReuseAfterSuccessorUsed", testReuseAfterSuccessorUsed},
		{"Chain20", testChain20},
		{"ExpiredIdle", testExpiredIdle},
		{"ExpiredAbsolute", testExpiredAbsolute},
		{"Revoke", testRevoke},
		{"ListUser", testListUser},
		{"RevokeUser", testRevokeUser},
		{"ConcurrentRotateSameToken", testConcurrentSameToken},
		{"ConcurrentDistinctSessions", testConcurrentDistinct},
		{"PresentedNeverInChain", testNeverInChain},
		{"RecordsAreCopies", testCopies},
		{"CanceledContext", testCanceledContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newHarness(t, newStore(t)))
		})
	}
}

// The session parameters every test uses unless it says otherwise.
const (
	idleTimeout = 30 * time.Minute
	lifetime    = 12 * time.Hour
	grace       = 10 * time.Second
)

// base is the login time of the suite's sessions (see the package doc for
// why it is in 2100).
func base() time.Time { return time.Date(2100, time.January, 1, 8, 0, 0, 0, time.UTC) }

// harness is one subtest's store and the token minter that feeds it.
type harness struct {
	t      *testing.T
	s      session.Store
	tokens *session.RefreshTokens
}

func newHarness(t *testing.T, s session.Store) *harness {
	t.Helper()
	if s == nil {
		t.Fatal("newStore returned a nil Store")
	}
	// A fixed secret: the suite needs genuinely derived successors, not
	// secrecy.
	rt, err := session.NewRefreshTokens([]byte("sessiontest fixed refresh secret, 32+ bytes"))
	if err != nil {
		t.Fatalf("NewRefreshTokens: %v", err)
	}
	return &harness{t: t, s: s, tokens: rt}
}

// chain is one test session and the refresh tokens it has had: tokens[0]
// was issued at login and the last one is current, as far as the test has
// rotated it.
type chain struct {
	id      string
	subject string
	tokens  []string
	created session.Record
}

// hash is the stored form of the chain's i-th token.
func (c *chain) hash(i int) []byte { return session.HashRefreshToken(c.tokens[i]) }

// last is the index of the current token.
func (c *chain) last() int { return len(c.tokens) - 1 }

// identity is the Identity the suite logs subject in with, holding roles.
func identity(subject string, roles ...string) session.Identity {
	return session.Identity{
		Subject: subject,
		Email:   subject + "@example.com",
		Roles:   roles,
		Claims:  map[string]any{"team": "blue", "level": float64(3), "groups": []any{"a", "b"}},
	}
}

// newRecord is the record of a login by subject at base with first
// refresh token tok.
func newRecord(id, subject, tok string) session.Record {
	rec := session.Record{
		ID:            id,
		Identity:      identity(subject, "user"),
		CreatedAt:     base(),
		RefreshedAt:   base(),
		IdleExpiresAt: base().Add(idleTimeout),
		ExpiresAt:     base().Add(lifetime),
		UserAgent:     "sessiontest/1.0 (" + subject + ")",
		IP:            "192.0.2.10",
		RefreshHash:   session.HashRefreshToken(tok),
	}
	// A string field added to Record after this suite was written gets a
	// marker value, so that a store that does not keep it fails
	// checkRecord's catch-all comparison instead of passing unnoticed.
	v := reflect.ValueOf(&rec).Elem()
	for i := range v.NumField() {
		if f := v.Type().Field(i); f.IsExported() && !namedField(f.Name) && f.Type.Kind() == reflect.String {
			v.Field(i).SetString("sessiontest " + f.Name)
		}
	}
	return rec
}

// namedField reports whether checkRecord compares the Record field name
// by name; it compares the others with reflect.DeepEqual.
func namedField(name string) bool {
	switch name {
	case "ID", "Identity", "CreatedAt", "RefreshedAt", "IdleExpiresAt", "ExpiresAt",
		"UserAgent", "IP", "RefreshHash", "PrevHash", "PrevValidUntil", "Revoked", "SourceSecret":
		return true
	}
	return false
}

// create logs subject in, edit (if not nil) adjusting the record first.
func (h *harness) create(subject string, edit func(*session.Record)) *chain {
	h.t.Helper()
	id := session.NewID()
	tok := h.tokens.New(id)
	rec := newRecord(id, subject, tok)
	if edit != nil {
		edit(&rec)
	}
	if err := h.s.Create(h.t.Context(), rec); err != nil {
		h.t.Fatalf("Create(%s): %v", id, err)
	}
	return &chain{id: id, subject: subject, tokens: []string{tok}, created: rec}
}

// rotation is what a gateway sends when the client presents token i of c
// at now: Next is the token's derived successor and the identity is read
// fresh (here: with role "user").
func (h *harness) rotation(c *chain, i int, now time.Time) session.Rotation {
	tok := c.tokens[i]
	return session.Rotation{
		Presented:   session.HashRefreshToken(tok),
		Next:        session.HashRefreshToken(h.tokens.Successor(c.id, tok)),
		Identity:    identity(c.subject, "user"),
		Now:         now,
		Grace:       grace,
		IdleTimeout: idleTimeout,
	}
}

// advance rotates c's current token at now, requires Rotated and the
// exact resulting record, and returns that record.
func (h *harness) advance(c *chain, now time.Time) session.Record {
	h.t.Helper()
	before := h.get(c.id)
	r := h.rotation(c, c.last(), now)
	got, out, err := h.s.Rotate(h.t.Context(), c.id, r)
	if err != nil || out != session.Rotated {
		h.t.Fatalf("Rotate(%s, token %d at %v) = %v, %v; want Rotated", c.id, c.last(), now, out, err)
	}
	want := rotated(before, r)
	checkRecord(h.t, "record returned by Rotate", got, want)
	checkRecord(h.t, "Get after Rotate", h.get(c.id), want)
	c.tokens = append(c.tokens, h.tokens.Successor(c.id, c.tokens[c.last()]))
	return got
}

// get returns the stored record, failing the test if there is none.
func (h *harness) get(id string) session.Record {
	h.t.Helper()
	rec, err := h.s.Get(h.t.Context(), id)
	if err != nil {
		h.t.Fatalf("Get(%s): %v", id, err)
	}
	return rec
}

// rotated is the record Rotate must leave when r rotates before.
func rotated(before session.Record, r session.Rotation) session.Record {
	after := before
	after.Identity = r.Identity
	after.PrevHash = before.RefreshHash
	after.PrevValidUntil = r.Now.Add(r.Grace)
	after.RefreshHash = r.Next
	after.RefreshedAt = r.Now
	after.IdleExpiresAt = r.Now.Add(r.IdleTimeout)
	if after.IdleExpiresAt.After(before.ExpiresAt) {
		after.IdleExpiresAt = before.ExpiresAt
	}
	if len(r.SourceSecret) > 0 {
		after.SourceSecret = r.SourceSecret
	}
	return after
}

// checkRecord reports every field in which got differs from want,
// including fields added to Record after the suite was written. Times
// are compared with Equal (a store may drop the location or monotonic
// reading), hashes with bytes.Equal (nil and empty are the same), and an
// Identity's empty roles or claims match nil ones.
func checkRecord(t *testing.T, what string, got, want session.Record) {
	t.Helper()
	var d []string
	field := func(name string, equal bool, g, w any) {
		if !equal {
			d = append(d, name+" = "+fmtValue(g)+", want "+fmtValue(w))
		}
	}
	field("ID", got.ID == want.ID, got.ID, want.ID)
	gi, wi := got.Identity, want.Identity
	field("Subject", gi.Subject == wi.Subject, gi.Subject, wi.Subject)
	field("Email", gi.Email == wi.Email, gi.Email, wi.Email)
	field("Roles", slices.Equal(gi.Roles, wi.Roles), gi.Roles, wi.Roles)
	field("Claims", len(gi.Claims)+len(wi.Claims) == 0 || reflect.DeepEqual(gi.Claims, wi.Claims), gi.Claims, wi.Claims)
	for _, f := range []struct {
		name   string
		gt, wt time.Time
	}{
		{"CreatedAt", got.CreatedAt, want.CreatedAt},
		{"RefreshedAt", got.RefreshedAt, want.RefreshedAt},
		{"IdleExpiresAt", got.IdleExpiresAt, want.IdleExpiresAt},
		{"ExpiresAt", got.ExpiresAt, want.ExpiresAt},
		{"PrevValidUntil", got.PrevValidUntil, want.PrevValidUntil},
	} {
		field(f.name, f.gt.Equal(f.wt), f.gt, f.wt)
	}
	field("UserAgent", got.UserAgent == want.UserAgent, got.UserAgent, want.UserAgent)
	field("IP", got.IP == want.IP, got.IP, want.IP)
	field("RefreshHash", bytes.Equal(got.RefreshHash, want.RefreshHash), got.RefreshHash, want.RefreshHash)
	field("PrevHash", bytes.Equal(got.PrevHash, want.PrevHash), got.PrevHash, want.PrevHash)
	field("SourceSecret", bytes.Equal(got.SourceSecret, want.SourceSecret), got.SourceSecret, want.SourceSecret)
	field("Revoked", got.Revoked == want.Revoked, got.Revoked, want.Revoked)
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		if f := gv.Type().Field(i); f.IsExported() && !namedField(f.Name) {
			g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
			field(f.Name, reflect.DeepEqual(g, w), g, w)
		}
	}
	if len(d) > 0 {
		t.Errorf("%s (session %s):\n\t%s", what, want.ID, strings.Join(d, "\n\t"))
	}
}

// fmtValue formats a field for a failure message; hashes are shortened.
func fmtValue(v any) string {
	switch v := v.(type) {
	case []byte:
		if len(v) > 6 {
			return fmt.Sprintf("%x…", v[:6])
		}
		return fmt.Sprintf("%x", v)
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case string:
		return fmt.Sprintf("%q", v)
	}
	return fmt.Sprintf("%v", v)
}

// scribble changes every slice and map reachable from rec in place.
func scribble(rec *session.Record) {
	for _, b := range [][]byte{rec.RefreshHash, rec.PrevHash} {
		if len(b) > 0 {
			b[0] ^= 0xff
		}
	}
	if len(rec.Identity.Roles) > 0 {
		rec.Identity.Roles[0] = "root"
	}
	if groups, ok := rec.Identity.Claims["groups"].([]any); ok && len(groups) > 0 {
		groups[0] = "wheel"
	}
	if rec.Identity.Claims != nil {
		rec.Identity.Claims["team"] = "red"
	}
}

// sub is h for a subtest of its test: the same store, reporting to t.
func (h *harness) sub(t *testing.T) *harness { return &harness{t: t, s: h.s, tokens: h.tokens} }

// rotateErr requires Rotate(c.id, r) to fail with want.
func (h *harness) rotateErr(c *chain, r session.Rotation, want error) {
	h.t.Helper()
	_, out, err := h.s.Rotate(h.t.Context(), c.id, r)
	if !errors.Is(err, want) {
		h.t.Errorf("Rotate(%s at %v) = %s, %v; want error %v", c.id, r.Now, outcome(out), err, want)
	}
}

// requireRevoked requires c to be stored as before but revoked, and its
// current token to be refused as revoked at now.
func (h *harness) requireRevoked(c *chain, before session.Record, now time.Time) {
	h.t.Helper()
	want := before
	want.Revoked = true
	checkRecord(h.t, "Get after revocation", h.get(c.id), want)
	h.rotateErr(c, h.rotation(c, c.last(), now), session.ErrSessionRevoked)
}

// checkList requires ListUser(subject, now) to return exactly want, in any
// order.
func (h *harness) checkList(subject string, now time.Time, want ...session.Record) {
	h.t.Helper()
	got, err := h.s.ListUser(h.t.Context(), subject, now)
	if err != nil {
		h.t.Fatalf("ListUser(%s, %v): %v", subject, now, err)
	}
	byID := func(a, b session.Record) int { return cmp.Compare(a.ID, b.ID) }
	slices.SortFunc(got, byID)
	want = slices.Clone(want)
	slices.SortFunc(want, byID)
	ids := func(recs []session.Record) []string {
		var out []string
		for _, r := range recs {
			out = append(out, r.ID)
		}
		return out
	}
	if !slices.Equal(ids(got), ids(want)) {
		h.t.Errorf("ListUser(%s, %v) = sessions %q, want %q", subject, now, ids(got), ids(want))
		return
	}
	for i := range got {
		checkRecord(h.t, "ListUser("+subject+")", got[i], want[i])
	}
}

// outcome names o for failure messages.
func outcome(o session.Outcome) string {
	switch o {
	case session.Rotated:
		return "Rotated"
	case session.Reissued:
		return "Reissued"
	case 0:
		return "no outcome"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}
