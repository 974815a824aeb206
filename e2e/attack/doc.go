// Package attack is the attacker's test suite (issue #10): it builds the
// real gateway binary, runs it in proxy mode in front of a recording
// upstream and in forward-auth mode behind real nginx and Caddy, and sends
// it the requests that have produced advisories in comparable products —
// forged identity headers, forwarded headers from strangers, path
// spellings that the gateway and the app read differently, open
// redirects, token algorithm confusion, cookie tossing, refresh reuse.
//
// Every case states the request sent (raw bytes over TCP where a client
// library would normalise it), the status expected and what MUST NOT reach
// the upstream; a refused request MUST show zero upstream requests. The
// families live in one file each (tokens, headers, paths, upgrade,
// smuggling, trusted, browser, sessions, forwardauth; the harness in
// main, env, harness, forge and proxies, on top of internal/e2etest, which
// runs the gateway and the proxies for e2e too); docs/security.md explains
// how to add a case.
package attack
