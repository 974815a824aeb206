// Command bareproxy is the baseline of the load test (`make bench`): a
// plain httputil.ReverseProxy with a pooled, keep-alive upstream
// transport, doing nothing but proxy. Issue #9's budgets are ratios to it.
package main

import (
	"flag"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:0", "listen `address`")
	upstream := flag.String("upstream", "", "upstream `URL`")
	flag.Parse()
	target, err := url.Parse(*upstream)
	if err != nil || target.Host == "" {
		log.Fatalf("bareproxy: --upstream must be an absolute URL, got %q", *upstream)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		// The same pool sizes as the gateway's defaults
		// (upstream.max_idle_conns_per_host: 128).
		Transport: &http.Transport{
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 128,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	srv := &http.Server{Addr: *addr, Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
