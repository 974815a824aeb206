package userfile

import (
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/crypto/bcrypt"
)

// TestHashPassword is the only test that pays for HashPassword's real
// parameters (about 0.1 to 0.5 s per hash under -race).
func TestHashPassword(t *testing.T) {
	const password = "correct horse battery staple"
	h1, err := HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "$argon2id$v=19$m=65536,t=3,p=2$"
	if !strings.HasPrefix(h1, prefix) {
		t.Fatalf("HashPassword = %q, want prefix %q", h1, prefix)
	}
	fields := strings.Split(strings.TrimPrefix(h1, prefix), "$")
	if len(fields) != 2 {
		t.Fatalf("HashPassword = %q, want salt$hash after the parameters", h1)
	}
	for i, want := range []int{argonSaltLen, argonKeyLen} {
		b, err := base64.RawStdEncoding.DecodeString(fields[i])
		if err != nil || len(b) != want {
			t.Errorf("field %d of %q: %d bytes, %v; want %d bytes of unpadded base64", i, h1, len(b), err, want)
		}
	}

	if ok, err := VerifyPassword(h1, password); !ok || err != nil {
		t.Errorf("VerifyPassword(hash, right password) = %v, %v; want true, nil", ok, err)
	}
	if ok, err := VerifyPassword(h1, password+"!"); ok || err != nil {
		t.Errorf("VerifyPassword(hash, wrong password) = %v, %v; want false, nil", ok, err)
	}
	h2, err := HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	if h1 == h2 {
		t.Errorf("two hashes of the same password are equal (%q): the salt is not random", h1)
	}
}

func TestHashPasswordEmpty(t *testing.T) {
	if _, err := HashPassword(""); !errors.Is(err, ErrEmptyPassword) {
		t.Errorf("HashPassword(\"\") error = %v, want ErrEmptyPassword", err)
	}
}

// TestDummyHashMatchesHashPassword keeps Authenticate's timing promise:
// an unknown user costs what a HashPassword user costs.
func TestDummyHashMatchesHashPassword(t *testing.T) {
	h, err := parseArgon2id(dummyHash, productionLimits().argon)
	if err != nil {
		t.Fatalf("dummyHash does not parse: %v", err)
	}
	if h.argonParams != productionParams() || len(h.salt) != argonSaltLen || len(h.key) != argonKeyLen {
		t.Errorf("dummyHash has %+v, %d-byte salt, %d-byte key; want %+v, %d, %d (regenerate it with HashPassword)",
			h.argonParams, len(h.salt), len(h.key), productionParams(), argonSaltLen, argonKeyLen)
	}
}

func TestVerifyPassword(t *testing.T) {
	argon := cheapHash(t, "secret")
	b, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	bcryptHash := string(b) // $2a$
	long := strings.Repeat("x", 72)
	bLong, err := bcrypt.GenerateFromPassword([]byte(long), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		hash     string
		password string
		want     bool
	}{
		{"argon2id right", argon, "secret", true},
		{"argon2id wrong", argon, "Secret", false},
		{"argon2id empty", argon, "", false},
		{"bcrypt right", bcryptHash, "secret", true},
		{"bcrypt wrong", bcryptHash, "secret ", false},
		{"bcrypt $2b$", "$2b$" + bcryptHash[4:], "secret", true},
		{"bcrypt $2y$", "$2y$" + bcryptHash[4:], "secret", true},
		{"bcrypt 72 bytes", string(bLong), long, true},
		// bcrypt would ignore the 73rd byte and say true.
		{"bcrypt over 72 bytes", string(bLong), long + "y", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VerifyPassword(tt.hash, tt.password)
			if err != nil || got != tt.want {
				t.Errorf("VerifyPassword = %v, %v; want %v, nil", got, err, tt.want)
			}
		})
	}
}

