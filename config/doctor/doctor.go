// Package doctor explains configurations that are valid but will not do
// what their author expects — mostly in browsers, where a session breaks
// silently: a cookie that is never sent, a token too large to store, a
// header a client could still forge. `gateway check` prints its findings
// and `gateway serve` logs them at start.
//
// Hard errors are config.Validate's business; the doctor only warns.
package doctor

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/session"
)

// Severity ranks a finding.
type Severity string

// Severities.
const (
	// Warning: something will break for some clients.
	Warning Severity = "warning"
	// Notice: worth knowing; may be intended.
	Notice Severity = "notice"
)

// Finding is one thing the doctor noticed.
type Finding struct {
	// ID is stable, for docs and for silencing in scripts.
	ID       string
	Severity Severity
	// Field is the configuration key concerned.
	Field string
	// Problem says what is wrong; Browser what a user will see; Fix what
	// to change.
	Problem string
	Browser string
	Fix     string
}

func (f Finding) String() string {
	return fmt.Sprintf("[%s] %s (%s): %s\n      in the browser: %s\n      fix: %s", f.Severity, f.ID, f.Field, f.Problem, f.Browser, f.Fix)
}

// maxCookieBytes is what browsers reliably store for one cookie (name,
// value and attributes): RFC 6265 section 6.1 asks for at least 4096.
const maxCookieBytes = 4096

