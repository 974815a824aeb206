package memstore

import (
	"bytes"
	"slices"

	"github.com/gatehouse/gatehouse/session"
)

// cloneRecord returns a deep copy of r: the store never shares a slice or
// map with its callers.
func cloneRecord(r session.Record) session.Record {
	r.Identity = cloneIdentity(r.Identity)
	r.RefreshHash = bytes.Clone(r.RefreshHash)
	r.PrevHash = bytes.Clone(r.PrevHash)
	r.SourceSecret = bytes.Clone(r.SourceSecret)
	return r
}

// cloneIdentity returns a deep copy of id.
func cloneIdentity(id session.Identity) session.Identity {
	id.Roles = slices.Clone(id.Roles)
	if id.Claims != nil {
		claims := make(map[string]any, len(id.Claims))
		for k, v := range id.Claims {
			claims[k] = cloneClaim(v)
		}
		id.Claims = claims
	}
	return id
}

// cloneClaim deep-copies a claim value. Claims are JSON values (they are
// copied into access tokens), whose composite types are map[string]any
// and []any; []string is copied too, as Go code building an Identity
// naturally uses it. Other values are immutable or, if some caller puts a
// mutable non-JSON value in Claims, shared.
func cloneClaim(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if v == nil {
			return v
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = cloneClaim(e)
		}
		return out
	case []any:
		if v == nil {
			return v
		}
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneClaim(e)
		}
		return out
	case []string:
		return slices.Clone(v)
	}
	return v
}
