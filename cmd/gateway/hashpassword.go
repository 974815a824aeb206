package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/gatehouse/gatehouse/session/userfile"
)

// cmdHashPassword reads a password from stdin (one line) and prints its
// argon2id hash for the users file. The password never appears in the
// process list or shell history.
func cmdHashPassword(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hash-password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gateway hash-password < password.txt   (or type it, then Enter)")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	h, err := userfile.HashPasswordFrom(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "gateway hash-password: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, h)
	return 0
}
