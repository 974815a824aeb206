package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder walks the node tree against the Go types, by their yaml tags,
// and sets what it finds on a value that already holds the defaults. It
// is strict (an unknown or repeated key is a problem) and reports every
// problem with its path and line, not just the first.
//
// Mappings with a fixed schema (Config and the structs under it, lists of
// them) are walked here; every other value (scalars, lists of strings,
// free-form maps) is handed to yaml.Node.Decode, except durations, which
// are parsed here so that "0" is accepted and errors say what a duration
// looks like.
type decoder struct {
	problems lineProblems
	// unknown counts the problems that are unknown keys: they leave the
	// rest of the document decoded, so validation can still run.
	unknown int
	// lines records where each path was set, so that problems found later
	// (files, validation) can name the line too.
	lines map[string]int
	// following holds the anchors being followed, to stop an alias that
	// refers to its own ancestor ("&a [*a]").
	following map[*yaml.Node]bool
}

// newDecoder returns a decoder with nothing recorded yet.
func newDecoder() *decoder {
	return &decoder{lines: map[string]int{}, following: map[*yaml.Node]bool{}}
}

// lineProblems collects problems found in the node tree with the line
// each is on, so that they can be reported in file order.
type lineProblems []lineProblem

type lineProblem struct {
	line int
	fe   *FieldError
}

// add records a problem on line; the problem text is prefixed with it.
func (p *lineProblems) add(line int, field, fix, format string, args ...any) {
	p.addError(line, Problemf(field, fix, format, args...))
}

// addError records fe, found on line, prefixing its problem with the line.
func (p *lineProblems) addError(line int, fe *FieldError) {
	fe.Problem = fmt.Sprintf("line %d: %s", line, fe.Problem)
	*p = append(*p, lineProblem{line, fe})
}

// decode sets out (addressable) from n. A null value leaves out as it is:
// an empty key means "the default", for every type.
func (d *decoder) decode(path string, n *yaml.Node, out reflect.Value) {
	if _, seen := d.lines[path]; !seen && path != "" {
		d.lines[path] = n.Line
	}
	n, ok := d.deref(path, n)
	if !ok {
		return
	}
	if isNull(n) {
		return
	}
	t := out.Type()
	switch {
	case isDuration(t):
		d.duration(path, n, out)
	case t.Kind() == reflect.Struct:
		d.mapping(path, n, out)
	case isStructPointer(t):
		// An optional block (a rule's cors): present means set, starting
		// from its defaults.
		v := reflect.New(t.Elem())
		v.Elem().Set(entryDefault(t.Elem()))
		d.mapping(path, n, v.Elem())
		out.Set(v)
	case isStructMap(t):
		d.structMap(path, n, out)
	case isStructList(t):
		d.list(path, n, out)
	default:
		d.leaf(path, n, out)
	}
}

// deref follows aliases to the anchored node.
func (d *decoder) deref(path string, n *yaml.Node) (*yaml.Node, bool) {
	for n.Kind == yaml.AliasNode {
		if n.Alias == nil || d.following[n.Alias] {
			d.problems.add(n.Line, path, "an alias cannot refer to the node that contains it",
				"alias *%s refers to itself", n.Value)
			return nil, false
		}
		n = n.Alias
	}
	return n, true
}

// isNull reports whether n is YAML null ("", "~", "null").
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// mapping decodes a fixed-schema mapping into the struct out.
func (d *decoder) mapping(path string, n *yaml.Node, out reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.typeError(path, n, out.Type(), nil)
		return
	}
	d.following[n] = true
	defer delete(d.following, n)

	fields := schemaFields(out.Type())
	byKey := make(map[string]schemaField, len(fields))
	for _, f := range fields {
		byKey[f.key] = f
	}
	// Merge keys ("<<: *defaults") go first so that the mapping's own keys
	// override them; of several merged mappings the first wins, as YAML's
	// merge key type specifies.
	for i := len(n.Content) - 2; i >= 0; i -= 2 {
		if isMergeKey(n.Content[i]) {
			d.merge(path, n.Content[i+1], out)
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMergeKey(k) {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.problems.add(k.Line, path, "write keys as plain names",
				"a key must be a name, not %s", describeNode(k))
			continue
		}
		p := joinPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.problems.add(k.Line, p, "remove one of them",
				"key %q is repeated (first set at line %d)", k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		// The key's line, not the value's: a block value starts below it.
		// Set after any merge, so the mapping's own key wins.
		d.lines[p] = k.Line
		f, ok := byKey[k.Value]
		if !ok {
			d.problems.add(k.Line, p, unknownKeyFix(k.Value, path, out.Type()),
				"unknown key %q", k.Value)
			d.unknown++
			continue
		}
		d.decode(p, v, out.Field(f.index))
	}
}

// merge applies a merge key's value: a mapping, an alias of one, or a
// list of those.
func (d *decoder) merge(path string, v *yaml.Node, out reflect.Value) {
	v, ok := d.deref(path, v)
	if !ok {
		return
	}
	switch v.Kind {
	case yaml.MappingNode:
		d.mapping(path, v, out)
	case yaml.SequenceNode:
		for i := len(v.Content) - 1; i >= 0; i-- {
			// Only mappings, not nested lists: "<<: &a [*a]" must not loop.
			if e, ok := d.deref(path, v.Content[i]); ok && e.Kind != yaml.MappingNode {
				d.problems.add(e.Line, path, `merge only mappings: "<<: *anchor"`,
					"a merge key (<<) needs a mapping, not %s", describeNode(e))
				continue
			}
			d.merge(path, v.Content[i], out)
		}
	default:
		d.problems.add(v.Line, path, `merge only mappings: "<<: *anchor"`,
			"a merge key (<<) needs a mapping, not %s", describeNode(v))
	}
}

// isMergeKey reports whether k is the YAML merge key "<<" (unquoted).
func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Style == 0 &&
		(k.Tag == "!!merge" || k.Tag == "" || k.Tag == "!")
}

