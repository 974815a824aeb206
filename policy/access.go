package policy

import "strconv"

// Access is what a rule requires of a request.
type Access int

const (
	// Authenticated requires a verified principal, and that the principal
	// meets the rule's roles_any, roles_all and claims requirements. It is
	// the default for a rule without access and for Policy.Default.
	Authenticated Access = iota
	// Public allows every request, with or without a principal.
	Public
	// Deny refuses every request, with or without a principal.
	Deny
)

// String returns the configuration spelling of a: "authenticated",
// "public" or "deny".
func (a Access) String() string {
	switch a {
	case Authenticated:
		return "authenticated"
	case Public:
		return "public"
	case Deny:
		return "deny"
	}
	return "Access(" + strconv.Itoa(int(a)) + ")"
}

// parseAccess reads the configuration spelling of an Access. The empty
// string means Authenticated, so that an omitted access fails closed.
// Spellings are exact (lower case), like every other enum in the config.
func parseAccess(s string) (Access, bool) {
	switch s {
	case "", "authenticated":
		return Authenticated, true
	case "public":
		return Public, true
	case "deny":
		return Deny, true
	}
	return 0, false
}

// Error codes carried by a refusing Decision. They are stable: clients and
// docs/errors.md depend on them. The HTTP statuses are the proxy's to set;
// the ones noted here are what each code means.
const (
	// CodeUnauthenticated: the rule needs a principal and the request has
	// no (valid) one. HTTP 401.
	CodeUnauthenticated = "UNAUTHENTICATED"
	// CodeInsufficientRoles: the principal lacks a role the rule requires
	// (roles_any or roles_all). HTTP 403.
	CodeInsufficientRoles = "INSUFFICIENT_ROLES"
	// CodeClaimRequired: a claim the rule requires is missing from the
	// principal or has another value. HTTP 403.
	CodeClaimRequired = "CLAIM_REQUIRED"
	// CodeForbidden: the rule (or the default) is access: deny, or the
	// request was not in canonical form. HTTP 403, for everyone.
	CodeForbidden = "FORBIDDEN"
)
