// Package claimmatch compares a claim value from a token or the users
// file with a value a configuration requires, by kind rather than Go type,
// so YAML's int 3 equals JSON's float64 3. policy (rule claims) and session
// (requirements on foreign identities) share it.
package claimmatch

import (
	"encoding/json"
	"math"
	"strconv"
)

// claimKind is the type of a required claim value.
type claimKind uint8

const (
	claimString claimKind = iota
	claimBool
	claimNumber
)

// Value is a compiled required value. The required value comes from YAML
// (bool, int, uint64, float64, string); the one it is matched against
// from a JSON token or the users file (bool, float64, json.Number, string,
// []any, []string).
type Value struct {
	kind claimKind
	s    string
	b    bool
	f    float64
}

// New compiles a required value, reporting false for a value that cannot
// be compared (null, a list, a map, a timestamp, NaN).
func New(v any) (Value, bool) {
	var c Value
	switch v := v.(type) {
	case string:
		c.kind, c.s = claimString, v
	case bool:
		c.kind, c.b = claimBool, v
	default:
		f, ok := toFloat(v)
		if !ok || math.IsNaN(f) {
			return Value{}, false
		}
		c.kind, c.f = claimNumber, f
	}
	return c, true
}

// String formats the required value for reasons and errors.
func (c Value) String() string {
	switch c.kind {
	case claimBool:
		return strconv.FormatBool(c.b)
	case claimNumber:
		return strconv.FormatFloat(c.f, 'g', -1, 64)
	}
	return strconv.Quote(c.s)
}

// Match reports whether the claim value v satisfies c: equal scalars, or
// a list ([]any or []string) that contains the value.
func (c Value) Match(v any) bool {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			if c.matchScalar(e) {
				return true
			}
		}
		return false
	case []string:
		if c.kind != claimString {
			return false
		}
		for _, e := range v {
			if e == c.s {
				return true
			}
		}
		return false
	}
	return c.matchScalar(v)
}

func (c Value) matchScalar(v any) bool {
	switch c.kind {
	case claimString:
		s, ok := v.(string)
		return ok && s == c.s
	case claimBool:
		b, ok := v.(bool)
		return ok && b == c.b
	}
	f, ok := toFloat(v)
	return ok && f == c.f
}

// toFloat converts any Go number (and json.Number) to float64, so that
// YAML's int 3 equals JSON's float64 3. Integers beyond 2^53 lose
// precision like they do in every JSON consumer; a string is not a number.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int8:
		return float64(n), true
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint8:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}