// unknownKeyFix suggests the key that was probably meant.
func unknownKeyFix(key, path string, t reflect.Type) string {
	keys := schemaKeys(t)
	if s := suggest(key, keys); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	// A key written in the wrong section: "listen" at the top level.
	var homes []string
	for _, p := range keyPaths(reflect.TypeFor[Config](), "") {
		if keyOf(p) == key && strings.Contains(p, ".") {
			homes = append(homes, strings.TrimSuffix(p, "."+key))
		}
	}
	if len(homes) > 0 {
		return fmt.Sprintf("%q belongs under %s; move it there", key, strings.Join(homes, " or "))
	}
	where := "at the top level"
	if path != "" {
		where = "under " + path
	}
	return fmt.Sprintf("remove it; valid keys %s are: %s", where, strings.Join(keys, ", "))
}

// list decodes a list of fixed-schema mappings; it replaces the default.
func (d *decoder) list(path string, n *yaml.Node, out reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.typeError(path, n, out.Type(), nil)
		return
	}
	d.following[n] = true
	defer delete(d.following, n)
	s := reflect.MakeSlice(out.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		d.decode(fmt.Sprintf("%s[%d]", path, i), e, s.Index(i))
	}
	out.Set(s)
}

// structMap decodes a mapping of names to fixed-schema mappings
// (upstreams); it replaces the default. Each entry starts from
// entryDefault, so an entry has the same defaults as its single form.
func (d *decoder) structMap(path string, n *yaml.Node, out reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.typeError(path, n, out.Type(), nil)
		return
	}
	m := reflect.MakeMapWithSize(out.Type(), len(n.Content)/2)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || isMergeKey(k) {
			d.problems.add(k.Line, path, "write each name as a plain key", "a key must be a name, not %s", describeNode(k))
			continue
		}
		p := joinPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.problems.add(k.Line, p, "remove one of them", "key %q is repeated (first set at line %d)", k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		d.lines[p] = k.Line
		e := reflect.New(out.Type().Elem()).Elem()
		e.Set(entryDefault(e.Type()))
		d.decode(p, v, e)
		m.SetMapIndex(reflect.ValueOf(k.Value), e)
	}
	out.Set(m)
}

// duration parses a Go duration ("30s", "1h30m", "0").
func (d *decoder) duration(path string, n *yaml.Node, out reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.typeError(path, n, out.Type(), nil)
		return
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		d.typeError(path, n, out.Type(), nil)
		return
	}
	out.SetInt(int64(v))
}

// leaf decodes any other value with the YAML library, into a fresh value so
// that lists and maps replace their defaults rather than merge with them.
func (d *decoder) leaf(path string, n *yaml.Node, out reflect.Value) {
	d.recordChildren(path, n)
	fresh := reflect.New(out.Type())
	if err := n.Decode(fresh.Interface()); err != nil {
		d.typeError(path, n, out.Type(), err)
		return
	}
	out.Set(fresh.Elem())
}

// recordChildren notes the lines of list entries and map values, the
// paths validation uses for them ("trusted_proxies[1]",
// "identity_headers.claims.department").
func (d *decoder) recordChildren(path string, n *yaml.Node) {
	switch n.Kind {
	case yaml.SequenceNode:
		for i, e := range n.Content {
			d.lines[fmt.Sprintf("%s[%d]", path, i)] = e.Line
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind == yaml.ScalarNode {
				d.lines[joinPath(path, k.Value)] = k.Line
			}
		}
	}
}

// typeError records that n does not fit type t. cause, if any, is the YAML
// library's error from inside a value of the right shape (a repeated map
// key, a list entry of the wrong type).
func (d *decoder) typeError(path string, n *yaml.Node, t reflect.Type, cause error) {
	fe := &FieldError{Field: path, Fix: typeFix(t)}
	switch {
	case n.Kind == yaml.ScalarNode && wantsScalar(t):
		fe.Problem = fmt.Sprintf("%s is not %s", describeNode(n), describeType(t))
	case n.Kind != wantedKind(t):
		fe.Problem = fmt.Sprintf("expected %s, found %s", describeType(t), describeNode(n))
	default:
		fe.Problem = "invalid " + strings.TrimPrefix(describeType(t), "a ")
		var te *yaml.TypeError
		if errors.As(cause, &te) {
			// The library's messages carry their own line numbers.
			fe.Problem += ": " + strings.Join(te.Errors, "; ")
			cause = nil
		}
		fe.Err = cause
	}
	d.problems.addError(n.Line, fe)
}

// wantedKind is the node kind a value of type t is written as.
func wantedKind(t reflect.Type) yaml.Kind {
	switch {
	case t.Kind() == reflect.Pointer:
		return wantedKind(t.Elem())
	case isDuration(t):
		return yaml.ScalarNode
	case t.Kind() == reflect.Struct, t.Kind() == reflect.Map:
		return yaml.MappingNode
	case t.Kind() == reflect.Slice:
		return yaml.SequenceNode
	}
	return yaml.ScalarNode
}

// wantsScalar reports whether t is written as a scalar.
func wantsScalar(t reflect.Type) bool { return wantedKind(t) == yaml.ScalarNode }

// describeNode names what n is, for messages; scalars are quoted and
// shortened.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		v := n.Value
		if r := []rune(v); len(r) > 40 {
			v = string(r[:40]) + "..."
		}
		return strconv.Quote(v)
	}
	return "an empty document"
}
