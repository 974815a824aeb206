package deploy

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// placeholder marks the secret values docs/kubernetes.md says to replace.
const placeholder = "REPLACE_ME"

// refusedPlaceholders are the keys of the Secret gatehouse-secrets whose
// placeholders the gateway must refuse (so a forgotten one stops the pod),
// with the configuration field `gateway check` then names.
var refusedPlaceholders = map[string]string{
	"signing.pem":    "keys[0]",
	"session-secret": "session.secret",
	"admin-token":    "admin.token",
}

// podFiles is a copy of what the gateway container sees: its volumes
// written under root, and its environment.
type podFiles struct {
	root   string
	config string            // the --config file, under root
	env    []string          // the container's env, and nothing else
	dirs   map[string]string // mounted Secret or ConfigMap name -> its directory under root
}

// materialize writes the gateway container's ConfigMap and Secret volumes
// where the container would see them, under a temporary root, and rewrites
// the mount paths in the configuration to point there. A file the
// configuration names but no mounted key provides is then missing, and
// `gateway check` says so.
func materialize(t *testing.T, r *rendered, gp gatewayPod) podFiles {
	t.Helper()
	pf := podFiles{root: t.TempDir(), dirs: map[string]string{}}
	var mounts [][2]string // mount path, its directory under root
	for _, m := range gp.container.VolumeMounts {
		var name string
		var data map[string][]byte
		for _, v := range gp.dep.Spec.Template.Spec.Volumes {
			switch {
			case v.Name != m.Name:
			case v.ConfigMap != nil:
				cm := r.configMap(v.ConfigMap.Name)
				if cm == nil {
					t.Fatalf("volume %s: ConfigMap %s is not rendered", v.Name, v.ConfigMap.Name)
				}
				name, data = cm.Name, map[string][]byte{}
				for k, s := range cm.Data {
					data[k] = []byte(s)
				}
			case v.Secret != nil:
				s := r.secret(v.Secret.SecretName)
				if s == nil {
					t.Fatalf("volume %s: Secret %s is not rendered", v.Name, v.Secret.SecretName)
				}
				name, data = s.Name, s.Data
			}
		}
		if data == nil {
			continue // an emptyDir or the like: nothing to copy
		}
		dir := filepath.Join(pf.root, filepath.FromSlash(m.MountPath))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		for k, v := range data {
			if err := os.WriteFile(filepath.Join(dir, k), v, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		pf.dirs[name] = dir
		mounts = append(mounts, [2]string{m.MountPath, dir})
	}
	file, _ := gp.configFile(t, r)
	pf.config = filepath.Join(pf.root, filepath.FromSlash(file))
	cfg, err := os.ReadFile(pf.config)
	if err != nil {
		t.Fatal(err)
	}
	// Longest mount path first, so /x/gatehouse-redis is not taken for
	// /x/gatehouse followed by "-redis"; a Replacer never rewrites its
	// own output.
	slices.SortFunc(mounts, func(a, b [2]string) int { return len(b[0]) - len(a[0]) })
	var rewrite []string
	for _, m := range mounts {
		rewrite = append(rewrite, m[0], m[1])
	}
	cfg = []byte(strings.NewReplacer(rewrite...).Replace(string(cfg)))
	if err := os.WriteFile(pf.config, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, e := range gp.container.Env {
		if e.ValueFrom != nil {
			t.Fatalf("env %s comes from %v: teach materialize to resolve it", e.Name, e.ValueFrom)
		}
		pf.env = append(pf.env, e.Name+"="+e.Value)
	}
	return pf
}

// secretDir is the directory of the mounted Secret whose generated name
// starts with prefix.
func (pf podFiles) secretDir(t *testing.T, prefix string) string {
	t.Helper()
	for name, dir := range pf.dirs {
		if strings.HasPrefix(name, prefix) {
			return dir
		}
	}
	t.Fatalf("no mounted Secret or ConfigMap named %s*", prefix)
	return ""
}

// realSecrets returns valid values for the refused placeholders: a key
// from `gateway keygen`, a random session secret and admin token.
func realSecrets(t *testing.T) map[string][]byte {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "signing.pem")
	if out, code := runGateway(t, nil, "keygen", "--out", keyFile); code != 0 {
		t.Fatalf("gateway keygen: exit %d\n%s", code, out)
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"signing.pem":    key,
		"session-secret": []byte(base64.StdEncoding.EncodeToString(randomBytes(48))),
		"admin-token":    []byte(hex.EncodeToString(randomBytes(32))),
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// TestGatewayConfigValidates runs `gateway check` — the real validation,
// built as the image builds it — on each overlay's gateway.yaml, with
// the pod's volumes and environment. As rendered, the placeholders are
// refused, each naming its field; with real secrets in their place the
// configuration is valid. The check does not contact Redis.
func TestGatewayConfigValidates(t *testing.T) {
	forEachGatewayPod(t, func(t *testing.T, r *rendered, gp gatewayPod) {
		pf := materialize(t, r, gp)
		dir := pf.secretDir(t, "gatehouse-secrets-")
		placeholders := map[string][]byte{}
		for key := range refusedPlaceholders {
			b, err := os.ReadFile(filepath.Join(dir, key))
			if err != nil || !bytes.Contains(b, []byte(placeholder)) {
				t.Fatalf("the Secret's %s is not a %s placeholder (%v)", key, placeholder, err)
			}
			placeholders[key] = b
		}
		check := func(t *testing.T) (string, bool) {
			out, code := runGateway(t, pf.env, "check", "--config", pf.config)
			return out, code == 0
		}
		if out, ok := check(t); ok {
			t.Fatalf("gateway check accepts the placeholder secrets:\n%s", out)
		}
		real := realSecrets(t)
		for key, field := range refusedPlaceholders {
			t.Run("placeholder "+key+" refused", func(t *testing.T) {
				for k, v := range real {
					if k == key {
						v = placeholders[k] // as rendered
					}
					if err := os.WriteFile(filepath.Join(dir, k), v, 0o600); err != nil {
						t.Fatal(err)
					}
				}
				out, ok := check(t)
				if ok || !strings.Contains(out, field) {
					t.Errorf("gateway check with only %s a placeholder: want a failure naming %s, got:\n%s", key, field, out)
				}
			})
		}
		t.Run("real secrets accepted", func(t *testing.T) {
			for k, v := range real {
				if err := os.WriteFile(filepath.Join(dir, k), v, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			out, ok := check(t)
			if !ok || !strings.Contains(out, path.Base(pf.config)+": OK") {
				t.Errorf("gateway check fails with real secrets:\n%s", out)
			}
			// The doctor's findings: valid, but probably not what was meant.
			if strings.Contains(out, "finding(s)") {
				t.Errorf("gateway check has findings for the example configuration:\n%s", out)
			}
			t.Logf("gateway check:\n%s", out)
		})
	})
}
