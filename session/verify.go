package session

import (
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Verify checks raw, an access token, and returns the Principal it proves.
//
// Every rejection matches ErrInvalidToken, or ErrTokenExpired for a token
// that is good in every way except that exp has passed (beyond the
// leeway); each also matches the specific sentinel. The checks run in this
// order, so a token with several defects reports the first:
//
//  1. size: longer than tokens.max_token_bytes -> ErrTokenTooLarge, before
//     any decoding;
//  2. structure: three non-empty base64url parts, a JSON object header
//     without repeated or case-variant members -> ErrMalformedToken;
//  3. typ must be "at+jwt" (RFC 9068); crit, b64, jku, jwk, x5u and x5c
//     are refused, never followed -> ErrInvalidToken;
//  4. kid must name a configured key -> ErrUnknownKey;
//  5. alg must equal that key's algorithm exactly, so "none", "NONE" or
//     HS256 against an asymmetric key (key confusion, RFC 8725 section
//     2.1) fail -> ErrAlgorithmMismatch;
//  6. the payload is decoded (a JSON object without repeated or
//     case-variant claim names -> else ErrMalformedToken) and the signature
//     checked -> ErrBadSignature;
//  7. only then the claims: iss -> ErrWrongIssuer, aud -> ErrWrongAudience,
//     exp/iat/sub/sid/jti (and iss/aud) present -> ErrMissingClaim, nbf and
//     iat not in the future -> ErrNotYetValid, exp not passed ->
//     ErrTokenExpired.
//
// The payload is not parsed until step 6: nothing attacker-chosen beyond
// the header is decoded for a token that names no key of ours.
func (t *Tokens) Verify(raw string) (*Principal, error) {
	if len(raw) > t.maxBytes {
		return nil, fmt.Errorf("%w: %w: %d bytes, limit %d", ErrInvalidToken, ErrTokenTooLarge, len(raw), t.maxBytes)
	}
	headerSeg, _, _, err := splitCompact(raw)
	if err != nil {
		return nil, err
	}
	h, err := parseHeader(headerSeg)
	if err != nil {
		return nil, err
	}
	if err := h.check(); err != nil {
		return nil, err
	}
	if !h.hasKid || h.Kid == "" {
		return nil, fmt.Errorf("%w: %w: no kid in header", ErrInvalidToken, ErrUnknownKey)
	}
	key, ok := t.keys.key(h.Kid)
	if !ok {
		// %.64q bounds what an attacker can put in our logs.
		return nil, fmt.Errorf("%w: %w: kid %.64q", ErrInvalidToken, ErrUnknownKey, h.Kid)
	}
	if !h.hasAlg || h.Alg != key.alg {
		return nil, fmt.Errorf("%w: %w: alg %.16q, key %q is %s", ErrInvalidToken, ErrAlgorithmMismatch, h.Alg, key.id, key.alg)
	}

	claims := &accessClaims{extraNames: t.extraNames}
	// The parser is pinned to key.alg (WithValidMethods), a second guard
	// behind the exact comparison above; the key func returns this one key.
	_, err = t.parsers[key.alg].ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) {
		return key.verificationKey(), nil
	})
	if err != nil {
		return nil, classify(err)
	}
	return claims.principal(), nil
}

// classify maps a jwt/v5 error to our sentinels. jwt/v5 verifies the
// signature before the claims and reports all failed claim checks joined,
// so the order of the cases below is the order of precedence among claim
// problems; ErrTokenExpired is only reported when nothing else is wrong.
func classify(err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return fmt.Errorf("%w: %w: %w", ErrInvalidToken, ErrMalformedToken, err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return fmt.Errorf("%w: %w: %w", ErrInvalidToken, ErrBadSignature, err)
	case !errors.Is(err, jwt.ErrTokenInvalidClaims):
		return fmt.Errorf("%w: %w", ErrInvalidToken, err)
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return fmt.Errorf("%w: %w: %w", ErrInvalidToken, ErrWrongIssuer, err)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return fmt.Errorf("%w: %w: %w", ErrInvalidToken, ErrWrongAudience, err)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing), errors.Is(err, errClaimAbsent):
		return fmt.Errorf("%w: %w: %w", ErrInvalidToken, ErrMissingClaim, err)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return fmt.Errorf("%w: %w: %w", ErrInvalidToken, ErrNotYetValid, err)
	case errors.Is(err, jwt.ErrTokenExpired):
		// Deliberately not ErrInvalidToken: the token is ours and only
		// old, so a refresh can help.
		return fmt.Errorf("%w: %w", ErrTokenExpired, err)
	default:
		return fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
}
