package config

import (
	"testing"
	"time"
)

func validIssuer() Issuer {
	return Issuer{Issuer: "https://idp.example.com", Audiences: []string{"api"}, Algorithms: []string{"RS256", "ES256"}}
}

func TestValidateIssuersAccepts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"discovery", func(c *Config) { c.Issuers = []Issuer{validIssuer()} }},
		{"jwks url with non-URL issuer", func(c *Config) {
			is := validIssuer()
			is.Issuer, is.JWKSURL = "my-idp", "https://idp.example.com/jwks"
			c.Issuers = []Issuer{is}
		}},
		{"loopback http", func(c *Config) {
			is := validIssuer()
			is.JWKSURL = "http://127.0.0.1:8081/jwks"
			c.Issuers = []Issuer{is}
		}},
		{"mapping and requirements", func(c *Config) {
			c.Tokens.Claims = []string{"department"}
			is := validIssuer()
			is.Claims = ClaimMapping{Subject: "preferred_username", Roles: []string{"realm_access.roles"}, Claims: map[string]string{"department": "org.dept"}}
			is.Require = ClaimRequirements{EmailDomains: []string{"example.com"}, RolesAny: []string{"staff"}}
			is.SubjectPrefix = "kc:"
			c.Issuers = []Issuer{is}
		}},
		{"assertion on", func(c *Config) {
			c.Tokens.Claims = []string{"department"}
			c.Assertion = Assertion{Enabled: true, Header: "X-Auth-Assertion", TTL: time.Minute, Claims: []string{"department"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(c)
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %s", listProblems(err))
			}
		})
	}
}

func TestValidateIssuersRejects(t *testing.T) {
	with := func(f func(*Issuer)) func(*Config) {
		return func(c *Config) {
			is := validIssuer()
			f(&is)
			c.Issuers = []Issuer{is}
		}
	}
	tests := []struct {
		name           string
		mutate         func(*Config)
		field, problem string
	}{
		{"empty issuer", with(func(is *Issuer) { is.Issuer = "" }), "issuers[0].issuer", "must not be empty"},
		{"own issuer", with(func(is *Issuer) { is.Issuer = "gatehouse" }), "issuers[0].issuer", "also tokens.issuer"},
		{"duplicate issuer", func(c *Config) { c.Issuers = []Issuer{validIssuer(), validIssuer()} }, "issuers[1].issuer", "also issuers[0]"},
		{"discovery needs a URL", with(func(is *Issuer) { is.Issuer = "my-idp" }), "issuers[0].issuer", "http:// or https://"},
		{"plain http jwks", with(func(is *Issuer) { is.JWKSURL = "http://idp.example.com/jwks" }), "issuers[0].jwks_url", "plain http"},
		{"no audiences", with(func(is *Issuer) { is.Audiences = nil }), "issuers[0].audiences", "must not be empty"},
		{"empty audience", with(func(is *Issuer) { is.Audiences = []string{"api", " "} }), "issuers[0].audiences[1]", "is empty"},
		{"no algorithms", with(func(is *Issuer) { is.Algorithms = nil }), "issuers[0].algorithms", "must not be empty"},
		{"HS256 refused", with(func(is *Issuer) { is.Algorithms = []string{"RS256", "HS256"} }), "issuers[0].algorithms[1]", "symmetric"},
		{"none refused", with(func(is *Issuer) { is.Algorithms = []string{"none"} }), "issuers[0].algorithms[0]", "unsupported algorithm"},
		{"duplicate algorithm", with(func(is *Issuer) { is.Algorithms = []string{"ES256", "ES256"} }), "issuers[0].algorithms[1]", "listed twice"},
		{"claim not in tokens.claims", with(func(is *Issuer) { is.Claims.Claims = map[string]string{"dept": "dept"} }), "issuers[0].claims.claims.dept", "not one of tokens.claims"},
		{"bad claim path", with(func(is *Issuer) { is.Claims.Roles = []string{"a..b"} }), "issuers[0].claims.roles[0]", "not a claim path"},
		{"bad email domain", with(func(is *Issuer) { is.Require.EmailDomains = []string{"@x.com"} }), "issuers[0].require.email_domains[0]", "not a domain name"},
		{"control in prefix", with(func(is *Issuer) { is.SubjectPrefix = "a\nb" }), "issuers[0].subject_prefix", "control characters"},
		{"leeway too long", func(c *Config) { c.ExternalTokens.Leeway = time.Hour }, "external_tokens.leeway", "between 0s and 5m"},
		{"max lifetime short", func(c *Config) { c.ExternalTokens.MaxLifetime = time.Second }, "external_tokens.max_lifetime", "between 1m and 168h"},
		{"token bytes", func(c *Config) { c.ExternalTokens.MaxTokenBytes = 10 }, "external_tokens.max_token_bytes", "between 512 and 65536"},
		{"fetch timeout", func(c *Config) { c.ExternalTokens.FetchTimeout = 0 }, "external_tokens.fetch_timeout", "between 100ms and 1m"},
		{"jwks bytes", func(c *Config) { c.ExternalTokens.MaxJWKSBytes = 1 }, "external_tokens.max_jwks_bytes", "between 1024"},
		{"refetch interval", func(c *Config) { c.ExternalTokens.RefetchInterval = 0 }, "external_tokens.refetch_interval", "between 1s and 1h"},
		{"cache max below min", func(c *Config) { c.ExternalTokens.CacheMax = time.Minute }, "external_tokens.cache_max", "shorter than external_tokens.cache_min"},
		{"assertion ttl", func(c *Config) { c.Assertion.Enabled, c.Assertion.TTL = true, 2*time.Minute }, "assertion.ttl", "between 1s and 1m"},
		{"assertion header bad", func(c *Config) { c.Assertion.Header = "X Bad" }, "assertion.header", "not a header name"},
		{"assertion header reserved", func(c *Config) { c.Assertion.Header = "Authorization" }, "assertion.header", "reserved"},
		{"assertion header clash", func(c *Config) { c.Assertion.Header = "x_auth_user" }, "assertion.header", "also used by identity_headers.user"},
		{"assertion claim", func(c *Config) { c.Assertion.Enabled, c.Assertion.Claims = true, []string{"dept"} }, "assertion.claims[0]", "not one of tokens.claims"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(c)
			err := c.Validate()
			fe := wantProblem(t, err, tt.field, tt.problem)
			if fe.Fix == "" {
				t.Errorf("%s has no fix", fe.Field)
			}
			if got := len(FieldErrors(err)); got != 1 {
				t.Errorf("got %d problems, want 1:\n%s", got, listProblems(err))
			}
		})
	}
}

func TestOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:3000/app?x": "http://127.0.0.1:3000",
		"https://app.example.com":     "https://app.example.com",
		"not a url":                   "",
	} {
		if got := Origin(in); got != want {
			t.Errorf("Origin(%q) = %q, want %q", in, got, want)
		}
	}
}
