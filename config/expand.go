package config

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Environment references are expanded in the parsed node tree, never in the
// raw text: a value that contains ": ", "#" or a newline stays inside its
// scalar and cannot add keys, comment out the rest of a line or change the
// document's structure. Keys are never expanded.

// expander replaces ${VAR}, ${VAR:-default} and $${ in scalar values.
type expander struct {
	lookup   func(string) (string, bool)
	problems lineProblems
}

// tree expands every scalar value under n; path is n's YAML path. Alias
// nodes are skipped: they share their anchor's node, which is expanded
// (once) where it is defined.
func (x *expander) tree(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			x.tree(c, path)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			x.tree(n.Content[i+1], joinPath(path, keyName(n.Content[i])))
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			x.tree(c, fmt.Sprintf("%s[%d]", path, i))
		}
	case yaml.ScalarNode:
		x.scalar(n, path)
	}
}

// keyName is how a mapping key appears in a path.
func keyName(k *yaml.Node) string {
	if k.Kind == yaml.ScalarNode {
		return k.Value
	}
	return "?"
}

// scalar expands one value in place.
func (x *expander) scalar(n *yaml.Node, path string) {
	if !strings.Contains(n.Value, "${") {
		return
	}
	out, errs := expandString(n.Value, x.lookup)
	if len(errs) > 0 {
		for _, e := range errs {
			x.problems.add(n.Line, path, e.fix, "%s", e.problem)
		}
		// Leave the field at its default so that decoding does not add a
		// second, confusing error about the unexpanded text.
		n.Value, n.Tag, n.Style = "", "!!null", 0
		return
	}
	n.Value = out
	const quoted = yaml.SingleQuotedStyle | yaml.DoubleQuotedStyle | yaml.LiteralStyle | yaml.FoldedStyle
	if n.Style&(yaml.TaggedStyle|quoted) == 0 {
		// A plain scalar is typed by its text, so type it again:
		// "access_ttl: ${TTL}" with TTL=5m is a duration and
		// "secure: ${SECURE}" with SECURE=false is a bool. Quoted or
		// explicitly tagged values keep their type.
		n.Tag = ""
		n.Tag = n.ShortTag()
	}
}

// expandProblem is one bad reference inside a value.
type expandProblem struct{ problem, fix string }

// expandString expands s. ${VAR} is the variable's value and an error if
// it is unset; ${VAR:-default} is the default when VAR is unset or empty
// (as in the shell); $${ is a literal "${". Defaults are taken literally:
// they are not expanded again and cannot contain "}".
func expandString(s string, lookup func(string) (string, bool)) (string, []expandProblem) {
	var b strings.Builder
	var errs []expandProblem
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				errs = append(errs, expandProblem{
					problem: fmt.Sprintf("unterminated %q", s[i:]),
					fix:     "close the reference with \"}\", or write $${ for a literal ${",
				})
				return "", errs
			}
			expr := s[i+2 : i+2+end]
			i += 2 + end + 1
			name, def, hasDef := strings.Cut(expr, ":-")
			if !isEnvName(name) {
				errs = append(errs, expandProblem{
					problem: fmt.Sprintf("%s is not a valid variable reference", strconv.Quote("${"+expr+"}")),
					fix:     "use ${NAME} or ${NAME:-default}, NAME being letters, digits and _ (not starting with a digit); write $${ for a literal ${",
				})
				continue
			}
			v, ok := lookup(name)
			switch {
			case hasDef && v == "":
				v = def
			case !ok:
				errs = append(errs, expandProblem{
					problem: fmt.Sprintf("environment variable %s is not set", name),
					fix:     fmt.Sprintf("export %s or use ${%s:-default}", name, name),
				})
			}
			b.WriteString(v)
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), errs
}

// isEnvName reports whether s is a portable environment variable name.
func isEnvName(s string) bool {
	if s == "" || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
