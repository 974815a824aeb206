package policy

import (
	"fmt"
	"slices"
	"strings"
)

// Step is one rule tried by Explain: whether it matched, and why or why
// not.
type Step struct {
	// Rule is the rule's name, or "default".
	Rule string
	// Index is the rule's position in policy.rules, -1 for the default.
	Index int
	// Matched reports whether the request matched this rule; only the
	// last step can have matched.
	Matched bool
	// Why says which of host, path and method did (or did not) match.
	Why string
}

// Explain says, rule by rule in the order Match tries them, why r did not
// match each rule before the one it matched, and why it matched that one
// (or fell to the default). Its last step is always the match; it agrees
// with Match by construction, since it asks the same matchers. It
// allocates and is meant for `gateway check --explain`, not for the
// request path. r.Principal is not looked at.
func (e *Engine) Explain(r Request) []Step {
	if !isCanonicalPath(r.Path) || CanonicalHost(r.Host) != r.Host {
		return []Step{{Index: -1, Why: reasonNotCanonical}}
	}
	var steps []Step
	for i := range e.rules {
		ru := &e.rules[i]
		if ru.matches(&r) {
			return append(steps, Step{Rule: ru.name, Index: i, Matched: true, Why: ru.whyMatch(&r)})
		}
		steps = append(steps, Step{Rule: ru.name, Index: i, Why: ru.whyNot(&r)})
	}
	return append(steps, Step{Rule: defaultName, Index: -1, Matched: true,
		Why: fmt.Sprintf("no rule matched: policy.default (%s) applies", e.def.access)})
}

// whyNot names the first of host, path and method that did not match.
func (ru *rule) whyNot(r *Request) string {
	switch {
	case !ru.host.match(r.Host):
		if ru.host.suffix != "" {
			return fmt.Sprintf("host %q is not a subdomain of %s", r.Host, ru.host.suffix[1:])
		}
		return fmt.Sprintf("host %q is not %s", r.Host, ru.host.exact)
	case !ru.path.match(r.Path):
		return fmt.Sprintf("path %q does not match %s", r.Path, ru.src.path)
	case !ru.methods.match(r.Method):
		return fmt.Sprintf("method %s is not one of %s", r.Method, strings.Join(ru.methods, ", "))
	}
	return "matches" // not reached: Explain asks matches first
}

// whyMatch lists what matched, saying so for fields the rule leaves open.
func (ru *rule) whyMatch(r *Request) string {
	parts := make([]string, 0, 3)
	if ru.src.host == "" {
		parts = append(parts, "any host")
	} else {
		parts = append(parts, fmt.Sprintf("host %q matches %s", r.Host, ru.src.host))
	}
	if ru.src.path == "" {
		parts = append(parts, "any path")
	} else {
		parts = append(parts, fmt.Sprintf("path %q matches %s", r.Path, ru.src.path))
	}
	if len(ru.methods) == 0 {
		parts = append(parts, "any method")
	} else {
		parts = append(parts, fmt.Sprintf("method %s is one of %s", r.Method, strings.Join(ru.methods, ", ")))
	}
	return strings.Join(parts, "; ")
}

// RuleInfo describes a compiled rule for the route table of `gateway
// check`: its name and what it matches and requires, as the engine
// understands them (methods upper-cased, GET bringing HEAD).
type RuleInfo struct {
	// Name is the rule's name, or "default" for the last entry.
	Name string
	// Host is the host pattern, "*" for any host.
	Host string
	// Path is "path /x/**" or "path_prefix /x", "*" for any path.
	Path string
	// Methods lists the methods, "*" for any.
	Methods string
	// Access is public, authenticated or deny, followed by the roles and
	// claims an authenticated rule requires.
	Access string
}

// Rules describes every rule in match order, then the default.
func (e *Engine) Rules() []RuleInfo {
	out := make([]RuleInfo, 0, len(e.rules)+1)
	for i := range e.rules {
		out = append(out, e.rules[i].info())
	}
	return append(out, e.def.info())
}

func (ru *rule) info() RuleInfo {
	orAny := func(s string) string {
		if s == "" {
			return "*"
		}
		return s
	}
	access := ru.access.String()
	if len(ru.rolesAny) > 0 {
		access += " roles_any=" + strings.Join(ru.rolesAny, ",")
	}
	if len(ru.rolesAll) > 0 {
		access += " roles_all=" + strings.Join(ru.rolesAll, ",")
	}
	for i := range ru.claims {
		access += fmt.Sprintf(" claim %s=%s", ru.claims[i].name, &ru.claims[i])
	}
	return RuleInfo{
		Name: ru.name, Host: orAny(ru.src.host), Path: orAny(ru.src.path),
		Methods: orAny(strings.Join(slices.Clone(ru.methods), ",")), Access: access,
	}
}
