package session

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// AssertionType is the typ header of identity assertions (RFC 8725
// section 3.11, explicit typing): distinct from the access tokens'
// "at+jwt", so neither can be passed off as the other, and apps can
// require it.
const AssertionType = "gatehouse-assertion+jwt"

// Asserter signs identity assertions: short-lived JWTs that tell an
// upstream who the caller is, verifiable with the gateway's JWKS. It is
// immutable and safe for concurrent use.
type Asserter struct {
	keys   *KeySet
	issuer string
	ttl    time.Duration
	claims []string
	now    func() time.Time

	// cache holds recent assertions by token and audience: a client
	// sending many requests with one access token gets the same
	// assertion while it has more than half its lifetime left, so an RSA
	// signer (milliseconds per signature) is not paid per request.
	mu    sync.Mutex
	cache map[assertionKey]cachedAssertion
}

// assertionKey identifies what an assertion says: one token (its jti and
// issuer fix every claim) for one audience.
type assertionKey struct{ issuer, jti, sub, sid, audience string }

type cachedAssertion struct {
	raw   string
	fresh time.Time // reuse until then: iat + ttl/2
}

// maxCachedAssertions bounds the cache; it is emptied when full.
const maxCachedAssertions = 10000

// NewAsserter returns an Asserter signing with keys.Signer(), with iss
// issuer, lifetime ttl, and the named extra claims copied from the
// principal. now is the clock (nil means time.Now).
func NewAsserter(keys *KeySet, issuer string, ttl time.Duration, claims []string, now func() time.Time) (*Asserter, error) {
	if keys == nil || keys.Signer() == nil {
		return nil, errors.New("session: asserter: no signing key")
	}
	if keys.Signer().alg == algHS256 {
		// An HS256 assertion could only be checked with the secret, which
		// must never leave the gateway; the JWKS does not publish it.
		return nil, errors.New("session: asserter: the signing key is HS256, which apps cannot verify from the JWKS; sign with an asymmetric key")
	}
	if now == nil {
		now = time.Now
	}
	return &Asserter{keys: keys, issuer: issuer, ttl: ttl, claims: slices.Clone(claims), now: now,
		cache: make(map[assertionKey]cachedAssertion)}, nil
}

// Assert returns an assertion for p addressed to audience: iss, aud, sub,
// sid (for a session), email, roles, idp (the external issuer, for an
// external token), the configured claims, iat and exp = iat + ttl. The
// header carries the signing key's kid and typ AssertionType. An
// assertion for the same token (jti) and audience is reused while it has
// more than half its lifetime left.
func (a *Asserter) Assert(p *Principal, audience string) (string, error) {
	if p == nil || p.Subject == "" {
		return "", errors.New("session: assert: no subject")
	}
	now := a.now()
	key := assertionKey{issuer: p.Issuer, jti: p.TokenID, sub: p.Subject, sid: p.SessionID, audience: audience}
	if p.TokenID != "" {
		a.mu.Lock()
		e, ok := a.cache[key]
		a.mu.Unlock()
		if ok && now.Before(e.fresh) {
			return e.raw, nil
		}
	}
	c := jwt.MapClaims{
		"iss": a.issuer, "aud": audience, "sub": p.Subject,
		"iat": now.Unix(), "exp": now.Add(a.ttl).Unix(),
		"roles": p.Roles,
	}
	if p.Roles == nil {
		c["roles"] = []string{}
	}
	if p.SessionID != "" {
		c["sid"] = p.SessionID
	}
	if p.Email != "" {
		c["email"] = p.Email
	}
	if p.Issuer != "" {
		c["idp"] = p.Issuer
	}
	for _, name := range a.claims {
		if _, set := c[name]; set {
			continue // never let a user attribute replace what the gateway says
		}
		if v, ok := p.Claims[name]; ok {
			c[name] = v
		}
	}
	s := a.keys.Signer()
	tok := jwt.NewWithClaims(s.method, c)
	tok.Header["kid"] = s.id
	tok.Header["typ"] = AssertionType
	raw, err := tok.SignedString(s.signingKey())
	if err != nil {
		return "", fmt.Errorf("session: assert: signing with key %q: %w", s.id, err)
	}
	if p.TokenID != "" {
		a.mu.Lock()
		if len(a.cache) >= maxCachedAssertions {
			clear(a.cache)
		}
		a.cache[key] = cachedAssertion{raw: raw, fresh: now.Add(a.ttl / 2)}
		a.mu.Unlock()
	}
	return raw, nil
}
