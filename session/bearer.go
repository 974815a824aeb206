package session

import (
	"fmt"
	"net/http"
	"strings"
)

// BearerToken extracts the bearer token from the request's Authorization
// header (RFC 6750 section 2.1).
//
// No Authorization header, or only other schemes (Basic, Digest, ...),
// gives found == false and no error: those credentials are the
// application's business and pass through. The scheme name is matched
// case-insensitively (RFC 7235 section 2.1). A Bearer header MUST be
// exactly one token68 ([A-Za-z0-9-._~+/]+ then "="*), optionally surrounded
// by spaces or tabs; anything else (CR and LF included), and any request with several Authorization
// header lines of which one is Bearer, is ErrMalformedAuthorization, so
// that the gateway and the upstream can never disagree about which
// credential the request carries.
func BearerToken(h http.Header) (token string, found bool, err error) {
	lines := h.Values("Authorization")
	if len(lines) == 0 {
		return "", false, nil
	}
	bearer := -1
	for i, line := range lines {
		if isBearerScheme(line) {
			bearer = i
			break
		}
	}
	switch {
	case bearer < 0:
		return "", false, nil
	case len(lines) > 1:
		return "", true, fmt.Errorf("%w: %d Authorization headers", ErrMalformedAuthorization, len(lines))
	}
	// isBearerScheme guarantees the line starts with "bearer" (any case)
	// followed by the end or a space or tab.
	tok := strings.Trim(strings.Trim(lines[0], " \t")[len("Bearer"):], " \t")
	if !isToken68(tok) {
		return "", true, fmt.Errorf("%w: Bearer credentials are not one token68", ErrMalformedAuthorization)
	}
	return tok, true, nil
}

// isBearerScheme reports whether the credentials in line use the Bearer
// scheme: the first word, up to a space or tab, is "Bearer" in any case.
func isBearerScheme(line string) bool {
	line = strings.Trim(line, " \t")
	const scheme = "Bearer"
	if len(line) < len(scheme) || !strings.EqualFold(line[:len(scheme)], scheme) {
		return false
	}
	return len(line) == len(scheme) || line[len(scheme)] == ' ' || line[len(scheme)] == '\t'
}

// isToken68 reports whether s is a non-empty token68 (RFC 7235 section
// 2.1): 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isToken68(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}
