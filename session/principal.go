package session

import (
	"context"
	"time"
)

// Identity is who a user is, as the gateway vouches for it: the subject and
// the claims copied into access tokens and identity headers.
type Identity struct {
	// Subject is the stable user id (the sub claim).
	Subject string
	// Email is the user's email address, if known.
	Email string
	// Roles are the user's roles.
	Roles []string
	// Claims are further configured claims (Tokens.Claims), by name.
	Claims map[string]any
}

// Principal is a verified caller: an Identity plus the facts of the token
// that proved it.
type Principal struct {
	Identity
	// SessionID is the sid claim: the session the token belongs to.
	// Empty for an external issuer's token, which has no session here.
	SessionID string
	// Issuer is the external issuer that vouched for the caller (the
	// token's iss); empty for the gateway's own tokens.
	Issuer string
	// TokenID is the jti claim.
	TokenID string
	// IssuedAt and ExpiresAt are the token's iat and exp.
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// HasRole reports whether p has role r (exact, case-sensitive match).
func (p *Principal) HasRole(r string) bool {
	for _, have := range p.Roles {
		if have == r {
			return true
		}
	}
	return false
}

// Claim returns the named claim: the registered ones (sub, email, roles,
// sid, jti) and the configured extra ones.
func (p *Principal) Claim(name string) (any, bool) {
	switch name {
	case "sub":
		return p.Subject, true
	case "email":
		return p.Email, p.Email != ""
	case "roles":
		return p.Roles, true
	case "sid":
		return p.SessionID, p.SessionID != ""
	case "jti":
		return p.TokenID, p.TokenID != ""
	}
	v, ok := p.Claims[name]
	return v, ok
}

type principalKey struct{}

// NewContext returns a copy of ctx that carries p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the Principal stored in ctx by NewContext, if any.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}
