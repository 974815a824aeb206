package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

const testSecret = "0123456789abcdef0123456789abcdef" // 32 bytes

// validConfig is a minimal configuration that passes Validate; each case
// below breaks one rule of it.
func validConfig() *Config {
	c := Default()
	c.Upstream.URL = "http://127.0.0.1:3000"
	c.Keys = []Key{{ID: "main", PrivateKey: "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n"}}
	return &c
}

func ptr[T any](v T) *T { return &v }

func TestValidateAcceptsValid(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"minimal", func(*Config) {}},
		{"public url with slash", func(c *Config) { c.PublicURL = "https://app.example.com/" }},
		{"listen ipv6", func(c *Config) { c.Server.Listen = "[::1]:0" }},
		{"listen host name", func(c *Config) { c.Server.Listen = "localhost:8080" }},
		{"zero timeouts mean no limit", func(c *Config) {
			c.Server.ReadTimeout, c.Server.WriteTimeout, c.Upstream.ResponseHeaderTimeout = 0, 0, 0
		}},
		{"upstream with base path", func(c *Config) { c.Upstream.URL = "https://backend.internal:8443/app" }},
		{"proxies", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "192.0.2.1", "2001:db8::/32", "::1"} }},
		{"hs256 key", func(c *Config) { c.Keys = []Key{{ID: "hs", Alg: "HS256", Secret: testSecret}} }},
		{"rotation", func(c *Config) {
			c.Keys = append(c.Keys, Key{ID: "old", PublicKey: "pem"})
			c.Tokens.SigningKey = "main"
		}},
		{"same_site None with secure", func(c *Config) { c.Cookie.SameSite = "None" }},
		{"__Host- cookie", func(c *Config) { c.Cookie.Name = "__Host-gh" }},
		{"domain cookie", func(c *Config) {
			c.PublicURL = "https://app.example.com"
			c.Cookie.Domain = ".example.com"
		}},
		{"secure cookie on http localhost", func(c *Config) { c.PublicURL = "http://localhost:8080" }},
		{"insecure cookie on http", func(c *Config) {
			c.PublicURL = "http://app.internal"
			c.Cookie.Secure = ptr(false)
		}},
		{"nil secure means true", func(c *Config) {
			c.Cookie.Secure = nil
			c.Cookie.Name = "__Secure-gh"
		}},
		{"claim headers", func(c *Config) {
			c.Tokens.Claims = []string{"department"}
			c.IdentityHeaders.Claims = map[string]string{"department": "X-Auth-Dept", "sub": "X-Subject"}
		}},
		{"rules", func(c *Config) {
			c.Tokens.Claims = []string{"email_verified"}
			c.Policy.Default = "deny"
			c.Policy.Rules = []Rule{
				{Path: "/api/**", Methods: []string{"GET", "post"}, RolesAny: []string{"a"}, Claims: map[string]any{"email_verified": true}},
				{Host: "*.example.com", PathPrefix: "/static", Access: "public"},
				{Host: "10.0.0.1", Path: "/a/*/b/**", Access: "deny"},
			}
		}},
		{"text debug log", func(c *Config) { c.Log = Log{Level: "debug", Format: "text"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(c)
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate() =\n%s", listProblems(err))
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		field   string
		problem string
		// more is the number of further problems the change also causes.
		more int
	}{
		// server
		{"listen without port", func(c *Config) { c.Server.Listen = "8080" }, "server.listen", "not a listen address", 0},
		{"listen port out of range", func(c *Config) { c.Server.Listen = ":99999" }, "server.listen", "from 0 to 65535", 0},
		{"listen bad host", func(c *Config) { c.Server.Listen = "ex ample:80" }, "server.listen", "neither an IP address nor a host name", 0},
		{"read_timeout negative", func(c *Config) { c.Server.ReadTimeout = -time.Second }, "server.read_timeout", "at least 0s", 0},
		{"write_timeout negative", func(c *Config) { c.Server.WriteTimeout = -time.Second }, "server.write_timeout", "at least 0s", 0},
		{"idle_timeout negative", func(c *Config) { c.Server.IdleTimeout = -time.Second }, "server.idle_timeout", "at least 0s", 0},
		{"read_header_timeout zero", func(c *Config) { c.Server.ReadHeaderTimeout = 0 }, "server.read_header_timeout", "greater than 0", 0},
		{"max_header_bytes small", func(c *Config) { c.Server.MaxHeaderBytes = 1024 }, "server.max_header_bytes", "at least 4096", 0},

		// public_url
		{"public_url scheme", func(c *Config) { c.PublicURL = "ftp://app.example.com" }, "public_url", "http:// or https://", 0},
		{"public_url relative", func(c *Config) { c.PublicURL = "app.example.com" }, "public_url", "http:// or https://", 0},
		{"public_url no host", func(c *Config) { c.PublicURL = "https://" }, "public_url", "no host", 0},
		{"public_url path", func(c *Config) { c.PublicURL = "https://app.example.com/app" }, "public_url", "has a path", 0},
		{"public_url query", func(c *Config) { c.PublicURL = "https://app.example.com/?a=1" }, "public_url", "has a query", 0},
		{"public_url fragment", func(c *Config) { c.PublicURL = "https://app.example.com/#top" }, "public_url", "has a fragment", 0},
		{"public_url userinfo", func(c *Config) { c.PublicURL = "https://u:p@app.example.com" }, "public_url", "userinfo", 0},

		// auth_prefix
		{"auth_prefix relative", func(c *Config) { c.AuthPrefix = ".auth" }, "auth_prefix", "must start with /", 0},
		{"auth_prefix root", func(c *Config) { c.AuthPrefix = "/" }, "auth_prefix", `must not be "/"`, 0},
		{"auth_prefix trailing slash", func(c *Config) { c.AuthPrefix = "/.auth/" }, "auth_prefix", "ends with /", 0},
		{"auth_prefix star", func(c *Config) { c.AuthPrefix = "/auth*" }, "auth_prefix", "contains one of", 0},
		{"auth_prefix percent", func(c *Config) { c.AuthPrefix = "/a%2Fb" }, "auth_prefix", "contains one of", 0},
		{"auth_prefix dotdot", func(c *Config) { c.AuthPrefix = "/a/../b" }, "auth_prefix", `".." segment`, 0},

		// upstream
		{"upstream missing", func(c *Config) { c.Upstream.URL = "" }, "upstream.url", "is required", 0},
		{"upstream no scheme", func(c *Config) { c.Upstream.URL = "localhost:3000" }, "upstream.url", "http:// or https://", 0},
		{"upstream no host", func(c *Config) { c.Upstream.URL = "http:///app" }, "upstream.url", "no host", 0},
		{"upstream query", func(c *Config) { c.Upstream.URL = "http://app:3000/?debug=1" }, "upstream.url", "has a query", 0},
		{"upstream fragment", func(c *Config) { c.Upstream.URL = "http://app:3000/#x" }, "upstream.url", "has a fragment", 0},
		{"upstream userinfo", func(c *Config) { c.Upstream.URL = "http://admin:pw@app:3000" }, "upstream.url", "userinfo", 0},
		{"upstream dial_timeout", func(c *Config) { c.Upstream.DialTimeout = -1 }, "upstream.dial_timeout", "at least 0s", 0},
		{"upstream response_header_timeout", func(c *Config) { c.Upstream.ResponseHeaderTimeout = -1 }, "upstream.response_header_timeout", "at least 0s", 0},
		{"upstream idle_conn_timeout", func(c *Config) { c.Upstream.IdleConnTimeout = -1 }, "upstream.idle_conn_timeout", "at least 0s", 0},
		{"upstream max_idle_conns_per_host", func(c *Config) { c.Upstream.MaxIdleConnsPerHost = -1 }, "upstream.max_idle_conns_per_host", "must not be negative", 0},

		// trusted_proxies
		{"proxy bad cidr", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "10.0.0.0/33"} }, "trusted_proxies[1]", "not a CIDR", 0},
		{"proxy host bits", func(c *Config) { c.TrustedProxies = []string{"10.0.0.1/8"} }, "trusted_proxies[0]", "host bits set", 0},
		{"proxy host name", func(c *Config) { c.TrustedProxies = []string{"lb.internal"} }, "trusted_proxies[0]", "neither an IP address nor a CIDR", 0},

		// tokens
		{"issuer empty", func(c *Config) { c.Tokens.Issuer = "" }, "tokens.issuer", "must not be empty", 0},
		{"audience empty", func(c *Config) { c.Tokens.Audience = " " }, "tokens.audience", "must not be empty", 0},
		{"access_ttl short", func(c *Config) { c.Tokens.AccessTTL = 500 * time.Millisecond }, "tokens.access_ttl", "between 1s and 24h", 0},
		{"access_ttl long", func(c *Config) {
			c.Tokens.AccessTTL = 25 * time.Hour
			c.Session.IdleTimeout = 48 * time.Hour
		}, "tokens.access_ttl", "between 1s and 24h", 0},
		{"leeway negative", func(c *Config) { c.Tokens.Leeway = -time.Second }, "tokens.leeway", "between 0s and 5m", 0},
		{"leeway long", func(c *Config) { c.Tokens.Leeway = 10 * time.Minute }, "tokens.leeway", "between 0s and 5m", 0},
		{"max_token_bytes small", func(c *Config) { c.Tokens.MaxTokenBytes = 100 }, "tokens.max_token_bytes", "between 512 and 65536", 0},
		{"max_token_bytes large", func(c *Config) { c.Tokens.MaxTokenBytes = 1 << 20 }, "tokens.max_token_bytes", "between 512 and 65536", 0},
		{"verify_cache_size negative", func(c *Config) { c.Tokens.VerifyCacheSize = -1 }, "tokens.verify_cache_size", "between 0 and 1000000", 0},
		{"verify_cache_size huge", func(c *Config) { c.Tokens.VerifyCacheSize = 2_000_000 }, "tokens.verify_cache_size", "between 0 and 1000000", 0},
		{"claim empty", func(c *Config) { c.Tokens.Claims = []string{""} }, "tokens.claims[0]", "empty", 0},
		{"claim reserved", func(c *Config) { c.Tokens.Claims = []string{"team", "roles"} }, "tokens.claims[1]", "reserved claim", 0},
		{"claim duplicate", func(c *Config) { c.Tokens.Claims = []string{"team", "team"} }, "tokens.claims[1]", "already listed", 0},

		// keys
		{"no keys", func(c *Config) { c.Keys = nil }, "keys", "no keys configured", 0},
		{"key without material", func(c *Config) { c.Keys = []Key{{ID: "a"}} }, "keys[0]", "no key material", 0},
		{"key with two kinds", func(c *Config) { c.Keys[0].PublicKey = "pem" }, "keys[0]", "more than one of private_key, public_key", 0},
		{"unknown alg", func(c *Config) { c.Keys[0].Alg = "ES257" }, "keys[0].alg", `unsupported algorithm "ES257"`, 0},
		{"secret without HS256", func(c *Config) { c.Keys = []Key{{ID: "hs", Secret: testSecret}} }, "keys[0].alg", "requires alg: HS256", 0},
		{"secret without kid", func(c *Config) { c.Keys = []Key{{Alg: "HS256", Secret: testSecret}} }, "keys[0].kid", "explicit kid", 0},
		{"secret short", func(c *Config) { c.Keys = []Key{{ID: "hs", Alg: "HS256", Secret: "short"}} }, "keys[0].secret", "at least 32", 0},
		{"HS256 without secret", func(c *Config) { c.Keys[0].Alg = "HS256" }, "keys[0].alg", "HS256 needs a secret", 0},
		{"duplicate kid", func(c *Config) { c.Keys = append(c.Keys, Key{ID: "main", PublicKey: "pem"}) }, "keys[1].kid", `kid "main" is also used by keys[0]`, 0},
		{"signing_key unknown", func(c *Config) { c.Tokens.SigningKey = "nope" }, "tokens.signing_key", `no key has kid "nope"`, 0},
		{"signing_key public", func(c *Config) {
			c.Keys = append(c.Keys, Key{ID: "old", PublicKey: "pem"})
			c.Tokens.SigningKey = "old"
		}, "tokens.signing_key", "is a public key", 0},
		{"only public keys", func(c *Config) { c.Keys = []Key{{PublicKey: "pem"}} }, "keys", "no key can sign", 0},

		// session
		{"idle_timeout zero", func(c *Config) { c.Session.IdleTimeout = 0 }, "session.idle_timeout", "greater than 0", 0},
		{"absolute_lifetime zero", func(c *Config) { c.Session.AbsoluteLifetime = 0 }, "session.absolute_lifetime", "greater than 0", 0},
		{"absolute shorter than idle", func(c *Config) { c.Session.AbsoluteLifetime = time.Hour }, "session.absolute_lifetime", "shorter than session.idle_timeout", 0},
		{"idle shorter than access_ttl", func(c *Config) { c.Session.IdleTimeout = time.Minute }, "session.idle_timeout", "shorter than tokens.access_ttl", 0},
		{"absolute shorter than access_ttl", func(c *Config) {
			c.Session.IdleTimeout = 0
			c.Session.AbsoluteLifetime = time.Minute
		}, "session.absolute_lifetime", "shorter than tokens.access_ttl", 1},

		// cookie
		{"same_site unknown", func(c *Config) { c.Cookie.SameSite = "lox" }, "cookie.same_site", `unknown value "lox"`, 0},
		{"same_site none insecure", func(c *Config) {
			c.Cookie.SameSite = "none"
			c.Cookie.Secure = ptr(false)
		}, "cookie.same_site", "requires secure: true", 0},
		{"cookie name invalid", func(c *Config) { c.Cookie.Name = "my cookie" }, "cookie.name", "not a valid cookie name", 0},
		{"__Host- insecure", func(c *Config) {
			c.Cookie.Name = "__Host-gh"
			c.Cookie.Secure = ptr(false)
		}, "cookie.name", "must be Secure", 0},
		{"__Host- with domain", func(c *Config) {
			c.Cookie.Name = "__Host-gh"
			c.Cookie.Domain = "example.com"
		}, "cookie.name", "must not have a Domain", 0},
		{"__Host- with path", func(c *Config) {
			c.Cookie.Name = "__host-gh"
			c.Cookie.Path = "/app"
		}, "cookie.name", "must have Path=/", 0},
		{"__Secure- insecure", func(c *Config) {
			c.Cookie.Name = "__Secure-gh"
			c.Cookie.Secure = ptr(false)
		}, "cookie.name", "must be Secure", 0},
		{"domain scheme", func(c *Config) { c.Cookie.Domain = "https://example.com" }, "cookie.domain", "contains a scheme", 0},
		{"domain port", func(c *Config) { c.Cookie.Domain = "example.com:443" }, "cookie.domain", "contains a port", 0},
		{"domain path", func(c *Config) { c.Cookie.Domain = "example.com/app" }, "cookie.domain", "contains a path", 0},
		{"domain wildcard", func(c *Config) { c.Cookie.Domain = "*.example.com" }, "cookie.domain", "contains a wildcard", 0},
		{"domain not covering public_url", func(c *Config) {
			c.PublicURL = "https://app.example.com"
			c.Cookie.Domain = "example.org"
		}, "cookie.domain", "does not cover public_url's host app.example.com", 0},
		{"cookie path relative", func(c *Config) { c.Cookie.Path = "app" }, "cookie.path", "not a cookie path", 0},
		{"secure cookie on plain http", func(c *Config) { c.PublicURL = "http://app.example.com" }, "cookie.secure", "plain http", 0},

		// identity_headers
		{"user header invalid", func(c *Config) { c.IdentityHeaders.User = "X Auth User" }, "identity_headers.user", "not a header name", 0},
		{"email header empty", func(c *Config) { c.IdentityHeaders.Email = "" }, "identity_headers.email", "not a header name", 0},
		{"roles header reserved", func(c *Config) { c.IdentityHeaders.Roles = "authorization" }, "identity_headers.roles", "Authorization is reserved", 0},
		{"session header reserved spelling", func(c *Config) { c.IdentityHeaders.Session = "X_Forwarded_For" }, "identity_headers.session", "X-Forwarded-For is reserved", 0},
		{"header duplicate", func(c *Config) { c.IdentityHeaders.Email = "x-auth-user" }, "identity_headers.email", "also used by identity_headers.user", 0},
		{"header duplicate underscore", func(c *Config) {
			c.IdentityHeaders.Claims = map[string]string{"sub": "X_Auth_Roles"}
		}, "identity_headers.claims.sub", "also used by identity_headers.roles", 0},
		{"claim header not in token", func(c *Config) {
			c.IdentityHeaders.Claims = map[string]string{"department": "X-Auth-Dept"}
		}, "identity_headers.claims.department", "not in the access token", 0},
		{"claim header invalid", func(c *Config) {
			c.IdentityHeaders.Claims = map[string]string{"sid": "X:Sid"}
		}, "identity_headers.claims.sid", "not a header name", 0},
		{"strip prefix empty", func(c *Config) { c.IdentityHeaders.StripPrefixes = []string{"X-Auth-", ""} }, "identity_headers.strip_prefixes[1]", "not a header name prefix", 0},
		{"strip invalid", func(c *Config) { c.IdentityHeaders.Strip = []string{"X-User Id"} }, "identity_headers.strip[0]", "not a header name", 0},

		// policy
		{"default unknown", func(c *Config) { c.Policy.Default = "allow" }, "policy.default", `unknown access "allow"`, 0},
		{"rule access unknown", func(c *Config) { c.Policy.Rules = []Rule{{Access: "publik"}} }, "policy.rules[0].access", `unknown access "publik"`, 0},
		{"rule path and prefix", func(c *Config) { c.Policy.Rules = []Rule{{Path: "/a", PathPrefix: "/b"}} }, "policy.rules[0]", "both path and path_prefix", 0},
		{"rule path relative", func(c *Config) { c.Policy.Rules = []Rule{{Path: "api/**"}} }, "policy.rules[0].path", "does not start with /", 0},
		{"rule path_prefix relative", func(c *Config) { c.Policy.Rules = []Rule{{}, {PathPrefix: "api"}} }, "policy.rules[1].path_prefix", "does not start with /", 0},
		{"rule path partial **", func(c *Config) { c.Policy.Rules = []Rule{{Path: "/api/**.json"}} }, "policy.rules[0].path", `uses ** inside the segment "**.json"`, 0},
		{"rule path query", func(c *Config) { c.Policy.Rules = []Rule{{Path: "/search?q=*"}} }, "policy.rules[0].path", "contains ? or #", 0},
		{"rule path_prefix glob", func(c *Config) { c.Policy.Rules = []Rule{{PathPrefix: "/api/*"}} }, "policy.rules[0].path_prefix", "contains *", 0},
		{"rule method invalid", func(c *Config) { c.Policy.Rules = []Rule{{Methods: []string{"GET", "PO ST"}}} }, "policy.rules[0].methods[1]", "not a method", 0},
		{"roles_any on public", func(c *Config) { c.Policy.Rules = []Rule{{Access: "public", RolesAny: []string{"a"}}} }, "policy.rules[0].roles_any", "no effect with access: public", 0},
		{"roles_all on deny", func(c *Config) { c.Policy.Rules = []Rule{{Access: "deny", RolesAll: []string{"a"}}} }, "policy.rules[0].roles_all", "no effect with access: deny", 0},
		{"claims on public", func(c *Config) {
			c.Policy.Rules = []Rule{{Access: "public", Claims: map[string]any{"email": "a@b"}}}
		}, "policy.rules[0].claims", "no effect with access: public", 0},
		{"role empty", func(c *Config) { c.Policy.Rules = []Rule{{RolesAll: []string{"a", " "}}} }, "policy.rules[0].roles_all[1]", "role name is empty", 0},
		{"rule claim not in token", func(c *Config) {
			c.Policy.Rules = []Rule{{Claims: map[string]any{"email_verified": true}}}
		}, "policy.rules[0].claims.email_verified", "not in the access token", 0},
		{"rule host port", func(c *Config) { c.Policy.Rules = []Rule{{Host: "app.example.com:8443"}} }, "policy.rules[0].host", "contains a port", 0},
		{"rule host scheme", func(c *Config) { c.Policy.Rules = []Rule{{Host: "https://app.example.com"}} }, "policy.rules[0].host", "contains a scheme", 0},
		{"rule host inner wildcard", func(c *Config) { c.Policy.Rules = []Rule{{Host: "app.*.example.com"}} }, "policy.rules[0].host", "wildcard other than", 0},
		{"rule host bare wildcard", func(c *Config) { c.Policy.Rules = []Rule{{Host: "*"}} }, "policy.rules[0].host", "wildcard other than", 0},
		{"rule host invalid", func(c *Config) { c.Policy.Rules = []Rule{{Host: "app_.-example"}} }, "policy.rules[0].host", "not a host name", 0},

		// log
		{"log level", func(c *Config) { c.Log.Level = "verbose" }, "log.level", `unknown level "verbose"`, 0},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, "log.format", `unknown format "xml"`, 0},
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
			if got := len(FieldErrors(err)); got != 1+tt.more {
				t.Errorf("got %d problems, want %d:\n%s", got, 1+tt.more, listProblems(err))
			}
		})
	}
}

