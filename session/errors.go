package session

import "errors"

// Sentinel errors returned (wrapped) by verification and the transport.
// Match them with errors.Is. Every token rejection matches ErrInvalidToken
// or ErrTokenExpired, and, where it helps, a more specific sentinel too.
var (
	// ErrNoCredentials means the request carried neither a bearer token
	// nor a session cookie.
	ErrNoCredentials = errors.New("session: no credentials")
	// ErrTokenExpired means the token was valid but its exp has passed
	// (beyond the leeway). Refreshing can help.
	ErrTokenExpired = errors.New("session: token expired")
	// ErrInvalidToken means the token is not acceptable: malformed, badly
	// signed, wrong issuer or audience, not yet valid, too large.
	// Refreshing cannot help.
	ErrInvalidToken = errors.New("session: invalid token")

	// ErrMalformedToken: not a compact JWS, bad base64 or JSON.
	ErrMalformedToken = errors.New("session: malformed token")
	// ErrTokenTooLarge: longer than Tokens.MaxTokenBytes.
	ErrTokenTooLarge = errors.New("session: token too large")
	// ErrUnknownKey: the kid names no configured key (or is missing).
	ErrUnknownKey = errors.New("session: unknown signing key")
	// ErrAlgorithmMismatch: alg is not the algorithm of the key named by
	// kid (this includes "none").
	ErrAlgorithmMismatch = errors.New("session: algorithm does not match key")
	// ErrBadSignature: the signature does not verify.
	ErrBadSignature = errors.New("session: bad signature")
	// ErrNotYetValid: nbf (or iat) is in the future beyond the leeway.
	ErrNotYetValid = errors.New("session: token not valid yet")
	// ErrWrongIssuer and ErrWrongAudience: iss or aud do not match.
	ErrWrongIssuer   = errors.New("session: wrong issuer")
	ErrWrongAudience = errors.New("session: wrong audience")
	// ErrMissingClaim: a required claim (exp, sub, sid, jti, iat) is absent.
	ErrMissingClaim = errors.New("session: required claim missing")

	// ErrMalformedAuthorization: an Authorization header says Bearer but
	// is not one well-formed bearer token (RFC 6750 section 2.1), or the
	// request has several Authorization headers.
	ErrMalformedAuthorization = errors.New("session: malformed Authorization header")
	// ErrDuplicateCookie: more than one valid session cookie of our name.
	ErrDuplicateCookie = errors.New("session: several valid session cookies")
)
