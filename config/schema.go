package config

import (
	"reflect"
	"strings"
	"time"
)

// The schema is the Go types themselves: the loader, the strict-key check
// and the documentation test all read it through the yaml struct tags, so
// adding a field to config.go is the whole change.

// isDuration reports whether t is time.Duration, which YAML spells as a
// string ("30s") although its kind is int64.
func isDuration(t reflect.Type) bool { return t == reflect.TypeFor[time.Duration]() }

// schemaField is one YAML key of a struct type.
type schemaField struct {
	key   string // the yaml tag name
	index int    // the Go field index
	typ   reflect.Type
}

// schemaFields returns the YAML keys of struct type t, in declaration
// order. Fields without a yaml name, or tagged "-", are not keys.
func schemaFields(t reflect.Type) []schemaField {
	var out []schemaField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, schemaField{key: name, index: i, typ: f.Type})
	}
	return out
}

// schemaKeys returns just the key names of struct type t.
func schemaKeys(t reflect.Type) []string {
	fields := schemaFields(t)
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	return keys
}

// isStructList reports whether t is a slice whose elements are YAML
// mappings with a fixed schema (keys, policy.rules).
func isStructList(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct
}

// isStructPointer reports whether t points to a fixed-schema mapping: an
// optional block such as a rule's cors.
func isStructPointer(t reflect.Type) bool {
	return t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct
}

// isStructMap reports whether t maps names to fixed-schema mappings
// (upstreams).
func isStructMap(t reflect.Type) bool {
	return t.Kind() == reflect.Map && t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.Struct
}

// mapEntryKey stands for an entry's name in the paths of keyPaths:
// "upstreams.<name>.url".
const mapEntryKey = "<name>"

// keyPaths returns the full YAML path of every key reachable from struct
// type t, in the notation of docs/configuration.md: "server.listen",
// "keys[].alg". Lists of mappings appear themselves ("keys") and through
// their element keys; free-form maps are single keys.
func keyPaths(t reflect.Type, prefix string) []string {
	var out []string
	for _, f := range schemaFields(t) {
		p := joinPath(prefix, f.key)
		switch {
		case f.typ.Kind() == reflect.Struct && !isDuration(f.typ):
			out = append(out, keyPaths(f.typ, p)...)
		case isStructPointer(f.typ):
			out = append(out, keyPaths(f.typ.Elem(), p)...)
		case isStructMap(f.typ):
			out = append(out, p)
			out = append(out, keyPaths(f.typ.Elem(), p+"."+mapEntryKey)...)
		case isStructList(f.typ):
			out = append(out, p)
			out = append(out, keyPaths(f.typ.Elem(), p+"[]")...)
		default:
			out = append(out, p)
		}
	}
	return out
}

// joinPath appends key to a YAML path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// describeType names what a value of type t looks like in YAML, for "is
// not ..." messages.
func describeType(t reflect.Type) string {
	switch {
	case isDuration(t):
		return "a duration"
	case t.Kind() == reflect.Pointer:
		return describeType(t.Elem())
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Int:
		return "a whole number"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Struct:
		return "a mapping"
	case isStructList(t):
		return "a list of mappings"
	case isStructMap(t):
		return "a mapping of names to mappings"
	case t.Kind() == reflect.Slice:
		return "a list of " + strings.TrimPrefix(describeType(t.Elem()), "a ") + "s"
	case t.Kind() == reflect.Map && t.Elem().Kind() == reflect.String:
		return "a mapping of names to strings"
	case t.Kind() == reflect.Map:
		return "a mapping"
	}
	return "a " + t.String()
}

// typeFix is the fix offered when a value does not decode as type t.
func typeFix(t reflect.Type) string {
	switch {
	case isDuration(t):
		return "use a duration such as 30s or 5m; units are ms, s, m and h"
	case t.Kind() == reflect.Pointer:
		return typeFix(t.Elem())
	case t.Kind() == reflect.Bool:
		return "use true or false"
	case t.Kind() == reflect.Int:
		return "use a whole number, such as 8192"
	case t.Kind() == reflect.String:
		return "use a single value; quote it if it contains special characters"
	case t.Kind() == reflect.Struct:
		return "use a mapping with keys: " + strings.Join(schemaKeys(t), ", ")
	case isStructList(t):
		return "use a list of mappings (each entry starts with \"- \"), with keys: " +
			strings.Join(schemaKeys(t.Elem()), ", ")
	case isStructMap(t):
		return "use a mapping of names to mappings, with keys: " + strings.Join(schemaKeys(t.Elem()), ", ")
	case t.Kind() == reflect.Slice:
		return "use a list, such as [a, b]"
	case t.Kind() == reflect.Map:
		return "use a mapping, such as {name: value}"
	}
	return ""
}
