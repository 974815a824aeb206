package doctor

import (
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/config"
)

// shadowedRoutes finds a rule without upstream that comes before a rule
// routing the same host and a wider path to a named upstream: the rule
// that decides access is the rule that routes, so requests the earlier
// rule matches go to the default upstream (or NO_ROUTE), not where the
// later rule points. That is valid and sometimes meant, but usually a
// forgotten upstream: line.
func shadowedRoutes(c *config.Config) []Finding {
	var fs []Finding
	rules := c.Policy.Rules
	for j := range rules {
		rj := &rules[j]
		base := rj.PathBase()
		if rj.Upstream == "" || base == "" {
			continue
		}
		for i := range rules[:j] {
			ri := &rules[i]
			bi := ri.PathBase()
			if ri.Upstream != "" || ri.Access == "deny" || !hostsOverlap(ri.Host, rj.Host) ||
				(bi != base && !strings.HasPrefix(bi, base+"/")) {
				continue
			}
			where := "the default upstream"
			if c.Upstream.URL == "" {
				where = "no upstream (404 NO_ROUTE)"
			}
			fs = append(fs, Finding{ID: "route-without-upstream", Severity: Notice, Field: fmt.Sprintf("policy.rules[%d].upstream", i),
				Problem: fmt.Sprintf("rules[%d] matches %s before rules[%d], which routes %s to upstream %q; rules[%d] names no upstream, so its requests go to %s",
					i, bi, j, base, rj.Upstream, i, where),
				Browser: "pages under that path come from another app than the rest of " + base + ", or answer 404",
				Fix:     fmt.Sprintf("add upstream: %s to rules[%d] (and strip_prefix, if rules[%d] has one), unless that is what you mean; gateway check --explain shows where a URL goes", rj.Upstream, i, j)})
		}
	}
	return fs
}

// hostsOverlap reports whether two rule hosts can match the same request:
// either is empty (any host), they are equal, or one is "*.d" and the
// other a subdomain of d.
func hostsOverlap(a, b string) bool {
	a, b = strings.ToLower(strings.TrimSuffix(a, ".")), strings.ToLower(strings.TrimSuffix(b, "."))
	switch {
	case a == "" || b == "" || a == b:
		return true
	case strings.HasPrefix(a, "*."):
		return strings.HasSuffix(b, a[1:])
	case strings.HasPrefix(b, "*."):
		return strings.HasSuffix(a, b[1:])
	}
	return false
}
