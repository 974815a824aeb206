package proxy

import (
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

// TestAssertionAudiencePerRoute: each app gets assertions addressed to
// itself (its upstream's origin, or the rule's assertion_audience), so an
// assertion captured by one app is refused by another.
func TestAssertionAudiencePerRoute(t *testing.T) {
	re := newRoutedEnv(t, func(c *config.Config) {
		c.Assertion.Enabled = true
		c.Policy.Rules[0].AssertionAudience = "urn:orders-api"
	})
	tok := re.mint(t, alice)
	tests := []struct {
		name, host, path string
		got              *recorder
		audience         string
	}{
		{"rule audience", "api.example.test", "/v1", re.api, "urn:orders-api"},
		{"the named upstream's origin", "app.example.test", "/legacy/x", re.legacy, re.legacySrv.URL},
		{"the default upstream's origin", "app.example.test", "/x", re.up, config.Origin(re.cfg.Upstream.URL)},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if res := re.get(t, tt.host, tt.path, "Authorization", "Bearer "+tok); res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			raw := tt.got.request(t).Header.Get("X-Auth-Assertion")
			c := verifyAssertion(t, re.gw, raw, tt.audience)
			if c["sub"] != "alice" {
				t.Fatalf("claims %v", c)
			}
			if seen[raw] {
				t.Fatal("two apps received the same assertion")
			}
			seen[raw] = true
		})
	}
}

func TestAssertionAudienceNeedsAssertions(t *testing.T) {
	cfg := config.Default()
	cfg.Upstream.URL = "http://127.0.0.1:3000"
	cfg.Policy.Rules = []config.Rule{{PathPrefix: "/api", AssertionAudience: "urn:x"}}
	for _, fe := range config.FieldErrors(cfg.Validate()) {
		if fe.Field == "policy.rules[0].assertion_audience" {
			return
		}
	}
	t.Fatal("Validate accepted assertion_audience with assertions off")
}
