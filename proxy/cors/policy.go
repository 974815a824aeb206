package cors

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/config"
)

// Policy is a compiled CORS configuration. It is immutable and safe for
// concurrent use.
type Policy struct {
	exact       map[string]struct{} // canonical exact origins, "null" included
	trusted     []string            // canonical exact origins except "null", in order
	patterns    []pattern
	credentials bool
	keep        bool // keep_upstream_headers

	methods      map[string]struct{} // exact case
	allowMethods string              // Access-Control-Allow-Methods
	headers      map[string]string   // lower-case name -> canonical name
	exposed      string              // Access-Control-Expose-Headers
	maxAge       string              // Access-Control-Max-Age, in seconds
	notes        []string
}

// pattern is a compiled subdomain pattern: scheme://*.domain[:port].
type pattern struct {
	scheme    string
	dotDomain string // "." + domain
	port      string // "" for the default
}

// gatewayRequestHeaders are request headers the gateway itself reads, so
// a preflight may always ask for them.
func gatewayRequestHeaders() []string {
	return []string{"Authorization", "Content-Type", "X-Auth-Mode", "X-Requested-With"}
}

// gatewayExposedHeaders are response headers the gateway sets that scripts
// need: the request id for support, and the hints on 401 and 429/503.
func gatewayExposedHeaders() []string {
	return []string{"X-Request-Id", "WWW-Authenticate", "Retry-After"}
}

// New compiles c. It checks c with config.ParseCORS, the rules config
// validation applies, and returns every problem joined, each a
// *config.FieldError.
func New(c config.CORS) (*Policy, error) {
	rules, err := config.ParseCORS(c)
	if err != nil {
		return nil, err
	}
	p := &Policy{
		exact:       map[string]struct{}{},
		credentials: c.CredentialsAllowed(),
		keep:        c.KeepUpstreamHeaders,
		methods:     map[string]struct{}{},
		headers:     map[string]string{},
		maxAge:      strconv.FormatInt(int64(c.MaxAge.Seconds()), 10),
		notes:       rules.Notes,
	}
	for _, o := range rules.Origins {
		switch {
		case o.Wildcard:
			p.patterns = append(p.patterns, pattern{scheme: o.Scheme, dotDomain: "." + o.Host, port: o.Port})
		case o.Null:
			p.exact["null"] = struct{}{}
		default:
			s := o.String()
			p.exact[s] = struct{}{}
			p.trusted = append(p.trusted, s)
		}
	}

	var methods []string
	for _, m := range c.AllowedMethods {
		if _, dup := p.methods[m]; !dup {
			p.methods[m] = struct{}{}
			methods = append(methods, m)
		}
	}
	p.allowMethods = strings.Join(methods, ", ")

	for _, h := range slices.Concat(gatewayRequestHeaders(), c.AllowedHeaders) {
		p.headers[strings.ToLower(h)] = http.CanonicalHeaderKey(h)
	}

	var exposed []string
	seen := map[string]bool{}
	for _, h := range slices.Concat(gatewayExposedHeaders(), c.ExposedHeaders) {
		if l := strings.ToLower(h); !seen[l] {
			seen[l] = true
			exposed = append(exposed, h)
		}
	}
	p.exposed = strings.Join(exposed, ", ")
	return p, nil
}

// Enabled reports whether any origin is allowed. A disabled Policy still
// removes the upstream's Access-Control-* headers in Decorate (unless
// keep_upstream_headers is set), and allows nothing.
func (p *Policy) Enabled() bool { return len(p.exact) > 0 || len(p.patterns) > 0 }

// Allowed reports whether origin, an Origin header value, is allowed. It
// compares the canonical form; a malformed value is not allowed. It does
// not allocate for an origin in the canonical form browsers send.
func (p *Policy) Allowed(origin string) bool {
	if origin == "" || !p.Enabled() {
		return false
	}
	c, ok := config.CanonicalOrigin(origin)
	if !ok {
		return false
	}
	if _, ok := p.exact[c]; ok {
		return true
	}
	if len(p.patterns) == 0 {
		return false
	}
	scheme, host, port := split(c)
	for _, pt := range p.patterns {
		// host is a valid host name, so a longer host with this suffix has
		// at least one whole label before it: a.example.com, never
		// evilexample.com or example.com.
		if pt.scheme == scheme && pt.port == port &&
			len(host) > len(pt.dotDomain) && strings.HasSuffix(host, pt.dotDomain) {
			return true
		}
	}
	return false
}

// split splits a canonical origin into scheme, host and port; "null"
// gives three empty strings.
func split(c string) (scheme, host, port string) {
	scheme, hostport, ok := strings.Cut(c, "://")
	if !ok {
		return "", "", ""
	}
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.HasSuffix(hostport, "]") {
		return scheme, hostport[:i], hostport[i+1:]
	}
	return scheme, hostport, ""
}

// ExactOrigins returns the allowed exact origins in canonical form, in
// configuration order, without "null" and patterns: the list to pass to
// net/http's CrossOriginProtection.AddTrustedOrigin, which compares the
// Origin header byte for byte.
func (p *Policy) ExactOrigins() []string { return slices.Clone(p.trusted) }

// Notes returns the risks found in the configuration that are not errors,
// such as a plain-http origin with credentials, each starting with its
// field, for a doctor command or a startup warning.
func (p *Policy) Notes() []string { return slices.Clone(p.notes) }
