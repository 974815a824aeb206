package session

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse/config"
)

// Tokens mints and verifies Gatehouse access tokens: JWTs with typ at+jwt
// (RFC 9068) signed by the key set's signer. It is immutable and safe for
// concurrent use.
type Tokens struct {
	issuer     string
	audience   string
	ttl        time.Duration
	leeway     time.Duration
	maxBytes   int
	extraNames []string
	keys       *KeySet
	now        func() time.Time
	// id is the VerifierID: unique to this Tokens.
	id string
}

// NewTokens checks cfg and returns a Tokens that signs with keys.Signer()
// and verifies against every key in keys. now is the clock (nil means
// time.Now); tests move it instead of sleeping. Problems are
// *config.FieldErrors naming the tokens.* field, joined.
func NewTokens(cfg config.Tokens, keys *KeySet, now func() time.Time) (*Tokens, error) {
	var errs []error
	if cfg.Issuer == "" {
		errs = append(errs, config.Problem("tokens.issuer", "is empty", "set the iss value, e.g. https://auth.example.com"))
	}
	if cfg.Audience == "" {
		errs = append(errs, config.Problem("tokens.audience", "is empty", "set the aud value, e.g. gatehouse"))
	}
	if cfg.AccessTTL < time.Second {
		errs = append(errs, config.Problemf("tokens.access_ttl", "use a duration such as 5m", "%v is shorter than 1s", cfg.AccessTTL))
	}
	if cfg.Leeway < 0 {
		errs = append(errs, config.Problemf("tokens.leeway", "use 0s or a small positive duration such as 30s", "%v is negative", cfg.Leeway))
	}
	if cfg.MaxTokenBytes <= 0 {
		errs = append(errs, config.Problemf("tokens.max_token_bytes", "use a positive size such as 4096", "%d is not positive", cfg.MaxTokenBytes))
	}
	for i, name := range cfg.Claims {
		field := fmt.Sprintf("tokens.claims[%d]", i)
		switch {
		case name == "":
			errs = append(errs, config.Problem(field, "is empty", "remove it or name a claim"))
		case slices.ContainsFunc(registeredClaims[:], func(r string) bool { return strings.EqualFold(r, name) }):
			errs = append(errs, config.Problemf(field, "remove it: the gateway always sets it", "%q is a registered claim", name))
		case slices.Contains(cfg.Claims[:i], name):
			errs = append(errs, config.Problemf(field, "list each claim once", "%q is listed twice", name))
		}
	}
	if keys == nil || keys.Signer() == nil {
		errs = append(errs, config.Problem("keys", "no signing key", "configure a key with private material"))
	} else if cfg.SigningKey != "" && keys.Signer().ID() != cfg.SigningKey {
		errs = append(errs, config.Problemf("tokens.signing_key", "build the key set with LoadKeySet(cfg.Keys, cfg.Tokens.SigningKey)",
			"key set signs with %q, not %q", keys.Signer().ID(), cfg.SigningKey))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if now == nil {
		now = time.Now
	}
	t := &Tokens{
		issuer:     cfg.Issuer,
		audience:   cfg.Audience,
		ttl:        cfg.AccessTTL,
		leeway:     cfg.Leeway,
		maxBytes:   cfg.MaxTokenBytes,
		extraNames: slices.Clone(cfg.Claims),
		keys:       keys,
		now:        now,
	}
	// A random part makes every Tokens its own verifier: a cache entry
	// made under one key set, issuer and audience can never be read
	// under another (a reload builds a new Tokens).
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	t.id = "gatehouse:" + base64.RawURLEncoding.EncodeToString(nonce[:])
	return t, nil
}

// VerifierID identifies this verifier in a VerifyCache: distinct for
// every Tokens, so a token verified here is never served from the cache
// to another verifier.
func (t *Tokens) VerifierID() string { return t.id }

// AccessTTL returns the lifetime of the access tokens Mint issues.
func (t *Tokens) AccessTTL() time.Duration { return t.ttl }

// Mint issues an access token for id in session sessionID, signed by the
// key set's signer, and returns it with the Principal that verifying it
// will yield. Only the configured extra claims (Tokens.Claims) are copied
// from id.Claims.
func (t *Tokens) Mint(id Identity, sessionID string) (string, *Principal, error) {
	if id.Subject == "" {
		return "", nil, errors.New("session: mint: identity has no subject")
	}
	if sessionID == "" {
		return "", nil, errors.New("session: mint: empty session id")
	}
	jti, err := newTokenID()
	if err != nil {
		return "", nil, err
	}
	extra, err := t.extraClaims(id.Claims)
	if err != nil {
		return "", nil, err
	}
	iat := jwt.NewNumericDate(t.now())
	c := accessClaims{
		Issuer:    t.issuer,
		Subject:   id.Subject,
		Audience:  t.audience,
		IssuedAt:  iat,
		NotBefore: iat,
		ExpiresAt: jwt.NewNumericDate(iat.Add(t.ttl)),
		ID:        jti,
		SessionID: sessionID,
		Email:     id.Email,
		Roles:     slices.Clone(id.Roles),
		Extra:     extra,
	}
	if len(c.Roles) == 0 {
		c.Roles = nil
	}

	signer := t.keys.Signer()
	tok := jwt.NewWithClaims(signer.method, &c)
	tok.Header["kid"] = signer.id
	tok.Header["typ"] = accessTokenType
	raw, err := tok.SignedString(signer.signingKey())
	if err != nil {
		return "", nil, fmt.Errorf("session: mint: signing with key %q: %w", signer.id, err)
	}
	if len(raw) > t.maxBytes {
		// Verify would reject it: fail here, where the cause is visible.
		return "", nil, fmt.Errorf("session: mint: token is %d bytes, over tokens.max_token_bytes (%d); configure fewer or shorter tokens.claims or roles",
			len(raw), t.maxBytes)
	}
	return raw, c.principal(), nil
}

// extraClaims picks the configured claims out of claims and normalizes
// them through JSON, so that Mint's Principal holds exactly what Verify's
// will (float64 numbers, []any arrays).
func (t *Tokens) extraClaims(claims map[string]any) (map[string]any, error) {
	picked := make(map[string]any)
	for _, name := range t.extraNames {
		if v, ok := claims[name]; ok {
			picked[name] = v
		}
	}
	if len(picked) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(picked)
	if err != nil {
		return nil, fmt.Errorf("session: mint: encoding extra claims: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("session: mint: encoding extra claims: %w", err)
	}
	return out, nil
}

// newTokenID returns 128 random bits, base64url: a jti (RFC 7519 section
// 4.1.7) that cannot collide in practice.
func newTokenID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("session: generating jti: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// principal returns the Principal that c describes.
func (c *accessClaims) principal() *Principal {
	p := &Principal{
		Identity: Identity{
			Subject: c.Subject,
			Email:   c.Email,
			Roles:   c.Roles,
			Claims:  c.Extra,
		},
		SessionID: c.SessionID,
		TokenID:   c.ID,
	}
	if c.IssuedAt != nil {
		p.IssuedAt = c.IssuedAt.UTC()
	}
	if c.ExpiresAt != nil {
		p.ExpiresAt = c.ExpiresAt.UTC()
	}
	return p
}
