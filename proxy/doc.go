// Package proxy is Gatehouse's HTTP layer: the request path in front of the
// upstream (canonicalise, authenticate, decide, strip and inject identity
// headers, reverse-proxy), the gateway's own endpoints under the auth
// prefix, and the one place that turns errors into HTTP responses.
//
// Decisions are made elsewhere — session verifies credentials, policy
// decides — so this package only adapts them to requests and writers.
package proxy
