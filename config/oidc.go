package config

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"time"
)

// OIDC configures sign-in through external OpenID Connect providers
// (authorization code flow with PKCE). See docs/oidc.md.
type OIDC struct {
	// Providers are the identity providers offered on the login page.
	Providers []OIDCProvider `yaml:"providers"`
	// StateTTL bounds how long a sign-in may take, from leaving for the
	// provider to coming back to the callback.
	StateTTL time.Duration `yaml:"state_ttl"`
	// Timeout bounds each request to a provider (discovery, token
	// exchange, userinfo, keys).
	Timeout time.Duration `yaml:"timeout"`
}

// OIDCProvider is one OpenID Connect identity provider.
type OIDCProvider struct {
	// Name identifies the provider in URLs (<auth_prefix>/oidc/<name>/...)
	// and in session records ("oidc:<name>"): lower-case letters, digits
	// and "-".
	Name string `yaml:"name"`
	// DisplayName is the label of its button on the login page. Empty
	// means Name.
	DisplayName string `yaml:"display_name"`
	// Issuer is the provider's issuer URL; discovery reads
	// <issuer>/.well-known/openid-configuration.
	Issuer string `yaml:"issuer"`
	// ClientID and ClientSecret are the gateway's client registration at
	// the provider; ClientSecretFile reads the secret from a file.
	ClientID         string `yaml:"client_id"`
	ClientSecret     string `yaml:"client_secret"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// Scopes are requested at the provider; they must include openid.
	// Empty means openid, email and profile.
	Scopes []string `yaml:"scopes"`
	// AuthParams are extra parameters of the authorization request, such
	// as Google's access_type: offline or hd, or prompt: login.
	AuthParams map[string]string `yaml:"auth_params"`
	// RedirectURL is the callback registered at the provider. Empty means
	// public_url + auth_prefix + /oidc/<name>/callback.
	RedirectURL string `yaml:"redirect_url"`
	// Claims maps the ID token's (and userinfo's) claims to the identity.
	Claims ClaimMapping `yaml:"claims"`
	// Require lists conditions the identity must meet.
	Require ClaimRequirements `yaml:"require"`
	// Userinfo merges the userinfo endpoint's claims into the ID token's
	// before mapping.
	Userinfo bool `yaml:"userinfo"`
	// Recheck keeps the provider's refresh token (encrypted) in the
	// session record and redeems it at each gateway refresh: a user the
	// provider no longer accepts loses the session, and fresh claims
	// replace the old ones.
	Recheck bool `yaml:"recheck"`
	// Logout signs the user out at the provider too, after the gateway's
	// own logout (OpenID Connect RP-Initiated Logout 1.0).
	Logout OIDCLogout `yaml:"logout"`
	// BackchannelLogout serves POST <auth_prefix>/oidc/<name>/backchannel-logout,
	// where the provider posts a logout token when the user's session there
	// ends (OpenID Connect Back-Channel Logout 1.0): the gateway then ends
	// that user's sessions from this provider. It needs the subject mapped
	// from sub (claims.subject empty or "sub"), which the token names.
	BackchannelLogout bool `yaml:"backchannel_logout"`
}

// OIDCLogout configures RP-initiated logout at one provider. See
// docs/oidc.md#signing-out-at-the-provider.
type OIDCLogout struct {
	// Enabled sends the browser, once the gateway's session has ended, to
	// the provider's end_session_endpoint (from discovery) with client_id,
	// post_logout_redirect_uri and state. A provider whose discovery has
	// no end_session_endpoint gets a local logout, with a warning in the
	// log.
	Enabled bool `yaml:"enabled"`
	// PostLogoutRedirectURL is where the provider sends the browser back;
	// it must be registered at the provider (post_logout_redirect_uris).
	// Empty means public_url + auth_prefix + /oidc/<name>/logged-out,
	// which goes on to the logout's rd.
	PostLogoutRedirectURL string `yaml:"post_logout_redirect_url"`
}

// OIDCRedirectURL is the callback URL of provider p: its redirect_url, or
// the one derived from public_url and auth_prefix.
func (c *Config) OIDCRedirectURL(p *OIDCProvider) string {
	if p.RedirectURL != "" {
		return p.RedirectURL
	}
	return strings.TrimSuffix(c.PublicURL, "/") + OIDCCallbackPath(c.AuthPrefix, p.Name)
}

// OIDCPostLogoutURL is where provider p sends the browser after signing
// the user out: its logout.post_logout_redirect_url, or the gateway's own
// landing URL derived from public_url and auth_prefix.
func (c *Config) OIDCPostLogoutURL(p *OIDCProvider) string {
	if p.Logout.PostLogoutRedirectURL != "" {
		return p.Logout.PostLogoutRedirectURL
	}
	return strings.TrimSuffix(c.PublicURL, "/") + OIDCLoggedOutPath(c.AuthPrefix, p.Name)
}

// OIDCLoggedOutPath is the path the gateway serves provider name's
// post-logout landing at: it redirects to the return path the logout
// carried in its state.
func OIDCLoggedOutPath(authPrefix, name string) string {
	return authPrefix + "/oidc/" + name + "/logged-out"
}

// OIDCBackchannelLogoutPath is the path the gateway serves provider
// name's back-channel logout at: the backchannel_logout_uri to register.
func OIDCBackchannelLogoutPath(authPrefix, name string) string {
	return authPrefix + "/oidc/" + name + "/backchannel-logout"
}

// OIDCCallbackPath is the path the gateway serves provider name's
// callback at.
func OIDCCallbackPath(authPrefix, name string) string {
	return authPrefix + "/oidc/" + name + "/callback"
}

var providerName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`)

