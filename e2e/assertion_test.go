package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse/internal/e2etest"
	"github.com/gatehouse/gatehouse/session"
)

// TestAssertionVerifiersFromDocs runs the Node.js (jose) and Python
// (PyJWT) verifiers of docs/assertion.md — independent implementations —
// against assertions the real gateway added to proxied requests, and the
// gateway's published JWKS.
func TestAssertionVerifiersFromDocs(t *testing.T) {
	node, python := assertionTools(t)
	for _, alg := range []string{"EdDSA", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			dir := t.TempDir()
			up := newUpstream(t)
			keyFile := keygen(t, dir, alg)
			cfgFile := writeFile(t, dir, "gateway.yaml", fmt.Sprintf(`
server: {listen: 127.0.0.1:0}
store: {type: memory}
upstream: {url: %s}
tokens: {issuer: https://gw.example.test, audience: example-app, claims: [department]}
keys: [{private_key_file: %s}]
assertion: {enabled: true, audience: https://orders.example.test, claims: [department]}
`, up.URL, keyFile))
			gw := start(t, "serve", "--config", cfgFile)
			base := "http://" + gw.Addr
			tok, _, err := minter(t, keyFile, "example-app", "department").Mint(session.Identity{Subject: "alice", Roles: []string{"buyer"},
				Claims: map[string]any{"department": "sales"}}, "s1")
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("GET", base+"/orders", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("request: %v %v", res.StatusCode, err)
			}
			res.Body.Close()
			assertion := up.last(t).Header.Get("X-Auth-Assertion")
			if assertion == "" {
				t.Fatal("no X-Auth-Assertion upstream")
			}
			jwksURL := base + "/.auth/jwks.json"
			for name, argv := range map[string][]string{
				"node":   {node, filepath.Join("assertion", "verify.mjs")},
				"python": {python, filepath.Join("assertion", "verify.py")},
			} {
				t.Run(name, func(t *testing.T) {
					out, err := exec.Command(argv[0], append(argv[1:], jwksURL, "https://gw.example.test", "https://orders.example.test", assertion)...).CombinedOutput()
					if err != nil {
						t.Fatalf("%s rejects the assertion: %v\n%s", name, err, out)
					}
					var c map[string]any
					if err := json.Unmarshal(out, &c); err != nil {
						t.Fatalf("%s output %q: %v", name, out, err)
					}
					if c["sub"] != "alice" || c["sid"] != "s1" || c["department"] != "sales" || fmt.Sprint(c["roles"]) != "[buyer]" {
						t.Fatalf("%s claims %v", name, c)
					}
					// The same verifier refuses an assertion for another app.
					out, err = exec.Command(argv[0], append(argv[1:], jwksURL, "https://gw.example.test", "https://billing.example.test", assertion)...).CombinedOutput()
					if err == nil {
						t.Fatalf("%s accepts an assertion for another audience: %s", name, out)
					}
				})
			}
		})
	}
}

// assertionTools returns node (with jose installed in e2e/assertion) and
// a python3 that has PyJWT.
func assertionTools(t *testing.T) (node, python string) {
	t.Helper()
	const install = "`apt-get install nodejs npm python3-jwt`"
	node = e2etest.FindProgram(t, "node", install)
	e2etest.NodeModules(t, "assertion", "jose", install)
	// Debian's python3 carries python3-jwt; a pyenv python may not.
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import jwt, cryptography").Run() == nil {
			return node, path
		}
	}
	e2etest.Missing(t, "python3 with PyJWT (python3-jwt) not found; install with "+install)
	return "", ""
}
