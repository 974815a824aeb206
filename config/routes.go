package config

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
