// Package session is the session authority: signing keys and the JWKS,
// minting and verifying access tokens, and the cookie and bearer transport
// (the one place that knows the cookie's name and attributes).
//
// Bearer tokens of external issuers (identity providers) are verified here
// too: Issuers routes a bearer token by its iss before any key is looked
// up, External verifies one issuer's tokens against its remote key set
// (package session/jwks) and maps their claims (Mapping), and
// Manager.VerifyBearer applies the same revocation list to them. Asserter
// signs the identity assertion the proxy hands to upstreams.
//
// Verification returns a *Principal or an error that matches one of the
// sentinels below with errors.Is; the HTTP layer (package proxy) turns
// those into status codes and error codes.
package session
