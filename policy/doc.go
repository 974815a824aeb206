// Package policy decides whether a request may pass the gateway: it
// compiles the route rules of config.Policy once (Compile) and then, for
// each request, picks the first matching rule and checks its access,
// roles and claims against the verified principal (Engine.Decide).
//
// The decision is pure: a Request is a plain struct (canonical host and
// path, method, principal) and a Decision says allow or refuse, which
// rule decided, a stable error code and a reason for the debug log. There
// is no net/http here; package proxy builds the Request, maps the codes to
// 401 and 403, and forwards the canonical path.
//
// # Matching
//
// Rules are tried in file order; the first whose host, path (or
// path_prefix) and methods all match decides. An empty field matches
// anything. When no rule matches, Policy.Default decides (authenticated
// unless configured otherwise), and the Decision names the rule "default".
//
//	host         app.example.com  exact, without regard to ASCII case and
//	                              a trailing dot (compared canonically)
//	             *.example.com    any subdomain at any depth (a.example.com,
//	                              a.b.example.com); never example.com itself,
//	                              never evilexample.com
//	path         /admin           exactly /admin
//	             /a/*/c           "*" matches within one segment: /a/b/c,
//	                              not /a/b/x/c; /files/*.png works too
//	             /api/**          "**" as a whole segment is zero or more
//	                              segments: /api, /api/, /api/x/y
//	path_prefix  /api (or /api/)  /api, /api/, /api/x; never /apix
//	methods      [GET, POST]      without regard to case; GET brings HEAD
//
// Paths are compared case-sensitively and a trailing slash never matters
// to a match (/admin and /admin/ are the same route, because most
// upstreams serve or redirect both). Rule paths must themselves be written
// in canonical decoded form; Compile refuses one that no request could
// match ("/a//b", "/a/../b", "/a%2Fb").
//
// # Access
//
// A public rule allows everyone; a deny rule refuses everyone, signed in
// or not (CodeForbidden). An authenticated rule (the default) refuses a
// request without a principal (CodeUnauthenticated), then checks, in this
// order, roles_any (at least one), roles_all (every one) (both
// CodeInsufficientRoles), and claims (CodeClaimRequired). A required
// claim is a string, number or boolean from YAML; the principal's claim
// meets it when it is equal (numbers compare as float64 whatever their Go
// type, json.Number included; strings and booleans exactly, never across
// kinds), or when it is a list ([]any, []string) containing the value.
//
// # Canonical forms
//
// A rule protects a resource only if the gateway and the upstream read
// the same path. Every request path therefore goes through CanonicalPath,
// which decodes the escaped path once into a single canonical spelling,
// or refuses it; the proxy matches rules against that spelling and
// forwards exactly it, re-escaped, so the upstream reads what the policy
// judged. Spellings that upstreams disagree about are refused outright, as
// Spring Security's StrictHttpFirewall does. The rules, in the order they
// are applied:
//
//	input                               result
//	----------------------------------  ----------------------------------
//	"" or not beginning with "/" ("*")  refused
//	%zz, %4 (malformed escape)          refused
//	%2F %2f (encoded slash)             refused: a segment that contains "/"
//	\ or %5C (backslash)                refused: a separator on Windows
//	%25 (encoded percent)               refused: double encoding
//	; or %3B                            refused: path parameters, which
//	                                    Tomcat strips and others keep
//	bytes 0x00-0x1F and 0x7F, literal   refused: NUL truncates, CR LF split
//	or encoded; C1 controls U+0080-9F   lines (NEL is a line break to some)
//	invalid UTF-8 after decoding        refused (overlong %C0%AE is not ".")
//	any other %XX                       decoded, exactly once (%61 is "a",
//	                                    %2e is ".", %3F is a literal "?")
//	empty segments (//)                 dropped: //admin is /admin
//	"." segments                        dropped: /./admin is /admin
//	".." segments, %2e%2e included      remove the segment before them,
//	                                    never climbing above the root:
//	                                    /x/../admin and /../admin are /admin
//	trailing "/", "." or ".."           kept as one trailing slash:
//	                                    /admin/. and /admin/x/.. are /admin/
//	the root                            "/" (so /. and /.. are "/")
//
// Canonicalisation does not fold case, apply Unicode normalisation, or
// strip trailing dots and spaces from segments. An upstream that does
// (IIS does all three) reads /ADMIN as /admin while the rules do not, so
// a rule that restricts /admin (deny, roles, claims) does not restrict
// /ADMIN. In front of such an upstream, keep the default strict and list
// what is more open as exceptions: a respelling then fails closed.
//
// CanonicalHost lower-cases ASCII letters, strips the port (including
// from "[::1]:8080", which gives "::1") and one trailing dot.
//
// Decide refuses (CodeForbidden, empty Rule) a request whose Host or Path
// is not canonical, instead of matching a spelling no rule anticipated.
package policy