// Diagnose returns the findings for a configuration that passed
// config.Validate.
func Diagnose(c *config.Config) []Finding {
	var fs []Finding
	add := func(f Finding) { fs = append(fs, f) }
	sameSite := strings.ToLower(c.Cookie.SameSite)
	publicHost := ""
	if u, err := url.Parse(c.PublicURL); err == nil {
		publicHost = u.Hostname()
	}

	// Frontends on another site while cookies are Lax/Strict.
	for i, o := range c.CORS.AllowedOrigins {
		u, err := url.Parse(strings.Replace(o, "*.", "x.", 1))
		if err != nil || publicHost == "" || u.Hostname() == "" {
			continue
		}
		if !sameSiteHosts(u.Hostname(), publicHost) {
			if sameSite != "none" {
				add(Finding{ID: "cross-site-frontend", Severity: Warning, Field: fmt.Sprintf("cors.allowed_origins[%d]", i),
					Problem: fmt.Sprintf("%s is on another site than public_url (%s) while cookie.same_site is %s", o, publicHost, sameSite),
					Browser: "cookies are not sent on its fetch() calls: every request looks signed out (401), though login answers 200",
					Fix:     "use header mode (X-Auth-Mode: header) for that frontend, or serve the frontend and the gateway under one site (app.example.com and api.example.com)"})
			} else {
				add(Finding{ID: "third-party-cookies", Severity: Notice, Field: fmt.Sprintf("cors.allowed_origins[%d]", i),
					Problem: fmt.Sprintf("%s is on another site than public_url (%s): the session cookie is a third-party cookie there", o, publicHost),
					Browser: "Safari, and Chrome with third-party cookies blocked, do not send it even with SameSite=None",
					Fix:     "prefer header mode for cross-site frontends"})
			}
		}
		if u.Scheme == "http" && !isLocal(u.Hostname()) && c.CORS.CredentialsAllowed() {
			add(Finding{ID: "cors-http-origin", Severity: Warning, Field: fmt.Sprintf("cors.allowed_origins[%d]", i),
				Problem: o + " is plain http and credentials are allowed",
				Browser: "a network attacker can inject a page at that origin and act with the user's session",
				Fix:     "use https origins in production"})
		}
	}

	// Cookie size: mint a realistic token with the configured claims.
	size, tokenLen, err := cookieSize(c)
	if err == nil && tokenLen > c.Tokens.MaxTokenBytes {
		add(Finding{ID: "token-over-limit", Severity: Warning, Field: "tokens.max_token_bytes",
			Problem: fmt.Sprintf("a typical user's access token is about %d bytes, over tokens.max_token_bytes (%d)", tokenLen, c.Tokens.MaxTokenBytes),
			Browser: "logins of users with many roles or long claims fail",
			Fix:     "put fewer claims in the token, or raise tokens.max_token_bytes"})
	}
	if err == nil && size > maxCookieBytes {
		add(Finding{ID: "cookie-too-large", Severity: Warning, Field: "tokens.claims",
			Problem: fmt.Sprintf("a session cookie with a typical user's claims is about %d bytes", size),
			Browser: fmt.Sprintf("browsers drop cookies over about %d bytes: login succeeds and the next request is signed out", maxCookieBytes),
			Fix:     "put fewer claims in the token (tokens.claims), use a shorter cookie name, or prefer EdDSA/ES256 keys to RS256"})
	}

	// Cookies an older setting may have left.
	if c.Cookie.Domain != "" && len(c.Cookie.Legacy) == 0 {
		add(Finding{ID: "legacy-cookie-unlisted", Severity: Notice, Field: "cookie.legacy",
			Problem: "cookie.domain is set; a host-only cookie from an earlier setting (or the other way round) is not listed for cleanup",
			Browser: "users who had the old cookie send two cookies of one name and must sign in again (DUPLICATE_SESSION_COOKIE)",
			Fix:     "list the previous name/domain under cookie.legacy, so logout and cookie errors clear it"})
	}
	if c.Cookie.Name != "" && !strings.EqualFold(c.Cookie.Name, "__Host-gatehouse") && !strings.EqualFold(c.Cookie.Name, "gatehouse") && len(c.Cookie.Legacy) == 0 {
		add(Finding{ID: "legacy-cookie-unlisted", Severity: Notice, Field: "cookie.name",
			Problem: "a custom cookie.name is set; a cookie under the default name from an earlier run is not listed for cleanup",
			Browser: "the old cookie lingers in browsers until it expires",
			Fix:     "list the previous name under cookie.legacy"})
	}

	fs = append(fs, shadowedRoutes(c)...)
	// OIDC callbacks over plain http (outside local testing).
	for i := range c.OIDC.Providers {
		p := &c.OIDC.Providers[i]
		if u, err := url.Parse(c.OIDCRedirectURL(p)); err == nil && u.Scheme == "http" && !isLocal(u.Hostname()) {
			add(Finding{ID: "oidc-http-callback", Severity: Warning, Field: fmt.Sprintf("oidc.providers[%d].redirect_url", i),
				Problem: fmt.Sprintf("the %s callback %s is plain http", p.Name, u),
				Browser: "the authorization code and the state cookie travel in clear, and the state cookie cannot be __Host- (a sibling subdomain could plant one: login CSRF)",
				Fix:     "serve the gateway over https (public_url: https://...)"})
		}
	}

	fs = append(fs, oidcLogout(c)...)

	// Identity headers outside the stripped prefixes.
	ih := c.IdentityHeaders
	names := []string{ih.User, ih.Email, ih.Roles, ih.Session}
	for _, h := range ih.Claims {
		names = append(names, h)
	}
	for _, n := range names {
		if n != "" && !underPrefix(n, ih.StripPrefixes) {
			add(Finding{ID: "identity-header-unprefixed", Severity: Notice, Field: "identity_headers",
				Problem: n + " is not under identity_headers.strip_prefixes",
				Browser: "the gateway strips it, but a proxy in front of the app that reads a differently spelled variant, or another route into the app, may still trust a client's copy",
				Fix:     "give identity headers one prefix (such as X-Auth-) and list it in strip_prefixes"})
		}
	}

	// External issuers whose subjects share the namespace of other users.
	if len(c.Issuers) > 0 {
		local := c.Login.UsersFile != "" || c.Grant.Secret != ""
		for i, is := range c.Issuers {
			if is.SubjectPrefix == "" && (local || len(c.Issuers) > 1) {
				add(Finding{ID: "issuer-subject-shared", Severity: Notice, Field: fmt.Sprintf("issuers[%d].subject_prefix", i),
					Problem: "the subjects of " + is.Issuer + " are used as they are, in the same namespace as the users file, upstream grants and other issuers",
					Browser: "a token of this issuer for sub \"alice\" is the same user alice to the app and to the policy, and revoking the user alice revokes both",
					Fix:     `intended when both name the same people; otherwise set a subject_prefix such as "idp:"`})
			}
		}
	}
	return fs
}

