package userfile

import (
	"os"
	"path/filepath"
	"testing"
)

// cheapParams make argon2id hashes that take microseconds: for fixtures
// only. HashPassword's parameters are exercised by password_test.go.
func cheapParams() argonParams { return argonParams{memory: 64, time: 1, threads: 1} }

// cheapHash returns an argon2id hash of password with cheapParams.
func cheapHash(t testing.TB, password string) string {
	t.Helper()
	h, err := hashPassword(password, cheapParams())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// readTestdata returns the content of testdata/name.
func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testUsers parses testdata/users.yaml.
func testUsers(t testing.TB) *Users {
	t.Helper()
	u, err := Parse(readTestdata(t, "users.yaml"))
	if err != nil {
		t.Fatalf("Parse(testdata/users.yaml): %v", err)
	}
	return u
}

// writeFile writes data to path atomically (write, then rename), as an
// operator's editor or a config-management tool would.
func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		t.Fatal(err)
	}
}
