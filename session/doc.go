// Package session is the session authority: signing keys and the JWKS,
// minting and verifying access tokens, and the cookie and bearer transport
// (the one place that knows the cookie's name and attributes).
//
// Verification returns a *Principal or an error that matches one of the
// sentinels below with errors.Is; the HTTP layer (package proxy) turns
// those into status codes and error codes.
package session