func TestValidateFixes(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		field  string
		fix    string
	}{
		{"upstream example", func(c *Config) { c.Upstream.URL = "" }, "upstream.url", "set upstream.url to your app's address, e.g. http://127.0.0.1:3000"},
		{"keygen", func(c *Config) { c.Keys = nil }, "keys", "gateway keygen > signing.pem"},
		{"alg did you mean", func(c *Config) { c.Keys[0].Alg = "ES257" }, "keys[0].alg", `did you mean "ES256"?`},
		{"same_site did you mean", func(c *Config) { c.Cookie.SameSite = "lox" }, "cookie.same_site", `did you mean "lax"?`},
		{"same_site none explains", func(c *Config) {
			c.Cookie.SameSite = "none"
			c.Cookie.Secure = ptr(false)
		}, "cookie.same_site", "browsers reject SameSite=None cookies without Secure"},
		{"reserved claims listed", func(c *Config) { c.Tokens.Claims = []string{"sub"} }, "tokens.claims[0]", "always in the token"},
		{"claim header added to tokens", func(c *Config) {
			c.IdentityHeaders.Claims = map[string]string{"team": "X-Team"}
		}, "identity_headers.claims.team", `add "team" to tokens.claims`},
		{"access did you mean", func(c *Config) { c.Policy.Rules = []Rule{{Access: "publik"}} }, "policy.rules[0].access", `did you mean "public"?`},
		{"roles only authenticated", func(c *Config) { c.Policy.Rules = []Rule{{Access: "public", RolesAny: []string{"a"}}} }, "policy.rules[0].roles_any", "only for signed-in users"},
		{"proxy masked", func(c *Config) { c.TrustedProxies = []string{"10.1.2.3/8"} }, "trusted_proxies[0]", "10.0.0.0/8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(c)
			fe := wantProblem(t, c.Validate(), tt.field, "")
			if !strings.Contains(fe.Fix, tt.fix) {
				t.Errorf("fix = %q, want it to contain %q", fe.Fix, tt.fix)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := validConfig()
	c.Server.MaxHeaderBytes = 10
	c.Cookie.SameSite = "sometimes"
	c.Policy.Rules = []Rule{{}, {Path: "nope"}}
	err := c.Validate()
	want := []string{"server.max_header_bytes", "cookie.same_site", "policy.rules[1].path"}
	if got := fields(err); !reflect.DeepEqual(got, want) {
		t.Fatalf("fields = %q, want %q\n%s", got, want, listProblems(err))
	}
}

func TestValidateDoesNotModify(t *testing.T) {
	build := func() *Config {
		c := validConfig()
		c.Policy.Rules = []Rule{{Methods: []string{"get"}, Access: "public", RolesAny: []string{"x"}, Claims: map[string]any{"a": 1}}}
		c.Cookie.SameSite = "LAX"
		c.Cookie.Secure = nil
		c.IdentityHeaders.Claims = map[string]string{"sub": "x-sub"}
		c.Keys = append(c.Keys, Key{Secret: "short"})
		return c
	}
	c := build()
	if c.Validate() == nil {
		t.Fatal("want problems")
	}
	if want := build(); !reflect.DeepEqual(c, want) {
		t.Errorf("Validate modified the config:\n got %+v\nwant %+v", c, want)
	}
}
