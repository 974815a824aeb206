package policy

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/internal/claimmatch"
)

// defaultName is Decision.Rule when no rule matched; no rule may use it.
const defaultName = "default"

const accessFix = `use "authenticated" (the default), "public" or "deny"`

// Compile validates p and builds the Engine that decides requests. Every
// pattern is parsed here, once; Decide only compares.
//
// On failure it returns all problems joined (errors.Join), each a
// *config.FieldError naming the field, such as "policy.rules[2].path", and
// its fix; config.FieldErrors lists them.
func Compile(p config.Policy) (*Engine, error) {
	var errs []error
	def, ok := parseAccess(p.Default)
	if !ok {
		errs = append(errs, config.Problemf("policy.default", accessFix, "unknown access %q", p.Default))
	}
	e := &Engine{rules: make([]rule, len(p.Rules))}
	names := make(map[string]int, len(p.Rules))
	for i := range p.Rules {
		field := "policy.rules[" + strconv.Itoa(i) + "]"
		r, rerrs := compileRule(field, i, &p.Rules[i])
		if r.name == defaultName {
			errs = append(errs, config.Problem(field+".name",
				`"default" is reserved: decisions name it when no rule matched`,
				"choose another name"))
		} else if j, dup := names[r.name]; dup {
			errs = append(errs, config.Problemf(field+".name",
				"give every rule its own name: names identify rules in decisions and logs",
				"name %q is already used by rules[%d]", r.name, j))
		} else {
			names[r.name] = i
		}
		errs = append(errs, rerrs...)
		e.rules[i] = r
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	e.def = rule{name: defaultName, access: def}
	e.def.reasons = newReasons("no rule matched: the default", def, nil, nil, false)
	return e, nil
}

// compileRule compiles cr, the rule at index i, whose YAML path is field.
// It returns every problem it finds rather than stopping at the first.
func compileRule(field string, i int, cr *config.Rule) (rule, []error) {
	var ps problems
	var err error
	var errs []error
	r := rule{name: cr.Name}
	if r.name == "" {
		r.name = "rules[" + strconv.Itoa(i) + "]"
	}

	access, ok := parseAccess(cr.Access)
	if !ok {
		ps.add(config.Problemf(field+".access", accessFix, "unknown access %q", cr.Access))
	}
	r.access = access

	r.host, err = compileHost(field+".host", cr.Host)
	ps.add(err)
	r.src.host = r.host.exact
	if r.host.suffix != "" {
		r.src.host = "*" + r.host.suffix
	}

	switch {
	case cr.Path != "" && cr.PathPrefix != "":
		ps.add(config.Problem(field+".path", "both path and path_prefix are set",
			"keep one: path_prefix: /api matches /api and everything below it, as does path: /api/**"))
	case cr.Path != "":
		r.path, err = compilePath(field+".path", cr.Path)
		ps.add(err)
		r.src.path = "path " + cr.Path
	case cr.PathPrefix != "":
		r.path, err = compilePrefix(field+".path_prefix", cr.PathPrefix)
		ps.add(err)
		r.src.path = "path_prefix " + cr.PathPrefix
	}

	r.methods, errs = compileMethods(field+".methods", cr.Methods)
	ps.add(errs...)

	if ok && access != Authenticated {
		ps.add(requirementsOn(field, access, cr)...)
	}
	ps.add(checkRoles(field+".roles_any", cr.RolesAny)...)
	ps.add(checkRoles(field+".roles_all", cr.RolesAll)...)
	r.rolesAny, r.rolesAll = slices.Clone(cr.RolesAny), slices.Clone(cr.RolesAll)

	subject := fmt.Sprintf("rule %q", r.name)
	r.claims, errs = compileClaims(field+".claims", subject, cr.Claims)
	ps.add(errs...)
	r.reasons = newReasons(subject, access, r.rolesAny, r.rolesAll, len(r.claims) > 0)
	return r, ps
}

// problems collects the errors of one compilation, skipping nils.
type problems []error

func (ps *problems) add(errs ...error) {
	for _, err := range errs {
		if err != nil {
			*ps = append(*ps, err)
		}
	}
}

// compileHost compiles a host pattern: empty (any host), an exact host,
// or "*.domain" (every subdomain of domain, at any depth, not domain).
func compileHost(field, s string) (hostMatcher, error) {
	if s == "" {
		return hostMatcher{}, nil
	}
	const fix = "write a host name alone, as in app.example.com, or *.example.com for its subdomains"
	h := lowerASCII(strings.TrimSuffix(s, "."))
	if len(h) > 2 && h[0] == '[' && h[len(h)-1] == ']' {
		h = h[1 : len(h)-1] // an IPv6 literal; CanonicalHost drops the brackets too
	}
	if h == "" || strings.ContainsAny(h, "/\\@?#[] \t") {
		return hostMatcher{}, config.Problemf(field, fix, "%q is not a host name", s)
	}
	if strings.Count(h, ":") == 1 {
		return hostMatcher{}, config.Problemf(field, "remove the port: rules match the host without it",
			"%q has a port", s)
	}
	if !strings.Contains(h, "*") {
		return hostMatcher{exact: h}, nil
	}
	domain, ok := strings.CutPrefix(h, "*.")
	if !ok || domain == "" || strings.HasPrefix(domain, ".") || strings.Contains(domain, "*") {
		return hostMatcher{}, config.Problemf(field,
			`use "*.example.com" for any subdomain of example.com, or leave host empty for any host`,
			`%q has a wildcard other than a leading "*."`, s)
	}
	return hostMatcher{suffix: "." + domain}, nil
}

// compilePath compiles a path: exact when it has no "*", else a glob.
func compilePath(field, s string) (pathMatcher, error) {
	if err := checkPattern(field, s); err != nil {
		return pathMatcher{}, err
	}
	t := strings.TrimSuffix(s, "/")
	if !strings.Contains(t, "*") {
		return pathMatcher{kind: pathExact, s: t}, nil
	}
	var segs []segment
	for _, seg := range strings.Split(t[1:], "/") {
		switch {
		case seg == "**":
			if n := len(segs); n > 0 && segs[n-1].any {
				continue // "/**/**" is "/**"
			}
			segs = append(segs, segment{any: true})
		case strings.Contains(seg, "**"):
			return pathMatcher{}, config.Problemf(field,
				`use "**" as a whole segment for any depth (/api/**), or "*" within one segment (/files/*.png)`,
				`%q has "**" inside segment %q`, s, seg)
		default:
			segs = append(segs, segment{pat: seg, star: strings.Contains(seg, "*")})
		}
	}
	return pathMatcher{kind: pathGlob, segs: segs}, nil
}

// compilePrefix compiles a path_prefix, which is literal.
func compilePrefix(field, s string) (pathMatcher, error) {
	if err := checkPattern(field, s); err != nil {
		return pathMatcher{}, err
	}
	if strings.Contains(s, "*") {
		return pathMatcher{}, config.Problemf(field,
			"use path: /api/** for a glob; path_prefix: /api matches /api and everything below it",
			"%q has a wildcard, but path_prefix is literal", s)
	}
	t := strings.TrimSuffix(s, "/")
	return pathMatcher{kind: pathPrefix, s: t, prefixSlash: t + "/"}, nil
}

// checkPattern refuses a path or prefix that no canonical request path
// could match: one that does not begin with "/", or is not itself in the
// canonical form CanonicalPath produces. Otherwise a rule meant to protect
// "/admin//x" or "/a%20b" would silently protect nothing.
func checkPattern(field, s string) error {
	if !strings.HasPrefix(s, "/") {
		return config.Problemf(field, `begin the path with "/"`, "%q does not begin with \"/\"", s)
	}
	if isCanonicalPath(s) {
		return nil
	}
	c, err := CanonicalPath(s)
	if err != nil {
		var pe *pathError
		errors.As(err, &pe)
		return config.Problemf(field,
			`write the decoded path, as requests read after decoding (%20 is a space)`,
			"%q can never match a request: %s", s, pe.reason)
	}
	return config.Problemf(field, fmt.Sprintf("write %q", c),
		"%q is not in canonical form, so no request would match it", s)
}

// compileMethods upper-cases the methods; GET brings HEAD with it, since
// a HEAD is a GET without the body (RFC 9110 section 9.3.2).
func compileMethods(field string, ms []string) (methodMatcher, []error) {
	var out methodMatcher
	var errs []error
	for j, m := range ms {
		if !config.IsToken(m) {
			errs = append(errs, config.Problemf(field+"["+strconv.Itoa(j)+"]",
				"list one method per entry, as in [GET, POST]", "%q is not a method name", m))
			continue
		}
		if u := strings.ToUpper(m); !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	if slices.Contains(out, "GET") && !slices.Contains(out, "HEAD") {
		out = append(out, "HEAD")
	}
	return out, errs
}

// requirementsOn reports roles and claims on a public or deny rule. They
// would be ignored, and a reader would believe the rule restricts access.
func requirementsOn(field string, access Access, cr *config.Rule) []error {
	why := "a public rule allows everyone"
	if access == Deny {
		why = "a deny rule refuses everyone"
	}
	var errs []error
	for _, f := range []struct {
		key string
		n   int
	}{{"roles_any", len(cr.RolesAny)}, {"roles_all", len(cr.RolesAll)}, {"claims", len(cr.Claims)}} {
		if f.n > 0 {
			errs = append(errs, config.Problemf(field+"."+f.key,
				fmt.Sprintf("remove %s, or remove access: %s to require them", f.key, access),
				"%s would be ignored: %s", f.key, why))
		}
	}
	return errs
}

func checkRoles(field string, roles []string) []error {
	var errs []error
	for j, r := range roles {
		if r == "" {
			errs = append(errs, config.Problem(field+"["+strconv.Itoa(j)+"]", "empty role name",
				"remove the empty entry"))
		}
	}
	return errs
}

// compileClaims compiles the claims requirements, sorted by claim name so
// that decisions and errors come out in a stable order.
func compileClaims(field, subject string, claims map[string]any) ([]claimReq, []error) {
	var out []claimReq
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(claims)) {
		v := claims[name]
		if name == "" {
			errs = append(errs, config.Problem(field, "empty claim name", "name the claim"))
			continue
		}
		val, ok := claimmatch.New(v)
		c := claimReq{name: name, Value: val}
		if !ok {
			errs = append(errs, config.Problemf(field+"."+name,
				"require one string, number or boolean; a principal whose claim is a list meets it when the list contains that value",
				"the required value is %s, not a string, number or boolean", describe(v)))
			continue
		}
		c.missingReason = fmt.Sprintf("%s requires claim %q = %s; the principal has no such claim", subject, name, &c)
		c.differsReason = fmt.Sprintf("%s requires claim %q = %s; the principal's value differs", subject, name, &c)
		out = append(out, c)
	}
	return out, errs
}

// describe names the kind of an unusable YAML claim value.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "empty (null)"
	case []any:
		return "a list"
	case map[string]any:
		return "a map"
	case float64, float32:
		return "NaN"
	}
	return fmt.Sprintf("of type %T", v)
}

// newReasons builds the Reason texts of a rule (or of the default, whose
// subject reads differently).
func newReasons(subject string, access Access, rolesAny, rolesAll []string, claims bool) reasons {
	rs := reasons{
		deny:            subject + " (deny) refuses every request",
		unauthenticated: subject + " (authenticated) requires a principal and the request has none",
	}
	switch {
	case access == Public:
		rs.allow = subject + " (public) allows every request"
	case len(rolesAny) == 0 && len(rolesAll) == 0 && !claims:
		rs.allow = subject + " (authenticated) allows any principal"
	default:
		rs.allow = subject + " (authenticated) allows the principal: it has every required role and claim"
	}
	if len(rolesAny) > 0 {
		rs.rolesAny = fmt.Sprintf("%s requires one of the roles %q; the principal has none of them", subject, rolesAny)
	}
	for _, r := range rolesAll {
		rs.rolesAll = append(rs.rolesAll,
			fmt.Sprintf("%s requires role %q (roles_all); the principal lacks it", subject, r))
	}
	return rs
}
