package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestOIDCValidation(t *testing.T) {
	good := func() Config {
		c := Default()
		c.PublicURL = "https://app.example.com"
		c.OIDC.Providers = []OIDCProvider{{Name: "keycloak", Issuer: "https://idp.example.com/realms/main", ClientID: "gatehouse", ClientSecret: "s3cret"}}
		return c
	}
	tests := []struct {
		name   string
		edit   func(c *Config)
		fields []string // the problems expected, in order
	}{
		{"valid", func(c *Config) {}, nil},
		{"valid, explicit redirect and loopback http issuer", func(c *Config) {
			c.PublicURL = ""
			c.OIDC.Providers[0].Issuer = "http://127.0.0.1:9000"
			c.OIDC.Providers[0].RedirectURL = "http://127.0.0.1:8080/.auth/oidc/keycloak/callback"
		}, nil},
		{"no public_url to derive the redirect from", func(c *Config) { c.PublicURL = "" }, []string{"oidc.providers[0].redirect_url"}},
		{"redirect path not served", func(c *Config) {
			c.OIDC.Providers[0].RedirectURL = "https://app.example.com/callback"
		}, []string{"oidc.providers[0].redirect_url"}},
		{"bad name, plain http issuer, missing client", func(c *Config) {
			c.OIDC.Providers[0] = OIDCProvider{Name: "Key Cloak", Issuer: "http://idp.example.com"}
		}, []string{"oidc.providers[0].name", "oidc.providers[0].issuer", "oidc.providers[0].client_id", "oidc.providers[0].client_secret"}},
		{"duplicate name", func(c *Config) {
			c.OIDC.Providers = append(c.OIDC.Providers, c.OIDC.Providers[0])
		}, []string{"oidc.providers[1].name"}},
		{"auth_params may not override the flow's own", func(c *Config) {
			c.OIDC.Providers[0].AuthParams = map[string]string{"access_type": "offline", "state": "fixed", "redirect_uri": "https://evil.example"}
		}, []string{"oidc.providers[0].auth_params.redirect_uri", "oidc.providers[0].auth_params.state"}},
		{"scopes without openid", func(c *Config) { c.OIDC.Providers[0].Scopes = []string{"email"} }, []string{"oidc.providers[0].scopes"}},
		{"claims mapping and requirements are checked", func(c *Config) {
			c.OIDC.Providers[0].Claims.Roles = []string{"realm_access..roles"}
			c.OIDC.Providers[0].Require.EmailDomains = []string{"@example.com"}
		}, []string{"oidc.providers[0].claims.roles[0]", "oidc.providers[0].require.email_domains[0]"}},
		{"form off without providers", func(c *Config) {
			c.Login.Form = false
			c.OIDC.Providers = nil
		}, []string{"login.form"}},
		{"logout with the default post-logout URL", func(c *Config) { c.OIDC.Providers[0].Logout.Enabled = true }, nil},
		{"logout without public_url to derive the post-logout URL from", func(c *Config) {
			c.PublicURL = ""
			c.OIDC.Providers[0].RedirectURL = "https://app.example.com/.auth/oidc/keycloak/callback"
			c.OIDC.Providers[0].Logout.Enabled = true
		}, []string{"oidc.providers[0].logout.post_logout_redirect_url"}},
		{"logout with an explicit post-logout URL, no public_url", func(c *Config) {
			c.PublicURL = ""
			c.OIDC.Providers[0].RedirectURL = "https://app.example.com/.auth/oidc/keycloak/callback"
			c.OIDC.Providers[0].Logout = OIDCLogout{Enabled: true, PostLogoutRedirectURL: "https://app.example.com/bye"}
		}, nil},
		{"post-logout URL not absolute", func(c *Config) {
			c.OIDC.Providers[0].Logout = OIDCLogout{Enabled: true, PostLogoutRedirectURL: "/bye"}
		}, []string{"oidc.providers[0].logout.post_logout_redirect_url"}},
		{"post-logout URL with a query", func(c *Config) {
			c.OIDC.Providers[0].Logout.PostLogoutRedirectURL = "https://app.example.com/bye?x=1"
		}, []string{"oidc.providers[0].logout.post_logout_redirect_url"}},
		{"back-channel logout with the default subject", func(c *Config) { c.OIDC.Providers[0].BackchannelLogout = true }, nil},
		{"back-channel logout with subject sub", func(c *Config) {
			c.OIDC.Providers[0].BackchannelLogout = true
			c.OIDC.Providers[0].Claims.Subject = "sub"
		}, nil},
		{"back-channel logout with another subject claim", func(c *Config) {
			c.OIDC.Providers[0].BackchannelLogout = true
			c.OIDC.Providers[0].Claims.Subject = "oid"
		}, []string{"oidc.providers[0].backchannel_logout"}},
		{"another subject claim without back-channel logout", func(c *Config) { c.OIDC.Providers[0].Claims.Subject = "oid" }, nil},
		{"state_ttl and timeout bounds", func(c *Config) {
			c.OIDC.StateTTL = 0
			c.OIDC.Timeout = 2 * 60 * 1e9
		}, []string{"oidc.state_ttl", "oidc.timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.edit(&c)
			v := &validator{}
			v.oidc(&c)
			var got []string
			for _, err := range v.errs {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Fix == "" {
					t.Fatalf("%v is not a FieldError with a fix", err)
				}
				got = append(got, fe.Field)
			}
			if !slices.Equal(got, tt.fields) {
				t.Fatalf("problems at %v, want %v\n%v", got, tt.fields, errors.Join(v.errs...))
			}
		})
	}
}

func TestOIDCRedirectURL(t *testing.T) {
	c := Default()
	c.PublicURL = "https://app.example.com/"
	p := OIDCProvider{Name: "dex"}
	if got, want := c.OIDCRedirectURL(&p), "https://app.example.com/.auth/oidc/dex/callback"; got != want {
		t.Errorf("derived redirect = %q, want %q", got, want)
	}
	p.RedirectURL = "https://other.example.com/.auth/oidc/dex/callback"
	if got := c.OIDCRedirectURL(&p); got != p.RedirectURL {
		t.Errorf("explicit redirect = %q, want it unchanged", got)
	}
	if got, want := c.OIDCPostLogoutURL(&p), "https://app.example.com/.auth/oidc/dex/logged-out"; got != want {
		t.Errorf("derived post-logout URL = %q, want %q", got, want)
	}
	p.Logout.PostLogoutRedirectURL = "https://app.example.com/bye"
	if got := c.OIDCPostLogoutURL(&p); got != p.Logout.PostLogoutRedirectURL {
		t.Errorf("explicit post-logout URL = %q, want it unchanged", got)
	}
}

func TestOIDCClientSecretFile(t *testing.T) {
	dir := keyDir(t)
	if err := os.WriteFile(filepath.Join(dir, "client-secret"), []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base, err := os.ReadFile("testdata/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(base) + `
public_url: https://app.example.com
oidc:
  providers:
    - name: keycloak
      issuer: https://idp.example.com/realms/main
      client_id: gatehouse
      client_secret_file: client-secret
`
	cfg, err := Parse([]byte(doc), ParseOptions{LookupEnv: env(nil), BaseDir: dir})
	if err != nil {
		t.Fatalf("%v", err)
	}
	if got := cfg.OIDC.Providers[0].ClientSecret; got != "from-a-file" {
		t.Errorf("client_secret = %q, want the file's contents without the newline", got)
	}
	if cfg.OIDC.StateTTL == 0 {
		t.Error("oidc.state_ttl has no default")
	}
}
