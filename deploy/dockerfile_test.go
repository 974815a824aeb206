package deploy

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// dockerfile is ../Dockerfile as BuildKit's parser reads it.
type dockerfile struct {
	src    []byte
	stages []instructions.Stage
}

func parseDockerfile() (*dockerfile, error) {
	src, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		return nil, err
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("parse Dockerfile: %w", err)
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, fmt.Errorf("Dockerfile instructions: %w", err)
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("Dockerfile has no FROM")
	}
	return &dockerfile{src: src, stages: stages}, nil
}

func mustParseDockerfile(t *testing.T) *dockerfile {
	t.Helper()
	df, err := parseDockerfile()
	if err != nil {
		t.Fatal(err)
	}
	return df
}

// final is the stage the image is built from.
func (df *dockerfile) final() instructions.Stage { return df.stages[len(df.stages)-1] }

// buildStage is the stage the final stage copies the gateway binary from.
func (df *dockerfile) buildStage() (instructions.Stage, error) {
	for _, c := range commandsOf[*instructions.CopyCommand](df.final()) {
		if c.From == "" || !slices.ContainsFunc(c.SourcePaths, func(p string) bool { return strings.HasSuffix(p, "/gateway") }) {
			continue
		}
		for _, s := range df.stages[:len(df.stages)-1] {
			if s.Name == c.From {
				return s, nil
			}
		}
		return instructions.Stage{}, fmt.Errorf("COPY --from=%s: no such stage", c.From)
	}
	return instructions.Stage{}, fmt.Errorf("the final stage copies no .../gateway from another stage")
}

// goBuildCommand is the shell command of the build stage's one RUN that
// runs go build.
func (df *dockerfile) goBuildCommand() (string, error) {
	s, err := df.buildStage()
	if err != nil {
		return "", err
	}
	var found []string
	for _, r := range commandsOf[*instructions.RunCommand](s) {
		line := strings.Join(r.CmdLine, " ")
		if !strings.Contains(line, "go build") {
			continue
		}
		if !r.PrependShell {
			return "", fmt.Errorf("RUN %s: want the shell form, which expands ${VERSION}", line)
		}
		found = append(found, line)
	}
	if len(found) != 1 {
		return "", fmt.Errorf("want exactly one RUN with go build in stage %q, found %d", s.Name, len(found))
	}
	return found[0], nil
}

