package session

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/internal/claimmatch"
)

// ErrRequirementNotMet is returned by Mapping.Identity when a foreign
// identity does not meet the configured requirements (email domain,
// email_verified, roles, claim values). It does not match ErrInvalidToken:
// the token may be genuine; the user is not admitted.
var ErrRequirementNotMet = errors.New("session: identity does not meet the requirements")

// Mapping turns the claims of a foreign token (an OpenID Connect ID token
// and userinfo, or an external issuer's access token) into an Identity,
// and checks the requirements. Build it once with NewMapping; it is safe
// for concurrent use.
type Mapping struct {
	subject, email string
	roles          []string
	claims         map[string]string
	req            config.ClaimRequirements
	values         map[string]claimmatch.Value // req.Claims, compiled
}

// NewMapping prepares a mapping from a validated configuration; empty
// Subject and Email default to "sub" and "email".
func NewMapping(m config.ClaimMapping, req config.ClaimRequirements) *Mapping {
	mp := &Mapping{subject: m.Subject, email: m.Email, roles: m.Roles, claims: m.Claims, req: req}
	if mp.subject == "" {
		mp.subject = "sub"
	}
	if mp.email == "" {
		mp.email = "email"
	}
	mp.values = make(map[string]claimmatch.Value, len(req.Claims))
	for path, v := range req.Claims {
		// Validate refuses values that cannot be compared; one that got
		// here anyway never matches.
		c, _ := claimmatch.New(v)
		mp.values[path] = c
	}
	mp.req.EmailDomains = make([]string, len(req.EmailDomains))
	for i, d := range req.EmailDomains {
		mp.req.EmailDomains[i] = strings.ToLower(d)
	}
	return mp
}

// Identity maps claims (decoded JSON: strings, float64s, bools, []any and
// map[string]any) to an Identity. Role values containing a comma or a
// control character are dropped: identity headers carry roles
// comma-separated. It fails with ErrMissingClaim when the
// subject is absent or not a non-empty string, and with
// ErrRequirementNotMet when a requirement fails; the error says which.
func (m *Mapping) Identity(claims map[string]any) (Identity, error) {
	sub, _ := lookupClaim(claims, m.subject).(string)
	if sub == "" {
		return Identity{}, fmt.Errorf("%w: %s (the subject)", ErrMissingClaim, m.subject)
	}
	id := Identity{Subject: sub}
	id.Email, _ = lookupClaim(claims, m.email).(string)
	for _, path := range m.roles {
		for _, r := range stringsOf(lookupClaim(claims, path)) {
			// A role with a comma or a control character cannot travel in
			// the comma-separated roles header: an app would read
			// "cn=admins,ou=groups" as two roles. Such values are dropped.
			if r != "" && !strings.ContainsFunc(r, unsafeInRole) && !slices.Contains(id.Roles, r) {
				id.Roles = append(id.Roles, r)
			}
		}
	}
	for name, path := range m.claims {
		if v := lookupClaim(claims, path); v != nil {
			if id.Claims == nil {
				id.Claims = make(map[string]any, len(m.claims))
			}
			id.Claims[name] = v
		}
	}
	if err := m.check(claims, id); err != nil {
		return Identity{}, err
	}
	return id, nil
}

// check applies the requirements.
func (m *Mapping) check(claims map[string]any, id Identity) error {
	r := &m.req
	if len(r.EmailDomains) > 0 {
		at := strings.LastIndexByte(id.Email, '@')
		if at < 1 || !slices.Contains(r.EmailDomains, strings.ToLower(id.Email[at+1:])) {
			return fmt.Errorf("%w: email domain not allowed", ErrRequirementNotMet)
		}
	}
	if r.EmailVerified {
		if v, _ := lookupClaim(claims, "email_verified").(bool); !v {
			return fmt.Errorf("%w: email not verified", ErrRequirementNotMet)
		}
	}
	if len(r.RolesAny) > 0 && !slices.ContainsFunc(r.RolesAny, func(role string) bool { return slices.Contains(id.Roles, role) }) {
		return fmt.Errorf("%w: none of the required roles", ErrRequirementNotMet)
	}
	for path, want := range m.values {
		if !want.Match(lookupClaim(claims, path)) {
			return fmt.Errorf("%w: claim %s", ErrRequirementNotMet, path)
		}
	}
	return nil
}

// unsafeInRole reports the characters a mapped role may not contain.
func unsafeInRole(r rune) bool { return r == ',' || unicode.IsControl(r) }

// lookupClaim finds a claim by path: the literal top-level name first
// (namespaced claims contain dots), then a dotted walk through objects.
func lookupClaim(claims map[string]any, path string) any {
	if v, ok := claims[path]; ok {
		return v
	}
	var cur any = claims
	for part := range strings.SplitSeq(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = obj[part]; !ok {
			return nil
		}
	}
	return cur
}

// stringsOf returns the strings in a claim value: a string, or the string
// elements of a list (others are ignored).
func stringsOf(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return v
	}
	return nil
}
