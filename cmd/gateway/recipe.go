package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/internal/recipe"
)

// cmdRecipe writes a forward-auth recipe for a proxy, from the gateway's
// configuration (docs/forward-auth.md).
func cmdRecipe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("recipe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the gateway's configuration `file`; without it, the defaults")
	var o recipe.Options
	fs.StringVar(&o.Gateway, "gateway", "127.0.0.1:8080", "the gateway's `host:port`, as the proxy reaches it")
	fs.StringVar(&o.App, "app", "127.0.0.1:3000", "the app's `host:port`, as the proxy reaches it")
	fs.StringVar(&o.Host, "host", "app.example.com", "the site's host `name` (Caddy: any site address, such as http://:8081)")
	fs.StringVar(&o.Listen, "listen", "", "nginx's listen `address` or port (default 80)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: gateway recipe {%s} [flags]\n\nWrites the proxy configuration for forward-auth, with every identity header of the gateway's configuration.\n\n", strings.Join(recipe.Proxies(), "|"))
		fs.PrintDefaults()
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs.Usage()
		return 2
	}
	proxy := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gateway recipe: unexpected %q\n", fs.Arg(0))
		return 2
	}
	cfg := config.Default()
	if *path != "" {
		c, err := config.Load(*path)
		if err != nil {
			reportProblems(stderr, *path, err)
			return 1
		}
		cfg = *c
	}
	if err := recipe.Write(stdout, proxy, &cfg, o); err != nil {
		fmt.Fprintf(stderr, "gateway recipe: %v\n", err)
		return 2
	}
	return 0
}
