package session

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// accessTokenType is the typ header of Gatehouse access tokens (RFC 9068
// section 2.1). Only this exact spelling is accepted: the gateway verifies
// only tokens it minted, so "application/at+jwt" never occurs.
const accessTokenType = "at+jwt"

// joseHeader is the part of a JWS protected header Verify looks at.
type joseHeader struct {
	Alg, Kid, Typ string
	hasAlg        bool
	hasKid        bool
	// forbidden is the first header parameter present that Gatehouse
	// refuses to process (crit, b64, jku, jwk, x5u, x5c), or "".
	forbidden string
}

// knownHeaderParams are the header names whose case variants are rejected
// (an "ALG" beside "alg" means different things to different parsers).
var knownHeaderParams = [...]string{"alg", "kid", "typ", "cty", "crit", "b64", "jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256"}

// splitCompact splits a compact JWS into its three parts, checking each is
// base64url without padding (RFC 7515 section 7.1), header and payload
// non-empty. It does not
// decode the payload or the signature: the payload is not parsed until the
// header names a key Gatehouse has, with that key's algorithm.
func splitCompact(raw string) (header, payload, sig string, err error) {
	header, rest, ok1 := strings.Cut(raw, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sig, ".") {
		return "", "", "", fmt.Errorf("%w: %w: not three dot-separated parts", ErrInvalidToken, ErrMalformedToken)
	}
	// An empty signature is well-formed (an unsecured JWS, RFC 7519
	// section 6.1): it fails later as alg "none" (ErrAlgorithmMismatch) or
	// as a bad signature, which says more than "malformed".
	if header == "" || payload == "" || !isBase64URL(header) || !isBase64URL(payload) || !isBase64URL(sig) {
		return "", "", "", fmt.Errorf("%w: %w: a part is empty or not base64url", ErrInvalidToken, ErrMalformedToken)
	}
	return header, payload, sig, nil
}

// isBase64URL reports whether s uses only the unpadded base64url alphabet
// and has a length an encoding can have (not 1 mod 4).
func isBase64URL(s string) bool {
	if len(s)%4 == 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// parseHeader decodes the base64url header segment into a joseHeader,
// rejecting bad base64 (strict: no stray trailing bits), non-object JSON,
// repeated (RFC 7515 section 4: reject, or keep the last; we reject) or
// case-variant member names, and non-string alg/kid/typ.
func parseHeader(seg string) (joseHeader, error) {
	var h joseHeader
	data, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		return h, fmt.Errorf("%w: %w: header: %w", ErrInvalidToken, ErrMalformedToken, err)
	}
	if !json.Valid(data) {
		return h, fmt.Errorf("%w: %w: header: %w", ErrInvalidToken, ErrMalformedToken, errInvalidJSON)
	}
	err = scanObject(string(data), func(key, v string) error {
		if variantOf(key, knownHeaderParams[:]) {
			return fmt.Errorf("%w: %q", errDuplicateMember, key)
		}
		switch key {
		case "alg":
			h.hasAlg = true
			return headerString(v, key, &h.Alg)
		case "kid":
			h.hasKid = true
			return headerString(v, key, &h.Kid)
		case "typ":
			return headerString(v, key, &h.Typ)
		case "crit", "b64", "jku", "jwk", "x5u", "x5c":
			if h.forbidden == "" {
				h.forbidden = key
			}
		}
		return nil
	})
	if err != nil {
		return h, fmt.Errorf("%w: %w: header: %w", ErrInvalidToken, ErrMalformedToken, err)
	}
	return h, nil
}

// headerString decodes a JSON string (and only a string: null or a number
// is an error) into dst.
func headerString(v, key string, dst *string) error {
	if v[0] != '"' {
		return fmt.Errorf("header %q is not a string", key)
	}
	s, err := unquote(v)
	if err != nil {
		return err
	}
	*dst = s
	return nil
}

// check applies the header rules that need no key: typ must be at+jwt
// (RFC 9068 section 4, RFC 8725 section 3.11) and no parameter that would
// make the token depend on something other than our key set may appear.
// crit (RFC 7515 section 4.1.11) names extensions we do not implement, so
// the token MUST be rejected; b64 (RFC 7797) changes what is signed;
// jku, jwk, x5u and x5c point at keys and MUST NOT be followed or trusted.
func (h *joseHeader) check() error {
	if h.Typ != accessTokenType {
		return fmt.Errorf("%w: typ %q is not %q", ErrInvalidToken, h.Typ, accessTokenType)
	}
	if h.forbidden != "" {
		return fmt.Errorf("%w: header parameter %q is not accepted", ErrInvalidToken, h.forbidden)
	}
	return nil
}