// oidc checks the oidc section and login.form.
func (v *validator) oidc(c *Config) {
	o := &c.OIDC
	v.between("oidc.state_ttl", o.StateTTL, time.Minute, time.Hour)
	v.between("oidc.timeout", o.Timeout, time.Second, time.Minute)
	if !c.Login.Form && len(o.Providers) == 0 {
		v.add("login.form", "add oidc.providers, or set login.form: true",
			"is false and no oidc.providers are configured, so nobody could sign in")
	}
	var names []string
	for i := range o.Providers {
		p := &o.Providers[i]
		f := fmt.Sprintf("oidc.providers[%d]", i)
		switch {
		case !providerName.MatchString(p.Name):
			v.add(f+".name", `use lower-case letters, digits and "-", such as "keycloak"`, "%q is not a provider name", p.Name)
		case slices.Contains(names, p.Name):
			v.add(f+".name", "give each provider its own name", "%q is used by another provider", p.Name)
		}
		names = append(names, p.Name)
		if u := v.httpURL(f+".issuer", p.Issuer, "https://idp.example.com/realms/main"); u != nil && u.Scheme == "http" && !isLoopback(u.Hostname()) {
			v.add(f+".issuer", "use the provider's https:// issuer URL", "%q is not https: tokens and the client secret would travel in clear", p.Issuer)
		}
		if p.ClientID == "" {
			v.add(f+".client_id", "copy the client id of the gateway's registration at the provider", "is required")
		}
		if p.ClientSecret == "" {
			v.add(f+".client_secret", "set client_secret_file to a file holding the client secret of the gateway's registration", "is required")
		}
		if len(p.Scopes) > 0 && !slices.Contains(p.Scopes, "openid") {
			v.add(f+".scopes", "add openid (or leave scopes empty for openid, email and profile)", "%q does not include openid", p.Scopes)
		}
		for _, k := range sortedKeys(p.AuthParams) {
			switch k {
			case "client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge", "code_challenge_method":
				v.add(f+".auth_params."+k, "remove it: the gateway sets "+k+" itself (scope comes from scopes)", "%q cannot be overridden", k)
			}
		}
		v.oidcRedirect(c, p, f)
		v.oidcLogout(c, p, f+".logout")
		if p.BackchannelLogout && p.Claims.Subject != "" && p.Claims.Subject != "sub" {
			v.add(f+".backchannel_logout", "map claims.subject from sub (leave it empty), or turn backchannel_logout off",
				"needs the user to be the provider's sub, which logout tokens name; claims.subject is %q", p.Claims.Subject)
		}
		v.claimMapping(f+".claims", &p.Claims, c.Tokens.Claims)
		v.claimRequirements(f+".require", &p.Require)
	}
}

// oidcRedirect checks that the callback URL exists and is served by the
// gateway.
func (v *validator) oidcRedirect(c *Config, p *OIDCProvider, f string) {
	if p.RedirectURL == "" && c.PublicURL == "" {
		v.add(f+".redirect_url", "set public_url (https://app.example.com), or set this to the callback URL registered at the provider",
			"cannot be derived: public_url is not set")
		return
	}
	if p.RedirectURL == "" {
		return // public_url is checked on its own
	}
	u := v.httpURL(f+".redirect_url", p.RedirectURL, "https://app.example.com"+OIDCCallbackPath(c.AuthPrefix, "keycloak"))
	if u == nil {
		return
	}
	if want := OIDCCallbackPath(c.AuthPrefix, p.Name); u.Path != want && providerName.MatchString(p.Name) {
		v.add(f+".redirect_url", "use a URL whose path is "+want+", where the gateway serves this provider's callback",
			"%q has the path %q", p.RedirectURL, u.Path)
	}
}

// oidcLogout checks that a provider's post-logout URL exists and is an
// absolute http(s) URL (the provider compares it with its registration).
func (v *validator) oidcLogout(c *Config, p *OIDCProvider, f string) {
	l := &p.Logout
	if l.PostLogoutRedirectURL != "" {
		v.httpURL(f+".post_logout_redirect_url", l.PostLogoutRedirectURL, "https://app.example.com"+OIDCLoggedOutPath(c.AuthPrefix, "keycloak"))
		return
	}
	if l.Enabled && c.PublicURL == "" {
		v.add(f+".post_logout_redirect_url", "set public_url (https://app.example.com), or set this to the post-logout URL registered at the provider",
			"cannot be derived: public_url is not set")
	}
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
