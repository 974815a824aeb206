package recipe

import (
	"bytes"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse/gatehouse/config"
)

func TestSpellings(t *testing.T) {
	for name, want := range map[string][]string{
		"X-Auth":  {"X-Auth", "X_auth", "X.auth"},
		"X-Auth-": {"X-Auth-", "X-Auth_", "X-Auth.", "X_auth-", "X_auth_", "X_auth.", "X.auth-", "X.auth_", "X.auth."},
		"tenant":  {"Tenant"},
	} {
		if got := spellings(name); !slices.Equal(got, want) {
			t.Errorf("spellings(%q) = %q, want %q", name, got, want)
		}
	}
	if n := len(spellings("X-A-B-C-D")); n != 81 {
		t.Errorf("spellings of a name with 4 separators: %d, want 81", n)
	}
}

// custom is a configuration with headers a hand-copied recipe would miss.
func custom(t *testing.T) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.AuthPrefix = "/_gh"
	cfg.IdentityHeaders.Claims = map[string]string{"email": "X-Forwarded-Email"}
	cfg.IdentityHeaders.Strip = []string{"X-Debug-User"}
	cfg.Assertion.Enabled, cfg.Assertion.Header = true, "X-Gw-Assertion"
	cfg.Cookie.Name = "sess"
	cfg.Policy.Rules = []config.Rule{{Path: "/legacy/**", IdentityHeaders: &config.RouteHeaders{User: "X-Remote-User", Set: map[string]string{"X-Tenant": "acme"}}}}
	return &cfg
}

// owned are the headers of custom's gateway, in spellings a client may
// forge, and headers that are not the gateway's.
var (
	owned = []string{"X-Auth-User", "x_auth_user", "X.Auth.Roles", "X-Auth_session", "X-Auth-Anything", "X-Forwarded-Email",
		"x_forwarded.email", "X-Remote-User", "X_REMOTE_USER", "x.tenant", "X-Gw-Assertion", "x_gw_assertion", "X-Debug-User", "X.debug_user"}
	notOwned = []string{"X-Authorization", "Authorization", "X-Forwarded-For", "X-Forwarded-Emails", "X-Tenant-Id", "Accept", "X-Auth"}
)

// TestCaddyStripsEverySpelling applies the recipe's request_header
// deletions the way Caddy does (a trailing * is a prefix of Go's canonical
// name; otherwise the canonical name itself).
func TestCaddyStripsEverySpelling(t *testing.T) {
	d := newData(custom(t), Options{})
	deleted := func(name string) bool {
		k := http.CanonicalHeaderKey(name)
		for _, p := range d.CaddyStrip {
			if q, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(k, q) || k == http.CanonicalHeaderKey(p) {
				return true
			}
		}
		return false
	}
	for _, n := range owned {
		if !deleted(n) {
			t.Errorf("a client's %s is not deleted", n)
		}
	}
	for _, n := range notOwned {
		if deleted(n) {
			t.Errorf("%s, not the gateway's, is deleted", n)
		}
	}
}

func TestTraefikRegexStripsEverySpelling(t *testing.T) {
	re := regexp.MustCompile(newData(custom(t), Options{}).TraefikStrip)
	for _, n := range owned {
		if !re.MatchString(n) {
			t.Errorf("authResponseHeadersRegex %s misses %s", re, n)
		}
	}
	for _, n := range notOwned {
		if re.MatchString(n) {
			t.Errorf("authResponseHeadersRegex %s matches %s, not the gateway's", re, n)
		}
	}
	none := config.Default()
	none.IdentityHeaders.StripPrefixes = nil
	none.IdentityHeaders.User, none.IdentityHeaders.Email, none.IdentityHeaders.Roles, none.IdentityHeaders.Session = "", "", "", ""
	none.Assertion.Header = ""
	if re := newData(&none, Options{}).TraefikStrip; regexp.MustCompile(re).MatchString("X-Auth-User") {
		t.Errorf("with nothing to strip, %s matches a header", re)
	}
}

func TestWrite(t *testing.T) {
	o := Options{Gateway: "127.0.0.1:8080", App: "127.0.0.1:3000", Host: "app.example.com"}
	write := func(proxy string) string {
		t.Helper()
		var b bytes.Buffer
		if err := Write(&b, proxy, custom(t), o); err != nil {
			t.Fatalf("Write %s: %v", proxy, err)
		}
		return b.String()
	}

	nginx := write("nginx")
	for _, want := range []string{
		"proxy_set_header X-Forwarded-Email $gatehouse_x_forwarded_email;",
		"auth_request_set $gatehouse_x_forwarded_email $upstream_http_x_forwarded_email;",
		"proxy_set_header X-Remote-User     $gatehouse_x_remote_user;",
		"proxy_set_header X-Tenant          $gatehouse_x_tenant;",
		"proxy_set_header X-Gw-Assertion $gatehouse_assertion;",
		"auth_request_set $gatehouse_assertion $upstream_http_x_gw_assertion;",
		`proxy_set_header X-Debug-User "";`,
		"location /_gh/ {",
		"proxy_pass http://gatehouse/_gh/verify?login=status&refresh=inline;",
		"listen 80;",
		"with X-Auth- and is not set above reaches the app",
	} {
		if !strings.Contains(nginx, want) {
			t.Errorf("nginx recipe lacks %q:\n%s", want, nginx)
		}
	}

	caddy := write("caddy")
	for _, want := range []string{
		"copy_headers X-Auth-User X-Auth-Email X-Auth-Roles X-Auth-Session X-Forwarded-Email X-Remote-User X-Tenant X-Gw-Assertion\n",
		"handle /_gh/* {", "uri /_gh/verify?refresh=redirect", "request_header -X_remote.user\n", "app.example.com {",
	} {
		if !strings.Contains(caddy, want) {
			t.Errorf("Caddyfile lacks %q:\n%s", want, caddy)
		}
	}

	var tr struct {
		HTTP struct {
			Middlewares map[string]struct {
				ForwardAuth struct {
					Address                  string   `yaml:"address"`
					AuthResponseHeaders      []string `yaml:"authResponseHeaders"`
					AuthResponseHeadersRegex string   `yaml:"authResponseHeadersRegex"`
					AddAuthCookiesToResponse []string `yaml:"addAuthCookiesToResponse"`
				} `yaml:"forwardAuth"`
			} `yaml:"middlewares"`
			Routers map[string]struct {
				Rule string `yaml:"rule"`
			} `yaml:"routers"`
		} `yaml:"http"`
	}
	if err := yaml.Unmarshal([]byte(write("traefik")), &tr); err != nil {
		t.Fatalf("the Traefik recipe is not YAML: %v", err)
	}
	fa := tr.HTTP.Middlewares["gatehouse"].ForwardAuth
	if fa.Address != "http://127.0.0.1:8080/_gh/verify?refresh=inline" || !slices.Equal(fa.AddAuthCookiesToResponse, []string{"sess"}) ||
		!slices.Equal(fa.AuthResponseHeaders, []string{"X-Auth-User", "X-Auth-Email", "X-Auth-Roles", "X-Auth-Session", "X-Forwarded-Email", "X-Remote-User", "X-Tenant", "X-Gw-Assertion"}) {
		t.Errorf("Traefik forwardAuth = %+v", fa)
	}
	if _, err := regexp.Compile(fa.AuthResponseHeadersRegex); err != nil {
		t.Errorf("authResponseHeadersRegex: %v", err)
	}
	if r := tr.HTTP.Routers["gatehouse"].Rule; r != "Host(`app.example.com`) && PathPrefix(`/_gh/`)" {
		t.Errorf("the gateway's router rule = %q", r)
	}
}

// TestWriteDefaultsSkipTheAssertionCopy: with assertions off, Caddy must not
// copy the header (it would send the app a placeholder's text), but every
// proxy still removes a client's copy.
func TestWriteDefaultsSkipTheAssertionCopy(t *testing.T) {
	cfg := config.Default()
	var b bytes.Buffer
	if err := Write(&b, "caddy", &cfg, Options{Gateway: "g:1", App: "a:1", Host: "h"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "copy_headers X-Auth-User X-Auth-Email X-Auth-Roles X-Auth-Session\n") {
		t.Errorf("copy_headers with assertions off:\n%s", b.String())
	}
	b.Reset()
	if err := Write(&b, "nginx", &cfg, Options{Gateway: "g:1", App: "a:1", Host: "h"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "proxy_set_header X-Auth-Assertion $gatehouse_assertion;") {
		t.Errorf("nginx does not replace a client's X-Auth-Assertion with assertions off:\n%s", b.String())
	}
}

func TestWriteRefuses(t *testing.T) {
	cfg := config.Default()
	o := Options{Gateway: "g:1", App: "a:1", Host: "app.example.com"}
	if err := Write(&bytes.Buffer{}, "envoy", &cfg, o); !errors.Is(err, ErrUnknownProxy) {
		t.Errorf("envoy: %v, want ErrUnknownProxy", err)
	}
	o.Host = "http://app.example.com"
	if err := Write(&bytes.Buffer{}, "nginx", &cfg, o); err == nil || !strings.Contains(err.Error(), "host name") {
		t.Errorf("nginx with a URL for a host: %v", err)
	}
	if err := Write(&bytes.Buffer{}, "caddy", &cfg, o); err != nil {
		t.Errorf("caddy takes any site address: %v", err)
	}
}
