package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files")

// golden compares got with testdata/name.golden, or rewrites it with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestCheckExplain(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"explain-api", []string{"GET", "https://API.example.com./v1/items"}},
		{"explain-api-public", []string{"HEAD", "https://api.example.com/v1/health"}},
		{"explain-legacy", []string{"POST", "https://app.example.com/legacy/admin/users"}},
		{"explain-canonical", []string{"GET", "https://app.example.com/static/..//legacy/%61dmin"}},
		{"explain-deny", []string{"GET", "https://app.example.com/internal/x"}},
		{"explain-frontend", []string{"GET", "https://app.example.com:8443/index.html"}},
		{"explain-unknown-host", []string{"GET", "https://evil.example.net/v1/items"}},
		{"explain-invalid-path", []string{"GET", "https://app.example.com/a%2Fb"}},
		{"explain-auth-endpoint", []string{"POST", "https://app.example.com/.auth/login"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"--config", "testdata/routes.yaml", "--explain"}, tt.args...)
			if code := run(context.Background(), append([]string{"check"}, args...), nil, &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s%s", code, out.String(), errOut.String())
			}
			golden(t, tt.name, out.Bytes())
		})
	}
}

func TestCheckPrintsRouteTable(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"check", "--config", "testdata/routes.yaml"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out.String(), errOut.String())
	}
	golden(t, "check-routes", bytes.ReplaceAll(out.Bytes(), []byte("testdata/routes.yaml"), []byte("FILE")))
}

func TestCheckExplainUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no URL", []string{"--config", "testdata/routes.yaml", "--explain", "GET"}, "use --explain METHOD URL"},
		{"relative URL", []string{"--config", "testdata/routes.yaml", "--explain", "GET", "/admin"}, "not an absolute http(s) URL"},
		{"bad method", []string{"--config", "testdata/routes.yaml", "--explain", "GE T", "https://a.example/"}, "not an HTTP method"},
		{"flags after the URL", []string{"--explain", "GET", "https://a.example/", "--config"}, "flag needs an argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), append([]string{"check"}, tt.args...), nil, &out, &errOut)
			if code != 2 || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut.String(), tt.want)
			}
		})
	}
}

// TestRoutingDocExamples loads the example of docs/routing.md and checks
// that the route table and the --explain output shown there are what
// `gateway check` prints for it.
func TestRoutingDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/routing.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := fenced(string(doc))
	if len(blocks) < 3 {
		t.Fatalf("docs/routing.md has %d fenced blocks, want the yaml example and two outputs", len(blocks))
	}
	cfg := filepath.Join(t.TempDir(), "gateway.yaml")
	example := blocks[0] + "store: {type: memory}\nkeys: [{kid: hs, alg: HS256, secret: 0123456789abcdef0123456789abcdef}]\n"
	if err := os.WriteFile(cfg, []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	var table, explain string
	for _, b := range blocks[1:] {
		switch {
		case strings.HasPrefix(b, "routes (first match wins):"):
			table = b
		case strings.HasPrefix(b, "$ gateway check"):
			explain = b
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"check", "--config", cfg}, nil, &out, &errOut); code != 0 {
		t.Fatalf("the example does not load: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if table == "" || !strings.Contains(out.String(), table) {
		t.Errorf("docs/routing.md shows the route table\n%s\nbut gateway check prints\n%s", table, out.String())
	}
	cmdLine, want, _ := strings.Cut(explain, "\n")
	args := strings.Fields(strings.ReplaceAll(strings.TrimPrefix(cmdLine, "$ gateway "), "'", ""))
	for i, a := range args {
		if a == "gateway.yaml" {
			args[i] = cfg
		}
	}
	out.Reset()
	if code := run(context.Background(), args, nil, &out, &errOut); code != 0 || out.String() != want {
		t.Errorf("docs/routing.md shows for %q\n%s\nbut gateway prints (exit %d)\n%s%s", cmdLine, want, code, out.String(), errOut.String())
	}
}

// fenced returns the contents of the ``` blocks of a markdown text.
func fenced(md string) []string {
	var out []string
	for {
		_, rest, ok := strings.Cut(md, "```")
		if !ok {
			return out
		}
		_, body, _ := strings.Cut(rest, "\n") // drop the info string
		block, after, ok := strings.Cut(body, "```")
		if !ok {
			return out
		}
		out = append(out, block)
		md = after
	}
}
