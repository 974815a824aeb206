package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// validYAML is the smallest document that passes validation; tests append
// to it. The key is inline so that no files are needed.
const validYAML = `upstream:
  url: http://127.0.0.1:3000
keys:
  - kid: hs
    alg: HS256
    secret: 0123456789abcdef0123456789abcdef
`

func parse(t *testing.T, doc string, vars map[string]string) (*Config, error) {
	t.Helper()
	return Parse([]byte(doc), ParseOptions{LookupEnv: env(vars), BaseDir: t.TempDir()})
}

func TestParseDefaults(t *testing.T) {
	c, err := parse(t, validYAML, nil)
	if err != nil {
		t.Fatalf("Parse:\n%s", listProblems(err))
	}
	want := Default()
	want.Upstream.URL = "http://127.0.0.1:3000"
	want.Keys = []Key{{ID: "hs", Alg: "HS256", Secret: testSecret}}
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("got  %+v\nwant %+v", *c, want)
	}
}

func TestParseNullKeepsDefault(t *testing.T) {
	c, err := parse(t, validYAML+"server:\n  listen:\n  max_header_bytes: ~\ncookie:\n  secure: null\nlog:\n", nil)
	if err != nil {
		t.Fatalf("Parse:\n%s", listProblems(err))
	}
	if c.Server.Listen != ":8080" || c.Server.MaxHeaderBytes != 64<<10 || !c.Cookie.IsSecure() || c.Log.Level != "info" {
		t.Errorf("null values did not keep their defaults: %+v %+v %+v", c.Server, c.Cookie, c.Log)
	}
}

func TestParseValues(t *testing.T) {
	c, err := parse(t, validYAML+`
server:
  read_timeout: 0
  write_timeout: 1h30m
cookie:
  secure: false
  same_site: strict
identity_headers:
  strip_prefixes: []
  claims: {sub: X-Sub}
`, nil)
	if err != nil {
		t.Fatalf("Parse:\n%s", listProblems(err))
	}
	if c.Server.ReadTimeout != 0 || c.Server.WriteTimeout != 90*time.Minute {
		t.Errorf("durations = %v, %v", c.Server.ReadTimeout, c.Server.WriteTimeout)
	}
	if c.Cookie.IsSecure() || c.Cookie.SameSite != "strict" {
		t.Errorf("cookie = %+v", c.Cookie)
	}
	if c.IdentityHeaders.StripPrefixes == nil || len(c.IdentityHeaders.StripPrefixes) != 0 {
		t.Errorf("strip_prefixes: [] = %#v, want an empty list replacing the default", c.IdentityHeaders.StripPrefixes)
	}
	if c.IdentityHeaders.Claims["sub"] != "X-Sub" {
		t.Errorf("claims = %v", c.IdentityHeaders.Claims)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, doc := range []string{"", "# just a comment\n", "---\n", "~\n"} {
		_, err := parse(t, doc, nil)
		// Only what has no default is missing.
		if got, want := fields(err), []string{"upstream.url", "keys"}; !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q) fields = %q, want %q", doc, got, want)
		}
	}
}

func TestParseUnknownKeys(t *testing.T) {
	tests := []struct {
		name, doc     string
		field, line   string
		fix           string
		wantFieldsLen int
	}{
		{"typo", "cookie: {same_sit: lax}\n", "cookie.same_sit", "line 1:", `did you mean "same_site"?`, 1},
		{"typo in block", validYAML + "cookie:\n  name: x\n  same_sit: lax\n", "cookie.same_sit", "line 9:", `did you mean "same_site"?`, 1},
		{"transposition", "server:\n  lsiten: :80\n", "server.lsiten", "line 2:", `did you mean "listen"?`, 1},
		{"top level", "upstrem:\n  url: http://x\n", "upstrem", "line 1:", `did you mean "upstream"?`, 1},
		{"in list", "keys:\n  - kid: a\n  - privat_key_file: k.pem\n", "keys[1].privat_key_file", "line 3:", `did you mean "private_key_file"?`, 1},
		{"in rule", "policy:\n  rules:\n    - path: /a\n      role_any: [x]\n", "policy.rules[0].role_any", "line 4:", `did you mean "roles_any"?`, 1},
		{"no close key", "log:\n  colour: true\n", "log.colour", "line 2:", "valid keys under log are: level, format", 1},
		{"no close top-level key", "frobnicate: 1\n", "frobnicate", "line 1:", "valid keys at the top level are: server, public_url", 1},
		{"wrong section", "listen: :80\n", "listen", "line 1:", `"listen" belongs under server or admin; move it there`, 1},
		{"wrong section, two homes", "idle_timeout: 1h\n", "idle_timeout", "line 1:", `"idle_timeout" belongs under server or session`, 1},
		{"wrong list", "policy:\n  rules:\n    - kid: a\n", "policy.rules[0].kid", "line 3:", `"kid" belongs under keys[]`, 1},
		{"keys are not expanded", "${KEY}: 1\n", "${KEY}", "line 1:", "valid keys", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.doc, map[string]string{"KEY": "server"})
			fe := wantProblem(t, err, tt.field, tt.line)
			if !strings.Contains(fe.Problem, "unknown key") || !strings.Contains(fe.Fix, tt.fix) {
				t.Errorf("problem %q, fix %q; want fix containing %q", fe.Problem, fe.Fix, tt.fix)
			}
			// Validation of the rest still runs (upstream.url missing...);
			// count the unknown keys only.
			n := 0
			for _, fe := range FieldErrors(err) {
				if strings.Contains(fe.Problem, "unknown key") {
					n++
				}
			}
			if n != tt.wantFieldsLen {
				t.Errorf("got %d unknown-key problems, want %d:\n%s", n, tt.wantFieldsLen, listProblems(err))
			}
		})
	}
}

