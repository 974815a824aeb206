package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const routesYAML = `keys:
  - kid: hs
    alg: HS256
    secret: 0123456789abcdef0123456789abcdef
upstreams:
  api:
    url: http://127.0.0.1:3001
    response_header_timeout: 5s
  legacy:
    url: https://legacy.internal:8443
    tls: {server_name: legacy.internal}
policy:
  rules:
    - path_prefix: /api
      upstream: api
      cors:
        allowed_origins: [https://spa.example.com]
    - path: /legacy/**
      upstream: legacy
      strip_prefix: /legacy
      rewrite_redirects: true
      identity_headers: {user: X-Remote-User, set: {X-Tenant: a}}
`

// TestParseRoutes checks that named upstreams and rule cors blocks start
// from their defaults, and that the default upstream may go without a URL.
func TestParseRoutes(t *testing.T) {
	c, err := parse(t, routesYAML, nil)
	if err != nil {
		t.Fatalf("Parse:\n%s", listProblems(err))
	}
	api := c.Upstreams["api"]
	if api.URL != "http://127.0.0.1:3001" || api.ResponseHeaderTimeout != 5*time.Second || api.DialTimeout != 5*time.Second || api.MaxIdleConnsPerHost != 128 {
		t.Errorf("upstreams.api = %+v, want its URL and timeout over the defaults", api)
	}
	if got := c.Upstreams["legacy"].TLS.ServerName; got != "legacy.internal" {
		t.Errorf("legacy tls.server_name = %q", got)
	}
	co := c.Policy.Rules[0].CORS
	if co == nil || !co.CredentialsAllowed() || co.MaxAge != 10*time.Minute || len(co.AllowedOrigins) != 1 {
		t.Errorf("rule cors = %+v, want the origin over the defaults", co)
	}
	if c.Policy.Rules[1].CORS != nil {
		t.Error("a rule without cors has a cors block")
	}
	if h := c.Policy.Rules[1].IdentityHeaders; h == nil || h.User != "X-Remote-User" || h.Set["X-Tenant"] != "a" {
		t.Errorf("identity_headers = %+v", h)
	}
	if got := c.UpstreamURL(""); got != "" {
		t.Errorf("default upstream URL = %q, want empty", got)
	}
}

func TestParseRoutesProblems(t *testing.T) {
	tests := []struct {
		name, doc, field, problem string
	}{
		{"no upstream at all", "keys: [{kid: hs, alg: HS256, secret: 0123456789abcdef0123456789abcdef}]\n",
			"upstream.url", "is required"},
		{"unknown upstream, did you mean", routesYAML + "    - path: /x\n      upstream: apj\n",
			"policy.rules[2].upstream", `no upstream is named "apj"`},
		{"unknown key in an upstream", withUpstream("  extra: {url: http://x, timeout: 3s}\n"),
			"upstreams.extra.timeout", "unknown key"},
		{"upstream without url", withUpstream("  extra: {dial_timeout: 1s}\n"),
			"upstreams.extra.url", "is required"},
		{"bad upstream name", withUpstream("  \"a b\": {url: http://x}\n"),
			"upstreams.a b", "not a usable upstream name"},
		{"tls on http", withUpstream("  extra: {url: http://x, tls: {ca_file: ca.pem}}\n"),
			"upstreams.extra.tls", "not https"},
		{"cert without key", withUpstream("  extra: {url: https://x, tls: {cert_file: c.pem}}\n"),
			"upstreams.extra.tls", "only one of cert_file and key_file"},
		{"strip prefix outside the path", routesYAML + "    - path_prefix: /app\n      strip_prefix: /legacy\n",
			"policy.rules[2].strip_prefix", "do not start with"},
		{"strip prefix on a partial segment", routesYAML + "    - path_prefix: /legacyx\n      strip_prefix: /legacy\n",
			"policy.rules[2].strip_prefix", "do not start with"},
		{"strip prefix without a path", routesYAML + "    - strip_prefix: /legacy\n",
			"policy.rules[2].strip_prefix", "do not start with"},
		{"strip prefix with trailing slash", routesYAML + "    - path_prefix: /a\n      strip_prefix: /a/\n",
			"policy.rules[2].strip_prefix", "ends with /"},
		{"strip prefix not canonical", routesYAML + "    - path_prefix: /a\n      strip_prefix: /a/../a\n",
			"policy.rules[2].strip_prefix", "not a literal canonical path"},
		{"rewrite without strip", routesYAML + "    - path: /x\n      rewrite_redirects: true\n",
			"policy.rules[2].rewrite_redirects", "has no effect"},
		{"refresh mode", routesYAML + "    - path: /x\n      forward_auth_refresh: inlne\n",
			"policy.rules[2].forward_auth_refresh", "unknown refresh mode"},
		{"rule cors origin", routesYAML + "    - path: /x\n      cors: {allowed_origins: [\"*\"]}\n",
			"policy.rules[2].cors.allowed_origins[0]", ""},
		{"set an identity header", routesYAML + "    - path: /x\n      identity_headers: {set: {X-Auth-User: admin}}\n",
			"policy.rules[2].identity_headers.set.X-Auth-User", "is an identity header"},
		{"bad header name", routesYAML + "    - path: /x\n      identity_headers: {user: \"X User\"}\n",
			"policy.rules[2].identity_headers.user", "not a header name"},
		{"upstream on a deny rule", routesYAML + "    - path: /x\n      access: deny\n      upstream: api\n",
			"policy.rules[2].upstream", "no effect with access: deny"},
		{"claim not in token", routesYAML + "    - path: /x\n      identity_headers: {claims: {dept: X-Dept}}\n",
			"policy.rules[2].identity_headers.claims.dept", "not in the access token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.doc, nil)
			fe := wantProblem(t, err, tt.field, tt.problem)
			if fe.Fix == "" {
				t.Errorf("%s has no fix", fe.Field)
			}
		})
	}
}

// withUpstream adds an entry (a YAML line) to the upstreams of routesYAML.
func withUpstream(entry string) string {
	return strings.Replace(routesYAML, "upstreams:\n", "upstreams:\n"+entry, 1)
}

func TestUnknownUpstreamSuggests(t *testing.T) {
	_, err := parse(t, routesYAML+"    - path: /x\n      upstream: apj\n", nil)
	fe := wantProblem(t, err, "policy.rules[2].upstream", "apj")
	if fe.Fix != `did you mean "api"?` {
		t.Errorf("fix = %q, want the did-you-mean", fe.Fix)
	}
}

// TestIdentityHeaderNames: every header any route sets, canonical, once in
// any spelling, top-level names first.
func TestIdentityHeaderNames(t *testing.T) {
	c, err := parse(t, routesYAML+`    - path: /other/**
      identity_headers: {user: x_remote_user, email: X-Auth-Email, claims: {sid: x-session-id}, set: {X-App-Key: k, x-tenant: b}}
identity_headers: {claims: {email: X-Mail}}
`, nil)
	if err != nil {
		t.Fatalf("Parse:\n%s", listProblems(err))
	}
	want := []string{"X-Auth-User", "X-Auth-Email", "X-Auth-Roles", "X-Auth-Session", "X-Mail", "X-Remote-User", "X-Tenant", "X-Session-Id", "X-App-Key"}
	if got := c.IdentityHeaderNames(); !slices.Equal(got, want) {
		t.Errorf("IdentityHeaderNames() =\n %q\nwant\n %q", got, want)
	}
}
