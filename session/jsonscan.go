package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// errNotObject is reported as ErrMalformedToken by Verify.
var errNotObject = errors.New("not a single JSON object")

// errInvalidJSON is reported as ErrMalformedToken by Verify.
var errInvalidJSON = errors.New("invalid JSON")

// scanObject walks the top-level members of the JSON object in s, calling
// member for each with the decoded member name and the raw JSON text of
// its value (a substring of s: no copy). It rejects anything but an object
// and repeated member names (RFC 7515 section 4 and RFC 7519 section 4 let
// a parser reject duplicates or keep the last; we reject).
//
// s MUST already have passed json.Valid (one value, nothing after it).
// That is what makes this cheap: it is the single pass the hot path pays
// instead of an encoding/json Decoder walking tokens; json.Valid checks
// the whole text without allocating, and the scan below only has to find
// where each member starts and ends.
func scanObject(s string, member func(name, value string) error) error {
	i := skipSpace(s, 0)
	if s[i] != '{' {
		return errNotObject
	}
	i = skipSpace(s, i+1)
	if s[i] == '}' {
		return nil
	}
	// Real headers and payloads have a dozen members: a linear scan of a
	// small array is cheapest. Past that (a hostile token), a map keeps
	// the duplicate check linear.
	var small [16]string
	seen := small[:0]
	var seenSet map[string]struct{}
	for {
		end := stringEnd(s, i)
		name, err := unquote(s[i:end])
		if err != nil {
			return err
		}
		i = skipSpace(s, end) // at ':'
		i = skipSpace(s, i+1) // at the value
		vend := valueEnd(s, i)
		dup := false
		if seenSet != nil {
			_, dup = seenSet[name]
			seenSet[name] = struct{}{}
		} else {
			dup = slices.Contains(seen, name)
			seen = append(seen, name)
			if len(seen) > 32 {
				seenSet = make(map[string]struct{}, 2*len(seen))
				for _, n := range seen {
					seenSet[n] = struct{}{}
				}
			}
		}
		if dup {
			return fmt.Errorf("%w: %.64q", errDuplicateMember, name)
		}
		if err := member(name, s[i:vend]); err != nil {
			return err
		}
		i = skipSpace(s, vend)
		if s[i] == '}' {
			return nil
		}
		i = skipSpace(s, i+1) // past ','
	}
}

// skipSpace returns the index of the first non-whitespace byte of s at or
// after i (JSON whitespace, RFC 8259 section 2).
func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string starting at s[i]
// (a '"'), which must be well formed.
func stringEnd(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(s)
}

// valueEnd returns the index just past the well-formed JSON value starting
// at s[i].
func valueEnd(s string, i int) int {
	switch s[i] {
	case '"':
		return stringEnd(s, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(s); j++ {
			switch s[j] {
			case '"':
				j = stringEnd(s, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(s)
	default: // number, true, false, null
		j := i
		for j < len(s) && !strings.ContainsRune(",}] \t\n\r", rune(s[j])) {
			j++
		}
		return j
	}
}

// unquote decodes a well-formed JSON string literal. Without escapes and
// with valid UTF-8 (every real token), it is a substring: no allocation.
// Anything else goes through encoding/json, so names and values mean
// exactly what they mean to encoding/json ("\u0073ub" is "sub").
func unquote(lit string) (string, error) {
	body := lit[1 : len(lit)-1]
	if strings.IndexByte(body, '\\') < 0 && utf8.ValidString(body) {
		return body, nil
	}
	var out string
	if err := json.Unmarshal([]byte(lit), &out); err != nil {
		return "", err
	}
	return out, nil
}

// stringValue decodes a JSON value that must be a string; null leaves dst
// unchanged (as encoding/json does); any other type is an error.
func stringValue(v string, dst *string) error {
	switch {
	case v == "null":
		return nil
	case v[0] != '"':
		return fmt.Errorf("not a string: %.16s", v)
	}
	s, err := unquote(v)
	if err != nil {
		return err
	}
	*dst = s
	return nil
}

// stringsValue decodes a JSON array of strings (or null) into dst. An
// array of plain strings is read in place; anything else goes through
// encoding/json, which decides what it means.
func stringsValue(v string, dst *[]string) error {
	if v == "null" {
		*dst = nil
		return nil
	}
	if v[0] != '[' {
		return fmt.Errorf("not an array: %.16s", v)
	}
	out := []string{}
	i := skipSpace(v, 1)
	for v[i] != ']' {
		end := valueEnd(v, i)
		lit := v[i:end]
		if lit[0] != '"' || strings.IndexByte(lit, '\\') >= 0 || !utf8.ValidString(lit) {
			return json.Unmarshal([]byte(v), dst)
		}
		out = append(out, lit[1:len(lit)-1])
		i = skipSpace(v, end)
		if v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	*dst = out
	return nil
}

// dateValue decodes a NumericDate (RFC 7519 section 2) or null. Whole
// seconds (every real token) are parsed in place; fractions and exponents
// go through jwt.NumericDate's own decoder.
func dateValue(v string) (*jwt.NumericDate, error) {
	switch {
	case v == "null":
		return nil, nil
	case v[0] == '"':
		// RFC 7519 section 2 makes a NumericDate a JSON number;
		// jwt.NumericDate also takes a numeric string, which other parsers
		// refuse or read differently (issue #10).
		return nil, errNotNumericDate
	}
	if len(v) <= 18 && strings.Trim(v, "0123456789") == "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err == nil {
			return jwt.NewNumericDate(time.Unix(n, 0)), nil
		}
	}
	var d *jwt.NumericDate
	if err := json.Unmarshal([]byte(v), &d); err != nil {
		return nil, err
	}
	return d, nil
}
