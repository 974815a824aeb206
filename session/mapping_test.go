package session

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

func decodeClaims(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMappingIdentity(t *testing.T) {
	keycloak := `{"sub":"u1","email":"Ann@Example.com","email_verified":true,
		"realm_access":{"roles":["admin","user"]},"groups":["user","ops"],
		"https://example.com/dept":"eng","tier":3,"org":{"id":"o-1"}}`
	tests := []struct {
		name    string
		mapping config.ClaimMapping
		req     config.ClaimRequirements
		claims  string
		want    Identity
		wantErr error
	}{
		{
			name:    "nested roles merged without duplicates, namespaced and nested claims",
			mapping: config.ClaimMapping{Roles: []string{"realm_access.roles", "groups"}, Claims: map[string]string{"dept": "https://example.com/dept", "org": "org.id"}},
			claims:  keycloak,
			want:    Identity{Subject: "u1", Email: "Ann@Example.com", Roles: []string{"admin", "user", "ops"}, Claims: map[string]any{"dept": "eng", "org": "o-1"}},
		},
		{
			name:    "custom subject and a single-string role",
			mapping: config.ClaimMapping{Subject: "preferred_username", Roles: []string{"role"}},
			claims:  `{"sub":"x","preferred_username":"ann","role":"admin"}`,
			want:    Identity{Subject: "ann", Roles: []string{"admin"}},
		},
		{
			name:    "roles with commas or controls are dropped",
			mapping: config.ClaimMapping{Roles: []string{"groups"}},
			claims:  `{"sub":"u","groups":["cn=admins,ou=groups","ops","a\nb"]}`,
			want:    Identity{Subject: "u", Roles: []string{"ops"}},
		},
		{name: "missing subject", claims: `{"email":"a@b.c"}`, wantErr: ErrMissingClaim},
		{name: "non-string subject", claims: `{"sub":42}`, wantErr: ErrMissingClaim},
		{name: "subject path into a non-object", mapping: config.ClaimMapping{Subject: "sub.id"}, claims: `{"sub":"u1"}`, wantErr: ErrMissingClaim},
		{
			name: "email domain allowed case-insensitively", claims: keycloak,
			req:  config.ClaimRequirements{EmailDomains: []string{"EXAMPLE.com"}, EmailVerified: true},
			want: Identity{Subject: "u1", Email: "Ann@Example.com"},
		},
		{name: "email subdomain is not the domain", claims: `{"sub":"u","email":"a@evil.example.com"}`, req: config.ClaimRequirements{EmailDomains: []string{"example.com"}}, wantErr: ErrRequirementNotMet},
		{name: "email domain suffix trick", claims: `{"sub":"u","email":"a@example.com@evil.test"}`, req: config.ClaimRequirements{EmailDomains: []string{"example.com"}}, wantErr: ErrRequirementNotMet},
		{name: "no email with a domain rule", claims: `{"sub":"u"}`, req: config.ClaimRequirements{EmailDomains: []string{"example.com"}}, wantErr: ErrRequirementNotMet},
		{name: "email_verified as a string is not true", claims: `{"sub":"u","email_verified":"true"}`, req: config.ClaimRequirements{EmailVerified: true}, wantErr: ErrRequirementNotMet},
		{name: "required group missing", mapping: config.ClaimMapping{Roles: []string{"groups"}}, claims: keycloak, req: config.ClaimRequirements{RolesAny: []string{"admin"}}, wantErr: ErrRequirementNotMet},
		{
			name: "required group present", mapping: config.ClaimMapping{Roles: []string{"groups"}}, claims: keycloak,
			req:  config.ClaimRequirements{RolesAny: []string{"admin", "ops"}, Claims: map[string]any{"tier": 3, "org.id": "o-1"}},
			want: Identity{Subject: "u1", Email: "Ann@Example.com", Roles: []string{"user", "ops"}},
		},
		{
			name: "a required value found in a list claim", mapping: config.ClaimMapping{Roles: []string{"groups"}}, claims: keycloak,
			req:  config.ClaimRequirements{Claims: map[string]any{"groups": "ops"}},
			want: Identity{Subject: "u1", Email: "Ann@Example.com", Roles: []string{"user", "ops"}},
		},
		{name: "required claim value differs", claims: keycloak, req: config.ClaimRequirements{Claims: map[string]any{"tier": 4}}, wantErr: ErrRequirementNotMet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewMapping(tt.mapping, tt.req).Identity(decodeClaims(t, tt.claims))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("identity = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNewMappingDoesNotChangeConfig(t *testing.T) {
	req := config.ClaimRequirements{EmailDomains: []string{"Example.COM"}}
	NewMapping(config.ClaimMapping{}, req)
	if req.EmailDomains[0] != "Example.COM" {
		t.Fatalf("config changed: %v", req.EmailDomains)
	}
}
