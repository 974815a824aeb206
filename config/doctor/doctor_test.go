package doctor

import (
	"testing"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
)

func baseConfig(t *testing.T) config.Config {
	t.Helper()
	k, err := session.GenerateKey("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := k.PrivatePEM()
	c := config.Default()
	c.Upstream.URL = "http://127.0.0.1:3000"
	c.PublicURL = "https://api.example.com"
	c.Keys = []config.Key{{PrivateKey: string(pem)}}
	return c
}

func TestDiagnose(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*config.Config)
		want   string // finding ID; "" means none
	}{
		{"defaults are healthy", func(*config.Config) {}, ""},
		{"same-site frontend", func(c *config.Config) { c.CORS.AllowedOrigins = []string{"https://app.example.com"} }, ""},
		{"cross-site frontend with lax cookies", func(c *config.Config) { c.CORS.AllowedOrigins = []string{"https://app.other.test"} }, "cross-site-frontend"},
		{"cross-site frontend with SameSite=None", func(c *config.Config) {
			c.CORS.AllowedOrigins = []string{"https://app.other.test"}
			c.Cookie.SameSite = "none"
		}, "third-party-cookies"},
		{"public suffix is not one site", func(c *config.Config) {
			c.PublicURL = "https://api.github.io"
			c.CORS.AllowedOrigins = []string{"https://evil.github.io"}
		}, "cross-site-frontend"},
		{"plain http origin with credentials", func(c *config.Config) { c.CORS.AllowedOrigins = []string{"http://app.example.com"} }, "cors-http-origin"},
		{"huge claims", func(c *config.Config) {
			for i := 0; i < 150; i++ {
				c.Tokens.Claims = append(c.Tokens.Claims, "claim_number_"+string(rune('a'+i%26))+string(rune('a'+i/26)))
			}
		}, "cookie-too-large"},
		{"token over its own limit", func(c *config.Config) {
			c.Tokens.Claims = []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p"}
			c.Tokens.MaxTokenBytes = 600
		}, "token-over-limit"},
		{"domain cookie without legacy list", func(c *config.Config) { c.Cookie.Domain = "example.com" }, "legacy-cookie-unlisted"},
		{"oidc provider over https is healthy", func(c *config.Config) {
			c.OIDC.Providers = []config.OIDCProvider{{Name: "idp", Issuer: "https://idp.example.com", ClientID: "a", ClientSecret: "b"}}
		}, ""},
		{"oidc callback over plain http", func(c *config.Config) {
			c.PublicURL = "http://api.example.com"
			c.Cookie.Secure = new(bool)
			c.OIDC.Providers = []config.OIDCProvider{{Name: "idp", Issuer: "https://idp.example.com", ClientID: "a", ClientSecret: "b"}}
		}, "oidc-http-callback"},
		{"oidc logout at a provider that supports it", func(c *config.Config) {
			c.OIDC.Providers = []config.OIDCProvider{{Name: "idp", Issuer: "https://idp.example.com", ClientID: "a", ClientSecret: "b", Logout: config.OIDCLogout{Enabled: true}}}
		}, ""},
		{"oidc logout at Google", func(c *config.Config) {
			c.OIDC.Providers = []config.OIDCProvider{{Name: "google", Issuer: "https://accounts.google.com", ClientID: "a", ClientSecret: "b", Logout: config.OIDCLogout{Enabled: true}}}
		}, "oidc-logout-unsupported"},
		{"oidc logout at Okta", func(c *config.Config) {
			c.OIDC.Providers = []config.OIDCProvider{{Name: "okta", Issuer: "https://example.okta.com/oauth2/default", ClientID: "a", ClientSecret: "b", Logout: config.OIDCLogout{Enabled: true}}}
		}, "oidc-logout-unsupported"},
		{"Google without logout is healthy", func(c *config.Config) {
			c.OIDC.Providers = []config.OIDCProvider{{Name: "google", Issuer: "https://accounts.google.com", ClientID: "a", ClientSecret: "b"}}
		}, ""},
		{"identity header outside the prefix", func(c *config.Config) { c.IdentityHeaders.User = "Remote-User" }, "identity-header-unprefixed"},
		{"rule without upstream inside another app's prefix", func(c *config.Config) {
			c.Upstreams = map[string]config.Upstream{"legacy": {URL: "http://127.0.0.1:3001"}}
			c.Policy.Rules = []config.Rule{
				{Host: "app.example.com", Path: "/legacy/admin/**", RolesAny: []string{"admin"}},
				{Host: "App.example.com.", PathPrefix: "/legacy", Upstream: "legacy"},
			}
		}, "route-without-upstream"},
		{"the same rules with the upstream named", func(c *config.Config) {
			c.Upstreams = map[string]config.Upstream{"legacy": {URL: "http://127.0.0.1:3001"}}
			c.Policy.Rules = []config.Rule{
				{Host: "app.example.com", Path: "/legacy/admin/**", RolesAny: []string{"admin"}, Upstream: "legacy"},
				{Host: "app.example.com", PathPrefix: "/legacy", Upstream: "legacy"},
			}
		}, ""},
		{"another host, a sibling path or a deny rule", func(c *config.Config) {
			c.Upstreams = map[string]config.Upstream{"legacy": {URL: "http://127.0.0.1:3001"}}
			c.Policy.Rules = []config.Rule{
				{Host: "other.example.com", PathPrefix: "/legacy/a"},
				{PathPrefix: "/legacyx"},
				{PathPrefix: "/legacy/internal", Access: "deny"},
				{Host: "app.example.com", PathPrefix: "/legacy", Upstream: "legacy"},
			}
		}, ""},
		{"issuer subjects shared with the users file", func(c *config.Config) {
			c.Login.UsersFile = "users.yaml"
			c.Issuers = []config.Issuer{{Issuer: "https://idp.example", Audiences: []string{"api"}, Algorithms: []string{"RS256"}}}
		}, "issuer-subject-shared"},
		{"prefixed issuer subjects", func(c *config.Config) {
			c.Login.UsersFile = "users.yaml"
			c.Issuers = []config.Issuer{{Issuer: "https://idp.example", Audiences: []string{"api"}, Algorithms: []string{"RS256"}, SubjectPrefix: "idp:"}}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := baseConfig(t)
			tt.mutate(&c)
			fs := Diagnose(&c)
			if tt.want == "" {
				if len(fs) != 0 {
					t.Errorf("findings on a healthy config: %v", fs)
				}
				return
			}
			for _, f := range fs {
				if f.ID == tt.want {
					if f.Problem == "" || f.Browser == "" || f.Fix == "" || f.Field == "" {
						t.Errorf("finding %s is incomplete: %+v", f.ID, f)
					}
					return
				}
			}
			t.Errorf("no %s finding; got %v", tt.want, fs)
		})
	}
}
