package cors

import (
	"net/http"
	"strings"
)

// Decorate sets the CORS headers of an actual response — proxied, or the
// gateway's own, errors and redirects included — to a request whose
// Origin header is origin ("" when it had none). Call it once per
// response, before the header is written.
//
// Unless keep_upstream_headers is set, it first deletes every
// Access-Control-* header already in h (the upstream's). With it set, a
// response that already has Access-Control-Allow-Origin is left to the
// app. Then, if origin is allowed, it sets exactly one
// Access-Control-Allow-Origin equal to origin (never "*"),
// Access-Control-Allow-Credentials: true when configured, and
// Access-Control-Expose-Headers. When the Policy is enabled, it adds
// Origin to Vary whatever the origin, unless Vary already lists it (in any
// case) or is "*".
func (p *Policy) Decorate(h http.Header, origin string) {
	if p.keep {
		if _, app := h["Access-Control-Allow-Origin"]; app {
			if p.Enabled() {
				addVary(h, "Origin")
			}
			return
		}
	} else {
		stripAccessControl(h)
	}
	if !p.Enabled() {
		return
	}
	if p.Allowed(origin) {
		// One backing array for every value, as net/http's Header.Clone
		// does; the three-index slices keep an append to one header from
		// overwriting the next.
		vals := make([]string, 3)
		vals[0], vals[1], vals[2] = origin, "true", p.exposed
		h["Access-Control-Allow-Origin"] = vals[0:1:1]
		if p.credentials {
			h["Access-Control-Allow-Credentials"] = vals[1:2:2]
		}
		if p.exposed != "" {
			h["Access-Control-Expose-Headers"] = vals[2:3:3]
		}
	}
	addVary(h, "Origin")
}

// stripAccessControl deletes every Access-Control-* header from h, in any
// spelling of the name.
func stripAccessControl(h http.Header) {
	const prefix = "Access-Control-"
	for k := range h {
		if len(k) >= len(prefix) && strings.EqualFold(k[:len(prefix)], prefix) {
			delete(h, k)
		}
	}
}

// addVary adds name to h's Vary unless a Vary value already lists it
// (field names are case-insensitive) or is "*", which covers everything
// (RFC 9110 section 12.5.5). Existing values are kept.
func addVary(h http.Header, name string) {
	for _, v := range h["Vary"] {
		for v != "" {
			var field string
			field, v, _ = strings.Cut(v, ",")
			field = strings.TrimSpace(field)
			if field == "*" || strings.EqualFold(field, name) {
				return
			}
		}
	}
	h["Vary"] = append(h["Vary"], name)
}
