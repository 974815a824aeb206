package attack

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/e2etest"
)

// proxyEnv is a gateway in forward-auth mode behind a real proxy (nginx
// or Caddy, e2etest.ForwardAuthProxies) running the recipe `gateway
// recipe` writes for it, with the recording app behind the same proxy.
type proxyEnv struct {
	*env
	proxy string // host:port of the proxy
}

func newProxyEnv(t *testing.T, p e2etest.ForwardAuthProxy) *proxyEnv {
	t.Helper()
	e := newEnv(t, envOptions{extra: "trusted_proxies: [127.0.0.1]\n"})
	addr := p.Start(t, gatewayBin, e.cfg, e.addr, strings.TrimPrefix(e.up.URL, "http://"))
	return &proxyEnv{env: e, proxy: addr}
}
