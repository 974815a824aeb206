package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session/jwks"
)

// ErrIssuerUnavailable means a bearer token names a configured external
// issuer whose keys cannot be had right now (never fetched, or expired
// while the provider is down). It is an infrastructure error, like
// ErrStoreUnavailable, not a verdict on the token.
var ErrIssuerUnavailable = errors.New("session: external issuer keys unavailable")

// KeySource finds an external issuer's verification key by kid (an empty
// kid only when the issuer has exactly one key). *jwks.Set implements it;
// its errors are jwks.ErrUnknownKey, jwks.ErrKidRequired and
// jwks.ErrUnavailable.
type KeySource interface {
	Lookup(ctx context.Context, kid string) (jwks.Key, error)
}

// External verifies the access tokens of one external issuer. Build it
// with NewExternal; it is safe for concurrent use.
type External struct {
	issuer  string
	algs    []string
	keys    KeySource
	mapping *Mapping
	prefix  string
	life    time.Duration
	leeway  time.Duration
	maxLen  int // external_tokens.max_token_bytes
	now     func() time.Time
	parsers map[string]*jwt.Parser // one per accepted alg, pinned to it
	// id is the VerifierID: unique to this External, so a cached
	// verification is never served for another issuer entry (another
	// issuer, audience list, algorithm list or mapping, or a reload).
	id string
	// cacheFor bounds how long a verification stays in a VerifyCache
	// (external_tokens.refetch_interval), besides the token's exp: see
	// CacheUntil.
	cacheFor time.Duration
}

// NewExternal prepares the verifier of a validated issuer configuration.
func NewExternal(c config.Issuer, shared config.ExternalTokens, keys KeySource, now func() time.Time) *External {
	if now == nil {
		now = time.Now
	}
	e := &External{
		issuer: c.Issuer, algs: slices.Clone(c.Algorithms), keys: keys,
		mapping: NewMapping(c.Claims, c.Require), prefix: c.SubjectPrefix,
		life: shared.MaxLifetime, leeway: shared.Leeway, maxLen: shared.MaxTokenBytes, now: now,
		parsers:  make(map[string]*jwt.Parser, len(c.Algorithms)),
		cacheFor: shared.RefetchInterval,
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	e.id = "external:" + base64.RawURLEncoding.EncodeToString(nonce[:])
	for _, alg := range c.Algorithms {
		e.parsers[alg] = jwt.NewParser(
			jwt.WithValidMethods([]string{alg}),
			jwt.WithIssuer(c.Issuer),
			jwt.WithAudience(c.Audiences...), // any one of them
			jwt.WithLeeway(shared.Leeway),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithTimeFunc(now),
			jwt.WithStrictDecoding(),
		)
	}
	return e
}

// Issuer returns the iss this verifier accepts.
func (e *External) Issuer() string { return e.issuer }

// VerifierID identifies this verifier in a VerifyCache: distinct for
// every External built, so a token verified here is never served from
// the cache to another issuer entry.
func (e *External) VerifierID() string { return e.id }

// CacheUntil is how long a verification of a token expiring at exp may be
// served from a VerifyCache: until exp, but no longer than
// external_tokens.refetch_interval from now. The key that verified the
// token is trusted only while the issuer's JWKS lists it; a cached entry
// never asks the key set again, so the bound caps how long a token signed
// by a key the issuer has removed keeps working after the gateway's key
// set has dropped it (which happens at the set's next fetch: at most its
// cache lifetime, or at once on a fetch caused by an unknown kid).
func (e *External) CacheUntil(exp time.Time) time.Time {
	if b := e.now().Add(e.cacheFor); b.Before(exp) {
		return b
	}
	return exp
}

// verify checks raw, whose iss the caller has matched to e, and whose
// header it has parsed. The order: refused header parameters, alg among
// the pinned ones, the key (kid), alg against the key, then signature and
// claims (iss, aud, exp required, nbf, iat), the lifetime bound, and the
// claim mapping and requirements.
func (e *External) verify(ctx context.Context, raw string, h joseHeader) (*Principal, error) {
	if len(raw) > e.maxLen { // the router's limit may be tokens.max_token_bytes, if larger
		return nil, fmt.Errorf("%w: %w: %d bytes, limit %d", ErrInvalidToken, ErrTokenTooLarge, len(raw), e.maxLen)
	}
	if h.forbidden != "" {
		return nil, fmt.Errorf("%w: header parameter %q is not accepted", ErrInvalidToken, h.forbidden)
	}
	if !h.hasAlg || !slices.Contains(e.algs, h.Alg) {
		return nil, fmt.Errorf("%w: %w: alg %.16q is not accepted for issuer %s", ErrInvalidToken, ErrAlgorithmMismatch, h.Alg, e.issuer)
	}
	if h.hasKid && h.Kid == "" {
		return nil, fmt.Errorf("%w: %w: empty kid", ErrInvalidToken, ErrUnknownKey)
	}
	key, err := e.keys.Lookup(ctx, h.Kid)
	switch {
	case errors.Is(err, jwks.ErrUnavailable):
		return nil, fmt.Errorf("%w: %s: %w", ErrIssuerUnavailable, e.issuer, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %w: issuer %s: %w", ErrInvalidToken, ErrUnknownKey, e.issuer, err)
	}
	if !key.Accepts(h.Alg) {
		return nil, fmt.Errorf("%w: %w: alg %s, key %q is %s", ErrInvalidToken, ErrAlgorithmMismatch, h.Alg, key.ID, key.Kind())
	}
	claims := jwt.MapClaims{}
	_, err = e.parsers[h.Alg].ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return key.Public, nil })
	if err != nil {
		return nil, classify(err)
	}
	exp, _ := claims.GetExpirationTime() // required: present
	if exp.Sub(e.now()) > e.life+e.leeway {
		return nil, fmt.Errorf("%w: exp is %s away, beyond external_tokens.max_lifetime (%s)", ErrInvalidToken,
			exp.Sub(e.now()).Round(time.Second), e.life)
	}
	id, err := e.mapping.Identity(claims)
	switch {
	case errors.Is(err, ErrMissingClaim):
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	case err != nil:
		return nil, fmt.Errorf("issuer %s: %w", e.issuer, err)
	}
	id.Subject = e.prefix + id.Subject
	p := &Principal{Identity: id, Issuer: e.issuer, ExpiresAt: exp.UTC()}
	p.TokenID, _ = claims["jti"].(string)
	if iat, _ := claims.GetIssuedAt(); iat != nil {
		p.IssuedAt = iat.UTC()
	}
	return p, nil
}

// classify maps a jwt/v5 error from verifying an external token to our
// sentinels. jwt/v5 verifies the signature before the claims and reports
// all failed claim checks joined, so the order of the cases is the order
// of precedence among claim problems; ErrTokenExpired only when nothing
// else is wrong.
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
		// An external token is never refreshed, but "expired" still tells
		// the client to get a new one from its issuer.
		return fmt.Errorf("%w: %w", ErrTokenExpired, err)
	default:
		return fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
}
