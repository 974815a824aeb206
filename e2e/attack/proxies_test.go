package attack

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/e2etest"
)

// The forward-auth proxies, run with the recipes of docs/forward-auth.md
// (e2e/testdata/forward-auth, which e2e.TestForwardAuthRecipesInDocs keeps
// identical to the doc), run by internal/e2etest as e2e runs them.

// proxyRecipe is one proxy in front of the gateway.
type proxyRecipe struct {
	name, bin, template string
	values              func(gateway, app string, port int) map[string]string
	// start runs the proxy with the recipe until the test ends, once it
	// accepts connections on addr.
	start func(t testing.TB, bin, recipe, addr string)
}

var proxyRecipes = []proxyRecipe{
	{
		name: "nginx", bin: "/usr/sbin/nginx", template: "nginx.conf",
		values: func(gateway, app string, port int) map[string]string {
			return map[string]string{"{{gateway}}": gateway, "{{app}}": app, "{{listen}}": "127.0.0.1:" + strconv.Itoa(port), "{{server_name}}": "_"}
		},
		start: e2etest.StartNginx,
	},
	{
		name: "caddy", bin: "/usr/bin/caddy", template: "Caddyfile",
		values: func(gateway, app string, port int) map[string]string {
			return map[string]string{"{{gateway}}": gateway, "{{app}}": app, "{{site}}": "http://:" + strconv.Itoa(port)}
		},
		start: e2etest.StartCaddy,
	},
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
	tmpl, err := os.ReadFile(filepath.Join("..", "testdata", "forward-auth", r.template))
	if err != nil {
		t.Fatal(err)
	}
	port := e2etest.FreePort(t)
	recipe := string(tmpl)
	for k, v := range r.values(e.addr, strings.TrimPrefix(e.up.URL, "http://"), port) {
		recipe = strings.ReplaceAll(recipe, k, v)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	r.start(t, bin, recipe, addr)
	return &proxyEnv{env: e, proxy: addr}
}
