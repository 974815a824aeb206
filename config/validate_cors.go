package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// This file holds the one definition of what an origin is and which
// cors.allowed_origins entries are acceptable. Validate reports the
// problems; package proxy/cors calls ParseCORS and CanonicalOrigin and
// compiles the result, so validation and request handling cannot disagree.

// AllowedOrigin is one parsed entry of cors.allowed_origins, in canonical
// form: an exact origin (https://app.example.com), a subdomain pattern
// (https://*.example.com) or the literal "null".
type AllowedOrigin struct {
	// Null marks the literal "null", the serialisation of an opaque origin;
	// the other fields are then empty.
	Null bool
	// Scheme is "http" or "https".
	Scheme string
	// Host is the lower-case host without a trailing dot, an IPv6 address
	// in brackets; for a pattern, the domain after "*.".
	Host string
	// Port is the port, or "" for the scheme's default (80, 443).
	Port string
	// Wildcard marks a subdomain pattern: it matches every host that ends
	// with "."+Host, never Host itself.
	Wildcard bool
}

// String returns the canonical form: "null", scheme://host[:port] or
// scheme://*.host[:port].
func (o AllowedOrigin) String() string {
	if o.Null {
		return "null"
	}
	var b strings.Builder
	b.Grow(len(o.Scheme) + len(o.Host) + len(o.Port) + 6)
	b.WriteString(o.Scheme)
	b.WriteString("://")
	if o.Wildcard {
		b.WriteString("*.")
	}
	b.WriteString(o.Host)
	if o.Port != "" {
		b.WriteByte(':')
		b.WriteString(o.Port)
	}
	return b.String()
}

// CORSRules is the cors section checked and parsed, for package
// proxy/cors to compile.
type CORSRules struct {
	// Origins are the valid allowed_origins entries, in order, without
	// duplicates.
	Origins []AllowedOrigin
	// Notes are risks that are not errors, each starting with its field,
	// for the doctor to report.
	Notes []string
}

// ParseCORS checks c with the rules Validate applies to the cors section
// and returns the parsed origins, or every problem joined, each a
// *FieldError named cors.*.
func ParseCORS(c CORS) (CORSRules, error) {
	v := &validator{}
	rules := v.cors(&c)
	if err := errors.Join(v.errs...); err != nil {
		return CORSRules{}, err
	}
	return rules, nil
}

// CanonicalOrigin returns the canonical form of an Origin header value —
// scheme and host in lower case, the default port and a trailing dot on
// the host removed — and whether s is an origin at all. An origin is
// "null" or scheme "://" host [":" port] with scheme http or https (the
// ASCII serialisation of an origin, HTML Standard section 7.1.1.1 and RFC
// 6454 section 6.2); a path (even "/"), query, fragment or userinfo makes
// s not an origin. It does not allocate when s is already canonical, as
// browsers send it.
func CanonicalOrigin(s string) (string, bool) {
	if s == "null" {
		return s, true
	}
	o, changed, p := parseOrigin(s, false)
	switch {
	case p != originOK:
		return "", false
	case changed:
		return o.String(), true
	}
	return s, true
}

// originProblem says why a string is not an origin.
type originProblem int

const (
	originOK originProblem = iota
	originNoScheme
	originBadScheme
	originUserinfo
	originPath
	originQuery
	originFragment
	originWildcard
	originBadHost
	originBadPort
)

// parseOrigin splits s into canonical parts and reports whether the
// canonical form differs from s. With pattern, a leading "*." label is
// accepted and marks a wildcard; any other "*" is originWildcard.
func parseOrigin(s string, pattern bool) (o AllowedOrigin, changed bool, p originProblem) {
	scheme, rest, ok := strings.Cut(s, "://")
	switch {
	case !ok:
		return o, false, originNoScheme
	case scheme == "http" || scheme == "https":
		o.Scheme = scheme
	case strings.EqualFold(scheme, "http"):
		o.Scheme, changed = "http", true
	case strings.EqualFold(scheme, "https"):
		o.Scheme, changed = "https", true
	default:
		return o, false, originBadScheme
	}
	// The first of these ends the authority (RFC 3986 section 3.2; WHATWG
	// URL parsers also end it at "\" for http and https).
	if i := strings.IndexAny(rest, `/\?#`); i >= 0 {
		if strings.IndexByte(rest[:i], '@') >= 0 {
			return o, false, originUserinfo
		}
		switch rest[i] {
		case '?':
			return o, false, originQuery
		case '#':
			return o, false, originFragment
		}
		return o, false, originPath
	}
	if strings.IndexByte(rest, '@') >= 0 {
		return o, false, originUserinfo
	}
	if pattern && strings.HasPrefix(rest, "*.") {
		o.Wildcard, rest = true, rest[2:]
	}
	if strings.IndexByte(rest, '*') >= 0 {
		return o, false, originWildcard
	}

	host, port, hasPort := rest, "", false
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 || o.Wildcard {
			return o, false, originBadHost
		}
		host = rest[:end+1]
		if after := rest[end+1:]; after != "" {
			if after[0] != ':' {
				return o, false, originBadHost
			}
			port, hasPort = after[1:], true
		}
	} else if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		host, port, hasPort = rest[:i], rest[i+1:], true
	}

	if hasPort {
		n, ok := parsePort(port)
		switch {
		case !ok:
			return o, false, originBadPort
		case o.Scheme == "http" && n == 80, o.Scheme == "https" && n == 443:
			port, changed = "", true
		case port[0] == '0':
			port, changed = strconv.Itoa(n), true
		}
	}
	o.Port = port

	if strings.HasPrefix(host, "[") {
		inner := host[1 : len(host)-1]
		a, err := netip.ParseAddr(inner)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return o, false, originBadHost
		}
		if c := a.String(); c != inner {
			host, changed = "["+c+"]", true
		}
		o.Host = host
		return o, changed, originOK
	}
	if strings.HasSuffix(host, ".") {
		host, changed = host[:len(host)-1], true
	}
	if !isHostname(host) {
		return o, false, originBadHost
	}
	if hasUpper(host) {
		host, changed = strings.ToLower(host), true
	}
	o.Host = host
	return o, changed, originOK
}

