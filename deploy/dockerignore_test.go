package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// dockerignore reads ../.dockerignore with the parser BuildKit uses.
func dockerignore(t *testing.T) *patternmatcher.PatternMatcher {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	return pm
}

// TestDockerignoreKeepsBuildInputs checks that no file go build needs
// for cmd/gateway is left out of the build context: go.mod, go.sum, and
// every Go and embedded file of the module's packages it imports (for
// any GOOS/GOARCH, so cross-builds work too).
func TestDockerignoreKeepsBuildInputs(t *testing.T) {
	pm := dockerignore(t)
	cmd := exec.Command("go", "list", "-deps", "-json=Dir,Module,GoFiles,IgnoredGoFiles,EmbedFiles", "./cmd/gateway")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	needed := []string{"go.mod", "go.sum"}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			Dir                                 string
			Module                              *struct{ Main bool }
			GoFiles, IgnoredGoFiles, EmbedFiles []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if p.Module == nil || !p.Module.Main {
			continue // the standard library or a downloaded module
		}
		rel, err := filepath.Rel(root, p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, files := range [][]string{p.GoFiles, p.IgnoredGoFiles, p.EmbedFiles} {
			for _, f := range files {
				needed = append(needed, filepath.ToSlash(filepath.Join(rel, f)))
			}
		}
	}
	if len(needed) < 10 {
		t.Fatalf("go list found only %v: the test is not looking at the module", needed)
	}
	for _, f := range needed {
		if excluded, err := pm.MatchesOrParentMatches(f); err != nil || excluded {
			t.Errorf(".dockerignore excludes %s, which go build ./cmd/gateway needs (%v)", f, err)
		}
	}
}

// TestDockerignoreExcludes checks that what must never reach an image
// layer or bloat the context stays out.
func TestDockerignoreExcludes(t *testing.T) {
	pm := dockerignore(t)
	for _, f := range []string{
		".git/config",
		"gateway",                             // a locally built binary
		"bin/gateway",                         // make build
		"e2e/browser/node_modules/x/index.js", // npm packages of the browser tests
		"deploy/k8s/base/secrets/signing.pem", // placeholders, or real secrets
		"signing.pem",                         // a key from gateway keygen
		"config/testdata/x.pem",               // at any depth
		"gatehouse-sessions.db",               // the bolt store's default file
		"users.yaml",                          // password hashes
		"deploy/go.mod",                       // the deploy module's heavy dependencies
		"cmd/gateway/gateway.test",            // go test -c output
	} {
		if excluded, err := pm.MatchesOrParentMatches(f); err != nil || !excluded {
			t.Errorf(".dockerignore keeps %s in the build context (%v)", f, err)
		}
	}
}
