package proxy

import (
	"net/http"
	"strings"
)

// keepOnlyWebSocketUpgrade removes a protocol upgrade other than WebSocket
// from the request to the upstream. httputil.ReverseProxy relays any
// Upgrade the upstream accepts; after "Upgrade: h2c" and a 101 the client
// would hold a connection to the app on which it could send any request,
// with no policy decision in between (h2c smuggling, issue #10). Without
// the header the upstream answers the request as the plain request it is
// (curl --http2 sends h2c upgrades on http:// URLs, so it is not refused).
func keepOnlyWebSocketUpgrade(h http.Header) {
	if foreignUpgrade(h) {
		h.Del("Upgrade")
		h.Del("Connection")
	}
}

// foreignUpgrade reports whether h asks for a protocol upgrade other than
// WebSocket. In forward-auth the gateway cannot remove the header, and a
// proxy that relays upgrades (Caddy's reverse_proxy does) would open the
// same tunnel, so verify refuses such a request instead.
func foreignUpgrade(h http.Header) bool {
	up := h.Get("Upgrade")
	return up != "" && !strings.EqualFold(up, "websocket")
}
