package config

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const docsPath = "../docs/configuration.md"

// docRow is one key's row in the reference tables:
// | `path` | type | default | description |
type docRow struct{ path, typ, def string }

func readDocRows(t *testing.T) (map[string]docRow, []string) {
	t.Helper()
	data, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	rowPattern := regexp.MustCompile("^\\| `([^`]+)` \\| ([^|]+?) \\| ([^|]+?) \\|")
	rows := map[string]docRow{}
	var order []string
	for line := range strings.SplitSeq(string(data), "\n") {
		m := rowPattern.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if _, dup := rows[m[1]]; dup {
			t.Errorf("%s is documented twice", m[1])
		}
		rows[m[1]] = docRow{m[1], m[2], m[3]}
		order = append(order, m[1])
	}
	return rows, order
}

// TestDocsListEveryKey fails when a key of Config is missing from
// docs/configuration.md, or the docs name a key that does not exist.
func TestDocsListEveryKey(t *testing.T) {
	rows, order := readDocRows(t)
	paths := keyPaths(reflect.TypeFor[Config](), "")
	for _, p := range []string{"upstream.response_header_timeout", "policy.rules[].roles_any", "keys[].private_key_file"} {
		if !slices.Contains(paths, p) {
			t.Fatalf("keyPaths does not produce %s: %q", p, paths)
		}
	}
	for _, p := range paths {
		if _, ok := rows[p]; !ok {
			t.Errorf("%s is not documented in %s", p, docsPath)
		}
	}
	for _, p := range order {
		if !slices.Contains(paths, p) {
			t.Errorf("%s documents %s, which is not a configuration key", docsPath, p)
		}
	}
}

// TestDocsDefaultsAndTypes keeps each row's type and default in step with
// the Go types and Default().
func TestDocsDefaultsAndTypes(t *testing.T) {
	rows, _ := readDocRows(t)
	def := reflect.ValueOf(Default())
	for _, p := range keyPaths(reflect.TypeFor[Config](), "") {
		row, ok := rows[p]
		if !ok {
			continue // reported by TestDocsListEveryKey
		}
		v := valueAt(t, def, p)
		if want := docType(v.Type()); row.typ != want {
			t.Errorf("%s: documented type %q, want %q", p, row.typ, want)
		}
		if row.def == "none" {
			if !v.IsZero() {
				t.Errorf("%s: documented default none, but Default() has %v", p, v)
			}
			continue
		}
		lit, ok := strings.CutPrefix(row.def, "`")
		lit, ok2 := strings.CutSuffix(lit, "`")
		if !ok || !ok2 {
			t.Errorf("%s: default %q is neither none nor a `value`", p, row.def)
			continue
		}
		got := reflect.New(v.Type()).Elem()
		var node yaml.Node
		if err := yaml.Unmarshal([]byte("v: "+lit), &node); err != nil {
			t.Errorf("%s: default %q: %v", p, lit, err)
			continue
		}
		d := newDecoder()
		d.decode(p, node.Content[0].Content[1], got)
		if len(d.problems) > 0 {
			t.Errorf("%s: default %q does not decode: %v", p, lit, d.problems[0].fe)
			continue
		}
		if !reflect.DeepEqual(got.Interface(), v.Interface()) {
			t.Errorf("%s: documented default %s, Default() has %v", p, lit, v)
		}
	}
}

// valueAt returns the value at a documented path within v; a path through
// a list ("keys[].alg") gives the zero value of the entry's field.
func valueAt(t *testing.T, v reflect.Value, path string) reflect.Value {
	t.Helper()
	for key := range strings.SplitSeq(path, ".") {
		key, list := strings.CutSuffix(key, "[]")
		if key == mapEntryKey && isStructMap(v.Type()) {
			v = entryDefault(v.Type().Elem())
			continue
		}
		found := false
		for _, f := range schemaFields(v.Type()) {
			if f.key == key {
				v, found = v.Field(f.index), true
				break
			}
		}
		if !found {
			t.Fatalf("no key %q in %s", key, path)
		}
		if isStructPointer(v.Type()) {
			v = entryDefault(v.Type().Elem())
		}
		if list {
			v = reflect.New(v.Type().Elem()).Elem()
		}
	}
	return v
}

// docType is how the reference tables name a Go type.
func docType(t reflect.Type) string {
	switch {
	case isDuration(t):
		return "duration"
	case t.Kind() == reflect.Pointer:
		return docType(t.Elem())
	case t.Kind() == reflect.Bool:
		return "bool"
	case t.Kind() == reflect.Int:
		return "integer"
	case t.Kind() == reflect.String:
		return "string"
	case isStructList(t):
		return "list"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return "list of strings"
	case t.Kind() == reflect.Map && t.Elem().Kind() == reflect.String:
		return "map of strings"
	case t.Kind() == reflect.Map:
		return "map"
	}
	return t.String()
}

// TestDocsExample checks that the example at the top of the reference
// loads.
func TestDocsExample(t *testing.T) {
	data, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no ```yaml example")
	}
	if _, err := Parse([]byte(example), ParseOptions{LookupEnv: env(nil), BaseDir: keyDir(t)}); err != nil {
		t.Fatalf("the example does not load:\n%s", listProblems(err))
	}
}
