package userfile

import (
	"bytes"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/session"
)

func TestAuthenticate(t *testing.T) {
	users := testUsers(t)
	tests := []struct {
		name     string
		username string
		password string
		wantUser string // Username of the user returned
		wantErr  error
	}{
		{"right password", "bob", "bob-password", "bob", nil},
		{"case and spaces ignored", "  ALICE ", "alice-password", "Alice", nil},
		{"bcrypt user", "dave", "dave-password", "dave", nil},
		{"wrong password", "bob", "alice-password", "", ErrInvalidCredentials},
		{"password case matters", "bob", "BOB-PASSWORD", "", ErrInvalidCredentials},
		{"bcrypt wrong password", "dave", "bob-password", "", ErrInvalidCredentials},
		// Checked against dummyHash, at HashPassword's cost.
		{"unknown user", "mallory", "bob-password", "", ErrInvalidCredentials},
		{"disabled, wrong password", "carol", "bob-password", "", ErrInvalidCredentials},
		{"disabled, right password", "carol", "carol-password", "", ErrDisabled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := users.Authenticate(tt.username, tt.password)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Authenticate error = %v, want %v", err, tt.wantErr)
			}
			switch {
			case tt.wantErr != nil && u != nil:
				t.Errorf("Authenticate returned %q with error %v", u.Username, err)
			case tt.wantErr == nil && (u == nil || u.Username != tt.wantUser):
				t.Errorf("Authenticate = %+v, want %q", u, tt.wantUser)
			}
		})
	}
}

// TestAuthenticateBrokenHash: a hash Parse would refuse surfaces as an
// error, not as a wrong password (Users built by hand, as Parse never
// stores such a hash).
func TestAuthenticateBrokenHash(t *testing.T) {
	users := &Users{byName: map[string]*User{"eve": {Username: "eve", hash: "plain"}}}
	_, err := users.Authenticate("eve", "plain")
	if !errors.Is(err, ErrInvalidHash) || errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Authenticate error = %v, want ErrInvalidHash only", err)
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice", "alice"},
		{"Alice", "alice"},
		{" \tALICE\n", "alice"},
		{"a lice", "a lice"},
		{"\u212Aelvin", "kelvin"}, // Kelvin sign
		{"ΣΊΣΥΦΟΣ", "σίσυφοσ"},    // final sigma folds with medial sigma
		{"σίσυφος", "σίσυφοσ"},
		{"ſam", "sam"}, // long s
		{"Straße", "straße"},
		{"İstanbul", "İstanbul"}, // no simple folding: EqualFold keeps it apart from "i"
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestIdentity(t *testing.T) {
	users := testUsers(t)
	alice, _ := users.Lookup("alice")
	id := alice.Identity()
	want := session.Identity{
		Subject: "alice",
		Email:   "alice@example.com",
		Roles:   []string{"admin", "user"},
		Claims: map[string]any{
			"department": "research", "email_verified": true, "level": float64(3), "groups": []any{"a", "b"},
		},
	}
	if !reflect.DeepEqual(id, want) {
		t.Fatalf("Identity = %+v\nwant       %+v", id, want)
	}
	// The identity is a copy: changing it leaves the snapshot alone.
	id.Roles[0] = "root"
	id.Claims["department"] = "x"
	id.Claims["groups"].([]any)[0] = "x"
	if again := alice.Identity(); !reflect.DeepEqual(again, want) {
		t.Errorf("after changing an Identity, Identity = %+v", again)
	}

	bob, _ := users.Lookup("bob")
	if id := bob.Identity(); id.Claims != nil {
		t.Errorf("bob's Identity().Claims = %#v, want nil", id.Claims)
	}
}

func TestUserLogValueOmitsHash(t *testing.T) {
	users := testUsers(t)
	alice, _ := users.Lookup("alice")
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("login", "user", alice)
	if strings.Contains(buf.String(), "argon2id") || !strings.Contains(buf.String(), "user.username=Alice") {
		t.Errorf("log line = %q, want the username and no hash", buf.String())
	}
}

func BenchmarkAuthenticateUnknownUser(b *testing.B) {
	users := &Users{}
	for b.Loop() {
		if _, err := users.Authenticate("nobody", "secret"); !errors.Is(err, ErrInvalidCredentials) {
			b.Fatal(err)
		}
	}
}
