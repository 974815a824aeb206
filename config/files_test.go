package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseReadsFiles(t *testing.T) {
	dir := t.TempDir()
	priv, pub := keyPEMs(t)
	writeFiles(t, dir, map[string]string{
		"signing.pem": priv,
		"secret.txt":  testSecret + "\r\n\n",
	})
	abs := filepath.Join(t.TempDir(), "public.pem")
	writeFiles(t, filepath.Dir(abs), map[string]string{"public.pem": pub})

	doc := "upstream: {url: http://app}\nkeys:\n" +
		"  - private_key_file: signing.pem\n" +
		"  - public_key_file: " + abs + "\n" +
		"  - {kid: hs, alg: HS256, secret_file: secret.txt}\n"
	c, err := Parse([]byte(doc), ParseOptions{LookupEnv: env(nil), BaseDir: dir})
	if err != nil {
		t.Fatalf("Parse:\n%s", listProblems(err))
	}
	if c.Keys[0].PrivateKey != priv {
		t.Errorf("private_key = %q, want the file byte for byte", c.Keys[0].PrivateKey)
	}
	if c.Keys[1].PublicKey != pub {
		t.Errorf("public_key = %q (absolute path)", c.Keys[1].PublicKey)
	}
	if c.Keys[2].Secret != testSecret {
		t.Errorf("secret = %q, want trailing whitespace trimmed", c.Keys[2].Secret)
	}
}

func TestParseFileErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"empty.txt": "\n", "key.pem": "pem"})
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, key      string
		field, problem string
		cause          error
	}{
		{"both set", "{kid: a, alg: HS256, secret: " + testSecret + ", secret_file: key.pem}",
			"keys[0].secret_file", "both secret and secret_file are set", nil},
		{"both set pem", "{private_key: pem, private_key_file: key.pem}",
			"keys[0].private_key_file", "both private_key and private_key_file are set", nil},
		{"missing", "{private_key_file: nope.pem}", "keys[0].private_key_file", "cannot read nope.pem", fs.ErrNotExist},
		{"directory", "{public_key_file: sub}", "keys[0].public_key_file", "cannot read sub", nil},
		{"empty", "{kid: a, alg: HS256, secret_file: empty.txt}", "keys[0].secret_file", "is empty", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "upstream: {url: http://app}\nkeys:\n  - " + tt.key + "\n"
			_, err := Parse([]byte(doc), ParseOptions{LookupEnv: env(nil), BaseDir: dir})
			fe := wantProblem(t, err, tt.field, tt.problem)
			if !strings.HasPrefix(fe.Problem, "line 3: ") {
				t.Errorf("problem %q does not name line 3", fe.Problem)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("errors.Is(err, %v) = false for %v", tt.cause, err)
			}
			if fe.Fix == "" {
				t.Error("no fix")
			}
			if n := len(FieldErrors(err)); n != 1 {
				t.Errorf("got %d problems, want 1:\n%s", n, listProblems(err))
			}
		})
	}
}

func TestParseFileErrorNamesResolvedPath(t *testing.T) {
	dir := t.TempDir()
	_, err := Parse([]byte("keys: [{private_key_file: k.pem}]\n"), ParseOptions{LookupEnv: env(nil), BaseDir: dir})
	fe := wantProblem(t, err, "keys[0].private_key_file", "cannot read k.pem")
	if !strings.Contains(fe.Error(), filepath.Join(dir, "k.pem")) {
		t.Errorf("error %q does not name the resolved path", fe.Error())
	}
}
