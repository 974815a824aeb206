package userfile

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse/gatehouse/config"
)

// fixHash is the fix offered for a missing or unusable password hash.
const fixHash = `generate one with "gateway hash-password"`

// isRegisteredClaim reports whether name is, ignoring case, one of the
// claims an access token carries itself (registeredClaims in
// session/claims.go). session.Tokens never copies such a claim from an
// Identity, so a users file that set one would be silently ignored; Parse
// refuses it instead.
func isRegisteredClaim(name string) bool {
	switch strings.ToLower(name) {
	case "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "email", "roles":
		return true
	}
	return false
}

// user validates entry e (users[i]) and returns its User and whether it
// is free of problems (which are recorded). The User is nil only if e is
// not a mapping; otherwise it holds what could be decoded.
func (p *parser) user(i int, e entry) (*User, bool) {
	if e.node.Kind != yaml.MappingNode {
		return nil, false // already reported
	}
	path := fmt.Sprintf("users[%d]", i)
	before := len(p.errs)
	u := &User{}

	var ok bool
	u.Username, ok = p.str(path+".username", e.username)
	switch {
	case !ok: // reported
	case absent(e.username):
		p.addf(path+".username", e.node, "add username: to this user", "missing")
	case u.Username == "":
		p.addf(path+".username", e.username, "", "empty")
	case strings.ContainsFunc(u.Username, unicode.IsControl):
		// The username becomes the token subject and identity headers.
		p.addf(path+".username", e.username, "", "contains a control character")
	}

	u.hash, ok = p.str(path+".password_hash", e.passwordHash)
	switch {
	case !ok: // reported
	case absent(e.passwordHash):
		p.addf(path+".password_hash", e.node, fixHash, "missing")
	default:
		if _, err := parseHash(u.hash, productionLimits()); err != nil {
			p.add(e.passwordHash, &config.FieldError{
				Field:   path + ".password_hash",
				Problem: fmt.Sprintf("line %d: not an argon2id or bcrypt hash", e.passwordHash.Line),
				Fix:     fixHash,
				Err:     err,
			})
		}
	}

	u.Email, ok = p.str(path+".email", e.email)
	if ok && u.Email != "" {
		if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
			p.addf(path+".email", e.email, "write a bare address such as alice@example.com", "not an email address")
		}
	}

	u.Roles = p.roles(path+".roles", e.roles)
	u.Claims = p.claims(path+".claims", e.claims)
	if !absent(e.disabled) {
		if e.disabled.Kind != yaml.ScalarNode || e.disabled.Decode(&u.Disabled) != nil {
			p.addf(path+".disabled", e.disabled, "write true or false", "must be true or false")
		}
	}

	return u, len(p.errs) == before
}

// str returns the string value of scalar n, trimmed of surrounding
// spaces, and "" for a missing or null n. For any other n it reports a
// problem and returns false.
func (p *parser) str(field string, n *yaml.Node) (string, bool) {
	if absent(n) {
		return "", true
	}
	var s string
	if n.Kind != yaml.ScalarNode || n.Decode(&s) != nil {
		p.addf(field, n, "", "must be a string, not %s", describe(n))
		return "", false
	}
	return strings.TrimSpace(s), true
}

// roles returns the list of role names at n.
func (p *parser) roles(field string, n *yaml.Node) []string {
	if absent(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.addf(field, n, "write roles: [admin, user]", "must be a list of role names, not %s", describe(n))
		return nil
	}
	roles := make([]string, 0, len(n.Content))
	for j, item := range n.Content {
		item = resolve(item)
		path := fmt.Sprintf("%s[%d]", field, j)
		var r string
		switch {
		case item.Kind != yaml.ScalarNode || isNull(item) || item.Decode(&r) != nil:
			p.addf(path, item, "", "must be a role name, not %s", describe(item))
		case r == "":
			p.addf(path, item, "remove it", "empty role name")
		case r != strings.TrimSpace(r):
			// Roles match exactly (session.Principal.HasRole); "admin "
			// would silently never match a policy's "admin".
			p.addf(path, item, "remove the spaces", "role %q has surrounding spaces", r)
		case strings.ContainsFunc(r, unicode.IsControl):
			p.addf(path, item, "", "role contains a control character")
		case strings.Contains(r, ","):
			// X-Auth-Roles is comma-separated: an app would read "a,b" as
			// two roles.
			p.addf(path, item, "rename the role without the comma", "role %q contains a comma (identity headers list roles comma-separated)", r)
		default:
			roles = append(roles, r)
		}
	}
	return roles
}

// claims returns the claims mapping at n as JSON values. A claim must be
// representable in a token (JSON: no .inf or .nan, no non-string keys in
// nested mappings) and must not reuse a registered claim's name.
func (p *parser) claims(field string, n *yaml.Node) map[string]any {
	if absent(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.addf(field, n, "write claims: {name: value}", "must be a mapping of claim names to values, not %s", describe(n))
		return nil
	}
	var raw map[string]any
	if err := n.Decode(&raw); err != nil {
		p.add(n, &config.FieldError{
			Field: field, Problem: fmt.Sprintf("line %d: cannot be decoded", n.Line), Err: err,
		})
		return nil
	}
	valid := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		switch {
		case k.Value == "":
			valid = false
			p.addf(field, k, "", "empty claim name")
		case isRegisteredClaim(k.Value):
			valid = false
			p.addf(field+"."+k.Value, k, "set email: and roles: on the user; sub, sid and the rest are the gateway's",
				"%q is a registered token claim and cannot be set here", k.Value)
		}
	}
	// Round-trip through JSON, as session.Tokens.Mint does, so that the
	// values are what a token will carry and bad ones fail now, not at
	// login.
	b, err := json.Marshal(raw)
	var claims map[string]any
	if err == nil {
		err = json.Unmarshal(b, &claims)
	}
	if err != nil {
		p.add(n, &config.FieldError{
			Field:   field,
			Problem: fmt.Sprintf("line %d: not representable in a token as JSON", n.Line),
			Fix:     "use strings, numbers, booleans, lists and mappings with string keys",
			Err:     err,
		})
		return nil
	}
	if !valid {
		return nil
	}
	return claims
}
