package config

import (
	"maps"
	"net/http"
	"slices"
)

// UpstreamTLS configures TLS from the gateway to an https upstream. The
// files are read once, when the gateway starts.
type UpstreamTLS struct {
	// CAFile is a PEM bundle of CAs trusted for the upstream's
	// certificate, in addition to the system roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a PEM client certificate and its key, for
	// upstreams that require mutual TLS. Both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName is the name checked in the upstream's certificate (and
	// sent as SNI). Empty means the host of the upstream URL.
	ServerName string `yaml:"server_name"`
}

// RouteHeaders overrides identity headers for one route rule. An empty
// name keeps the top-level identity_headers name.
type RouteHeaders struct {
	// User, Email, Roles and Session rename the identity headers.
	User    string `yaml:"user"`
	Email   string `yaml:"email"`
	Roles   string `yaml:"roles"`
	Session string `yaml:"session"`
	// Claims maps further claim names to header names, in addition to the
	// top-level ones.
	Claims map[string]string `yaml:"claims"`
	// Set adds fixed request headers for this route's upstream (an API key
	// the app expects, a tenant name). They replace any client copy.
	Set map[string]string `yaml:"set"`
}

// UpstreamURL returns the URL of the upstream a rule names: the named
// entry of upstreams, or the default upstream for an empty name. It is
// empty when the rule routes nowhere.
func (c *Config) UpstreamURL(name string) string {
	if name == "" {
		return c.Upstream.URL
	}
	return c.Upstreams[name].URL
}

// IdentityHeaderNames returns, in canonical form and without repeats
// (compared in every spelling, see FoldHeader), every request header the
// gateway may set for an app: the identity headers, the claim headers and
// the fixed headers of identity_headers and of every rule. The order is
// stable: the top-level names first, then each rule's in file order. The
// assertion header is not included; see Assertion.Header.
func (c *Config) IdentityHeaderNames() []string {
	var out []string
	seen := map[string]bool{}
	add := func(names ...string) {
		for _, n := range names {
			if n != "" && !seen[FoldHeader(n)] {
				seen[FoldHeader(n)] = true
				out = append(out, http.CanonicalHeaderKey(n))
			}
		}
	}
	ih := c.IdentityHeaders
	add(ih.User, ih.Email, ih.Roles, ih.Session)
	add(sortedValues(ih.Claims)...)
	for i := range c.Policy.Rules {
		h := c.Policy.Rules[i].IdentityHeaders
		if h == nil {
			continue
		}
		add(h.User, h.Email, h.Roles, h.Session)
		add(sortedValues(h.Claims)...)
		add(slices.Sorted(maps.Keys(h.Set))...)
	}
	return out
}

// sortedValues returns the values of m, sorted.
func sortedValues(m map[string]string) []string {
	return slices.Sorted(maps.Values(m))
}
