// Package e2e holds end-to-end tests: they build the real gateway binary,
// start it with real configuration files in front of real upstream
// servers, and check what the client and the upstream saw.
//
// The harness (building the binary in TestMain, running it and the
// forward-auth proxies, finding the programs a test drives) is
// internal/e2etest, shared with the attacker suite e2e/attack.
package e2e
