package attack

import (
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/e2etest"
)

// The forward-auth proxies, run with the recipes `gateway recipe` writes
// for the gateway under attack (docs/forward-auth.md), run by
// internal/e2etest as e2e runs them.

// proxyRecipe is one proxy in front of the gateway.
type proxyRecipe struct {
	name, bin string
	// host is the --host of `gateway recipe` for a proxy on port.
	host func(port int) string
	// start runs the proxy with the recipe until the test ends, once it
	// accepts connections on addr.
	start func(t testing.TB, bin, recipe, addr string)
}

var proxyRecipes = []proxyRecipe{
	{name: "nginx", bin: "/usr/sbin/nginx", host: func(int) string { return "_" }, start: e2etest.StartNginx},
	{name: "caddy", bin: "/usr/bin/caddy", host: func(port int) string { return "http://:" + strconv.Itoa(port) }, start: e2etest.StartCaddy},
}

// proxyEnv is a gateway in forward-auth mode behind a real proxy, with the
// recording app behind the same proxy.
type proxyEnv struct {
	*env
	proxy string // host:port of the proxy
}

func newProxyEnv(t *testing.T, r proxyRecipe) *proxyEnv {
	t.Helper()
	bin := e2etest.FindProgram(t, r.name, "`apt-get install "+r.name+"`", r.bin)
	e := newEnv(t, envOptions{extra: "trusted_proxies: [127.0.0.1]\n"})
	port := e2etest.FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	recipe := runGateway(t, "", "recipe", r.name, "--config", e.cfg, "--gateway", e.addr,
		"--app", strings.TrimPrefix(e.up.URL, "http://"), "--host", r.host(port), "--listen", addr)
	r.start(t, bin, recipe, addr)
	return &proxyEnv{env: e, proxy: addr}
}
