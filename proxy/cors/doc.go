// Package cors answers cross-origin resource sharing for the gateway in one
// place, from a Policy compiled once from config.CORS. It follows the CORS
// protocol of the Fetch Standard (https://fetch.spec.whatwg.org/#http-cors-protocol).
//
// Guarantees, for an enabled Policy (one with allowed origins):
//
//   - An origin is compared in canonical form (config.CanonicalOrigin):
//     scheme and host in lower case, the default port and a trailing dot
//     removed. A value with a path, query, fragment or userinfo is not an
//     origin and is never allowed. "null", the origin of sandboxed frames
//     and opaque documents, is allowed only when listed literally. A
//     pattern https://*.example.com matches subdomains at any depth with
//     the same scheme and port, never example.com itself.
//   - A preflight (an OPTIONS request with Origin and
//     Access-Control-Request-Method; https://fetch.spec.whatwg.org/#cors-preflight-request)
//     is answered by Preflight with 204 and MUST NOT be forwarded. It
//     carries Access-Control-Allow-* headers only when the origin, the
//     method and every requested header are allowed; otherwise it carries
//     none, which makes the browser's CORS-preflight fetch fail
//     (https://fetch.spec.whatwg.org/#cors-preflight-fetch) so the actual
//     request is never sent.
//   - An actual response gets exactly one Access-Control-Allow-Origin, equal
//     to the request's Origin and never "*": with credentials the CORS
//     check requires the value to equal the request's origin and
//     Access-Control-Allow-Credentials to be "true", and a list of values
//     fails it (https://fetch.spec.whatwg.org/#cors-check,
//     https://fetch.spec.whatwg.org/#cors-protocol-and-credentials).
//   - Unless keep_upstream_headers is set, every Access-Control-* header
//     the upstream sent is removed first, so an app that reflects any
//     origin cannot widen the configured policy (this holds even with no
//     allowed origins).
//   - Every response says Vary: Origin, added to the upstream's Vary,
//     because the answer depends on the Origin header
//     (https://fetch.spec.whatwg.org/#cors-protocol-and-http-caches).
//
// Methods are compared case-sensitively, as the CORS-preflight fetch does
// after normalising only DELETE, GET, HEAD, OPTIONS, POST and PUT
// (https://fetch.spec.whatwg.org/#concept-method-normalize), so "patch" is
// not "PATCH". Header names are compared ignoring case.
//
// CORS decides what scripts may read; it does not stop a browser from
// sending a simple cross-origin request. Cross-site request forgery is
// refused elsewhere, with net/http.CrossOriginProtection trusting
// ExactOrigins.
package cors
