package proxy

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
)

// identityHeaders strips client-sent identity headers and sets verified
// ones. It is compiled once from config.
//
// Stripping compares header names in one folded form — lower case, with
// "_" and "." read as "-" — because proxies and frameworks disagree about
// which spellings name the same header (CGI and many app servers turn
// X-Auth-User and X_Auth_User into the same variable). A client therefore
// cannot smuggle X_Auth_User, x-auth-user or X.Auth.User past the gateway.
type identityHeaders struct {
	user, email, roles, sid string
	grant                   string // canonical name of the upstream grant header
	claims                  []claimHeader
	names                   map[string]bool // folded names to strip
	prefixes                []string        // folded prefixes to strip
}

type claimHeader struct{ claim, header string }

// newIdentityHeaders compiles the header settings. The upstream grant
// header, and the owned headers (the assertion header), are stripped from
// client requests like identity headers: only the upstream may send the
// grant, only the gateway the assertion.
func newIdentityHeaders(c config.IdentityHeaders, grantHeader string, owned ...string) *identityHeaders {
	ih := &identityHeaders{
		user:  http.CanonicalHeaderKey(c.User),
		email: http.CanonicalHeaderKey(c.Email),
		roles: http.CanonicalHeaderKey(c.Roles),
		sid:   http.CanonicalHeaderKey(c.Session),
		names: map[string]bool{},
	}
	ih.grant = http.CanonicalHeaderKey(grantHeader)
	for claim, h := range c.Claims {
		ih.claims = append(ih.claims, claimHeader{claim, http.CanonicalHeaderKey(h)})
	}
	slices.SortFunc(ih.claims, func(a, b claimHeader) int { return strings.Compare(a.header, b.header) })
	for _, n := range slices.Concat([]string{c.User, c.Email, c.Roles, c.Session}, c.Strip, []string{grantHeader}, owned) {
		if n != "" {
			ih.names[fold(n)] = true
		}
	}
	for _, ch := range ih.claims {
		ih.names[fold(ch.header)] = true
	}
	for _, p := range c.StripPrefixes {
		ih.prefixes = append(ih.prefixes, fold(p))
	}
	return ih
}

// fold maps every spelling of a header name to one form; validation uses
// the same function, so what config accepts as distinct names the proxy
// also treats as distinct.
func fold(name string) string { return config.FoldHeader(name) }

// isIdentity reports whether a header name, in any spelling, is one the
// gateway owns. It runs for every header of every request, so an ASCII
// name (every valid one) is folded into a stack buffer and looked up
// without allocating; anything else takes fold itself.
func (ih *identityHeaders) isIdentity(name string) bool {
	var buf [128]byte
	if len(name) > len(buf) {
		return ih.isFoldedIdentity(fold(name))
	}
	b := buf[:len(name)]
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 0x80: // fold maps runes: leave non-ASCII to it
			return ih.isFoldedIdentity(fold(name))
		case c == '_' || c == '.':
			c = '-'
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		b[i] = c
	}
	if ih.names[string(b)] { // no allocation: the compiler looks up in place
		return true
	}
	for _, p := range ih.prefixes {
		if len(b) >= len(p) && string(b[:len(p)]) == p {
			return true
		}
	}
	return false
}

// isFoldedIdentity is isIdentity for a name already folded.
func (ih *identityHeaders) isFoldedIdentity(f string) bool {
	if ih.names[f] {
		return true
	}
	for _, p := range ih.prefixes {
		if strings.HasPrefix(f, p) {
			return true
		}
	}
	return false
}

// strip removes every header the gateway owns from h.
func (ih *identityHeaders) strip(h http.Header) {
	for name := range h {
		if ih.isIdentity(name) {
			delete(h, name)
		}
	}
}

// inject sets the verified identity on h. It must run after strip. Every
// configured header is set, empty where the principal has no value, so a
// proxy that copies a fixed list of headers (forward-auth) never finds one
// missing.
func (ih *identityHeaders) inject(h http.Header, p *session.Principal) {
	// One backing array for every value: one allocation, not one per
	// header.
	vals := make([]string, 0, 4+len(ih.claims))
	set := func(name, v string) {
		if name != "" {
			vals = append(vals, headerValue(v))
			h[name] = vals[len(vals)-1 : len(vals) : len(vals)]
		}
	}
	set(ih.user, p.Subject)
	set(ih.email, p.Email)
	set(ih.roles, strings.Join(p.Roles, ","))
	set(ih.sid, p.SessionID)
	for _, ch := range ih.claims {
		v, _ := p.Claim(ch.claim)
		set(ch.header, claimString(v))
	}
}

// claimString renders a claim for a header: scalars as text, lists
// comma-separated.
func claimString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []string:
		return strings.Join(v, ",")
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = claimString(e)
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}

// headerValue removes the bytes a header value must not carry (CR, LF,
// NUL and other controls except tab), so a claim can never split a
// header or make the upstream request invalid.
func headerValue(v string) string {
	if strings.IndexFunc(v, isCtl) < 0 {
		return v
	}
	return strings.Map(func(r rune) rune {
		if isCtl(r) {
			return -1
		}
		return r
	}, v)
}

func isCtl(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }
