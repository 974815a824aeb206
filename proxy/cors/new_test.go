package cors

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
)

func TestNewAccepts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*config.CORS)
	}{
		{"nothing configured", func(*config.CORS) {}},
		{"exact, pattern, port, IPv6", func(c *config.CORS) {
			c.AllowedOrigins = []string{"https://app.example.com", "https://*.example.net", "https://*.corp.example.org:8443", "http://[::1]:3000"}
		}},
		{"pattern under a public suffix's customer", func(c *config.CORS) {
			c.AllowedOrigins = []string{"https://*.example.co.uk", "https://*.myapp.github.io"}
		}},
		{"pattern under localhost", func(c *config.CORS) { c.AllowedOrigins = []string{"http://*.localhost:3000"} }},
		{"null without credentials", func(c *config.CORS) {
			c.AllowedOrigins = []string{"null"}
			c.AllowCredentials = new(false)
		}},
		{"plain http with credentials (a note, not an error)", func(c *config.CORS) { c.AllowedOrigins = []string{"http://app.internal"} }},
		{"names", func(c *config.CORS) {
			c.AllowedMethods = []string{"GET", "PROPFIND"}
			c.AllowedHeaders = []string{"X-Csrf-Token", "x-trace-id"}
			c.ExposedHeaders = []string{"X-Total-Count"}
		}},
		{"max_age 0", func(c *config.CORS) { c.MaxAge = 0 }},
		{"max_age 24h", func(c *config.CORS) { c.MaxAge = 24 * time.Hour }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := conf()
			tt.mutate(&c)
			if _, err := New(c); err != nil {
				t.Fatalf("New: %v", err)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	// origins puts s at index 2, after two good entries.
	origins := func(s string) func(*config.CORS) {
		return func(c *config.CORS) {
			c.AllowedOrigins = []string{"https://a.example.com", "https://*.example.net", s}
		}
	}
	type rejectCase struct {
		name    string
		mutate  func(*config.CORS)
		field   string
		problem string // a part of the problem text
		fix     string // a part of the fix
	}
	tests := []rejectCase{
		{"star", origins("*"), "cors.allowed_origins[2]", "cannot work with cookies", "list the origins"},
		{"star without credentials", func(c *config.CORS) {
			c.AllowedOrigins = []string{"*"}
			c.AllowCredentials = new(false)
		}, "cors.allowed_origins[0]", "cannot work with cookies", "list the origins"},
		{"empty", origins(""), "cors.allowed_origins[2]", "is empty", "remove"},
		{"trailing slash", origins("https://app.example.com/"), "cors.allowed_origins[2]", "ends with a slash",
			`remove the trailing slash: "https://app.example.com"`},
		{"path", origins("https://app.example.com/app"), "cors.allowed_origins[2]", "has a path", "remove the path"},
		{"query", origins("https://app.example.com?x=1"), "cors.allowed_origins[2]", "has a query", "remove the ?query"},
		{"fragment", origins("https://app.example.com#x"), "cors.allowed_origins[2]", "has a fragment", "remove the #fragment"},
		{"userinfo", origins("https://me@app.example.com"), "cors.allowed_origins[2]", "userinfo", "remove the user@"},
		{"no scheme", origins("app.example.com"), "cors.allowed_origins[2]", "has no scheme", `"https://app.example.com"`},
		{"other scheme", origins("ftp://app.example.com"), "cors.allowed_origins[2]", "not an http or https origin", "https://"},
		{"bad host", origins("https://app_ex ample.com"), "cors.allowed_origins[2]", "invalid host", "xn--"},
		{"unicode host", origins("https://bücher.example"), "cors.allowed_origins[2]", "invalid host", "xn--"},
		{"bad port", origins("https://app.example.com:70000"), "cors.allowed_origins[2]", "invalid port", "1 to 65535"},
		{"wildcard inside a label", origins("https://*app.example.com"), "cors.allowed_origins[2]", `leading "*." label`, "https://*.example.com"},
		{"wildcard in the middle", origins("https://app.*.example.com"), "cors.allowed_origins[2]", `leading "*." label`, "https://*.example.com"},
		{"two wildcards", origins("https://*.*.example.com"), "cors.allowed_origins[2]", `leading "*." label`, "https://*.example.com"},
		{"wildcard port", origins("https://app.example.com:*"), "cors.allowed_origins[2]", `leading "*." label`, "https://*.example.com"},
		{"wildcard without scheme", origins("*.example.com"), "cors.allowed_origins[2]", "has no scheme", `"https://*.example.com"`},
		{"pattern over a TLD", origins("https://*.com"), "cors.allowed_origins[2]", "too broad", "domain you control"},
		{"pattern over an IP", origins("https://*.0.0.1"), "cors.allowed_origins[2]", "IP address", "exact origin"},
		{"pattern over IPv6", origins("https://*.[::1]"), "cors.allowed_origins[2]", "invalid host", "host names only"},
		{"duplicate", origins("HTTPS://A.example.com:443"), "cors.allowed_origins[2]", "same origin as cors.allowed_origins[0]", "remove one"},
		{"duplicate pattern", origins("https://*.EXAMPLE.net."), "cors.allowed_origins[2]", "same origin as cors.allowed_origins[1]", "remove one"},
		{"null with credentials", origins("null"), "cors.allowed_origins[2]", "allows every site", "allow_credentials: false"},
		{"method not a token", func(c *config.CORS) { c.AllowedMethods = []string{"GET", "GE T"} }, "cors.allowed_methods[1]", "not a method", "PATCH"},
		{"method star", func(c *config.CORS) { c.AllowedMethods = []string{"*"} }, "cors.allowed_methods[0]", `"*" is not supported`, "by name"},
		{"header not a token", func(c *config.CORS) { c.AllowedHeaders = []string{"X-A", "X-B", "X:C"} }, "cors.allowed_headers[2]", "not a header name", "X-Csrf-Token"},
		{"header star", func(c *config.CORS) { c.AllowedHeaders = []string{"*"} }, "cors.allowed_headers[0]", `"*" is not supported`, "by name"},
		{"exposed not a token", func(c *config.CORS) { c.ExposedHeaders = []string{"X Total"} }, "cors.exposed_headers[0]", "not a header name", "X-Total-Count"},
		{"exposed star", func(c *config.CORS) { c.ExposedHeaders = []string{"*"} }, "cors.exposed_headers[0]", `"*" is not supported`, "by name"},
		{"max_age negative", func(c *config.CORS) { c.MaxAge = -time.Second }, "cors.max_age", "between 0s and 24h", "24h"},
		{"max_age too long", func(c *config.CORS) { c.MaxAge = 25 * time.Hour }, "cors.max_age", "between 0s and 24h", "24h"},
	}
	for _, suffix := range []string{"co.uk", "com.au", "github.io", "herokuapp.com", "vercel.app", "netlify.app", "pages.dev",
		"web.app", "appspot.com", "cloudfront.net", "azurewebsites.net"} {
		tests = append(tests, rejectCase{"public suffix " + suffix, origins("https://*." + suffix), "cors.allowed_origins[2]", "public suffix", "domain you control"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := conf()
			tt.mutate(&c)
			p, err := New(c)
			if p != nil {
				t.Error("New returned a policy with an error")
			}
			fes := config.FieldErrors(err)
			if len(fes) != 1 {
				t.Fatalf("New: want one problem, got %d: %v", len(fes), err)
			}
			var fe *config.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("New: %T is not a *config.FieldError", err)
			}
			fe = fes[0]
			if fe.Field != tt.field || !strings.Contains(fe.Problem, tt.problem) || !strings.Contains(fe.Fix, tt.fix) {
				t.Errorf("New: %v\nwant field %s, problem containing %q, fix containing %q", fe, tt.field, tt.problem, tt.fix)
			}
		})
	}
}

// TestNewReportsEveryProblem checks that problems are joined, not the
// first one returned.
func TestNewReportsEveryProblem(t *testing.T) {
	c := conf("*", "https://ok.example.com", "https://a.example.com/", "https://*.com")
	c.AllowedHeaders = []string{"bad header"}
	c.MaxAge = -1
	_, err := New(c)
	var got []string
	for _, fe := range config.FieldErrors(err) {
		got = append(got, fe.Field)
	}
	want := []string{"cors.allowed_origins[0]", "cors.allowed_origins[2]", "cors.allowed_origins[3]", "cors.allowed_headers[0]", "cors.max_age"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("fields = %q, want %q", got, want)
	}
}
