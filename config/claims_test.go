package config

import (
	"errors"
	"strings"
	"testing"
)

func TestClaimMappingValidation(t *testing.T) {
	v := &validator{}
	v.claimMapping("issuers[0].claims", &ClaimMapping{
		Subject: "a..b", Roles: []string{"groups", ".x"},
		Claims: map[string]string{"dept": "department", "nope": "x"},
	}, []string{"dept"})
	v.claimRequirements("issuers[0].require", &ClaimRequirements{EmailDomains: []string{"example.com", "@bad.com", "Upper.com"}, RolesAny: []string{""}, Claims: map[string]any{"azp": "web", "tier": []any{1}}})
	want := []string{
		"issuers[0].claims.subject", "issuers[0].claims.roles[1]", "issuers[0].claims.claims.nope",
		"issuers[0].require.email_domains[1]", "issuers[0].require.email_domains[2]", "issuers[0].require.roles_any[0]",
		"issuers[0].require.claims.tier",
	}
	var got []string
	for _, err := range v.errs {
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("%v is not a FieldError", err)
		}
		got = append(got, fe.Field)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("fields = %v\nwant     %v", got, want)
	}
}
