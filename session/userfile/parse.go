package userfile

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse/gatehouse/config"
)

// userKeys lists the keys of one entry under users:, for error messages.
const userKeys = "username, password_hash, email, roles, claims, disabled"

// isUserKey reports whether key is one of userKeys.
func isUserKey(key string) bool {
	switch key {
	case "username", "password_hash", "email", "roles", "claims", "disabled":
		return true
	}
	return false
}

// isTopKey reports whether key may appear at the top level.
func isTopKey(key string) bool { return key == "users" }

// Parse decodes and validates a users file.
//
// Decoding is strict: an unknown key, a value of the wrong type or a
// repeated key is an error. Every problem in the file is reported, joined
// with errors.Join; each is a *config.FieldError naming the entry and key
// ("users[2].password_hash") and the line, retrievable with
// config.FieldErrors. Input that is not YAML, or is more than one
// document, is a single plain error instead.
//
// Two entries whose usernames are equal after Normalize are an error: one
// person cannot hold two records. An empty document, or "users: []", is a
// file without users.
//
// Unknown keys are found by walking the YAML node tree rather than with
// yaml.Decoder.KnownFields(true): that option's errors name the key and
// line but also a Go type instead of the entry ("field passwrd not found
// in type userfile.rawUser"), and it cannot say which entry of users: the
// key is in. The walk reports "users[1].passwrd: line 7: unknown key".
func Parse(data []byte) (*Users, error) {
	root, err := parseDocument(data)
	if err != nil {
		return nil, err
	}
	var p parser
	entries := p.file(root)
	users := &Users{byName: make(map[string]*User, len(entries))}
	firstIndex := make(map[string]int, len(entries))
	for i, e := range entries {
		u, ok := p.user(i, e)
		if u == nil || u.Username == "" {
			continue
		}
		// Duplicates are looked for among broken entries too, so that
		// one run reports them alongside the other problems.
		name := Normalize(u.Username)
		if j, dup := firstIndex[name]; dup {
			p.addf(fmt.Sprintf("users[%d].username", i), e.username,
				"remove one of them, or give one another username",
				"%q is the same user as users[%d] (line %d), ignoring case and surrounding spaces",
				u.Username, j, entries[j].username.Line)
			continue
		}
		firstIndex[name] = i
		if ok {
			users.byName[name] = u
		}
	}
	if len(p.errs) > 0 {
		return nil, p.err()
	}
	return users, nil
}

// parseDocument parses data into its top-level node, or nil when the
// document is empty (or only comments, or null).
func parseDocument(data []byte) (*yaml.Node, error) {
	n, err := config.SingleDocument(data, "a users file")
	if err != nil {
		return nil, fmt.Errorf("userfile: %w", err)
	}
	return n, nil
}

// entry is the nodes of one user's keys; nil for a key the entry lacks.
type entry struct {
	node                                                   *yaml.Node // the entry's mapping
	username, passwordHash, email, roles, claims, disabled *yaml.Node
}

// parser collects problems while walking the document.
type parser struct {
	errs []lineError
}

// lineError is a problem and the line it is on (0 if none).
type lineError struct {
	line int
	err  *config.FieldError
}

// add records fe, found at n (which may be nil).
func (p *parser) add(n *yaml.Node, fe *config.FieldError) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, lineError{line, fe})
}

// err returns the problems in the order of the file, joined.
func (p *parser) err() error {
	slices.SortStableFunc(p.errs, func(a, b lineError) int { return cmp.Compare(a.line, b.line) })
	errs := make([]error, len(p.errs))
	for i, e := range p.errs {
		errs[i] = e.err
	}
	return errors.Join(errs...)
}

// addf records a problem with field, at n's line when n is not nil.
func (p *parser) addf(field string, n *yaml.Node, fix, format string, args ...any) {
	problem := fmt.Sprintf(format, args...)
	if n != nil {
		problem = fmt.Sprintf("line %d: %s", n.Line, problem)
	}
	p.add(n, config.Problem(field, problem, fix))
}

// file walks the top-level mapping and returns the entries under users:.
func (p *parser) file(root *yaml.Node) []entry {
	if root == nil {
		return nil
	}
	root = resolve(root)
	if root.Kind != yaml.MappingNode {
		p.addf("users", root, "start the file with users: and a list of users", "the top level must be a mapping, not %s", describe(root))
		return nil
	}
	var users *yaml.Node
	for key, value := range p.mapping("", root, isTopKey, "the only top-level key is users:") {
		if key != "users" {
			continue
		}
		users = resolve(value)
	}
	if absent(users) {
		return nil
	}
	if users.Kind != yaml.SequenceNode {
		p.addf("users", users, "write users: followed by lines starting with - username:", "must be a list of users, not %s", describe(users))
		return nil
	}
	entries := make([]entry, 0, len(users.Content))
	for i, item := range users.Content {
		entries = append(entries, p.entry(fmt.Sprintf("users[%d]", i), resolve(item)))
	}
	return entries
}

// entry walks the mapping of one user.
func (p *parser) entry(path string, n *yaml.Node) entry {
	e := entry{node: n}
	if n.Kind != yaml.MappingNode {
		p.addf(path, n, "start each user with - username:", "must be a mapping of username:, password_hash: and so on, not %s", describe(n))
		return e
	}
	for key, value := range p.mapping(path, n, isUserKey, "the keys of a user are "+userKeys) {
		switch key {
		case "username":
			e.username = value
		case "password_hash":
			e.passwordHash = value
		case "email":
			e.email = value
		case "roles":
			e.roles = value
		case "claims":
			e.claims = value
		case "disabled":
			e.disabled = value
		}
	}
	return e
}

// mapping yields the keys and values of mapping node n, found at path
// ("" for the top level). It reports (and skips) keys that are not
// strings, are repeated, or are not known; fix lists the known ones.
func (p *parser) mapping(path string, n *yaml.Node, known func(string) bool, fix string) iter.Seq2[string, *yaml.Node] {
	return func(yield func(string, *yaml.Node) bool) {
		seen := make(map[string]*yaml.Node, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
			field := k.Value
			if field == "" {
				field = `""`
			}
			if path != "" {
				field = path + "." + field
			}
			switch {
			case k.Kind != yaml.ScalarNode:
				p.addf(orTop(path), k, fix, "a key must be a plain name, not %s", describe(k))
				continue
			case seen[k.Value] != nil:
				p.addf(field, k, "remove one of them", "repeated key (first on line %d)", seen[k.Value].Line)
				continue
			case !known(k.Value):
				p.addf(field, k, fix, "unknown key")
				continue
			}
			seen[k.Value] = k
			if !yield(k.Value, v) {
				return
			}
		}
	}
}

// resolve returns the node an alias refers to, or n itself.
func resolve(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

// absent reports whether a key is missing (n is nil) or null.
func absent(n *yaml.Node) bool { return n == nil || isNull(n) }

// isNull reports whether n is a null scalar ("~", "null" or nothing).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names a node's kind for an error message.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		return "a scalar"
	case yaml.AliasNode:
		return "an alias"
	}
	return "an empty value"
}

func orTop(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}
