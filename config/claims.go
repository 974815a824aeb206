package config

import (
	"github.com/gatehouse/gatehouse/internal/claimmatch"
	"slices"
	"strconv"
	"strings"
)

// ClaimMapping says where the claims of a foreign token — an OpenID
// Connect ID token (with userinfo), or an access token from an external
// issuer — go in the gateway's identity. Each value is a claim path: a
// top-level claim name, or a dotted path into nested objects
// ("realm_access.roles"). A name that exists as a top-level claim is
// taken literally, dots and all, so namespaced claims such as
// "https://example.com/roles" work.
type ClaimMapping struct {
	// Subject is the claim that becomes sub. Default "sub".
	Subject string `yaml:"subject"`
	// Email is the claim that becomes email. Default "email".
	Email string `yaml:"email"`
	// Roles are the claims whose values become roles, merged in order
	// ("groups", "realm_access.roles"). Each may be a list of strings or a
	// single string.
	Roles []string `yaml:"roles"`
	// Claims maps a gateway claim (one of tokens.claims) to the claim path
	// it is read from.
	Claims map[string]string `yaml:"claims"`
}

// ClaimRequirements are conditions a foreign identity must meet before the
// gateway accepts it.
type ClaimRequirements struct {
	// EmailDomains, when set, admits only emails in these domains (exact,
	// case-insensitive; "example.com" does not admit "sub.example.com").
	EmailDomains []string `yaml:"email_domains"`
	// EmailVerified requires the email_verified claim to be true.
	EmailVerified bool `yaml:"email_verified"`
	// RolesAny requires at least one of these roles (after mapping): the
	// required groups.
	RolesAny []string `yaml:"roles_any"`
	// Claims requires these exact values at these claim paths.
	Claims map[string]any `yaml:"claims"`
}

// claimMapping checks a mapping under prefix ("issuers[0].claims").
// tokenClaims is tokens.claims: the claims the gateway can carry.
func (v *validator) claimMapping(prefix string, m *ClaimMapping, tokenClaims []string) {
	for _, p := range []struct{ key, path string }{{"subject", m.Subject}, {"email", m.Email}} {
		if p.path != "" {
			v.claimPath(prefix+"."+p.key, p.path)
		}
	}
	for i, r := range m.Roles {
		v.claimPath(prefix+".roles["+strconv.Itoa(i)+"]", r)
	}
	for _, name := range sortedKeys(m.Claims) {
		field := prefix + ".claims." + name
		if !slices.Contains(tokenClaims, name) {
			v.add(field, "add "+name+" to tokens.claims, or remove it here",
				"%q is not one of tokens.claims, so no token could carry it", name)
		}
		v.claimPath(field, m.Claims[name])
	}
}

// claimRequirements checks requirements under prefix.
func (v *validator) claimRequirements(prefix string, r *ClaimRequirements) {
	for i, d := range r.EmailDomains {
		if d == "" || strings.ContainsAny(d, "@/ ") || strings.HasPrefix(d, ".") || d != strings.ToLower(d) {
			v.add(prefix+".email_domains["+strconv.Itoa(i)+"]", `use a lower-case domain name such as "example.com"`,
				"%q is not a domain name", d)
		}
	}
	for i, role := range r.RolesAny {
		if role == "" {
			v.add(prefix+".roles_any["+strconv.Itoa(i)+"]", "remove the empty entry", "is empty")
		}
	}
	for _, path := range sortedKeys(r.Claims) {
		field := prefix + ".claims." + path
		v.claimPath(field, path)
		if _, ok := claimmatch.New(r.Claims[path]); !ok {
			v.add(field, "require one string, number or boolean; a claim that is a list meets it when the list contains that value",
				"the required value is not a string, number or boolean")
		}
	}
}

// claimPath checks one claim path.
func (v *validator) claimPath(field, p string) {
	if p == "" || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") || strings.Contains(p, "..") {
		v.add(field, `use a claim name such as "groups" or a dotted path such as "realm_access.roles"`,
			"%q is not a claim path", p)
	}
}
