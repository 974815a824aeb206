package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestValidateCORSAccepts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*CORS)
	}{
		{"none", func(*CORS) {}},
		{"exact origins", func(c *CORS) {
			c.AllowedOrigins = []string{"https://app.example.com", "HTTPS://Admin.Example.com:443", "http://localhost:3000", "http://[::1]:8080"}
		}},
		{"patterns", func(c *CORS) {
			c.AllowedOrigins = []string{"https://*.example.com", "https://*.corp.example.net:8443", "https://*.example.co.uk", "http://*.localhost"}
		}},
		{"null without credentials", func(c *CORS) {
			c.AllowedOrigins = []string{"null"}
			c.AllowCredentials = ptr(false)
		}},
		{"plain http with credentials is a note", func(c *CORS) { c.AllowedOrigins = []string{"http://app.internal"} }},
		{"names", func(c *CORS) {
			c.AllowedMethods = []string{"GET", "PROPFIND"}
			c.AllowedHeaders = []string{"X-Csrf-Token"}
			c.ExposedHeaders = []string{"X-Total-Count"}
		}},
		{"max_age bounds", func(c *CORS) { c.MaxAge = 24 * time.Hour }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(&c.CORS)
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate() =\n%s", listProblems(err))
			}
		})
	}
}

// TestValidateCORSRejects has one case per rule. Each bad entry comes
// after a good one, so the index in the field is checked too.
func TestValidateCORSRejects(t *testing.T) {
	origin := func(s string) func(*CORS) {
		return func(c *CORS) { c.AllowedOrigins = []string{"https://app.example.com", s} }
	}
	tests := []struct {
		name, field, problem string
		mutate               func(*CORS)
	}{
		{"star", "cors.allowed_origins[1]", "cannot work with cookies", origin("*")},
		{"empty", "cors.allowed_origins[1]", "is empty", origin("")},
		{"trailing slash", "cors.allowed_origins[1]", "ends with a slash", origin("https://api.example.com/")},
		{"path", "cors.allowed_origins[1]", "has a path", origin("https://api.example.com/v1")},
		{"query", "cors.allowed_origins[1]", "has a query", origin("https://api.example.com?v=1")},
		{"fragment", "cors.allowed_origins[1]", "has a fragment", origin("https://api.example.com#v1")},
		{"userinfo", "cors.allowed_origins[1]", "userinfo", origin("https://u:p@api.example.com")},
		{"no scheme", "cors.allowed_origins[1]", "has no scheme", origin("api.example.com")},
		{"scheme", "cors.allowed_origins[1]", "not an http or https origin", origin("ws://api.example.com")},
		{"host", "cors.allowed_origins[1]", "invalid host", origin("https://api..example.com")},
		{"port", "cors.allowed_origins[1]", "invalid port", origin("https://api.example.com:0")},
		{"wildcard not leading", "cors.allowed_origins[1]", `leading "*." label`, origin("https://api-*.example.com")},
		{"pattern over a TLD", "cors.allowed_origins[1]", "top-level domain", origin("https://*.com")},
		{"pattern over a public suffix", "cors.allowed_origins[1]", "public suffix", origin("https://*.herokuapp.com")},
		{"pattern over an IP", "cors.allowed_origins[1]", "IP address", origin("http://*.168.0.1")},
		{"duplicate", "cors.allowed_origins[1]", "same origin as cors.allowed_origins[0]", origin("https://APP.example.com.")},
		{"null with credentials", "cors.allowed_origins[1]", "allows every site", origin("null")},
		{"method", "cors.allowed_methods[1]", "not a method", func(c *CORS) { c.AllowedMethods = []string{"GET", "GET,POST"} }},
		{"method star", "cors.allowed_methods[0]", `"*"`, func(c *CORS) { c.AllowedMethods = []string{"*"} }},
		{"allowed header", "cors.allowed_headers[0]", "not a header name", func(c *CORS) { c.AllowedHeaders = []string{"X Csrf"} }},
		{"exposed header", "cors.exposed_headers[0]", "not a header name", func(c *CORS) { c.ExposedHeaders = []string{"X-Total:Count"} }},
		{"max_age negative", "cors.max_age", "between 0s and 24h", func(c *CORS) { c.MaxAge = -time.Minute }},
		{"max_age too long", "cors.max_age", "between 0s and 24h", func(c *CORS) { c.MaxAge = 48 * time.Hour }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(&c.CORS)
			err := c.Validate()
			if got := fields(err); !slices.Equal(got, []string{tt.field}) {
				t.Fatalf("fields = %q, want [%s]:\n%s", got, tt.field, listProblems(err))
			}
			if fe := FieldErrors(err)[0]; !strings.Contains(fe.Problem, tt.problem) || fe.Fix == "" {
				t.Errorf("problem %q (fix %q), want one containing %q and a fix", fe.Problem, fe.Fix, tt.problem)
			}
		})
	}
}

func TestParseCORS(t *testing.T) {
	c := Default().CORS
	c.AllowedOrigins = []string{"HTTPS://App.Example.com:443", "https://*.Example.NET.", "http://app.internal:8080"}
	rules, err := ParseCORS(c)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range rules.Origins {
		got = append(got, o.String())
	}
	want := []string{"https://app.example.com", "https://*.example.net", "http://app.internal:8080"}
	if !slices.Equal(got, want) {
		t.Errorf("origins = %q, want %q", got, want)
	}
	if len(rules.Notes) != 1 || !strings.HasPrefix(rules.Notes[0], "cors.allowed_origins[2]: ") {
		t.Errorf("notes = %q, want one for cors.allowed_origins[2]", rules.Notes)
	}

	c.AllowedOrigins = []string{"*"}
	if _, err := ParseCORS(c); !isFieldErrors(err) || len(FieldErrors(err)) != 1 {
		t.Errorf("ParseCORS(*) = %v, want one FieldError", err)
	}
}
