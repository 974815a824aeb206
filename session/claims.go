package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// registeredClaims are the claim names accessClaims owns. Configured extra
// claims may not reuse them, and a payload may not carry a case variant of
// them (see accessClaims.decode).
var registeredClaims = [...]string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "email", "roles"}

var (
	// errDuplicateMember is reported as ErrMalformedToken by Verify.
	errDuplicateMember = errors.New("duplicate or case-variant JSON member")
	// errClaimAbsent is reported as ErrMissingClaim by Verify.
	errClaimAbsent = errors.New("required claim absent")
)

// accessClaims is the payload of a Gatehouse access token (RFC 9068
// section 2.2 plus sid, email and roles), with the configured extra claims
// in Extra. It implements jwt.Claims.
type accessClaims struct {
	Issuer    string
	Subject   string
	Audience  string
	ExpiresAt *jwt.NumericDate
	NotBefore *jwt.NumericDate
	IssuedAt  *jwt.NumericDate
	ID        string
	SessionID string
	Email     string
	Roles     []string
	// Extra holds the configured extra claims present in the token.
	Extra map[string]any
}

// wireClaims is the JSON shape of the registered claims when minting.
type wireClaims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  string           `json:"aud"`
	ExpiresAt *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	ID        string           `json:"jti"`
	SessionID string           `json:"sid"`
	Email     string           `json:"email,omitempty"`
	Roles     []string         `json:"roles,omitempty"`
}

// MarshalJSON writes the registered claims, then the extra ones. aud is a
// single string (RFC 7519 section 4.1.3 allows it; jwt.ClaimStrings would
// depend on a package-level switch in jwt).
func (c *accessClaims) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(wireClaims{
		Issuer: c.Issuer, Subject: c.Subject, Audience: c.Audience,
		ExpiresAt: c.ExpiresAt, NotBefore: c.NotBefore, IssuedAt: c.IssuedAt,
		ID: c.ID, SessionID: c.SessionID, Email: c.Email, Roles: c.Roles,
	})
	if err != nil || len(c.Extra) == 0 {
		return b, err
	}
	extra, err := json.Marshal(c.Extra) // keys sorted: deterministic
	if err != nil {
		return nil, err
	}
	// Splice {"iss":...} and {"x":...} into {"iss":...,"x":...}.
	out := make([]byte, 0, len(b)+len(extra))
	out = append(out, b[:len(b)-1]...)
	out = append(out, ',')
	return append(out, extra[1:]...), nil
}

// decode reads a payload into c in one pass (scanObject), keeping the
// configured extra claims named in extraNames. encoding/json matches
// struct fields case-insensitively and lets a repeated member silently
// win, so a payload with "SUB" (beside or instead of "sub") or with two
// "sub" members could mean different things to different parsers. Both
// are rejected here: RFC 7519 section 4 lets a parser either reject
// duplicate claim names or keep the last one; we reject.
//
// data MUST have passed json.Valid. Strings that need no unescaping are
// substrings of data (one allocation for the whole payload, none per
// claim).
func (c *accessClaims) decode(data []byte, extraNames []string) error {
	*c = accessClaims{}
	return scanObject(string(data), func(key, v string) error {
		if variantOf(key, registeredClaims[:]) || variantOf(key, extraNames) {
			return fmt.Errorf("%w: %.64q", errDuplicateMember, key)
		}
		var err error
		switch key {
		case "iss":
			err = stringValue(v, &c.Issuer)
		case "sub":
			err = stringValue(v, &c.Subject)
		case "aud":
			err = stringValue(v, &c.Audience)
		case "exp":
			c.ExpiresAt, err = dateValue(v)
		case "nbf":
			c.NotBefore, err = dateValue(v)
		case "iat":
			c.IssuedAt, err = dateValue(v)
		case "jti":
			err = stringValue(v, &c.ID)
		case "sid":
			err = stringValue(v, &c.SessionID)
		case "email":
			err = stringValue(v, &c.Email)
		case "roles":
			err = stringsValue(v, &c.Roles)
		default:
			if !slices.Contains(extraNames, key) {
				return nil // not ours: ignored (already checked to be valid JSON)
			}
			var x any
			if err := json.Unmarshal([]byte(v), &x); err != nil {
				return fmt.Errorf("claim %q: %w", key, err)
			}
			if c.Extra == nil {
				c.Extra = make(map[string]any, len(extraNames))
			}
			c.Extra[key] = x
		}
		if err != nil {
			return fmt.Errorf("claim %q: %w", key, err)
		}
		return nil
	})
}

// variantOf reports whether key equals one of names ignoring case but not
// exactly ("SUB" for "sub"). Lengths may differ: encoding/json folds
// U+017F to "s" and U+212A to "k", so "\u017fub" is a variant of "sub"
// (issue #10).
func variantOf(key string, names []string) bool {
	for _, n := range names {
		if key != n && strings.EqualFold(key, n) {
			return true
		}
	}
	return false
}

// GetExpirationTime implements jwt.Claims.
func (c *accessClaims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt, nil }

// GetIssuedAt implements jwt.Claims.
func (c *accessClaims) GetIssuedAt() (*jwt.NumericDate, error) { return c.IssuedAt, nil }

// GetNotBefore implements jwt.Claims.
func (c *accessClaims) GetNotBefore() (*jwt.NumericDate, error) { return c.NotBefore, nil }

// GetIssuer implements jwt.Claims.
func (c *accessClaims) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject implements jwt.Claims.
func (c *accessClaims) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience implements jwt.Claims.
func (c *accessClaims) GetAudience() (jwt.ClaimStrings, error) {
	if c.Audience == "" {
		return nil, nil
	}
	return jwt.ClaimStrings{c.Audience}, nil
}

// missing names the required claims c lacks: iss, aud, exp, iat, sub,
// sid, jti.
func (c *accessClaims) missing() error {
	var missing []string
	for _, m := range []struct {
		name   string
		absent bool
	}{
		{"iss", c.Issuer == ""}, {"aud", c.Audience == ""}, {"exp", c.ExpiresAt == nil},
		{"iat", c.IssuedAt == nil}, {"sub", c.Subject == ""}, {"sid", c.SessionID == ""}, {"jti", c.ID == ""},
	} {
		if m.absent {
			missing = append(missing, m.name)
		}
	}
	return fmt.Errorf("%w: %s", errClaimAbsent, strings.Join(missing, ", "))
}
