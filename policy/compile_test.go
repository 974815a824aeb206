package policy

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

func TestCompileErrors(t *testing.T) {
	one := func(r config.Rule) config.Policy { return config.Policy{Rules: []config.Rule{r}} }
	tests := []struct {
		name   string
		policy config.Policy
		fields []string
	}{
		{"bad default", config.Policy{Default: "allow"}, []string{"policy.default"}},
		{"default in upper case", config.Policy{Default: "Public"}, []string{"policy.default"}},
		{"bad access", one(config.Rule{Access: "open"}), []string{"policy.rules[0].access"}},

		{"path and path_prefix", one(config.Rule{Path: "/a", PathPrefix: "/a"}), []string{"policy.rules[0].path"}},
		{"relative path", one(config.Rule{Path: "admin"}), []string{"policy.rules[0].path"}},
		{"relative prefix", one(config.Rule{PathPrefix: "api/"}), []string{"policy.rules[0].path_prefix"}},
		{"double star inside a segment", one(config.Rule{Path: "/api/**x"}), []string{"policy.rules[0].path"}},
		{"double star after text", one(config.Rule{Path: "/api**"}), []string{"policy.rules[0].path"}},
		{"triple star", one(config.Rule{Path: "/api/***"}), []string{"policy.rules[0].path"}},
		{"wildcard in prefix", one(config.Rule{PathPrefix: "/api/*"}), []string{"policy.rules[0].path_prefix"}},
		{"empty segment in path", one(config.Rule{Path: "/a//b"}), []string{"policy.rules[0].path"}},
		{"dot segment in path", one(config.Rule{Path: "/a/../b"}), []string{"policy.rules[0].path"}},
		{"escaped path", one(config.Rule{Path: "/a%20b"}), []string{"policy.rules[0].path"}},
		{"encoded slash in path", one(config.Rule{Path: "/a%2Fb"}), []string{"policy.rules[0].path"}},
		{"semicolon in prefix", one(config.Rule{PathPrefix: "/a;b"}), []string{"policy.rules[0].path_prefix"}},

		{"wildcard without dot", one(config.Rule{Host: "*example.com"}), []string{"policy.rules[0].host"}},
		{"wildcard in the middle", one(config.Rule{Host: "a.*.example.com"}), []string{"policy.rules[0].host"}},
		{"two wildcards", one(config.Rule{Host: "*.*.example.com"}), []string{"policy.rules[0].host"}},
		{"wildcard inside a label", one(config.Rule{Host: "api-*.example.com"}), []string{"policy.rules[0].host"}},
		{"trailing wildcard", one(config.Rule{Host: "example.*"}), []string{"policy.rules[0].host"}},
		{"bare wildcard", one(config.Rule{Host: "*"}), []string{"policy.rules[0].host"}},
		{"wildcard without domain", one(config.Rule{Host: "*."}), []string{"policy.rules[0].host"}},
		{"host with port", one(config.Rule{Host: "example.com:8443"}), []string{"policy.rules[0].host"}},
		{"host as URL", one(config.Rule{Host: "https://example.com"}), []string{"policy.rules[0].host"}},
		{"host with path", one(config.Rule{Host: "example.com/app"}), []string{"policy.rules[0].host"}},

		{"method list in one entry", one(config.Rule{Methods: []string{"GET, POST"}}), []string{"policy.rules[0].methods[0]"}},
		{"empty method", one(config.Rule{Methods: []string{"GET", ""}}), []string{"policy.rules[0].methods[1]"}},

		{"roles_any on public", one(config.Rule{Access: "public", RolesAny: []string{"a"}}), []string{"policy.rules[0].roles_any"}},
		{"roles_all on public", one(config.Rule{Access: "public", RolesAll: []string{"a"}}), []string{"policy.rules[0].roles_all"}},
		{"claims on public", one(config.Rule{Access: "public", Claims: map[string]any{"a": true}}), []string{"policy.rules[0].claims"}},
		{"everything on deny", one(config.Rule{Access: "deny", RolesAny: []string{"a"}, RolesAll: []string{"b"}, Claims: map[string]any{"c": 1}}),
			[]string{"policy.rules[0].roles_any", "policy.rules[0].roles_all", "policy.rules[0].claims"}},
		{"empty role", one(config.Rule{RolesAny: []string{"a", ""}}), []string{"policy.rules[0].roles_any[1]"}},
		{"empty role in roles_all", one(config.Rule{RolesAll: []string{""}}), []string{"policy.rules[0].roles_all[0]"}},

		{"list claim value", one(config.Rule{Claims: map[string]any{"groups": []any{"a", "b"}}}), []string{"policy.rules[0].claims.groups"}},
		{"null claim value", one(config.Rule{Claims: map[string]any{"verified": nil}}), []string{"policy.rules[0].claims.verified"}},
		{"map claim value", one(config.Rule{Claims: map[string]any{"org": map[string]any{"id": 1}}}), []string{"policy.rules[0].claims.org"}},
		{"NaN claim value", one(config.Rule{Claims: map[string]any{"n": math.NaN()}}), []string{"policy.rules[0].claims.n"}},
		{"empty claim name", one(config.Rule{Claims: map[string]any{"": "x"}}), []string{"policy.rules[0].claims"}},
		{"claims in name order", one(config.Rule{Claims: map[string]any{"z": nil, "a": nil, "m": "ok"}}),
			[]string{"policy.rules[0].claims.a", "policy.rules[0].claims.z"}},

		{"duplicate name", config.Policy{Rules: []config.Rule{{Name: "x"}, {Name: "y"}, {Name: "x"}}},
			[]string{"policy.rules[2].name"}},
		{"name collides with a default name", config.Policy{Rules: []config.Rule{{Name: "rules[1]"}, {}}},
			[]string{"policy.rules[1].name"}},
		{"reserved name", one(config.Rule{Name: "default"}), []string{"policy.rules[0].name"}},

		{"every problem, in order", config.Policy{Default: "nope", Rules: []config.Rule{
			{Path: "x", Host: "*x"},
			{Name: "ok", Path: "/ok"},
			{Access: "public", PathPrefix: "/p*", RolesAll: []string{"r"}, Methods: []string{"G T"}},
		}}, []string{
			"policy.default",
			"policy.rules[0].host", "policy.rules[0].path",
			"policy.rules[2].path_prefix", "policy.rules[2].methods[0]", "policy.rules[2].roles_all",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Compile(tt.policy)
			if err == nil {
				t.Fatalf("Compile succeeded, want errors on %q", tt.fields)
			}
			if e != nil {
				t.Errorf("Compile returned an Engine with its error")
			}
			var fe *config.FieldError
			if !errors.As(err, &fe) {
				t.Errorf("error %v is not a *config.FieldError", err)
			}
			var fields []string
			for _, fe := range config.FieldErrors(err) {
				fields = append(fields, fe.Field)
				if fe.Problem == "" || fe.Fix == "" {
					t.Errorf("%s: want both a problem and a fix, got %q and %q", fe.Field, fe.Problem, fe.Fix)
				}
			}
			if !slices.Equal(fields, tt.fields) {
				t.Errorf("fields = %q, want %q\nerror: %v", fields, tt.fields, err)
			}
		})
	}
}

