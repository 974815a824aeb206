package policy

import "github.com/gatehouse/gatehouse/session"

// Request is what a decision is made about. Host and Path MUST already be
// canonical (CanonicalHost, CanonicalPath): Decide refuses a request whose
// host or path is not, rather than match a spelling a rule did not
// anticipate.
type Request struct {
	// Host is the canonical host (CanonicalHost): lower case, no port.
	Host string
	// Path is the canonical, decoded path (CanonicalPath).
	Path string
	// Method is the request method. It is compared without regard to case.
	Method string
	// Principal is the verified caller, or nil when the request carries no
	// valid credentials.
	Principal *session.Principal
}

// Decision is the outcome of Decide.
type Decision struct {
	// Allow reports whether the request may proceed.
	Allow bool
	// Rule names the matched rule: its name, "rules[N]" (N counting from
	// 0 in file order) when it has none, or "default" when no rule
	// matched. It is empty when the request was refused before matching
	// because its host or path was not canonical.
	Rule string
	// Access is what the matched rule (or the default) requires.
	Access Access
	// Code is one of the Code constants when Allow is false, else empty.
	Code string
	// Reason explains the decision for debug logs: the rule, and the role
	// or claim that was missing. It never contains request data or claim
	// values of the principal. Not for clients.
	Reason string
	// Index is the matched rule's position in policy.rules (counting from
	// 0), or -1 for the default and for a request refused as not
	// canonical. The proxy routes by it, so the rule that decided access
	// is the rule that picks the upstream.
	Index int
}

// Match is the rule a request matched, found by Engine.Match. It carries
// no principal: matching depends only on host, path and method, so the
// proxy can match once, before authenticating, to pick the route's CORS
// and CSRF settings, and then decide with the principal (DecideMatch)
// without matching again.
type Match struct {
	index     int  // position in rules, -1 for the default
	refused   bool // host or path not canonical
	fromMatch bool // made by Match (the zero Match is not)
}

// Index is the matched rule's position in policy.rules, or -1 for the
// default and for a refused request (Decision.Index).
func (m Match) Index() int {
	if m.refused {
		return -1
	}
	return m.index
}

// Engine is a compiled policy. It is immutable, so Decide is safe for
// concurrent use.
type Engine struct {
	rules []rule
	def   rule // the default, named "default", matching everything
}

// reasonNotCanonical is the Reason for a request refused before matching.
const reasonNotCanonical = "request host or path is not canonical; " +
	"the caller must pass them through CanonicalHost and CanonicalPath"

// Decide returns the decision of the first rule that matches r, or of the
// default when none does. It allocates nothing itself; only
// Principal.Claim may, for rules that require claims.
func (e *Engine) Decide(r Request) Decision {
	return e.DecideMatch(e.Match(r), r.Principal)
}

// Match finds the first rule that matches r's host, path and method (or
// the default); r.Principal is not looked at. It refuses a request whose
// host or path is not canonical.
func (e *Engine) Match(r Request) Match {
	// Defence in depth: a caller that forgot to canonicalise would
	// otherwise see "/admin/../x" or "Admin.example.com" slip past rules.
	// Both checks are allocation-free scans of canonical input.
	if !isCanonicalPath(r.Path) || CanonicalHost(r.Host) != r.Host {
		return Match{refused: true, index: -1, fromMatch: true}
	}
	for i := range e.rules {
		if e.rules[i].matches(&r) {
			return Match{index: i, fromMatch: true}
		}
	}
	return Match{index: -1, fromMatch: true}
}

// DecideMatch decides a request that matched m (from this Engine's
// Match) for principal p, nil when the request has none. A Match not made
// by Match is refused like a non-canonical request.
func (e *Engine) DecideMatch(m Match, p *session.Principal) Decision {
	if m.refused || !m.fromMatch || m.index >= len(e.rules) {
		return Decision{Access: Deny, Code: CodeForbidden, Reason: reasonNotCanonical, Index: -1}
	}
	ru := &e.def
	if m.index >= 0 {
		ru = &e.rules[m.index]
	}
	d := ru.decide(p)
	d.Index = m.index
	return d
}

// Len is the number of rules (the default not counted): a Decision's
// Index is below it, or -1.
func (e *Engine) Len() int { return len(e.rules) }

// rule is one compiled config.Rule.
type rule struct {
	name    string
	host    hostMatcher
	path    pathMatcher
	methods methodMatcher
	access  Access

	rolesAny []string
	rolesAll []string
	claims   []claimReq // sorted by name, so reasons are deterministic

	reasons reasons
	src     source // for Explain and Rules
}

// source is how a rule was written, for Explain and Rules.
type source struct {
	host string // "" for any host
	path string // "path /api/**", "path_prefix /api", or "" for any path
}

// reasons are a rule's Decision.Reason texts, built at Compile.
type reasons struct {
	allow, deny, unauthenticated, rolesAny string
	rolesAll                               []string // one per rolesAll entry
}

func (ru *rule) matches(r *Request) bool {
	return ru.host.match(r.Host) && ru.path.match(r.Path) && ru.methods.match(r.Method)
}

func (ru *rule) decide(p *session.Principal) Decision {
	d := Decision{Rule: ru.name, Access: ru.access}
	switch ru.access {
	case Public:
		d.Allow, d.Reason = true, ru.reasons.allow
		return d
	case Deny:
		// For everyone: asking an anonymous client to log in first would
		// only lead to a 403 afterwards.
		d.Code, d.Reason = CodeForbidden, ru.reasons.deny
		return d
	}
	if p == nil {
		d.Code, d.Reason = CodeUnauthenticated, ru.reasons.unauthenticated
		return d
	}
	if len(ru.rolesAny) > 0 && !hasAnyRole(p, ru.rolesAny) {
		d.Code, d.Reason = CodeInsufficientRoles, ru.reasons.rolesAny
		return d
	}
	for i, role := range ru.rolesAll {
		if !p.HasRole(role) {
			d.Code, d.Reason = CodeInsufficientRoles, ru.reasons.rolesAll[i]
			return d
		}
	}
	for i := range ru.claims {
		c := &ru.claims[i]
		v, ok := p.Claim(c.name)
		switch {
		case !ok:
			d.Code, d.Reason = CodeClaimRequired, c.missingReason
			return d
		case !c.match(v):
			d.Code, d.Reason = CodeClaimRequired, c.differsReason
			return d
		}
	}
	d.Allow, d.Reason = true, ru.reasons.allow
	return d
}

func hasAnyRole(p *session.Principal, roles []string) bool {
	for _, r := range roles {
		if p.HasRole(r) {
			return true
		}
	}
	return false
}
