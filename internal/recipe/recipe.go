// Package recipe writes the configuration a reverse proxy needs to put
// Gatehouse in front of an app in forward-auth mode (nginx auth_request,
// Caddy forward_auth, Traefik forwardAuth), from the gateway's own
// configuration: the header names the gateway answers /verify with, the
// ones the proxy must remove from the client's request, the endpoint
// prefix and the session cookie's name. A recipe copied by hand misses a
// renamed or added header, and then a client's forged copy of it reaches
// the app; a recipe written from the configuration cannot.
package recipe

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"text/template"

	"github.com/gatehouse/gatehouse/config"
)

//go:embed templates
var templates embed.FS

// Proxies returns the proxies a recipe can be written for.
func Proxies() []string { return []string{"nginx", "caddy", "traefik"} }

// Options place the recipe: where the gateway and the app listen and the
// site the proxy serves.
type Options struct {
	// Gateway and App are host:port addresses the proxy connects to.
	Gateway, App string
	// Host is the site's host name (nginx server_name, Traefik's Host
	// rule); for Caddy, any site address, such as app.example.com or
	// http://:8081.
	Host string
	// Listen is nginx's listen directive: a port or address:port. Empty
	// means 80.
	Listen string
}

// ErrUnknownProxy is returned for a proxy not in Proxies().
var ErrUnknownProxy = errors.New("unknown proxy")

// Write writes the recipe for proxy (one of Proxies()) and the gateway
// configured by cfg to w.
func Write(w io.Writer, proxy string, cfg *config.Config, o Options) error {
	if !slices.Contains(Proxies(), proxy) {
		return fmt.Errorf("%w %q: use one of %s", ErrUnknownProxy, proxy, strings.Join(Proxies(), ", "))
	}
	if o.Gateway == "" || o.App == "" || o.Host == "" {
		return errors.New("recipe: the gateway, app and host are required")
	}
	if proxy != "caddy" && strings.ContainsAny(o.Host, "/: ") {
		return fmt.Errorf("recipe: the host for %s is a host name, such as app.example.com; got %q", proxy, o.Host)
	}
	if o.Listen == "" {
		o.Listen = "80"
	}
	t, err := template.New(proxy).Delims("[[", "]]").ParseFS(templates, "templates/"+proxy+".tmpl")
	if err != nil {
		return fmt.Errorf("recipe: %w", err)
	}
	return t.ExecuteTemplate(w, proxy+".tmpl", newData(cfg, o))
}

// data is what a template sees.
type data struct {
	Options
	// Prefix is the gateway's endpoint prefix, such as /.auth.
	Prefix string
	// Headers are the headers the gateway answers /verify with (the
	// assertion header last, when assertions are on): the proxy copies
	// them to the app.
	Headers []header
	// Assertion is the assertion header, which the proxy must never pass
	// from a client, even while assertions are off.
	Assertion header
	// AssertionOn reports whether the gateway sends assertions.
	AssertionOn bool
	// Caddy's request_header deletions, and Traefik's regular expression
	// for the same: every spelling of every header the gateway owns.
	CaddyStrip   []string
	TraefikStrip string
	// NginxUncovered are the strip_prefixes, which nginx cannot remove.
	NginxUncovered []string
	// Strip are identity_headers.strip: removed, never set.
	Strip []string
	// Cookie is the session cookie's name.
	Cookie string
}

// header is one header the proxy copies, with its nginx variables.
type header struct {
	Name     string // canonical, such as X-Auth-User
	Var      string // the nginx variable that holds it, such as gatehouse_user
	Upstream string // nginx's variable for it in the auth response
	Pad      string // spaces after Name that align the nginx lines
	VarPad   string // spaces after Var, likewise
}

func newData(cfg *config.Config, o Options) data {
	d := data{Options: o, Prefix: cfg.AuthPrefix, AssertionOn: cfg.Assertion.Enabled, Cookie: cookieName(cfg.Cookie)}
	short := map[string]string{ // the documented variable names
		http.CanonicalHeaderKey(cfg.IdentityHeaders.User):    "user",
		http.CanonicalHeaderKey(cfg.IdentityHeaders.Email):   "email",
		http.CanonicalHeaderKey(cfg.IdentityHeaders.Roles):   "roles",
		http.CanonicalHeaderKey(cfg.IdentityHeaders.Session): "session",
		http.CanonicalHeaderKey(cfg.Assertion.Header):        "assertion",
	}
	mk := func(name string) header {
		v, ok := short[name]
		if !ok {
			v = strings.ToLower(strings.ReplaceAll(name, "-", "_"))
		}
		return header{Name: name, Var: "gatehouse_" + v, Upstream: "upstream_http_" + strings.ToLower(strings.ReplaceAll(name, "-", "_"))}
	}
	for _, n := range cfg.IdentityHeaderNames() {
		d.Headers = append(d.Headers, mk(n))
	}
	d.Assertion = mk(http.CanonicalHeaderKey(cfg.Assertion.Header))
	// Align the nginx lines of the identity headers (the assertion's
	// stand apart, under their own comment).
	nameWidth, varWidth := 0, 0
	for _, h := range d.Headers {
		nameWidth, varWidth = max(nameWidth, len(h.Name)), max(varWidth, len(h.Var))
	}
	for i, h := range d.Headers {
		d.Headers[i].Pad = strings.Repeat(" ", nameWidth-len(h.Name))
		d.Headers[i].VarPad = strings.Repeat(" ", varWidth-len(h.Var))
	}
	if d.AssertionOn {
		d.Headers = append(d.Headers, d.Assertion)
	}
	for _, s := range cfg.IdentityHeaders.Strip {
		d.Strip = append(d.Strip, http.CanonicalHeaderKey(s))
	}

	prefixes := cfg.IdentityHeaders.StripPrefixes
	d.NginxUncovered = prefixes
	names := slices.Concat(cfg.IdentityHeaderNames(), []string{cfg.Assertion.Header}, cfg.IdentityHeaders.Strip)
	names = slices.DeleteFunc(names, func(n string) bool { return covered(n, prefixes) })
	d.CaddyStrip = caddyStrip(prefixes, names)
	d.TraefikStrip = traefikStrip(prefixes, names)
	return d
}

// cookieName is the session cookie's name as the gateway resolves it
// (session.NewCookies).
func cookieName(c config.Cookie) string {
	switch {
	case c.Name != "":
		return c.Name
	case c.Domain == "" && c.IsSecure() && (c.Path == "" || c.Path == "/"):
		return "__Host-gatehouse"
	}
	return "gatehouse"
}
