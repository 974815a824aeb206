// Package e2e holds end-to-end tests: they build the real gateway binary,
// start it with real configuration files in front of real upstream
// servers, and check what the client and the upstream saw.
package e2e
