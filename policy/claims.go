package policy

import "github.com/gatehouse/gatehouse/internal/claimmatch"

// claimReq is one compiled `claims:` requirement of a rule: the claim's
// name, the required value, and the reasons, built at Compile so that
// Decide does not allocate.
type claimReq struct {
	name string
	claimmatch.Value
	missingReason, differsReason string
}

// match reports whether the principal's claim value v satisfies c.
func (c *claimReq) match(v any) bool { return c.Match(v) }