func TestVerifyPasswordInvalidHash(t *testing.T) {
	const (
		salt = "oB8UPs3HjkZWZ3oIQedoQQ"                      // 16 bytes
		key  = "utbyRdT9OVZpXzSI+BKdON1NlwafonY9bpJ0ZV5EokA" // 32 bytes
		body = "iDYGxoVWAQm2nKtRkMvIcOH0E9uljQmRrIPkL6VKvbwosWSpOGZxC"
	)
	argon := func(params string) string { return "$argon2id$v=19$" + params + "$" + salt + "$" + key }
	tests := []struct {
		name string
		hash string
	}{
		{"empty", ""},
		{"plain text", "secret"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"argon2d", "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"argon2id old version", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"argon2id no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"argon2id extra field", argon("m=64,t=1,p=1") + "$x"},
		{"argon2id parameters reordered", argon("t=1,m=64,p=1")},
		{"argon2id parameter missing", argon("m=64,t=1")},
		{"argon2id parameter not a number", argon("m=64,t=one,p=1")},
		{"argon2id signed parameter", argon("m=+64,t=1,p=1")},
		{"argon2id m over 1 GiB", argon("m=1048577,t=1,p=1")},
		{"argon2id m overflows", argon("m=4294967296,t=1,p=1")},
		{"argon2id t over 10", argon("m=64,t=11,p=1")},
		{"argon2id t zero", argon("m=64,t=0,p=1")},
		{"argon2id p over 16", argon("m=1024,t=1,p=17")},
		{"argon2id p zero", argon("m=64,t=1,p=0")},
		{"argon2id m below 8p", argon("m=16,t=1,p=4")},
		{"argon2id bad base64 salt", "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + key},
		{"argon2id padded salt", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{"argon2id bad base64 hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:len(key)-1] + "*"},
		{"argon2id short salt", "$argon2id$v=19$m=64,t=1,p=1$AAAA$" + key},
		{"argon2id short hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAAAAAA"},
		{"argon2id long hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 100)},
		{"bcrypt cost 31", "$2a$31$" + body},
		{"bcrypt cost 17", "$2a$17$" + body},
		{"bcrypt cost 3", "$2a$03$" + body},
		{"bcrypt signed cost", "$2a$+5$" + body},
		{"bcrypt short", "$2a$04$" + body[1:]},
		{"bcrypt trailing bytes", "$2a$04$" + body + "x"},
		{"bcrypt bad character", "$2a$04$" + body[:20] + "!" + body[21:]},
		{"bcrypt unknown minor", "$2x$04$" + body},
		{"bcrypt no minor", "$2$04$" + body},
		{"md5crypt", "$1$saltsalt$hashhashhashhashhashha"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := VerifyPassword(tt.hash, "secret")
			if !errors.Is(err, ErrInvalidHash) || ok {
				t.Fatalf("VerifyPassword = %v, %v; want false, ErrInvalidHash", ok, err)
			}
			if len(tt.hash) > 20 && strings.Contains(err.Error(), tt.hash) {
				t.Errorf("error %q repeats the hash", err)
			}
		})
	}
}

// TestParseHashBounds accepts hashes at the limits without paying for
// them: verifying m=1 GiB would take seconds.
func TestParseHashBounds(t *testing.T) {
	const salt, key = "oB8UPs3HjkZWZ3oIQedoQQ", "utbyRdT9OVZpXzSI+BKdON1NlwafonY9bpJ0ZV5EokA"
	for _, hash := range []string{
		"$argon2id$v=19$m=1048576,t=10,p=16$" + salt + "$" + key,
		"$argon2id$v=19$m=8,t=1,p=1$" + salt + "$" + key,
		"$2b$16$iDYGxoVWAQm2nKtRkMvIcOH0E9uljQmRrIPkL6VKvbwosWSpOGZxC",
	} {
		if _, err := parseHash(hash, productionLimits()); err != nil {
			t.Errorf("parseHash(%q) = %v, want nil", hash, err)
		}
	}
}

func TestReadPassword(t *testing.T) {
	tests := []struct {
		name    string
		in      io.Reader
		want    string
		wantErr error
	}{
		{"newline", strings.NewReader("s3cret\n"), "s3cret", nil},
		{"crlf", strings.NewReader("s3cret\r\n"), "s3cret", nil},
		{"no newline", strings.NewReader("s3cret"), "s3cret", nil},
		{"spaces kept", strings.NewReader("  s3 cret \t\n"), "  s3 cret \t", nil},
		{"lone cr kept", strings.NewReader("s3cret\r"), "s3cret\r", nil},
		{"first line only", strings.NewReader("one\ntwo\n"), "one", nil},
		{"empty input", strings.NewReader(""), "", ErrEmptyPassword},
		{"empty line", strings.NewReader("\n"), "", ErrEmptyPassword},
		{"empty crlf line", strings.NewReader("\r\n"), "", ErrEmptyPassword},
		{"read error", iotest.ErrReader(io.ErrUnexpectedEOF), "", io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readPassword(tt.in)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("readPassword = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestHashPasswordFrom(t *testing.T) {
	h, err := HashPasswordFrom(strings.NewReader("s3cret\n"))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := VerifyPassword(h, "s3cret"); !ok || err != nil {
		t.Errorf("VerifyPassword(HashPasswordFrom(\"s3cret\\n\"), \"s3cret\") = %v, %v; want true, nil", ok, err)
	}
	if _, err := HashPasswordFrom(strings.NewReader("\n")); !errors.Is(err, ErrEmptyPassword) {
		t.Errorf("HashPasswordFrom(\"\\n\") error = %v, want ErrEmptyPassword", err)
	}
}

func BenchmarkVerifyPassword(b *testing.B) {
	h, err := HashPassword("secret")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := VerifyPassword(h, "secret"); err != nil {
			b.Fatal(err)
		}
	}
}
