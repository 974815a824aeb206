package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// maxSecretFileBytes bounds a *_file read: key material is a few KiB, and a
// path that names /dev/zero or a log file must not hang or exhaust the
// loader.
const maxSecretFileBytes = 1 << 20

// fileField ties a secret to the *_file key that may supply it instead,
// so that key material need not sit in the config file (or in the
// environment, where child processes and crash reports see it).
type fileField struct {
	field string  // YAML path of the inline value, "keys[0].secret"
	file  string  // YAML path of the file key, "keys[0].secret_file"
	value *string // the inline value, filled from the file
	path  *string // the file name
	// trim removes trailing whitespace: an editor's final newline is not
	// part of a password or shared secret. PEM is kept byte for byte.
	trim bool
}

// fileFields lists every *_file secret in c. A new secret is one line
// here, e.g. for a Redis password:
//
//	{"redis.password", "redis.password_file", &c.Redis.Password, &c.Redis.PasswordFile, true},
func (c *Config) fileFields() []fileField {
	var out []fileField
	for i := range c.Keys {
		k, p := &c.Keys[i], fmt.Sprintf("keys[%d].", i)
		out = append(out,
			fileField{p + "private_key", p + "private_key_file", &k.PrivateKey, &k.PrivateKeyFile, false},
			fileField{p + "public_key", p + "public_key_file", &k.PublicKey, &k.PublicKeyFile, false},
			fileField{p + "secret", p + "secret_file", &k.Secret, &k.SecretFile, true},
		)
	}
	for i := range c.OIDC.Providers {
		p, f := &c.OIDC.Providers[i], fmt.Sprintf("oidc.providers[%d].", i)
		out = append(out, fileField{f + "client_secret", f + "client_secret_file", &p.ClientSecret, &p.ClientSecretFile, true})
	}
	out = append(out,
		fileField{"session.secret", "session.secret_file", &c.Session.Secret, &c.Session.SecretFile, true},
		fileField{"grant.secret", "grant.secret_file", &c.Grant.Secret, &c.Grant.SecretFile, true},
		fileField{"admin.token", "admin.token_file", &c.Admin.Token, &c.Admin.TokenFile, true},
		fileField{"store.redis.password", "store.redis.password_file", &c.Store.Redis.Password, &c.Store.Redis.PasswordFile, true},
		fileField{"store.redis.sentinel_password", "store.redis.sentinel_password_file", &c.Store.Redis.SentinelPassword, &c.Store.Redis.SentinelPasswordFile, true},
	)
	return out
}

// readFiles fills every secret whose *_file is set, reading relative
// paths from baseDir. The file names stay set, for reference; the values
// are what the rest of the gateway uses.
func (c *Config) readFiles(baseDir string) []error {
	var errs []error
	for _, f := range c.fileFields() {
		if *f.path == "" {
			continue
		}
		if *f.value != "" {
			errs = append(errs, Problemf(f.file,
				fmt.Sprintf("keep only one: %s for a file, %s for an inline value (which may be ${VAR})", keyOf(f.file), keyOf(f.field)),
				"both %s and %s are set", keyOf(f.field), keyOf(f.file)))
			continue
		}
		name := *f.path
		if !filepath.IsAbs(name) {
			name = filepath.Join(baseDir, name)
		}
		data, err := readSecretFile(name)
		if err != nil {
			errs = append(errs, &FieldError{
				Field:   f.file,
				Problem: fmt.Sprintf("cannot read %s", *f.path),
				Fix:     "check the path (a relative path is resolved against the config file's directory) and that the gateway's user may read it",
				Err:     err,
			})
			continue
		}
		v := string(data)
		if f.trim {
			v = strings.TrimRight(v, " \t\r\n")
		}
		if strings.TrimSpace(v) == "" {
			errs = append(errs, Problemf(f.file, "write the "+keyOf(f.field)+" into the file",
				"%s is empty", name))
			continue
		}
		*f.value = v
	}
	return errs
}

// readSecretFile reads at most maxSecretFileBytes of a regular file.
// Opening a FIFO blocks until a writer appears, so the type is checked
// first (following symlinks, as mounted Kubernetes secrets are).
func readSecretFile(name string) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSecretFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxSecretFileBytes)
	}
	return data, nil
}

// keyOf is the last key of a YAML path: "secret_file" for
// "keys[0].secret_file".
func keyOf(path string) string {
	return path[strings.LastIndexByte(path, '.')+1:]
}
