package redisstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/session"
)

// The fields of a session HASH. The scripts in scripts.go use the same
// names. Times are integer milliseconds since the Unix epoch; hashes are
// the raw bytes (Redis strings and Lua strings are binary-safe).
const (
	fID        = "id"
	fSubject   = "sub"   // Identity.Subject, for RevokeUser's ownership check
	fIdentity  = "ident" // JSON of the whole Identity
	fCreated   = "created"
	fRefreshed = "refreshed"
	fIdle      = "idle"
	fExpires   = "exp"
	fUserAgent = "ua"
	fIP        = "ip"
	fSource    = "src"
	fSrcSecret = "ssec"
	fCurrent   = "cur"
	fPrev      = "prev"
	fPrevUntil = "prevuntil"
	fRevoked   = "rev" // "1" when revoked
)

// errCorrupt reports a stored session that cannot be decoded.
var errCorrupt = errors.New("redisstore: corrupt session record")

// millis is t in the form the store keeps: Unix milliseconds. Stored times
// have millisecond precision; the zero time is kept as the zero time.
func millis(t time.Time) int64 { return t.UnixMilli() }

// zeroMillis is time.Time{}.UnixMilli(): the zero time, in milliseconds.
const zeroMillis = -62135596800000

// fromMillis is the inverse of millis, in UTC.
func fromMillis(ms int64) time.Time {
	if ms == zeroMillis {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// fmtMillis is millis as a decimal string, the form passed to scripts.
func fmtMillis(t time.Time) string { return strconv.FormatInt(millis(t), 10) }

// encodeRecord returns rec as HSET field, value pairs.
func encodeRecord(rec session.Record) ([]any, error) {
	ident, err := json.Marshal(rec.Identity)
	if err != nil {
		return nil, fmt.Errorf("encode identity: %w", err)
	}
	revoked := "0"
	if rec.Revoked {
		revoked = "1"
	}
	return []any{
		fID, rec.ID,
		fSubject, rec.Identity.Subject,
		fIdentity, ident,
		fCreated, fmtMillis(rec.CreatedAt),
		fRefreshed, fmtMillis(rec.RefreshedAt),
		fIdle, fmtMillis(rec.IdleExpiresAt),
		fExpires, fmtMillis(rec.ExpiresAt),
		fUserAgent, rec.UserAgent,
		fIP, rec.IP,
		fSource, rec.Source,
		fSrcSecret, rec.SourceSecret,
		fCurrent, rec.RefreshHash,
		fPrev, rec.PrevHash,
		fPrevUntil, fmtMillis(rec.PrevValidUntil),
		fRevoked, revoked,
	}, nil
}

// decodeRecord is the inverse of encodeRecord, from HGETALL. It returns
// fresh slices and maps: nothing is shared with another caller.
func decodeRecord(h map[string]string) (session.Record, error) {
	var rec session.Record
	if _, ok := h[fCurrent]; !ok {
		return rec, errCorrupt
	}
	rec.ID = h[fID]
	if err := json.Unmarshal([]byte(h[fIdentity]), &rec.Identity); err != nil {
		return session.Record{}, fmt.Errorf("%w: identity: %w", errCorrupt, err)
	}
	for _, t := range []struct {
		field string
		dst   *time.Time
	}{
		{fCreated, &rec.CreatedAt},
		{fRefreshed, &rec.RefreshedAt},
		{fIdle, &rec.IdleExpiresAt},
		{fExpires, &rec.ExpiresAt},
		{fPrevUntil, &rec.PrevValidUntil},
	} {
		ms, err := strconv.ParseInt(h[t.field], 10, 64)
		if err != nil {
			return session.Record{}, fmt.Errorf("%w: %s: %w", errCorrupt, t.field, err)
		}
		*t.dst = fromMillis(ms)
	}
	rec.UserAgent = h[fUserAgent]
	rec.IP = h[fIP]
	rec.Source = h[fSource]
	rec.SourceSecret = bytesOrNil(h[fSrcSecret])
	rec.RefreshHash = bytesOrNil(h[fCurrent])
	rec.PrevHash = bytesOrNil(h[fPrev])
	rec.Revoked = h[fRevoked] == "1"
	return rec, nil
}

// decodePairs turns a flat field, value, ... reply (HGETALL from Lua)
// into a map.
func decodePairs(vals []any) (map[string]string, error) {
	if len(vals)%2 != 0 {
		return nil, fmt.Errorf("%w: odd number of hash fields", errCorrupt)
	}
	h := make(map[string]string, len(vals)/2)
	for i := 0; i < len(vals); i += 2 {
		k, ok1 := vals[i].(string)
		v, ok2 := vals[i+1].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%w: unexpected reply types %T, %T", errCorrupt, vals[i], vals[i+1])
		}
		h[k] = v
	}
	return h, nil
}

func bytesOrNil(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}
