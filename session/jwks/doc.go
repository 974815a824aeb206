// Package jwks fetches and caches the public keys of an external token
// issuer (a JSON Web Key Set, RFC 7517 section 5), for verifying the bearer
// tokens it issues.
//
// A Set is built once per configured issuer. It honours the Cache-Control
// max-age of the JWKS answer (bounded by CacheMin and CacheMax), refreshes
// in the background (Run), and fetches again on an unknown kid at most once
// per RefetchInterval, so a flood of made-up kids cannot become a flood of
// requests to the identity provider. Fetches time out and bodies are size
// limited. When the provider is down, cached keys keep working until their
// cache lifetime ends; before the first successful fetch the Set reports
// not ready (Ready) and Run keeps retrying with backoff.
//
// Only signature keys of the asymmetric types Gatehouse verifies are kept:
// RSA (2048 bits or more), EC P-256 and P-384, and OKP Ed25519. Symmetric
// ("oct") keys, keys whose use is not "sig", and keys with an unknown alg
// are ignored, never used.
//
// github.com/coreos/go-oidc/v3's RemoteKeySet was considered: it refetches
// on every unknown kid (no rate limit beyond collapsing concurrent
// fetches), ignores Cache-Control, and has no readiness, so it does not
// meet these rules.
package jwks
