package boltstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/session"
)

// recordVersion is the V of the storedRecord encoding this code writes.
const recordVersion = 1

// storedRecord is how a session.Record is kept: JSON, with a version so a
// later encoding can be told apart. Times keep their nanoseconds and zone
// offset (RFC 3339); hashes are base64. Claims are JSON values, as they
// are in access tokens: a claim given as a Go int or []string reads back
// as float64 or []any.
type storedRecord struct {
	V              int            `json:"v"`
	ID             string         `json:"id"`
	Subject        string         `json:"sub"`
	Email          string         `json:"email,omitempty"`
	Roles          []string       `json:"roles,omitempty"`
	Claims         map[string]any `json:"claims,omitempty"`
	CreatedAt      time.Time      `json:"created"`
	RefreshedAt    time.Time      `json:"refreshed"`
	IdleExpiresAt  time.Time      `json:"idle_expires"`
	ExpiresAt      time.Time      `json:"expires"`
	UserAgent      string         `json:"ua,omitempty"`
	IP             string         `json:"ip,omitempty"`
	Source         string         `json:"source,omitempty"`
	SourceSecret   []byte         `json:"source_secret,omitempty"`
	RefreshHash    []byte         `json:"hash,omitempty"`
	PrevHash       []byte         `json:"prev_hash,omitempty"`
	PrevValidUntil time.Time      `json:"prev_valid_until"`
	Revoked        bool           `json:"revoked,omitempty"`
}

// encodeRecord returns the stored form of r. The encoding copies every
// slice and map, so the store never shares memory with its caller.
func encodeRecord(r *session.Record) ([]byte, error) {
	b, err := json.Marshal(storedRecord{
		V:              recordVersion,
		ID:             r.ID,
		Subject:        r.Identity.Subject,
		Email:          r.Identity.Email,
		Roles:          r.Identity.Roles,
		Claims:         r.Identity.Claims,
		CreatedAt:      r.CreatedAt,
		RefreshedAt:    r.RefreshedAt,
		IdleExpiresAt:  r.IdleExpiresAt,
		ExpiresAt:      r.ExpiresAt,
		UserAgent:      r.UserAgent,
		IP:             r.IP,
		Source:         r.Source,
		SourceSecret:   r.SourceSecret,
		RefreshHash:    r.RefreshHash,
		PrevHash:       r.PrevHash,
		PrevValidUntil: r.PrevValidUntil,
		Revoked:        r.Revoked,
	})
	if err != nil {
		return nil, fmt.Errorf("encoding session %s: %w", r.ID, err)
	}
	return b, nil
}

// decodeRecord parses a stored record into a new Record that shares
// nothing with b (which bbolt owns only for the transaction).
func decodeRecord(b []byte) (session.Record, error) {
	var s storedRecord
	if err := json.Unmarshal(b, &s); err != nil {
		return session.Record{}, fmt.Errorf("decoding session record: %w", err)
	}
	if s.V != recordVersion {
		return session.Record{}, fmt.Errorf("session %s: record version %d, this code reads %d", s.ID, s.V, recordVersion)
	}
	return session.Record{
		ID: s.ID,
		Identity: session.Identity{
			Subject: s.Subject,
			Email:   s.Email,
			Roles:   s.Roles,
			Claims:  s.Claims,
		},
		CreatedAt:      s.CreatedAt,
		RefreshedAt:    s.RefreshedAt,
		IdleExpiresAt:  s.IdleExpiresAt,
		ExpiresAt:      s.ExpiresAt,
		UserAgent:      s.UserAgent,
		IP:             s.IP,
		Source:         s.Source,
		SourceSecret:   s.SourceSecret,
		RefreshHash:    s.RefreshHash,
		PrevHash:       s.PrevHash,
		PrevValidUntil: s.PrevValidUntil,
		Revoked:        s.Revoked,
	}, nil
}

// storedRevocation is how a session.Revocation is kept.
type storedRevocation struct {
	V      int       `json:"v"`
	Kind   string    `json:"kind"`
	ID     string    `json:"id"`
	Before time.Time `json:"before"`
	Until  time.Time `json:"until"`
}

// encodeRevocation returns the stored form of r.
func encodeRevocation(r session.Revocation) ([]byte, error) {
	b, err := json.Marshal(storedRevocation{V: recordVersion, Kind: string(r.Kind), ID: r.ID, Before: r.Before, Until: r.Until})
	if err != nil {
		return nil, fmt.Errorf("encoding %s revocation %s: %w", r.Kind, r.ID, err)
	}
	return b, nil
}

// decodeRevocation parses a stored revocation.
func decodeRevocation(b []byte) (session.Revocation, error) {
	var s storedRevocation
	if err := json.Unmarshal(b, &s); err != nil {
		return session.Revocation{}, fmt.Errorf("decoding revocation: %w", err)
	}
	if s.V != recordVersion {
		return session.Revocation{}, fmt.Errorf("%s revocation %s: version %d, this code reads %d", s.Kind, s.ID, s.V, recordVersion)
	}
	return session.Revocation{Kind: session.RevocationKind(s.Kind), ID: s.ID, Before: s.Before, Until: s.Until}, nil
}
