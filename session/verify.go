package session

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
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
//  6. the payload must be strict base64url of well-formed JSON (one value,
//     nothing after it) -> ErrMalformedToken; the signature is checked over
//     the compact input -> ErrBadSignature;
//  7. only a signed payload is parsed: a JSON object without repeated or
//     case-variant claim names, each claim of its type -> else
//     ErrMalformedToken;
//  8. then the claims: iss -> ErrWrongIssuer, aud -> ErrWrongAudience,
//     exp/iat/sub/sid/jti (and iss/aud) present -> ErrMissingClaim, nbf and
//     iat not in the future -> ErrNotYetValid, exp not passed ->
//     ErrTokenExpired.
//
// Nothing attacker-chosen beyond the header is decoded into values before
// the signature has been checked with a key of ours (json.Valid only
// scans).
//
// This is the hot path of every request: the header and payload are
// scanned once each (scanObject), claims land in a struct, and the only
// allocations are the decoded segments and the Principal.
func (t *Tokens) Verify(raw string) (*Principal, error) {
	if len(raw) > t.maxBytes {
		return nil, fmt.Errorf("%w: %w: %d bytes, limit %d", ErrInvalidToken, ErrTokenTooLarge, len(raw), t.maxBytes)
	}
	headerSeg, payloadSeg, sigSeg, err := splitCompact(raw)
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

	payload, err := base64.RawURLEncoding.Strict().DecodeString(payloadSeg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w: payload: %w", ErrInvalidToken, ErrMalformedToken, err)
	}
	if !json.Valid(payload) {
		return nil, fmt.Errorf("%w: %w: payload: %w", ErrInvalidToken, ErrMalformedToken, errInvalidJSON)
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(sigSeg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w: signature: %w", ErrInvalidToken, ErrMalformedToken, err)
	}
	// key.method is the one algorithm of this key, equal to h.Alg (checked
	// above): the header cannot choose the verification method.
	if err := key.method.Verify(raw[:len(headerSeg)+1+len(payloadSeg)], sig, key.verificationKey()); err != nil {
		return nil, fmt.Errorf("%w: %w: %w", ErrInvalidToken, ErrBadSignature, err)
	}

	var c accessClaims
	if err := c.decode(payload, t.extraNames); err != nil {
		return nil, fmt.Errorf("%w: %w: payload: %w", ErrInvalidToken, ErrMalformedToken, err)
	}
	if err := t.checkClaims(&c); err != nil {
		return nil, err
	}
	return c.principal(), nil
}

// checkClaims applies the claim rules in order of precedence: when a
// token has several claim problems, the first of these is reported, and
// ErrTokenExpired only when nothing else is wrong (an expired token is
// ours and only old, so a refresh can help; a wrong one cannot be
// rescued). Times are compared with the configured leeway.
func (t *Tokens) checkClaims(c *accessClaims) error {
	if c.Issuer != "" && c.Issuer != t.issuer {
		return fmt.Errorf("%w: %w: iss %.64q", ErrInvalidToken, ErrWrongIssuer, c.Issuer)
	}
	if c.Audience != "" && c.Audience != t.audience {
		return fmt.Errorf("%w: %w: aud %.64q", ErrInvalidToken, ErrWrongAudience, c.Audience)
	}
	if c.Issuer == "" || c.Audience == "" || c.ExpiresAt == nil || c.IssuedAt == nil ||
		c.Subject == "" || c.SessionID == "" || c.ID == "" {
		return fmt.Errorf("%w: %w: %w", ErrInvalidToken, ErrMissingClaim, c.missing())
	}
	now := t.now()
	if c.NotBefore != nil && now.Before(c.NotBefore.Add(-t.leeway)) {
		return fmt.Errorf("%w: %w: nbf is %v", ErrInvalidToken, ErrNotYetValid, c.NotBefore.UTC())
	}
	if now.Before(c.IssuedAt.Add(-t.leeway)) {
		return fmt.Errorf("%w: %w: iat is %v", ErrInvalidToken, ErrNotYetValid, c.IssuedAt.UTC())
	}
	if !now.Before(c.ExpiresAt.Add(t.leeway)) {
		// Deliberately not ErrInvalidToken: the token is ours and only
		// old, so a refresh can help.
		return fmt.Errorf("%w: exp was %v", ErrTokenExpired, c.ExpiresAt.UTC())
	}
	return nil
}
