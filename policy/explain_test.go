package policy

import (
	"reflect"
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

func routesPolicy(t *testing.T) *Engine {
	return mustCompile(t, config.Policy{Default: "deny", Rules: []config.Rule{
		{Name: "api", Host: "api.example.com", PathPrefix: "/v1", Methods: []string{"get", "POST"}},
		{Name: "admin", Host: "*.example.com", Path: "/admin/**", RolesAny: []string{"admin"}},
		{Name: "static", Path: "/static/*.css", Access: "public"},
	}})
}

func TestMatchIndexAgreesWithDecide(t *testing.T) {
	e := routesPolicy(t)
	admin := user([]string{"admin"}, nil)
	tests := []struct {
		name  string
		req   Request
		index int
		rule  string
	}{
		{"first rule", Request{Host: "api.example.com", Path: "/v1/x", Method: "POST", Principal: admin}, 0, "api"},
		{"host of another rule does not fall through", Request{Host: "app.example.com", Path: "/v1/x", Method: "GET"}, -1, "default"},
		{"subdomain rule", Request{Host: "a.b.example.com", Path: "/admin/", Method: "GET", Principal: admin}, 1, "admin"},
		{"apex is no subdomain", Request{Host: "example.com", Path: "/admin", Method: "GET"}, -1, "default"},
		{"any host", Request{Host: "other.test", Path: "/static/a.css", Method: "GET"}, 2, "static"},
		{"not canonical", Request{Host: "API.example.com", Path: "/v1", Method: "GET"}, -1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := e.Match(tt.req)
			if m.Index() != tt.index {
				t.Errorf("Match index = %d, want %d", m.Index(), tt.index)
			}
			d := e.DecideMatch(m, tt.req.Principal)
			if want := e.Decide(tt.req); !reflect.DeepEqual(d, want) {
				t.Errorf("DecideMatch = %+v, Decide = %+v", d, want)
			}
			if d.Index != tt.index || d.Rule != tt.rule {
				t.Errorf("decision index %d rule %q, want %d %q", d.Index, d.Rule, tt.index, tt.rule)
			}
		})
	}
}

func TestDecideMatchRefusesZeroMatch(t *testing.T) {
	d := routesPolicy(t).DecideMatch(Match{}, user([]string{"admin"}, nil))
	if d.Allow || d.Code != CodeForbidden || d.Index != -1 {
		t.Errorf("zero Match decided %+v, want a refusal", d)
	}
}

func TestExplain(t *testing.T) {
	e := routesPolicy(t)
	tests := []struct {
		name string
		req  Request
		want []Step
	}{
		{"falls to the default", Request{Host: "app.example.com", Path: "/v2", Method: "DELETE"}, []Step{
			{"api", 0, false, `host "app.example.com" is not api.example.com`},
			{"admin", 1, false, `path "/v2" does not match path /admin/**`},
			{"static", 2, false, `path "/v2" does not match path /static/*.css`},
			{"default", -1, true, "no rule matched: policy.default (deny) applies"},
		}},
		{"method excludes", Request{Host: "api.example.com", Path: "/v1/a", Method: "DELETE"}, []Step{
			{"api", 0, false, "method DELETE is not one of GET, POST, HEAD"},
			{"admin", 1, false, `path "/v1/a" does not match path /admin/**`},
			{"static", 2, false, `path "/v1/a" does not match path /static/*.css`},
			{"default", -1, true, "no rule matched: policy.default (deny) applies"},
		}},
		{"matches", Request{Host: "x.example.com", Path: "/admin/users", Method: "GET"}, []Step{
			{"api", 0, false, `host "x.example.com" is not api.example.com`},
			{"admin", 1, true, `host "x.example.com" matches *.example.com; path "/admin/users" matches path /admin/**; any method`},
		}},
		{"not canonical", Request{Host: "x.example.com", Path: "/a/../b", Method: "GET"}, []Step{
			{"", -1, false, reasonNotCanonical},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.Explain(tt.req)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Explain =\n%+v\nwant\n%+v", got, tt.want)
			}
			if last := got[len(got)-1]; last.Matched && last.Index != e.Match(tt.req).Index() {
				t.Errorf("Explain matched %d, Match %d", last.Index, e.Match(tt.req).Index())
			}
		})
	}
}

func TestRules(t *testing.T) {
	got := routesPolicy(t).Rules()
	want := []RuleInfo{
		{"api", "api.example.com", "path_prefix /v1", "GET,POST,HEAD", "authenticated"},
		{"admin", "*.example.com", "path /admin/**", "*", "authenticated roles_any=admin"},
		{"static", "*", "path /static/*.css", "*", "public"},
		{"default", "*", "*", "*", "deny"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Rules =\n%+v\nwant\n%+v", got, want)
	}
}
