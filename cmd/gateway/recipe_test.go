package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRecipeCommand(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "gateway.yaml")
	err := os.WriteFile(cfg, []byte(`upstream: {url: http://127.0.0.1:3000}
keys: [{kid: hs, alg: HS256, secret: 0123456789abcdef0123456789abcdef}]
policy:
  rules:
    - {path: /legacy/**, identity_headers: {user: X-Remote-User}}
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // a line the output must contain
		stderr string
	}{
		{"nginx from a configuration", []string{"nginx", "--config", "testdata/routes.yaml", "--listen", "8081"}, 0, "listen 8081;", ""},
		{"a rule's headers are in it", []string{"caddy", "--config", cfg}, 0, "X-Remote-User", ""},
		{"defaults without --config", []string{"traefik", "--host", "a.example"}, 0, "Host(`a.example`)", ""},
		{"no proxy", nil, 2, "", "usage: gateway recipe {nginx|caddy|traefik}"},
		{"flag first", []string{"--config", "x"}, 2, "", "usage: gateway recipe"},
		{"unknown proxy", []string{"envoy"}, 2, "", `unknown proxy "envoy": use one of nginx, caddy, traefik`},
		{"extra argument", []string{"nginx", "caddy"}, 2, "", `unexpected "caddy"`},
		{"bad configuration", []string{"nginx", "--config", "testdata/no-such.yaml"}, 1, "", "no-such.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), append([]string{"recipe"}, tt.args...), nil, &out, &errOut)
			if code != tt.code || !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errOut.String(), tt.stderr) {
				t.Errorf("exit %d, want %d\nstdout (want %q):\n%s\nstderr (want %q):\n%s", code, tt.code, tt.stdout, out.String(), tt.stderr, errOut.String())
			}
		})
	}
}
