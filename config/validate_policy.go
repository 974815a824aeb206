package config

import (
	"fmt"
	"strings"
)

// Access values of policy.default and policy.rules[].access.
const (
	accessAuthenticated = "authenticated"
	accessPublic        = "public"
	accessDeny          = "deny"
)

// policy checks the default access and every rule.
func (v *validator) policy(p *Policy, tokenClaims []string) {
	switch p.Default {
	case accessAuthenticated, accessPublic, accessDeny:
	default:
		v.add("policy.default", oneOf(p.Default, accessAuthenticated, accessPublic, accessDeny),
			"unknown access %q", p.Default)
	}
	for i := range p.Rules {
		v.rule(fmt.Sprintf("policy.rules[%d]", i), &p.Rules[i], tokenClaims)
	}
}

// rule checks one route rule; prefix is its path, "policy.rules[i]".
func (v *validator) rule(prefix string, r *Rule, tokenClaims []string) {
	switch r.Access {
	case "", accessAuthenticated, accessPublic, accessDeny:
	default:
		v.add(prefix+".access", oneOf(r.Access, accessAuthenticated, accessPublic, accessDeny)+"; empty means authenticated",
			"unknown access %q", r.Access)
	}
	if r.Host != "" {
		v.ruleHost(prefix+".host", r.Host)
	}
	if r.Path != "" && r.PathPrefix != "" {
		v.add(prefix, "keep one: path for an exact path or glob, path_prefix for a subtree", "both path and path_prefix are set")
	}
	if r.Path != "" {
		v.rulePath(prefix+".path", r.Path)
	}
	if r.PathPrefix != "" {
		v.rulePath(prefix+".path_prefix", r.PathPrefix)
		if strings.Contains(r.PathPrefix, "*") {
			v.add(prefix+".path_prefix", fmt.Sprintf("path_prefix is literal; for a glob use path: %q", strings.TrimSuffix(r.PathPrefix, "/")+"/**"),
				"%q contains *", r.PathPrefix)
		}
	}
	for i, m := range r.Methods {
		if !IsToken(m) {
			v.add(fmt.Sprintf("%s.methods[%d]", prefix, i), "use an HTTP method such as GET or POST", "%q is not a method", m)
		}
	}

	// Requirements on a rule that lets everyone in, or no one, would
	// silently do nothing.
	unconditional := r.Access == accessPublic || r.Access == accessDeny
	requirement := func(key string, set bool) {
		if set && unconditional {
			v.add(prefix+"."+key, "remove it, or set access: authenticated: roles and claims are checked only for signed-in users",
				"%s has no effect with access: %s", key, r.Access)
		}
	}
	requirement("roles_any", len(r.RolesAny) > 0)
	requirement("roles_all", len(r.RolesAll) > 0)
	requirement("claims", len(r.Claims) > 0)
	for i, role := range r.RolesAny {
		if strings.TrimSpace(role) == "" {
			v.add(fmt.Sprintf("%s.roles_any[%d]", prefix, i), "remove the empty entry", "role name is empty")
		}
	}
	for i, role := range r.RolesAll {
		if strings.TrimSpace(role) == "" {
			v.add(fmt.Sprintf("%s.roles_all[%d]", prefix, i), "remove the empty entry", "role name is empty")
		}
	}
	for _, claim := range sortedKeys(r.Claims) {
		if !claimAvailable(claim, tokenClaims) {
			v.add(prefix+".claims."+claim,
				fmt.Sprintf("add %q to tokens.claims: rules see only the claims in the access token (sub, email, roles, sid and those listed)", claim),
				"claim %q is not in the access token", claim)
		}
	}
}

// rulePath checks a path or path_prefix: absolute, printable, without a
// query, and with "**" only as a whole segment.
func (v *validator) rulePath(field, p string) {
	switch {
	case !strings.HasPrefix(p, "/"):
		v.add(field, fmt.Sprintf("start it with /: %q", "/"+p), "%q does not start with /", p)
	case hasControl(p):
		v.add(field, "remove spaces and control characters (write them percent-encoded as they arrive)", "%q contains spaces or control characters", p)
	case strings.ContainsAny(p, "?#"):
		v.add(field, "remove the ?query or #fragment: rules match the path only", "%q contains ? or #", p)
	default:
		for seg := range strings.SplitSeq(p, "/") {
			if strings.Contains(seg, "**") && seg != "**" {
				v.add(field, `use "**" as a whole segment ("/api/**"); "*" matches within one segment`,
					"%q uses ** inside the segment %q", p, seg)
				return
			}
		}
	}
}

// ruleHost checks an exact host name or "*." followed by one.
func (v *validator) ruleHost(field, h string) {
	fix := `use a host name such as app.example.com, or "*.example.com" for its subdomains`
	name := strings.TrimPrefix(h, "*.")
	switch {
	case strings.Contains(h, "://"):
		v.add(field, fix, "%q contains a scheme", h)
	case strings.Contains(name, "/"):
		v.add(field, fix, "%q contains a path", h)
	case strings.Contains(name, ":"):
		v.add(field, fix+"; rules match the host without its port", "%q contains a port", h)
	case strings.Contains(name, "*"):
		v.add(field, fix+`; "*." is allowed only at the start`, "%q has a wildcard other than a leading \"*.\"", h)
	case !isHostname(name):
		v.add(field, fix, "%q is not a host name", h)
	}
}
