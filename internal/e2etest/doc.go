// Package e2etest is the harness the end-to-end suites (e2e and
// e2e/attack) share: it builds the gateway binary once per test binary,
// runs it as a process and waits for its listeners, finds the external
// programs a test drives (nginx, Caddy, node) and runs the forward-auth
// proxies with their recipes.
//
// Everything is real: the gateway is the binary built from cmd/gateway
// (with -race, so a data race a test provokes fails the run), and the
// proxies are the installed nginx and Caddy. A program a test needs but
// cannot find skips the test, except when CI is set, where a skip would be
// a false pass and fails it instead.
//
// The package holds no state: TestMain keeps the binary's path (Main hands
// it over) and passes it to Start and Run.
package e2etest
