package proxy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestGrantRefusesValuesHeadersCannotCarry: identity headers carry roles
// comma-separated and every value on one line. A grant whose role holds a
// comma would reach the app as two roles ("user,admin" as user and
// admin); a control character would break the header. Such grants are
// refused whole, naming the field: the app that sent it has a bug.
func TestGrantRefusesValuesHeadersCannotCarry(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	gv := &grantVerifier{key: []byte(grantSecret), maxAge: time.Minute, now: func() time.Time { return now }}
	for _, tc := range []struct {
		name   string
		claims map[string]any
		field  string // "" when the grant is good
	}{
		{"good", map[string]any{"sub": "legacy-7", "email": "a@example.test", "roles": []string{"user", "cn=x"}}, ""},
		{"comma in a role", map[string]any{"sub": "legacy-7", "roles": []string{"user,admin"}}, "roles"},
		{"newline in a role", map[string]any{"sub": "legacy-7", "roles": []string{"user\nX-Auth-User: root"}}, "roles"},
		{"empty role", map[string]any{"sub": "legacy-7", "roles": []string{""}}, "roles"},
		{"control in sub", map[string]any{"sub": "legacy-7\r\nX-Auth-Roles: admin"}, "sub"},
		{"control in email", map[string]any{"sub": "legacy-7", "email": "a@example.test\x00"}, "email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.claims["iat"] = now.Unix()
			id, err := gv.verify(grant(grantSecret, tc.claims))
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("verify: %v", err)
			case tc.field == "" && id.Subject != "legacy-7":
				t.Fatalf("verify: subject %q", id.Subject)
			case tc.field != "" && (!errors.Is(err, errBadGrant) || !strings.Contains(err.Error(), tc.field)):
				t.Fatalf("verify: %v, want errBadGrant naming %s", err, tc.field)
			}
		})
	}
}
