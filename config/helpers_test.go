package config

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// env is a fake LookupEnv: tests never touch the process environment.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// keyPEMs returns a fresh Ed25519 private key and its public key, PEM
// encoded.
func keyPEMs(t testing.TB) (private, public string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
}

// writeFiles writes name -> content into dir.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// keyDir returns a temporary directory holding the key files the
// testdata configurations name.
func keyDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	_, oldPub := keyPEMs(t)
	priv, _ := keyPEMs(t)
	writeFiles(t, dir, map[string]string{"signing.pem": priv, "old.pub.pem": oldPub})
	return dir
}

// wantProblem fails unless err holds a FieldError for exactly field whose
// problem contains substr, and returns it.
func wantProblem(t *testing.T, err error, field, substr string) *FieldError {
	t.Helper()
	for _, fe := range FieldErrors(err) {
		if fe.Field == field && strings.Contains(fe.Problem, substr) {
			return fe
		}
	}
	t.Fatalf("want a problem with %s containing %q; got:\n%s", field, substr, listProblems(err))
	return nil
}

// listProblems prints err's FieldErrors one per line, for failure messages.
func listProblems(err error) string {
	if err == nil {
		return "  (no error)"
	}
	fes := FieldErrors(err)
	if len(fes) == 0 {
		return "  (not a FieldError) " + err.Error()
	}
	var b strings.Builder
	for _, fe := range fes {
		b.WriteString("  " + fe.Error() + "\n")
	}
	return b.String()
}

// fields returns the Field of every problem in err.
func fields(err error) []string {
	var out []string
	for _, fe := range FieldErrors(err) {
		out = append(out, fe.Field)
	}
	return out
}

// isFieldErrors reports whether every error joined in err is a FieldError.
func isFieldErrors(err error) bool {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		var fe *FieldError
		return errors.As(err, &fe)
	}
	for _, e := range j.Unwrap() {
		if _, ok := e.(*FieldError); !ok {
			return false
		}
	}
	return true
}
