package proxy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEveryErrorCodeIsDocumented keeps docs/errors.md in step with the
// codes the gateway can answer with: every string constant named Code* in
// this package and in package policy must have its own section.
func TestEveryErrorCodeIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/errors.md")
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, dir := range []string{".", "../policy"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			codes = append(codes, codeConstants(t, f)...)
		}
	}
	if len(codes) < 10 {
		t.Fatalf("found only %d codes; is the scan broken? %v", len(codes), codes)
	}
	for _, c := range codes {
		if !strings.Contains(string(doc), "## `"+c+"`") {
			t.Errorf("docs/errors.md has no section \"## `%s`\"", c)
		}
	}
}

// codeConstants returns the string literal values of constants named Code*.
func codeConstants(t *testing.T, file string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if !strings.HasPrefix(name.Name, "Code") || i >= len(vs.Values) {
				continue
			}
			if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, _ := strconv.Unquote(lit.Value)
				out = append(out, s)
			}
		}
		return true
	})
	return out
}
