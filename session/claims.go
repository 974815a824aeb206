package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// registeredClaims are the claim names accessClaims owns. Configured extra
// claims may not reuse them, and a payload may not carry a case variant of
// them (see accessClaims.UnmarshalJSON).
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

	// extraNames are the configured extra claim names UnmarshalJSON keeps;
	// set before decoding.
	extraNames []string
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

// UnmarshalJSON decodes the payload member by member. encoding/json
// matches struct fields case-insensitively and lets a repeated member
// silently win, so a payload with "SUB" (beside or instead of "sub") or
// with two "sub" members could mean different things to different parsers.
// Both are rejected here: RFC 7519 section 4 lets a parser either reject
// duplicate claim names or keep the last one; we reject.
func (c *accessClaims) UnmarshalJSON(data []byte) error {
	names := c.extraNames
	*c = accessClaims{extraNames: names}
	return decodeObject(data, func(key string, dec *json.Decoder) error {
		if variantOf(key, registeredClaims[:]) || variantOf(key, names) {
			return fmt.Errorf("%w: %q", errDuplicateMember, key)
		}
		var err error
		switch key {
		case "iss":
			err = dec.Decode(&c.Issuer)
		case "sub":
			err = dec.Decode(&c.Subject)
		case "aud":
			err = dec.Decode(&c.Audience)
		case "exp":
			err = dec.Decode(&c.ExpiresAt)
		case "nbf":
			err = dec.Decode(&c.NotBefore)
		case "iat":
			err = dec.Decode(&c.IssuedAt)
		case "jti":
			err = dec.Decode(&c.ID)
		case "sid":
			err = dec.Decode(&c.SessionID)
		case "email":
			err = dec.Decode(&c.Email)
		case "roles":
			err = dec.Decode(&c.Roles)
		default:
			for _, n := range names {
				if key == n {
					var v any
					if err := dec.Decode(&v); err != nil {
						return fmt.Errorf("claim %q: %w", key, err)
					}
					if c.Extra == nil {
						c.Extra = make(map[string]any, len(names))
					}
					c.Extra[key] = v
					return nil
				}
			}
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return fmt.Errorf("claim %q: %w", key, err)
		}
		return nil
	})
}

// decodeObject walks the top-level members of the JSON object in data,
// calling member for each with the decoder positioned at the value (which
// member must consume). It rejects non-objects, trailing data and repeated
// member names.
func decodeObject(data []byte, member func(key string, dec *json.Decoder) error) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil {
		return err
	} else if tok != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	// Real headers and payloads have a dozen members: a linear scan is
	// cheapest. Past that (a hostile token), a map keeps the check linear.
	var seen []string
	var seenSet map[string]struct{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return errors.New("object member name is not a string")
		}
		dup := false
		if seenSet != nil {
			_, dup = seenSet[key]
			seenSet[key] = struct{}{}
		} else {
			dup = slices.Contains(seen, key)
			seen = append(seen, key)
			if len(seen) > 32 {
				seenSet = make(map[string]struct{}, 2*len(seen))
				for _, s := range seen {
					seenSet[s] = struct{}{}
				}
			}
		}
		if dup {
			return fmt.Errorf("%w: %q", errDuplicateMember, key)
		}
		if err := member(key, dec); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

// variantOf reports whether key equals one of names ignoring case but not
// exactly ("SUB" for "sub").
func variantOf(key string, names []string) bool {
	for _, n := range names {
		if len(key) == len(n) && key != n && strings.EqualFold(key, n) {
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

// Validate implements jwt.ClaimsValidator: jwt/v5 requires exp (with
// WithExpirationRequired) and checks iat only when present, so the other
// claims Gatehouse depends on are required here.
func (c *accessClaims) Validate() error {
	var missing []string
	if c.IssuedAt == nil {
		missing = append(missing, "iat")
	}
	if c.Subject == "" {
		missing = append(missing, "sub")
	}
	if c.SessionID == "" {
		missing = append(missing, "sid")
	}
	if c.ID == "" {
		missing = append(missing, "jti")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", errClaimAbsent, strings.Join(missing, ", "))
	}
	return nil
}
