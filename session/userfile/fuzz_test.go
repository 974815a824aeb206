package userfile

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

func FuzzParse(f *testing.F) {
	f.Add(string(readTestdata(f, "users.yaml")))
	f.Add("users:\n  - username: a\n    passwrd: x\n")
	f.Add("users:\n  - {username: A, password_hash: x}\n  - {username: ' a ', password_hash: y}\n")
	f.Add("users:\n  - &u {username: a, claims: {x: [1, {y: .nan}]}}\n  - *u\n")
	f.Add("users: [\n")
	f.Add("a: &a [*a]\n")
	f.Add("users: []\n---\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		users, err := Parse([]byte(in))
		if err != nil {
			if users != nil {
				t.Fatalf("users with error %v", err)
			}
			for _, fe := range config.FieldErrors(err) {
				if fe.Field == "" || fe.Problem == "" {
					t.Fatalf("field error without field or problem: %#v", fe)
				}
			}
			return
		}
		for name, u := range users.byName {
			if u.Username == "" || name != Normalize(u.Username) {
				t.Fatalf("user %q stored under %q", u.Username, name)
			}
			if got, ok := users.Lookup(" " + u.Username + " "); !ok || got != u {
				t.Fatalf("Lookup(%q) with spaces failed", u.Username)
			}
			if up := strings.ToUpper(u.Username); strings.EqualFold(up, u.Username) {
				if got, ok := users.Lookup(up); !ok || got != u {
					t.Fatalf("Lookup(%q) failed for %q", up, u.Username)
				}
			}
			if _, err := parseHash(u.hash, productionLimits()); err != nil {
				t.Fatalf("stored an invalid hash: %v", err)
			}
			_ = u.Identity()
		}
	})
}

// fuzzLimits keep each verification to a fraction of a millisecond: the
// parameters are read from the fuzzed hash.
func fuzzLimits() limits {
	return limits{argon: argonParams{memory: 256, time: 2, threads: 4}, bcryptCost: 4}
}

func FuzzVerifyPassword(f *testing.F) {
	f.Add("$argon2id$v=19$m=64,t=1,p=1$oB8UPs3HjkZWZ3oIQedoQQ$utbyRdT9OVZpXzSI+BKdON1NlwafonY9bpJ0ZV5EokA", "alice-password")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$oB8UPs3HjkZWZ3oIQedoQQ$utbyRdT9OVZpXzSI+BKdON1NlwafonY9bpJ0ZV5EokA", "wrong")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "")
	f.Add("$argon2id$v=19$m=4294967295,t=4294967295,p=255$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "x")
	f.Add("$2a$04$iDYGxoVWAQm2nKtRkMvIcOH0E9uljQmRrIPkL6VKvbwosWSpOGZxC", "dave-password")
	f.Add("$2y$31$iDYGxoVWAQm2nKtRkMvIcOH0E9uljQmRrIPkL6VKvbwosWSpOGZxC", "x")
	f.Add("$argon2id$", "")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, hash, password string) {
		ok, err := verifyPassword(hash, password, fuzzLimits())
		if err != nil {
			if ok {
				t.Fatalf("true with error %v", err)
			}
			if !errors.Is(err, ErrInvalidHash) {
				t.Fatalf("error %v does not match ErrInvalidHash", err)
			}
			return
		}
		// Within the fuzz limits, VerifyPassword accepts the hash too.
		if _, err := parseHash(hash, productionLimits()); err != nil {
			t.Fatalf("fuzz limits accept a hash production limits refuse: %v", err)
		}
	})
}

func FuzzNormalize(f *testing.F) {
	f.Add("Alice", " aLICE ")
	f.Add("\u212Aelvin", "kelvin")
	f.Add("ΣΊΣΥΦΟΣ", "σίσυφος")
	f.Add("İ", "i")
	f.Add("\xff", "\xfe")
	f.Fuzz(func(t *testing.T, a, b string) {
		na, nb := Normalize(a), Normalize(b)
		if Normalize(na) != na {
			t.Fatalf("Normalize(%q) = %q is not a fixed point (%q)", a, na, Normalize(na))
		}
		if !strings.EqualFold(na, strings.TrimSpace(a)) {
			t.Fatalf("Normalize(%q) = %q is not EqualFold to it", a, na)
		}
		if strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b)) != (na == nb) {
			t.Fatalf("EqualFold(%q, %q) disagrees with Normalize: %q, %q", a, b, na, nb)
		}
	})
}