// cookieSize estimates the Set-Cookie line of a typical session, and the
// length of its access token.
func cookieSize(c *config.Config) (cookie, token int, err error) {
	keys, err := session.LoadKeySet(c.Keys, c.Tokens.SigningKey)
	if err != nil {
		return 0, 0, err
	}
	tc := c.Tokens
	tc.MaxTokenBytes = 1 << 16 // measure, do not refuse
	tokens, err := session.NewTokens(tc, keys, nil)
	if err != nil {
		return 0, 0, err
	}
	claims := map[string]any{}
	for _, name := range c.Tokens.Claims {
		claims[name] = strings.Repeat("x", 24)
	}
	tok, _, err := tokens.Mint(session.Identity{
		Subject: strings.Repeat("u", 36), Email: "firstname.lastname@example.com",
		Roles: []string{"user", "editor", "reviewer", "billing-admin", "support"}, Claims: claims,
	}, session.NewID())
	if err != nil {
		return 0, 0, err
	}
	const refreshLen, attrs = 89, 80 // "sid.secret.mac"; "; Path=/; Max-Age=...; HttpOnly; Secure; SameSite=Lax"
	return len("__Host-gatehouse=") + len(tok) + 1 + refreshLen + attrs, len(tok), nil
}

// sameSiteHosts reports whether two hosts share a registrable domain
// (eTLD+1): what browsers call the same site.
func sameSiteHosts(a, b string) bool {
	if a == b {
		return true
	}
	if isLocal(a) && isLocal(b) {
		return true
	}
	ra, err1 := publicsuffix.EffectiveTLDPlusOne(a)
	rb, err2 := publicsuffix.EffectiveTLDPlusOne(b)
	return err1 == nil && err2 == nil && ra == rb
}

func isLocal(h string) bool {
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func underPrefix(name string, prefixes []string) bool {
	f := config.FoldHeader(name)
	for _, p := range prefixes {
		if strings.HasPrefix(f, config.FoldHeader(p)) {
			return true
		}
	}
	return false
}

// oidcLogout warns about RP-initiated logout at providers known not to
// support it without an ID token: the doctor reads no discovery document,
// so this catches the well-known cases; the others are logged when
// discovery completes.
func oidcLogout(c *config.Config) []Finding {
	var fs []Finding
	for i := range c.OIDC.Providers {
		p := &c.OIDC.Providers[i]
		u, err := url.Parse(p.Issuer)
		if !p.Logout.Enabled || err != nil {
			continue
		}
		h := strings.ToLower(u.Hostname())
		var why string
		switch {
		case h == "accounts.google.com":
			why = "Google's discovery has no end_session_endpoint"
		case strings.HasSuffix(h, ".okta.com") || strings.HasSuffix(h, ".oktapreview.com"):
			why = "Okta's logout endpoint requires id_token_hint, which the gateway does not keep (it sends client_id)"
		default:
			continue
		}
		fs = append(fs, Finding{ID: "oidc-logout-unsupported", Severity: Warning, Field: fmt.Sprintf("oidc.providers[%d].logout.enabled", i),
			Problem: fmt.Sprintf("%s: %s", p.Name, why),
			Browser: "logout ends the gateway session only (or the provider shows an error page); the next sign-in there needs no password",
			Fix:     "turn logout.enabled off for this provider, and end the provider session another way (for example a short provider session lifetime)"})
	}
	return fs
}
