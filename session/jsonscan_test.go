package session

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// TestScanObject checks the one-pass scanner against what encoding/json
// makes of the same text: the same members and values, and duplicates in
// any spelling encoding/json would read as one name rejected.
func TestScanObject(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]string // name -> raw value
		wantErr error
	}{
		{"empty", `{}`, map[string]string{}, nil},
		{"spaces", " {\n\t\"a\" :\r 1 , \"b\":\"x\" } ", map[string]string{"a": "1", "b": `"x"`}, nil},
		{"nested with braces in strings", `{"a":{"b":["}",{"c":"]\"{"}]},"d":true}`,
			map[string]string{"a": `{"b":["}",{"c":"]\"{"}]}`, "d": "true"}, nil},
		{"escaped name", `{"\u0073ub":"x"}`, map[string]string{"sub": `"x"`}, nil},
		{"duplicate", `{"a":1,"a":2}`, nil, errDuplicateMember},
		{"duplicate through an escape", `{"sub":"a","\u0073ub":"b"}`, nil, errDuplicateMember},
		{"array", `[1]`, nil, errNotObject},
		{"string", `"x"`, nil, errNotObject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !json.Valid([]byte(tt.in)) {
				t.Fatalf("test input is not valid JSON")
			}
			got := map[string]string{}
			err := scanObject(tt.in, func(name, value string) error {
				got[name] = value
				return nil
			})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("members = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDecodeClaimsLikeEncodingJSON decodes payloads with escapes, odd
// numbers and nulls and compares with encoding/json's reading.
func TestDecodeClaimsLikeEncodingJSON(t *testing.T) {
	tests := []struct {
		name, in  string
		sub       string
		roles     []string
		exp       int64 // 0: nil
		wantError bool
	}{
		{"plain", `{"sub":"u","roles":["a","b"],"exp":1700000000}`, "u", []string{"a", "b"}, 1700000000, false},
		{"escaped string", `{"sub":"\u0075\n"}`, "u\n", nil, 0, false},
		{"escaped role", `{"roles":["\u0061",  "b" ]}`, "", []string{"a", "b"}, 0, false},
		{"empty roles", `{"roles":[]}`, "", []string{}, 0, false},
		{"null roles", `{"roles":null}`, "", nil, 0, false},
		{"null sub", `{"sub":null}`, "", nil, 0, false},
		{"fractional exp", `{"exp":1700000000.7}`, "", nil, 1700000000, false},
		{"exponent exp", `{"exp":1.7e9}`, "", nil, 1700000000, false},
		{"null exp", `{"exp":null}`, "", nil, 0, false},
		// RFC 7519: a NumericDate is a JSON number. jwt.NumericDate would
		// take a quoted one; other parsers refuse it (issue #10).
		{"quoted exp", `{"exp":"1700000000"}`, "", nil, 0, true},
		{"word exp", `{"exp":"soon"}`, "", nil, 0, true},
		{"boolean exp", `{"exp":true}`, "", nil, 0, true},
		{"number sub", `{"sub":1}`, "", nil, 0, true},
		{"role not a string", `{"roles":["a",1]}`, "", nil, 0, true},
		{"roles a string", `{"roles":"a"}`, "", nil, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c accessClaims
			err := c.decode([]byte(tt.in), nil)
			if tt.wantError {
				if err == nil {
					t.Fatalf("accepted: %+v", c)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != tt.sub || !reflect.DeepEqual(c.Roles, tt.roles) {
				t.Errorf("sub %q roles %#v, want %q %#v", c.Subject, c.Roles, tt.sub, tt.roles)
			}
			switch {
			case tt.exp == 0 && c.ExpiresAt != nil:
				t.Errorf("exp = %v, want nil", c.ExpiresAt)
			case tt.exp != 0 && (c.ExpiresAt == nil || c.ExpiresAt.Unix() != tt.exp):
				t.Errorf("exp = %v, want %d", c.ExpiresAt, tt.exp)
			}
		})
	}
}

// FuzzScanObject compares scanObject with encoding/json on any valid
// JSON: an object without duplicate names has the same members with the
// same values; anything else is refused by both or by the scanner.
func FuzzScanObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":[1,{"b":"}"}],"c":"\\\""}`, `{"\u0061":1,"a":2}`, `[]`, `{"a" : null }`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !json.Valid([]byte(in)) {
			return
		}
		got := map[string]string{}
		err := scanObject(in, func(name, value string) error {
			got[name] = value
			return nil
		})
		var want map[string]json.RawMessage
		jerr := json.Unmarshal([]byte(in), &want)
		if err != nil {
			if jerr == nil && !errors.Is(err, errDuplicateMember) && want != nil {
				t.Fatalf("scanner refused an object encoding/json reads: %v", err)
			}
			return
		}
		if jerr != nil || want == nil {
			t.Fatalf("scanner accepted what encoding/json reads as no object: %v", jerr)
		}
		if len(got) != len(want) {
			t.Fatalf("members %q, encoding/json %q", got, want)
		}
		for k, v := range want {
			if got[k] != string(v) {
				t.Fatalf("member %q = %q, encoding/json %q", k, got[k], v)
			}
		}
	})
}
