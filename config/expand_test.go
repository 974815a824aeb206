package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestExpandString(t *testing.T) {
	vars := map[string]string{"A": "alpha", "EMPTY": "", "PRICE": "$5"}
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"${A}", "alpha"},
		{"x-${A}-y", "x-alpha-y"},
		{"${A}${A}", "alphaalpha"},
		{"${UNSET:-fallback}", "fallback"},
		{"${EMPTY:-fallback}", "fallback"}, // as in the shell, :- also covers empty
		{"${A:-fallback}", "alpha"},
		{"${UNSET:-}", ""},
		{"${UNSET:-a:-b}", "a:-b"},
		{"$${A}", "${A}"},
		{"$$${A}", "$${A}"}, // "$" then the escape: only "$${" is special

		{"$A $ {A} $", "$A $ {A} $"},
		{"${PRICE}", "$5"},
		{"${EMPTY}", ""},
	}
	for _, tt := range tests {
		got, errs := expandString(tt.in, env(vars))
		if got != tt.want || len(errs) != 0 {
			t.Errorf("expandString(%q) = %q, %v; want %q", tt.in, got, errs, tt.want)
		}
	}
}

func TestParseExpandsValues(t *testing.T) {
	vars := map[string]string{
		"UPSTREAM": "http://10.0.0.5:3000",
		"TTL":      "2m",
		"SECURE":   "false",
		"BYTES":    "8192",
		"ISSUER":   "a: b\nc: d # not a comment",
		"NUMBER":   "123",
		"PROXY":    "10.0.0.0/8",
		"HEADER":   "X-Team",
	}
	doc := `upstream:
  url: ${UPSTREAM}
tokens:
  issuer: ${ISSUER}
  audience: "${NUMBER}"
  access_ttl: ${TTL}
  claims: [team]
server:
  max_header_bytes: ${BYTES}
cookie:
  secure: ${SECURE}
trusted_proxies: ["${PROXY}", "${MISSING:-192.0.2.1}"] # flow style needs quotes around {}
identity_headers:
  claims: {team: "${HEADER}"}
keys:
  - {kid: hs, alg: HS256, secret: "${SECRET:-0123456789abcdef0123456789abcdef}"}
`
	c, err := parse(t, doc, vars)
	if err != nil {
		t.Fatalf("Parse:\n%s", listProblems(err))
	}
	if c.Upstream.URL != vars["UPSTREAM"] {
		t.Errorf("upstream.url = %q", c.Upstream.URL)
	}
	if c.Tokens.Issuer != vars["ISSUER"] {
		t.Errorf("issuer = %q: a value with \": \" and a newline must stay one string", c.Tokens.Issuer)
	}
	if c.Tokens.Audience != "123" {
		t.Errorf("audience = %q", c.Tokens.Audience)
	}
	if c.Tokens.AccessTTL != 2*time.Minute {
		t.Errorf("access_ttl = %v, want the expanded value typed as a duration", c.Tokens.AccessTTL)
	}
	if c.Server.MaxHeaderBytes != 8192 {
		t.Errorf("max_header_bytes = %d", c.Server.MaxHeaderBytes)
	}
	if c.Cookie.IsSecure() {
		t.Error("secure: ${SECURE} with SECURE=false did not decode as false")
	}
	if want := []string{"10.0.0.0/8", "192.0.2.1"}; !reflect.DeepEqual(c.TrustedProxies, want) {
		t.Errorf("trusted_proxies = %q, want %q", c.TrustedProxies, want)
	}
	if c.IdentityHeaders.Claims["team"] != "X-Team" {
		t.Errorf("claims = %v", c.IdentityHeaders.Claims)
	}
	if c.Keys[0].Secret != testSecret {
		t.Errorf("secret = %q", c.Keys[0].Secret)
	}
}

func TestParseEscape(t *testing.T) {
	// The escaped "${NOT_A_VAR}" is not a valid cookie name: proof that
	// the escape produced the literal text and looked nothing up.
	_, err := parse(t, validYAML+"cookie:\n  name: '$${NOT_A_VAR}'\n", map[string]string{"NOT_A_VAR": "gh"})
	wantProblem(t, err, "cookie.name", `line 8: "${NOT_A_VAR}" is not a valid cookie name`)
}

func TestParseEmptyExpansionKeepsDefault(t *testing.T) {
	c, err := parse(t, validYAML+"tokens:\n  issuer: ${EMPTY}\n  audience: \"${EMPTY:-}x\"\n", map[string]string{"EMPTY": ""})
	if err != nil {
		t.Fatalf("Parse:\n%s", listProblems(err))
	}
	if c.Tokens.Issuer != "gatehouse" || c.Tokens.Audience != "x" {
		t.Errorf("issuer, audience = %q, %q; want the default and %q", c.Tokens.Issuer, c.Tokens.Audience, "x")
	}
}

func TestParseExpansionKeepsQuotedTypes(t *testing.T) {
	// Quoting a reference keeps the value a string, as quoting does in
	// YAML, so a bool field rejects it.
	_, err := parse(t, validYAML+"cookie:\n  secure: \"${SECURE}\"\n", map[string]string{"SECURE": "false"})
	wantProblem(t, err, "cookie.secure", `line 8: "false" is not true or false`)
}

func TestParseExpansionErrors(t *testing.T) {
	tests := []struct {
		name, doc, field, problem, fix string
	}{
		{"unset", validYAML + "tokens:\n  issuer: ${GH_ISSUER}\n", "tokens.issuer",
			"line 8: environment variable GH_ISSUER is not set", "export GH_ISSUER or use ${GH_ISSUER:-default}"},
		{"unset in list", validYAML + "trusted_proxies:\n  - 10.0.0.0/8\n  - ${LB_IP}\n", "trusted_proxies[1]",
			"line 9: environment variable LB_IP is not set", "export LB_IP or use ${LB_IP:-default}"},
		{"unset in map", validYAML + "identity_headers:\n  claims: {sub: '${H}'}\n", "identity_headers.claims.sub",
			"line 8: environment variable H is not set", "export H"},
		{"unterminated", validYAML + "tokens:\n  issuer: ${GH_ISSUER\n", "tokens.issuer",
			`line 8: unterminated "${GH_ISSUER"`, "$${"},
		{"bad name", validYAML + "tokens:\n  issuer: ${1ST}\n", "tokens.issuer",
			`line 8: "${1ST}" is not a valid variable reference`, "${NAME:-default}"},
		{"shell form", validYAML + "tokens:\n  issuer: ${A-b}\n", "tokens.issuer",
			`"${A-b}" is not a valid variable reference`, "${NAME:-default}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.doc, nil)
			fe := wantProblem(t, err, tt.field, tt.problem)
			if !strings.Contains(fe.Fix, tt.fix) {
				t.Errorf("fix = %q, want it to contain %q", fe.Fix, tt.fix)
			}
			if n := len(FieldErrors(err)); n != 1 {
				t.Errorf("got %d problems, want 1:\n%s", n, listProblems(err))
			}
		})
	}
}

func TestParseReportsEveryUnsetVariable(t *testing.T) {
	_, err := parse(t, "upstream:\n  url: ${U}\ntokens:\n  issuer: ${A}-${B}\n", nil)
	want := []string{"upstream.url", "tokens.issuer", "tokens.issuer"}
	if got := fields(err); !reflect.DeepEqual(got, want) {
		t.Fatalf("fields = %q, want %q\n%s", got, want, listProblems(err))
	}
}
