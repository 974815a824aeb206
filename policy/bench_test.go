package policy

import (
	"fmt"
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

// BenchmarkDecide measures the request path's policy step: 20 rules of
// every kind, the request matching the 19th.
func BenchmarkDecide(b *testing.B) {
	var rules []config.Rule
	for i := range 18 {
		switch i % 3 {
		case 0:
			rules = append(rules, config.Rule{Host: fmt.Sprintf("svc%d.example.com", i), PathPrefix: "/api"})
		case 1:
			rules = append(rules, config.Rule{Path: fmt.Sprintf("/svc%d/**/items/*", i), Methods: []string{"GET"}})
		case 2:
			rules = append(rules, config.Rule{Host: "*.internal.example.com", Path: fmt.Sprintf("/svc%d/*", i), Access: "deny"})
		}
	}
	rules = append(rules,
		config.Rule{Name: "orders", Host: "*.example.com", Path: "/orders/**/lines/*", Methods: []string{"GET", "POST"},
			RolesAny: []string{"ops", "sales"}, RolesAll: []string{"staff"}},
		config.Rule{Name: "rest", PathPrefix: "/", Access: "public"},
	)
	e, err := Compile(config.Policy{Rules: rules})
	if err != nil {
		b.Fatal(err)
	}
	req := get("eu.example.com", "/orders/2024/06/lines/17", user([]string{"staff", "sales"}, nil))
	if d := e.Decide(req); !d.Allow || d.Rule != "orders" {
		b.Fatalf("Decide = %+v, want allowed by orders", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Decide(req)
	}
}

func BenchmarkCanonicalPath(b *testing.B) {
	for _, bb := range []struct{ name, in string }{
		{"canonical", "/api/v1/orders/2024/lines/17"},
		{"escaped", "/api/v1/orders/caf%C3%A9/lines/17"},
		{"dot segments", "/api/v1/./orders//x/../lines/17"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := CanonicalPath(bb.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
