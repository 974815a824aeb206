package e2etest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindProgram(t *testing.T) {
	for _, c := range []struct {
		name, program string
		fallbacks     []string
		ci            string
		want          string // the path, or "" when the test must end
		wantSkip      bool
		wantFatal     bool
	}{
		{name: "on PATH", program: "sh", want: "/usr/bin/sh"},
		{name: "fallback", program: "no-such-program-e2etest", fallbacks: []string{"/nonexistent/x", "/bin/sh"}, want: "/bin/sh"},
		{name: "missing, skipped", program: "no-such-program-e2etest", fallbacks: []string{"/nonexistent/x"}, wantSkip: true},
		{name: "missing under CI, failed", program: "no-such-program-e2etest", ci: "1", wantFatal: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("CI", c.ci)
			t.Setenv("PATH", "/usr/bin")
			rec := &recordingTB{TB: t}
			var got string
			rec.run(func(tb testing.TB) { got = FindProgram(tb, c.program, "`apt-get install it`", c.fallbacks...) })
			const msg = "no-such-program-e2etest not found; install with `apt-get install it`"
			switch {
			case c.wantSkip:
				if rec.skipped != msg || rec.fatal != "" {
					t.Errorf("skipped %q, fatal %q; want the skip %q", rec.skipped, rec.fatal, msg)
				}
			case c.wantFatal:
				if !strings.HasPrefix(rec.fatal, msg) || !strings.Contains(rec.fatal, "CI") || rec.skipped != "" {
					t.Errorf("fatal %q, skipped %q; want a failure %q naming CI", rec.fatal, rec.skipped, msg)
				}
			default:
				if got != c.want || rec.fatal != "" || rec.skipped != "" {
					t.Errorf("FindProgram = %q (fatal %q, skipped %q), want %q", got, rec.fatal, rec.skipped, c.want)
				}
			}
		})
	}
}

func TestNodeModulesPresent(t *testing.T) {
	dir := t.TempDir()
	WriteFile(t, dir, "package.json", "{}")
	if err := os.MkdirAll(filepath.Join(dir, "node_modules", "present"), 0o700); err != nil {
		t.Fatal(err)
	}
	// npm is not consulted when the module is there: no PATH at all.
	t.Setenv("PATH", "")
	t.Setenv("CI", "1")
	rec := &recordingTB{TB: t}
	rec.run(func(tb testing.TB) { NodeModules(tb, dir, "present", "`apt-get install npm`") })
	if rec.fatal != "" || rec.skipped != "" {
		t.Errorf("NodeModules with the module installed: fatal %q, skipped %q", rec.fatal, rec.skipped)
	}
}
