package recipe

import (
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/config"
)

// separators are the characters apps and proxies read as "-" in a header
// name (CGI-style frameworks fold "_" and "." into it); config.FoldHeader
// treats them alike, so a client may use any of them.
const separators = "-_."

// covered reports whether a strip prefix covers every spelling of name.
func covered(name string, prefixes []string) bool {
	f := config.FoldHeader(name)
	for _, p := range prefixes {
		if strings.HasPrefix(f, config.FoldHeader(p)) {
			return true
		}
	}
	return false
}

// spellings returns every spelling of name with each separator replaced
// by each of "-", "_" and ".", in the canonical form Go's HTTP server
// (and so Caddy) gives header names: a name with "_" or "." keeps them and
// is canonicalised around "-" only (X_Auth_User is X_auth_user).
func spellings(name string) []string {
	out := []string{""}
	for _, c := range name {
		var next []string
		for _, s := range out {
			if strings.ContainsRune(separators, c) {
				for _, sep := range separators {
					next = append(next, s+string(sep))
				}
			} else {
				next = append(next, s+string(c))
			}
		}
		out = next
	}
	for i, s := range out {
		out[i] = http.CanonicalHeaderKey(s)
	}
	return slices.Compact(out)
}

// caddyStrip returns the request_header deletions for Caddy: each prefix
// as a wildcard in every spelling, then each name no prefix covers, in
// every spelling. Caddy matches these against Go's canonical names, so the
// set covers mixed spellings too (X-Auth_user, x_AUTH-user).
func caddyStrip(prefixes, names []string) []string {
	var out []string
	for _, p := range prefixes {
		for _, s := range spellings(p) {
			out = append(out, s+"*")
		}
	}
	for _, n := range names {
		out = append(out, spellings(n)...)
	}
	return dedupe(out)
}

// traefikStrip returns a case-insensitive regular expression matching
// every spelling of the prefixes and of the names no prefix covers, for
// Traefik's authResponseHeadersRegex.
func traefikStrip(prefixes, names []string) string {
	pattern := func(s string) string {
		var b strings.Builder
		for _, c := range strings.ToLower(s) {
			if strings.ContainsRune(separators, c) {
				b.WriteString("[-_.]")
			} else {
				b.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		return b.String()
	}
	var alts []string
	for _, p := range prefixes {
		alts = append(alts, pattern(p))
	}
	for _, n := range names {
		alts = append(alts, pattern(n)+"$")
	}
	alts = dedupe(alts)
	switch len(alts) {
	case 0:
		return "^$" // nothing to strip: matches no header name
	case 1:
		return "(?i)^" + alts[0]
	}
	return "(?i)^(?:" + strings.Join(alts, "|") + ")"
}

// dedupe removes repeats, keeping the first of each.
func dedupe(s []string) []string {
	seen := map[string]bool{}
	return slices.DeleteFunc(s, func(v string) bool {
		if seen[v] {
			return true
		}
		seen[v] = true
		return false
	})
}
