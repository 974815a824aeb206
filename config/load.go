package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"

	"go.yaml.in/yaml/v3"
)

// ParseOptions are the inputs of Parse besides the file's bytes.
type ParseOptions struct {
	// LookupEnv resolves ${VAR} references. Nil means os.LookupEnv; tests
	// pass a map lookup instead of changing the process environment.
	LookupEnv func(string) (string, bool)
	// BaseDir is the directory relative *_file paths are read from. Empty
	// means the working directory. Load sets it to the config file's
	// directory.
	BaseDir string
}

// Load reads the YAML file at path and returns its validated
// configuration. Relative *_file paths in it are read from the file's
// directory, and ${VAR} references are resolved from the environment.
// Errors are as for Parse; they do not repeat path, which the caller
// prints once.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, ParseOptions{BaseDir: filepath.Dir(path)})
}

// Parse decodes a YAML configuration onto Default(), resolves ${VAR}
// references and *_file secrets, and validates the result.
//
// An empty document is every default (which then fails validation only
// for what has no default, such as upstream.url and keys). Every problem
// is reported, joined with errors.Join; each is a *FieldError naming the
// key's YAML path and, where the file has it, the line. Retrieve them with
// FieldErrors. Input that is not YAML, or whose top level is not a
// mapping, is a single plain error instead.
//
// Parse reads only the *_file paths the document names, and writes
// nothing.
func Parse(data []byte, opts ParseOptions) (*Config, error) {
	root, err := parseDocument(data)
	if err != nil {
		return nil, err
	}
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}

	cfg := Default()
	x := &expander{lookup: lookup}
	d := newDecoder()
	if root != nil {
		x.tree(root, "")
		d.decode("", root, reflect.ValueOf(&cfg).Elem())
	}
	found := append(x.problems, d.problems...)
	slices.SortStableFunc(found, func(a, b lineProblem) int { return cmp.Compare(a.line, b.line) })
	var errs []error
	for _, p := range found {
		errs = append(errs, p.fe)
	}
	// Files are read even when the document has problems, so that one run
	// reports a missing key file alongside a typo.
	fileErrs := cfg.readFiles(opts.BaseDir)
	addLines(fileErrs, d.lines)
	errs = append(errs, fileErrs...)
	if len(errs) > d.unknown {
		// Validating a partly decoded file would add problems that are
		// only echoes of these. Unknown keys are different: everything
		// else was decoded, so all problems are reported in one run.
		return nil, errors.Join(errs...)
	}
	if err := cfg.Validate(); err != nil {
		addLines([]error{err}, d.lines)
		for _, fe := range FieldErrors(err) {
			errs = append(errs, fe)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &cfg, nil
}

// parseDocument parses data into its top-level mapping, or nil when the
// document is empty (or only comments, or null).
func parseDocument(data []byte) (*yaml.Node, error) {
	root, err := SingleDocument(data, "the configuration")
	if err != nil {
		if bytes.Contains(data, []byte("${")) {
			// "{" and "}" are flow indicators: [${A}] is a syntax error.
			return nil, fmt.Errorf("config: %w (inside [...] or {...}, quote values that contain ${VAR})", err)
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	if root == nil {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config: line %d: the top level must be a mapping of keys such as server: and upstream:, not %s",
			root.Line, describeNode(root))
	}
	return root, nil
}

// addLines prefixes the problems in errs with the line that set their
// field, when the file set it.
func addLines(errs []error, lines map[string]int) {
	for _, fe := range FieldErrors(errors.Join(errs...)) {
		if line, ok := lines[fe.Field]; ok {
			fe.Problem = fmt.Sprintf("line %d: %s", line, fe.Problem)
		}
	}
}