// commandsOf returns a stage's instructions of type T, in order.
func commandsOf[T instructions.Command](s instructions.Stage) []T {
	var out []T
	for _, c := range s.Commands {
		if t, ok := c.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// TestDockerfile checks the image's shape: what it is built from, what it
// runs as, and how it is started and probed.
func TestDockerfile(t *testing.T) {
	df := mustParseDockerfile(t)
	final := df.final()

	t.Run("multi-stage build on golang:1.26", func(t *testing.T) {
		if len(df.stages) < 2 {
			t.Fatalf("%d stage(s), want a build stage and a run stage", len(df.stages))
		}
		b, err := df.buildStage()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(b.BaseName, "golang:1.26") || strings.Contains(b.BaseName, "@") {
			t.Errorf("build stage FROM %s, want a golang:1.26 tag without a digest", b.BaseName)
		}
	})

	t.Run("modules downloaded in their own layer", func(t *testing.T) {
		b, err := df.buildStage()
		if err != nil {
			t.Fatal(err)
		}
		// The order must be: COPY go.mod go.sum, RUN go mod download,
		// then the COPY of the sources.
		step := 0
		for _, c := range b.Commands {
			switch c := c.(type) {
			case *instructions.CopyCommand:
				if step == 0 && slices.Equal(c.SourcePaths, []string{"go.mod", "go.sum"}) {
					step = 1
				} else if step == 2 && slices.Contains(c.SourcePaths, ".") {
					step = 3
				}
			case *instructions.RunCommand:
				if step == 1 && strings.Contains(strings.Join(c.CmdLine, " "), "go mod download") {
					step = 2
				}
			}
		}
		if step != 3 {
			t.Errorf("want COPY go.mod go.sum, RUN go mod download, COPY . in that order (got to step %d)", step)
		}
	})

	t.Run("static build flags", func(t *testing.T) {
		line, err := df.goBuildCommand()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"CGO_ENABLED=0 go build", "-trimpath", `-ldflags "-s -w -X main.version=${VERSION}"`, "./cmd/gateway"} {
			if !strings.Contains(line, want) {
				t.Errorf("the go build command lacks %s: %s", want, line)
			}
		}
	})

	t.Run("final stage is distroless static or scratch", func(t *testing.T) {
		if b := final.BaseName; b != "scratch" && !strings.HasPrefix(b, "gcr.io/distroless/static") {
			t.Errorf("final stage FROM %s, want gcr.io/distroless/static-* or scratch", b)
		}
	})

	t.Run("numeric non-root user", func(t *testing.T) {
		users := commandsOf[*instructions.UserCommand](final)
		if len(users) == 0 {
			t.Fatal("no USER in the final stage: the image would run as root")
		}
		user := users[len(users)-1].User
		for i, id := range strings.Split(user, ":") {
			n, err := strconv.Atoi(id)
			if err != nil || n <= 0 || i > 1 {
				t.Errorf("USER %s: want numeric, non-zero uid[:gid] (a name cannot be checked by runAsNonRoot)", user)
				break
			}
		}
	})

	t.Run("exposes 8080 and 9091", func(t *testing.T) {
		var ports []string
		for _, e := range commandsOf[*instructions.ExposeCommand](final) {
			for _, p := range e.Ports {
				ports = append(ports, strings.TrimSuffix(p, "/tcp"))
			}
		}
		for _, want := range []string{"8080", "9091"} {
			if !slices.Contains(ports, want) {
				t.Errorf("EXPOSE %v lacks %s", ports, want)
			}
		}
	})

	t.Run("OCI labels", func(t *testing.T) {
		labels := map[string]string{}
		for _, l := range commandsOf[*instructions.LabelCommand](final) {
			for _, kv := range l.Labels {
				labels[kv.Key] = kv.Value
			}
		}
		for _, k := range []string{"title", "source", "licenses", "version", "description"} {
			if labels["org.opencontainers.image."+k] == "" {
				t.Errorf("no org.opencontainers.image.%s label", k)
			}
		}
	})

	t.Run("exec-form entrypoint, cmd and healthcheck on the copied binary", func(t *testing.T) {
		bin := ""
		for _, c := range commandsOf[*instructions.CopyCommand](final) {
			if c.From != "" {
				bin = c.DestPath
			}
		}
		if bin == "" {
			t.Fatal("the final stage copies nothing from the build stage")
		}
		eps := commandsOf[*instructions.EntrypointCommand](final)
		if len(eps) == 0 || eps[len(eps)-1].PrependShell || !slices.Equal(eps[len(eps)-1].CmdLine, []string{bin}) {
			t.Errorf("want ENTRYPOINT [%q] in exec form (there is no shell in the image)", bin)
		}
		cmds := commandsOf[*instructions.CmdCommand](final)
		if len(cmds) == 0 || cmds[len(cmds)-1].PrependShell || !slices.Equal(cmds[len(cmds)-1].CmdLine, []string{"serve", "--config", "/etc/gatehouse/gateway.yaml"}) {
			t.Errorf(`want CMD ["serve", "--config", "/etc/gatehouse/gateway.yaml"]`)
		}
		hcs := commandsOf[*instructions.HealthCheckCommand](final)
		if len(hcs) == 0 {
			t.Fatal("no HEALTHCHECK")
		}
		// Exec form is "CMD"; the shell form would be "CMD-SHELL", which
		// needs a shell the image does not have.
		if test := hcs[len(hcs)-1].Health.Test; !slices.Equal(test, []string{"CMD", bin, "healthcheck"}) {
			t.Errorf("HEALTHCHECK %q, want [CMD %s healthcheck]", test, bin)
		}
	})

	t.Run("no remote ADD", func(t *testing.T) {
		for _, s := range df.stages {
			for _, a := range commandsOf[*instructions.AddCommand](s) {
				for _, src := range a.SourcePaths {
					if strings.Contains(src, "://") || strings.HasPrefix(src, "git@") {
						t.Errorf("stage %q: ADD %s: fetch remote files in a RUN with a checksum instead", s.Name, src)
					}
				}
			}
		}
	})
}

// TestDockerfileBuildChecks runs BuildKit's build checks (docker build
// --check) over the Dockerfile and wants none to fire. Base images are
// resolved by a stand-in (offlineResolver), so no registry is contacted.
// These are the checks of the BuildKit version in go.mod; a real build
// uses the frontend the "# syntax" line names, which may know newer ones.
func TestDockerfileBuildChecks(t *testing.T) {
	df := mustParseDockerfile(t)
	// Real builds fail on a check warning too.
	if !regexp.MustCompile(`(?m)^# check=error=true$`).Match(df.src) {
		t.Errorf("the Dockerfile lacks the directive # check=error=true")
	}
	warnings, err := buildChecks(df.src)
	if err != nil {
		t.Errorf("BuildKit cannot convert the Dockerfile: %v", err)
	}
	for _, w := range warnings {
		t.Errorf("build check: %s", w)
	}

	// A control: the same harness on a Dockerfile with known faults must
	// report them, or the pass above proves nothing.
	t.Run("control", func(t *testing.T) {
		bad := "FROM golang:1.26 as build\nENV A 1\nFROM scratch\nCOPY --from=build /x /x\nCMD /x\n"
		warnings, _ := buildChecks([]byte(bad))
		got := strings.Join(warnings, "\n")
		for _, rule := range []string{"FromAsCasing", "LegacyKeyValueFormat", "JSONArgsRecommended"} {
			if !strings.Contains(got, rule+":") {
				t.Errorf("the checks did not report %s; got:\n%s", rule, got)
			}
		}
	})
}

// buildChecks converts a Dockerfile as BuildKit does for a build and
// returns the build checks' warnings ("line N: Rule: message (url)").
func buildChecks(src []byte) ([]string, error) {
	var warnings []string
	_, err := dockerfile2llb.Dockerfile2LLB(context.Background(), src, dockerfile2llb.ConvertOpt{
		MetaResolver: offlineResolver{},
		AllStages:    true,
		Warn: func(rule, _, url, msg string, loc []parser.Range) {
			line := 0
			if len(loc) > 0 {
				line = loc[0].Start.Line
			}
			warnings = append(warnings, fmt.Sprintf("line %d: %s: %s (%s)", line, rule, msg, url))
		},
	})
	return warnings, err
}

// offlineResolver answers every base image with a minimal image config of
// the requested platform, with one layer so it is not taken for scratch.
type offlineResolver struct{}

func (offlineResolver) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	p := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil {
		p = *opt.ImageOpt.Platform
	}
	cfg, err := json.Marshal(ocispecs.Image{
		Platform: p,
		RootFS:   ocispecs.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromString(ref)}},
	})
	return ref, "", cfg, err
}

