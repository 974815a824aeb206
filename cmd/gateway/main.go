// Command gateway is Gatehouse: a session gateway that runs as a reverse
// proxy or sidecar in front of an application.
//
// Usage:
//
//	gateway serve --config FILE      run the gateway
//	gateway check --config FILE      validate a configuration and explain problems
//	gateway demo [--listen ADDR]     run on embedded defaults with a demo app
//	gateway keygen [--alg ALG]       print a new signing key (PEM)
//	gateway hash-password            hash a password read from stdin (argon2id)
//	gateway sessions list --user U   list a user's sessions (admin API)
//	gateway revoke --session S       revoke a session, a user or a jti (admin API)
//	gateway recipe PROXY             print forward-auth configuration for nginx, caddy or traefik
//	gateway healthcheck              probe the admin /readyz (for container HEALTHCHECKs)
//	gateway version                  print the version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: gateway <command> [flags]

commands:
  serve --config FILE     run the gateway
  check --config FILE     validate a configuration and explain every problem
  demo [--listen ADDR]    run on embedded defaults (in-memory, generated key, demo app)
  keygen [--alg ALG]      write a new signing key as PEM (EdDSA, ES256 or RS256)
  hash-password           read a password on stdin, print its argon2id hash
  sessions list --user U  list a user's sessions (admin API)
  revoke --session S | --user U | --jti J
                          revoke through the admin API
  recipe nginx|caddy|traefik [--config FILE]
                          print the proxy configuration for forward-auth
  healthcheck [--url U]   exit 0 when the admin /readyz answers 200
  version                 print the version

Run "gateway <command> -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches a subcommand and returns the process exit code: 0 on
// success, 1 when the command failed, 2 for a usage error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stderr)
	case "check":
		return cmdCheck(rest, stdout, stderr)
	case "demo":
		return cmdDemo(ctx, rest, stdout, stderr)
	case "keygen":
		return cmdKeygen(rest, stdout, stderr)
	case "hash-password":
		return cmdHashPassword(rest, stdin, stdout, stderr)
	case "sessions":
		return cmdSessions(rest, stdout, stderr)
	case "revoke":
		return cmdRevoke(rest, stdout, stderr)
	case "recipe":
		return cmdRecipe(rest, stdout, stderr)
	case "healthcheck":
		return cmdHealthcheck(rest, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "gatehouse %s\n", buildVersion())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "gateway: unknown command %q\n\n%s", cmd, usage)
	return 2
}
