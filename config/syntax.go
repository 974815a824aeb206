package config

import (
	"fmt"
	"slices"
	"strings"
)

// IsToken reports whether s is an RFC 9110 token (section 5.6.2), the
// grammar of header field names, methods and cookie names (RFC 6265
// section 4.1.1 defers to the same token rule).
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// isTokenChar reports whether c is a tchar.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isHostname reports whether s is a DNS host name (or an IPv4 address,
// which has the same shape): dot-separated labels of letters, digits, "-"
// and "_", none empty or longer than 63 bytes, none starting or ending
// with "-". Underscores are accepted because internal names use them.
func isHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := range len(label) {
			c := label[i]
			ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
			if !ok {
				return false
			}
		}
	}
	return true
}

// hasControl reports whether s contains an ASCII control character or
// space, none of which belongs in a path, cookie attribute or name.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f })
}

// FoldHeader maps every spelling of a header name to one form: lower case,
// with "_" and "." read as "-". Proxies and CGI-style frameworks treat
// X-Auth-User and X_Auth_User as the same header, so the gateway (package
// proxy) strips and compares names in this form, and so must validation.
func FoldHeader(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '_' || r == '.':
			return '-'
		case 'A' <= r && r <= 'Z':
			return r + ('a' - 'A')
		}
		return r
	}, name)
}

// oneOf returns the fix for a value that must be one of allowed: a
// did-you-mean when a choice is close, else the list.
func oneOf(got string, allowed ...string) string {
	if s := suggest(got, allowed); s != "" {
		return fmt.Sprintf("did you mean %q? The choices are %s", s, strings.Join(allowed, ", "))
	}
	return "use one of " + strings.Join(allowed, ", ")
}

// suggest returns the candidate closest to word if it is close enough to
// be a likely typo, else "". Comparison ignores case.
func suggest(word string, candidates []string) string {
	w := strings.ToLower(word)
	best, bestDist := "", -1
	for _, c := range candidates {
		d := editDistance(w, strings.ToLower(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	// Allow one edit per three characters, at least one and at most three:
	// "same_sit" finds same_site, "ttl" does not find "url".
	limit := min(max(len(w)/3, 1), 3)
	if bestDist < 0 || bestDist > limit || bestDist >= len(w) {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and transpositions of adjacent
// bytes each cost one.
func editDistance(a, b string) int {
	// Three rows suffice: the transposition looks two rows back.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// sortedKeys returns m's keys in order, so that problems are reported in
// a stable order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