// TestCompileValid lists unusual spellings that must compile.
func TestCompileValid(t *testing.T) {
	tests := []struct {
		name string
		rule config.Rule
	}{
		{"empty rule", config.Rule{}},
		{"explicit authenticated", config.Rule{Access: "authenticated", RolesAny: []string{"a"}}},
		{"root path", config.Rule{Path: "/"}},
		{"root prefix", config.Rule{PathPrefix: "/"}},
		{"prefix with trailing slash", config.Rule{PathPrefix: "/api/"}},
		{"repeated double star", config.Rule{Path: "/a/**/**/b"}},
		{"only stars", config.Rule{Path: "/*/*"}},
		{"dots that are not dot segments", config.Rule{Path: "/.well-known/..x/..."}},
		{"unicode path", config.Rule{Path: "/caf\u00e9"}},
		{"upper-case host with dot", config.Rule{Host: "App.Example.COM."}},
		{"wildcard host", config.Rule{Host: "*.example.com"}},
		{"wildcard TLD", config.Rule{Host: "*.com"}},
		{"IPv4 host", config.Rule{Host: "10.0.0.1"}},
		{"IPv6 host", config.Rule{Host: "::1"}},
		{"bracketed IPv6 host", config.Rule{Host: "[2001:db8::1]"}},
		{"lower-case and repeated methods", config.Rule{Methods: []string{"get", "GET", "Post", "PROPFIND"}}},
		{"numeric claims", config.Rule{Claims: map[string]any{"a": 1, "b": int64(2), "c": uint64(3), "d": 4.5}}},
		{"public without requirements", config.Rule{Access: "public", Path: "/health"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Compile(config.Policy{Rules: []config.Rule{tt.rule}}); err != nil {
				t.Errorf("Compile: %v", err)
			}
		})
	}
	if _, err := Compile(config.Default().Policy); err != nil {
		t.Errorf("Compile(config.Default().Policy): %v", err)
	}
}

func TestCompileMethods(t *testing.T) {
	got, errs := compileMethods("m", []string{"get", "post", "GET"})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if want := (methodMatcher{"GET", "POST", "HEAD"}); !slices.Equal(got, want) {
		t.Errorf("compileMethods = %q, want %q", got, want)
	}
}

// TestCompileCopies checks that the Engine does not share slices with the
// config it was compiled from.
func TestCompileCopies(t *testing.T) {
	roles := []string{"admin"}
	p := config.Policy{Rules: []config.Rule{{RolesAny: roles}}}
	e := mustCompile(t, p)
	roles[0] = "guest"
	if d := e.Decide(get("", "/", user([]string{"guest"}, nil))); d.Allow {
		t.Errorf("changing the config after Compile changed the Engine: %+v", d)
	}
}