// parsePort parses a port of at most five digits, from 1 to 65535.
func parsePort(s string) (int, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	n := 0
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n >= 1 && n <= 65535
}

// hasUpper reports whether s contains an ASCII upper-case letter.
func hasUpper(s string) bool {
	for i := range len(s) {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// isPublicSuffix reports whether domain is one of a small, explicit list
// of well-known public suffixes of two or more labels: domains under
// which anyone can get a name (country second levels, hosting platforms).
// It is not the Public Suffix List (https://publicsuffix.org), which
// would be a dependency and a file to keep fresh; single labels (com,
// dev) are refused separately.
func isPublicSuffix(domain string) bool {
	switch domain {
	case "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "ltd.uk", "plc.uk",
		"com.au", "net.au", "org.au", "edu.au", "gov.au",
		"co.nz", "org.nz", "co.jp", "ne.jp", "or.jp", "co.kr", "co.in", "co.za",
		"com.br", "com.cn", "com.hk", "com.sg", "com.tw", "com.mx", "com.ar", "com.tr",
		"github.io", "gitlab.io", "herokuapp.com", "vercel.app", "netlify.app",
		"pages.dev", "workers.dev", "web.app", "firebaseapp.com", "appspot.com",
		"cloudfront.net", "azurewebsites.net", "azurestaticapps.net", "blogspot.com",
		"s3.amazonaws.com", "elasticbeanstalk.com", "fly.dev", "onrender.com",
		"ngrok.io", "ngrok-free.app", "glitch.me", "surge.sh":
		return true
	}
	return false
}

// corsFixOrigins is the advice for entries that would allow too much.
const corsFixOrigins = "list the origins that may call the app, such as https://app.example.com, " +
	"or a pattern under a domain you control, such as https://*.example.com"

// cors checks the cors section and returns what is valid of it.
func (v *validator) cors(c *CORS) CORSRules { return v.corsAt("cors", c) }

// corsAt checks a cors block whose YAML path is prefix ("cors", or
// "policy.rules[2].cors") and returns what is valid of it.
func (v *validator) corsAt(prefix string, c *CORS) CORSRules {
	var rules CORSRules
	credentials := c.CredentialsAllowed()
	seen := map[string]int{} // canonical form -> index
	for i, s := range c.AllowedOrigins {
		field := fmt.Sprintf("%s.allowed_origins[%d]", prefix, i)
		o, ok := v.allowedOrigin(field, s, credentials)
		if !ok {
			continue
		}
		key := o.String()
		if j, dup := seen[key]; dup {
			v.add(field, "remove one of them", "%q is the same origin as %s.allowed_origins[%d]", s, prefix, j)
			continue
		}
		seen[key] = i
		if credentials && o.Scheme == "http" && !isLocalhost(strings.Trim(o.Host, "[]")) {
			rules.Notes = append(rules.Notes, fmt.Sprintf(
				"%s: %q is plain http and cors.allow_credentials is on: anyone on the network path can inject script "+
					"into that origin and make requests with your users' cookies; serve it over https", field, s))
		}
		rules.Origins = append(rules.Origins, o)
	}
	v.corsNames(prefix+".allowed_methods", c.AllowedMethods, "method", "PATCH")
	v.corsNames(prefix+".allowed_headers", c.AllowedHeaders, "header name", "X-Csrf-Token")
	v.corsNames(prefix+".exposed_headers", c.ExposedHeaders, "header name", "X-Total-Count")
	// Browsers cap the preflight cache anyway (Chromium at 2h, Firefox at
	// 24h); a longer value only delays a policy change.
	v.between(prefix+".max_age", c.MaxAge, 0, 24*time.Hour)
	return rules
}

// allowedOrigin checks one allowed_origins entry.
func (v *validator) allowedOrigin(field, s string, credentials bool) (AllowedOrigin, bool) {
	switch s {
	case "":
		v.add(field, "remove the empty entry", "is empty")
		return AllowedOrigin{}, false
	case "*":
		v.add(field, corsFixOrigins+"; the gateway answers each allowed origin by name",
			`"*" allows every origin, which cannot work with cookies: browsers refuse a credentialed response `+
				`with Access-Control-Allow-Origin: *, and reflecting any origin instead would let every site act as your users`)
		return AllowedOrigin{}, false
	case "null":
		if credentials {
			v.add(field, "remove null, or set cors.allow_credentials: false and send a bearer token instead of cookies",
				`"null" with cookies allows every site: any page can send Origin: null from a sandboxed iframe`)
			return AllowedOrigin{}, false
		}
		return AllowedOrigin{Null: true}, true
	}

	o, _, p := parseOrigin(s, true)
	if p != originOK {
		v.originProblem(field, s, p)
		return AllowedOrigin{}, false
	}
	if !o.Wildcard {
		return o, true
	}
	labels := strings.Count(o.Host, ".") + 1
	last := o.Host[strings.LastIndexByte(o.Host, '.')+1:]
	switch {
	case isDigits(last):
		v.add(field, "write the IP address as an exact origin, such as http://10.0.0.5:8080",
			"%q puts a wildcard in an IP address; patterns cover subdomains of a DNS name", s)
	case labels < 2 && o.Host != "localhost":
		// *.localhost stays on the machine (RFC 6761 section 6.3); any
		// other single label is a top-level domain.
		v.add(field, corsFixOrigins, "%q is too broad: it allows every site under the top-level domain %q", s, o.Host)
	case isPublicSuffix(o.Host):
		v.add(field, corsFixOrigins,
			"%q is too broad: %s is a public suffix, under which anyone can register a site", s, o.Host)
	default:
		return o, true
	}
	return AllowedOrigin{}, false
}

// originProblem explains why s is not an origin.
func (v *validator) originProblem(field, s string, p originProblem) {
	const shape = "an origin is scheme://host[:port] only, such as https://app.example.com"
	_, rest, _ := strings.Cut(s, "://")
	switch p {
	case originNoScheme:
		v.add(field, fmt.Sprintf("write the scheme too: %q", "https://"+strings.TrimRight(s, "/")), "%q has no scheme", s)
	case originBadScheme:
		v.add(field, `use http:// or https://, or exactly "null"`, "%q is not an http or https origin", s)
	case originUserinfo:
		v.add(field, "remove the user@ part; "+shape, "%q contains userinfo", s)
	case originPath:
		if i := strings.IndexAny(rest, `/\`); rest[i:] == "/" {
			v.add(field, fmt.Sprintf("remove the trailing slash: %q", strings.TrimSuffix(s, "/")),
				"%q ends with a slash, which browsers never send in Origin", s)
			return
		}
		v.add(field, "remove the path; "+shape, "%q has a path", s)
	case originQuery:
		v.add(field, "remove the ?query; "+shape, "%q has a query", s)
	case originFragment:
		v.add(field, "remove the #fragment; "+shape, "%q has a fragment", s)
	case originWildcard:
		v.add(field, "for subdomains write a pattern such as https://*.example.com; "+
			"a wildcard cannot stand for part of a label, a middle label, the scheme or the port",
			"%q has a wildcard other than a leading \"*.\" label", s)
	case originBadHost:
		v.add(field, "use a host name (international names in their xn-- form), an IPv4 address "+
			"or an IPv6 address in brackets; patterns take host names only", "%q has an invalid host", s)
	case originBadPort:
		v.add(field, "use a port from 1 to 65535, or none for the scheme's default", "%q has an invalid port", s)
	}
}

// isDigits reports whether s is a non-empty string of ASCII digits.
func isDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// corsNames checks a list of methods or header names: tokens, and not
// "*", which the Fetch Standard treats as a wildcard only for requests
// without credentials and which never covers Authorization
// (https://fetch.spec.whatwg.org/#http-new-header-syntax); the gateway
// answers by name instead.
func (v *validator) corsNames(key string, list []string, what, example string) {
	for i, s := range list {
		field := fmt.Sprintf("%s[%d]", key, i)
		switch {
		case s == "*":
			v.add(field, fmt.Sprintf("list each %s by name, such as %s", what, example),
				`"*" is not supported: browsers ignore it for requests with cookies`)
		case !IsToken(s):
			v.add(field, fmt.Sprintf("use a %s such as %s", what, example), "%q is not a %s", s, what)
		}
	}
}