// TestDockerBuildCommand runs the build stage's go build command and
// checks the binary: it reports the VERSION build argument, and it is
// static (it must run on distroless/static, which has no libc), stripped
// and free of build paths.
func TestDockerBuildCommand(t *testing.T) {
	bin := gatewayBinary(t)
	t.Logf("built in %v", built.took.Round(1e6))

	out, code := runGateway(t, nil, "version")
	if code != 0 || !strings.Contains(out, " "+testVersion+" ") {
		t.Errorf("gateway version = %q (exit %d), want it to report %q", out, code, testVersion)
	}

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a PT_INTERP (dynamic loader): not static")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("DT_NEEDED %v (%v): the binary needs shared libraries", libs, err)
	}
	for _, name := range []string{".symtab", ".debug_info"} {
		if f.Section(name) != nil {
			t.Errorf("the binary has a %s section: -s -w did not apply", name)
		}
	}
	abs, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(abs+"/")) {
		t.Errorf("the binary contains the build directory %s: -trimpath did not apply", abs)
	}
}

// TestHealthcheckCommand checks the subcommand the image's HEALTHCHECK
// runs: exit 0 only when the URL answers 200.
func TestHealthcheckCommand(t *testing.T) {
	var status atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(int(status.Load())) }))
	defer srv.Close()
	for _, tc := range []struct {
		name   string
		status int
		url    string
		ok     bool
	}{
		{"ready", http.StatusOK, srv.URL + "/readyz", true},
		{"draining", http.StatusServiceUnavailable, srv.URL + "/readyz", false},
		{"nothing listening", http.StatusOK, "http://127.0.0.1:1/readyz", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status.Store(int32(tc.status))
			out, code := runGateway(t, nil, "healthcheck", "--url", tc.url)
			if (code == 0) != tc.ok {
				t.Errorf("gateway healthcheck --url %s: exit %d, want success %v\n%s", tc.url, code, tc.ok, out)
			}
		})
	}
}