// TestParseUnknownKeysAndValidation: a typo does not hide the other
// problems of the file; one run reports them all.
func TestParseUnknownKeysAndValidation(t *testing.T) {
	_, err := parse(t, "cookie:\n  same_sit: lax\n  same_site: none\n  secure: false\n", nil)
	fields := map[string]bool{}
	for _, fe := range FieldErrors(err) {
		fields[fe.Field] = true
	}
	for _, want := range []string{"cookie.same_sit", "cookie.same_site", "upstream.url", "keys"} {
		if !fields[want] {
			t.Errorf("no problem reported for %s:\n%s", want, listProblems(err))
		}
	}
}

func TestParseReportsAllUnknownKeys(t *testing.T) {
	_, err := parse(t, validYAML+"server:\n  lisen: :80\n  read_timout: 1s\ncookies: {}\n", nil)
	want := []string{"server.lisen", "server.read_timout", "cookies"}
	if got := fields(err); !reflect.DeepEqual(got, want) {
		t.Fatalf("fields = %q, want %q\n%s", got, want, listProblems(err))
	}
	wantProblem(t, err, "server.lisen", "line 8:")
	wantProblem(t, err, "server.read_timout", "line 9:")
	wantProblem(t, err, "cookies", "line 10:")
}

func TestParseDuplicateKey(t *testing.T) {
	_, err := parse(t, validYAML+"log:\n  level: info\n  level: debug\n", nil)
	wantProblem(t, err, "log.level", "line 9: key \"level\" is repeated (first set at line 8)")
}

func TestParseTypeErrors(t *testing.T) {
	tests := []struct {
		name, doc   string
		field, prob string
		fix         string
	}{
		{"duration", "tokens:\n  access_ttl: banana\n", "tokens.access_ttl", `line 2: "banana" is not a duration`, "30s or 5m"},
		{"duration without unit", "server:\n  idle_timeout: 30\n", "server.idle_timeout", `line 2: "30" is not a duration`, "30s or 5m"},
		{"int", "server:\n  max_header_bytes: lots\n", "server.max_header_bytes", `line 2: "lots" is not a whole number`, "whole number"},
		{"bool", "cookie:\n  secure: maybe\n", "cookie.secure", `line 2: "maybe" is not true or false`, "true or false"},
		{"struct", "server: 8080\n", "server", `line 1: expected a mapping, found "8080"`, "keys: listen, read_header_timeout"},
		{"struct list", "keys:\n  kid: a\n", "keys", "line 2: expected a list of mappings, found a mapping", "list of mappings"},
		{"string list", "trusted_proxies: 10.0.0.0/8\n", "trusted_proxies", `line 1: expected a list of strings, found "10.0.0.0/8"`, "[a, b]"},
		{"string is scalar", "log:\n  level: [debug]\n", "log.level", "line 2: expected a string, found a list", "single value"},
		{"nested in list", "trusted_proxies: [a, [b]]\n", "trusted_proxies", "line 1: invalid list of strings", "[a, b]"},
		{"map", "identity_headers:\n  claims: [a]\n", "identity_headers.claims", "line 2: expected a mapping of names to strings, found a list", "{name: value}"},
		{"map duplicate", "identity_headers:\n  claims:\n    a: X-A\n    a: X-B\n", "identity_headers.claims", "already defined at line 3", "{name: value}"},
		{"bad key", "server:\n  ? [a]\n  : 1\n", "server", "line 2: a key must be a name", "plain names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.doc, nil)
			fe := wantProblem(t, err, tt.field, tt.prob)
			if !strings.Contains(fe.Fix, tt.fix) {
				t.Errorf("fix = %q, want it to contain %q", fe.Fix, tt.fix)
			}
			if n := len(FieldErrors(err)); n != 1 {
				t.Errorf("got %d problems, want 1:\n%s", n, listProblems(err))
			}
		})
	}
}

func TestParseValidationNamesLines(t *testing.T) {
	doc := `upstream:
  url: http://app
keys:
  - public_key: pem
log:
  level: verbose
trusted_proxies:
  - 10.0.0.0/8
  - nope
`
	_, err := parse(t, doc, nil)
	wantProblem(t, err, "keys", "line 3: no key can sign")
	wantProblem(t, err, "log.level", `line 6: unknown level "verbose"`)
	wantProblem(t, err, "trusted_proxies[1]", "line 9:")
	if !isFieldErrors(err) {
		t.Errorf("not all problems are FieldErrors: %v", err)
	}
}

func TestParseDocumentErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"syntax", "server:\n  listen: :80\n bad", "yaml:"},
		{"scalar document", "hello\n", `line 1: the top level must be a mapping`},
		{"list document", "- a\n", "not a list"},
		{"two documents", validYAML + "---\nlog: {}\n", "a second YAML document"},
		{"unquoted reference in flow style", "trusted_proxies: [${LB}]\n", "quote values that contain ${VAR}"},
		{"undefined alias", "server: *nope\n", "unknown anchor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.doc, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if fes := FieldErrors(err); len(fes) != 0 {
				t.Errorf("document errors are not field errors, got %v", fes)
			}
		})
	}
}

func TestParseAliases(t *testing.T) {
	t.Run("merge and reuse", func(t *testing.T) {
		doc := validYAML + `policy:
  rules:
    - &base {path: /a/**, roles_any: &r [admin]}
    - <<: *base
      path: /b/**
    - {path_prefix: /c, roles_all: *r}
`
		c, err := parse(t, doc, nil)
		if err != nil {
			t.Fatalf("Parse:\n%s", listProblems(err))
		}
		r := c.Policy.Rules
		if len(r) != 3 || r[1].Path != "/b/**" || !reflect.DeepEqual(r[1].RolesAny, []string{"admin"}) ||
			!reflect.DeepEqual(r[2].RolesAll, []string{"admin"}) {
			t.Errorf("rules = %+v", r)
		}
	})
	t.Run("self reference", func(t *testing.T) {
		_, err := parse(t, "policy:\n  rules: &a\n    - <<: *a\n", nil)
		if err == nil {
			t.Fatal("no error for a self-referencing alias")
		}
	})
	t.Run("merge of a self-referencing list", func(t *testing.T) {
		_, err := parse(t, "server:\n  <<: &a [*a]\n", nil)
		if err == nil {
			t.Fatal("no error for a merge of a list containing itself")
		}
	})
	t.Run("merge of a scalar", func(t *testing.T) {
		_, err := parse(t, "server:\n  <<: [{listen: ':1'}, x]\n", nil)
		wantProblem(t, err, "server", "a merge key (<<) needs a mapping")
	})
	t.Run("unknown key in merged mapping", func(t *testing.T) {
		_, err := parse(t, "policy:\n  rules:\n    - &x {pth: /a}\n    - <<: *x\n", nil)
		wantProblem(t, err, "policy.rules[0].pth", "line 3")
		wantProblem(t, err, "policy.rules[1].pth", "line 3")
	})
}

func TestLoad(t *testing.T) {
	dir := keyDir(t)
	data, err := os.ReadFile(filepath.Join("testdata", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "gatehouse.yaml")
	writeFiles(t, dir, map[string]string{"gatehouse.yaml": string(data)})

	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load:\n%s", listProblems(err))
	}
	if len(c.Keys) != 2 || !strings.Contains(c.Keys[0].PrivateKey, "PRIVATE KEY") || !strings.Contains(c.Keys[1].PublicKey, "PUBLIC KEY") {
		t.Errorf("key files not read: %+v", c.Keys)
	}
	if c.Tokens.VerifyCacheSize != 8192 || c.Upstream.HTTP2 || c.Upstream.MaxIdleConnsPerHost != 64 {
		t.Errorf("tokens.verify_cache_size %d, upstream.http2 %v, max_idle_conns_per_host %d: want 8192, false, 64",
			c.Tokens.VerifyCacheSize, c.Upstream.HTTP2, c.Upstream.MaxIdleConnsPerHost)
	}
	if c.Keys[0].PrivateKeyFile != "signing.pem" {
		t.Errorf("private_key_file = %q, want it kept", c.Keys[0].PrivateKeyFile)
	}
	if len(c.Policy.Rules) != 5 || c.Policy.Rules[2].Claims["email_verified"] != true {
		t.Errorf("rules = %+v", c.Policy.Rules)
	}
	if p := c.OIDC.Providers; len(p) != 1 || !slices.Equal(p[0].Claims.Roles, []string{"realm_access.roles", "groups"}) ||
		!p[0].Require.EmailVerified || !p[0].Recheck || c.OIDC.StateTTL != 5*time.Minute || c.OIDC.Timeout != 10*time.Second {
		t.Errorf("oidc = %+v", c.OIDC)
	}
	if c.Server.ReadHeaderTimeout != 5*time.Second || c.Session.AbsoluteLifetime != 168*time.Hour {
		t.Errorf("durations: %+v %+v", c.Server, c.Session)
	}

	_, err = Load(filepath.Join(dir, "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
}

func TestParseTestdata(t *testing.T) {
	vars := map[string]string{
		"UPSTREAM_URL": "http://app.internal:8080",
		"HS_SECRET":    testSecret,
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	dir := keyDir(t)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(data, ParseOptions{LookupEnv: env(vars), BaseDir: dir})
			if err != nil {
				t.Fatalf("Parse:\n%s", listProblems(err))
			}
			if c.Upstream.URL == "" {
				t.Error("no upstream")
			}
		})
	}
}
