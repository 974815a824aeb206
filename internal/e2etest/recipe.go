package e2etest

import (
	"strconv"
	"testing"
)

// ForwardAuthProxy is a reverse proxy that puts the gateway in front of an
// app in forward-auth mode, run with the configuration `gateway recipe`
// writes (docs/forward-auth.md).
type ForwardAuthProxy struct {
	// Name is the proxy as `gateway recipe` and the OS package name it.
	Name string
	// bin is where Debian installs it; PATH is tried first.
	bin string
	// host is the recipe's --host for a proxy on port: a site that
	// answers whatever Host a request names.
	host func(port int) string
	// start runs the proxy with the recipe until the test ends, once it
	// accepts connections on addr.
	start func(t testing.TB, bin, recipe, addr string)
}

// ForwardAuthProxies returns the proxies the suites run: nginx and Caddy.
func ForwardAuthProxies() []ForwardAuthProxy {
	return []ForwardAuthProxy{
		{Name: "nginx", bin: "/usr/sbin/nginx", host: func(int) string { return "_" }, start: StartNginx},
		{Name: "caddy", bin: "/usr/bin/caddy", host: func(port int) string { return "http://:" + strconv.Itoa(port) }, start: StartCaddy},
	}
}

// Start finds the proxy's program (see FindProgram), has the gateway
// binary gatewayBin write the proxy's recipe for the configuration file
// cfgFile, with the gateway at gatewayAddr and the app at appAddr, and
// runs the proxy with it on a free loopback port until the test ends. It
// returns the proxy's host:port.
func (p ForwardAuthProxy) Start(t testing.TB, gatewayBin, cfgFile, gatewayAddr, appAddr string) string {
	t.Helper()
	bin := FindProgram(t, p.Name, "`apt-get install "+p.Name+"`", p.bin)
	port := FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	recipe, stderr, code := Run(t, gatewayBin, "", "recipe", p.Name, "--config", cfgFile,
		"--gateway", gatewayAddr, "--app", appAddr, "--host", p.host(port), "--listen", addr)
	if code != 0 {
		t.Fatalf("gateway recipe %s: exit %d\n%s", p.Name, code, stderr)
	}
	p.start(t, bin, recipe, addr)
	return addr
}
