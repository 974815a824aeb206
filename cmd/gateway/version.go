package main

import (
	"runtime"
	"runtime/debug"
)

// buildVersion describes this binary: the -X version, else the module
// version recorded by the go command, plus the Go version.
func buildVersion() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return v + " (" + runtime.Version() + ")"
}
