package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, and that whatever
// Parse accepts is valid.
func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range seeds {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(validYAML))
	f.Add([]byte(routesYAML))
	f.Add([]byte("cookie: {same_sit: lax}\nkeys: [{secret: \"$${X}\"}]\n"))
	f.Add([]byte("a: &a [*a]\nserver: *a\n"))

	dir := keyDir(f)
	vars := env(map[string]string{
		"UPSTREAM_URL": "http://app:3000",
		"HS_SECRET":    testSecret,
		"COLON":        "a: b",
		"NEWLINE":      "a\nb: c",
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, ParseOptions{LookupEnv: vars, BaseDir: dir})
		if err != nil {
			if c != nil {
				t.Fatalf("Parse returned a config and an error: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that Validate rejects:\n%s", listProblems(err))
		}
	})
}
