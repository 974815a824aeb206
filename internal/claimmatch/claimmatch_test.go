package claimmatch

import (
	"encoding/json"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		want any
		got  any
		ok   bool
	}{
		{"admin", "admin", true},
		{"admin", "Admin", false},
		{"admin", []any{"user", "admin"}, true},
		{"admin", []string{"user", "admin"}, true},
		{"admin", []any{"user"}, false},
		{3, 3.0, true},
		{3, json.Number("3"), true},
		{3, "3", false},
		{uint64(1), []any{1.0}, true},
		{true, true, true},
		{true, "true", false},
		{1, []string{"1"}, false},
		{"x", nil, false},
	}
	for _, tt := range tests {
		v, ok := New(tt.want)
		if !ok {
			t.Fatalf("New(%v) refused", tt.want)
		}
		if got := v.Match(tt.got); got != tt.ok {
			t.Errorf("%v.Match(%#v) = %v, want %v", v, tt.got, got, tt.ok)
		}
	}
	for _, bad := range []any{nil, []any{1}, map[string]any{}} {
		if _, ok := New(bad); ok {
			t.Errorf("New(%#v) accepted", bad)
		}
	}
}
