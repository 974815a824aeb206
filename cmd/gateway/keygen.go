package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gatehouse/gatehouse/session"
)

func cmdKeygen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	alg := fs.String("alg", "EdDSA", "key algorithm: EdDSA, ES256 or RS256")
	out := fs.String("out", "", "write the key to this `file` (mode 0600) instead of stdout")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	k, err := session.GenerateKey(*alg)
	if err != nil {
		fmt.Fprintf(stderr, "gateway keygen: %v\n", err)
		return 2
	}
	pem, err := k.PrivatePEM()
	if err != nil {
		fmt.Fprintf(stderr, "gateway keygen: %v\n", err)
		return 1
	}
	if *out == "" {
		_, _ = stdout.Write(pem)
	} else if err := writeNewFile(*out, pem); err != nil {
		fmt.Fprintf(stderr, "gateway keygen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "generated %s key, kid %s\n", k.Alg(), k.ID())
	return 0
}

// writeNewFile writes a secret to a file that must not exist yet, readable
// only by its owner: keygen never overwrites a key.
func writeNewFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
