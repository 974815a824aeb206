// Command load is `make bench`: the end-to-end load test of issue #9.
//
// It builds the gateway, a bare httputil.ReverseProxy (bench/bareproxy)
// and a small upstream (bench/upstream), starts them on loopback, checks
// that every gateway configuration refuses missing, forged, expired and
// wrong-audience tokens (and will not load one that does not), then runs
// wrk against each case in interleaved rounds and prints a table:
// requests/s, p50/p99 latency, CPU per request (from /proc/<pid>/stat),
// peak RSS (VmHWM) and the ratios to the bare proxy in the same round.
//
//	go run ./bench/load -duration 5s -rounds 3
//
// The numbers are only as quiet as the machine: run it on an otherwise
// idle host, and compare ratios (same round, same load) rather than
// absolute figures. docs/performance.md has the method and the latest
// table.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"time"
)

func main() {
	duration := flag.Duration("duration", 5*time.Second, "wrk duration per case per round")
	rounds := flag.Int("rounds", 3, "interleaved rounds over all cases")
	conns := flag.Int("conns", 32, "wrk connections")
	threads := flag.Int("threads", 2, "wrk threads")
	flag.Parse()
	if _, err := exec.LookPath("wrk"); err != nil {
		log.Fatal("load: wrk is not installed (scripts/test-deps.sh wrk, or apt-get install wrk)")
	}
	if err := run(*duration, *rounds, *conns, *threads); err != nil {
		log.Fatalf("load: %v", err)
	}
}

func run(duration time.Duration, rounds, conns, threads int) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "gatehouse-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Fprintln(os.Stderr, "building gateway, bare proxy and upstream ...")
	bins, err := build(dir)
	if err != nil {
		return err
	}
	km, err := writeKey(dir)
	if err != nil {
		return err
	}
	good, bad, err := tokens(km)
	if err != nil {
		return err
	}

	var procs []*proc
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	launch := func(name, bin, probe string, args ...string) (*proc, error) {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		args = append([]string{"--listen", addr}, args...)
		p, err := start(ctx, name, addr, bin, "http://"+addr+probe, args...)
		if err == nil {
			procs = append(procs, p)
		}
		return p, err
	}
	up, err := launch("upstream", bins["upstream"], "/")
	if err != nil {
		return err
	}
	upURL := "http://" + up.addr
	bare, err := launch("bareproxy", bins["bareproxy"], "/", "--upstream", upURL)
	if err != nil {
		return err
	}
	gateway := func(name string, cacheSize int, extra string) (*proc, error) {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		cfg, err := gatewayConfig(dir, name, addr, upURL, km, cacheSize, extra)
		if err != nil {
			return nil, err
		}
		p, err := start(ctx, name, addr, bins["gateway"], "http://"+addr+"/.auth/jwks.json", "serve", "--config", cfg)
		if err == nil {
			procs = append(procs, p)
		}
		return p, err
	}
	gwCache, err := gateway("gateway-cache", 4096, "")
	if err != nil {
		return err
	}
	gwNoCache, err := gateway("gateway-nocache", 0, "")
	if err != nil {
		return err
	}
	// The external bearer rows have gateways of their own, with an
	// issuers: entry whose JWKS the driver serves; the rows above keep
	// the configuration without one.
	idp, err := startIdP()
	if err != nil {
		return err
	}
	defer idp.srv.Close()
	extCache, err := gateway("gateway-ext-cache", 4096, idp.issuersConfig())
	if err != nil {
		return err
	}
	extNoCache, err := gateway("gateway-ext-nocache", 0, idp.issuersConfig())
	if err != nil {
		return err
	}

	cases := []*benchCase{
		{name: "direct upstream", proc: up, url: upURL + "/orders/17"},
		{name: "bare proxy", proc: bare, url: "http://" + bare.addr + "/orders/17"},
	}
	addWith := func(good string, bad map[string]string, name string, p *proc, path string, place func(string) []string, served func(*http.Response) error, minRPS, maxP99, maxCPU float64) {
		url := "http://" + p.addr + path
		cases = append(cases, &benchCase{
			name: name, proc: p, url: url, headers: place(good),
			minRPS: minRPS, maxP99: maxP99, maxCPU: maxCPU,
			check: refusalCheck(url, place(good), place, bad, served),
		})
	}
	add := func(name string, p *proc, path string, place func(string) []string, served func(*http.Response) error, minRPS, maxP99, maxCPU float64) {
		addWith(good, bad, name, p, path, place, served, minRPS, maxP99, maxCPU)
	}
	add("gateway cookie session", gwCache, "/orders/17", cookieHeader(cookieName), seenUser, 0.85, 1.1, 1.3)
	add("gateway cookie session, cache off", gwNoCache, "/orders/17", cookieHeader(cookieName), seenUser, 0.6, 0, 0)
	add("gateway own bearer", gwCache, "/orders/17", bearerHeader, seenUser, 0.85, 1.1, 1.3)
	add("gateway own bearer, cache off", gwNoCache, "/orders/17", bearerHeader, seenUser, 0.6, 0, 0)
	// External issuers (#7): the same path with a token of an external
	// issuer, verified against its JWKS (ES256, then RS256). Issue #9
	// budgets their throughput only; cache on, they are also held to the
	// own bearer's p99 and CPU budgets (the same path once verified).
	for _, kid := range []string{"es", "rs"} {
		extGood, extBad, err := idp.tokens(kid)
		if err != nil {
			return err
		}
		alg := extAlgs[kid]
		addWith(extGood, extBad, "gateway external bearer "+alg+", cache on", extCache, "/orders/17", bearerHeader, seenUser, 0.85, 1.1, 1.3)
		addWith(extGood, extBad, "gateway external bearer "+alg+", cache off", extNoCache, "/orders/17", bearerHeader, seenUser, 0.6, 0, 0)
	}
	add("forward-auth verify (cookie)", gwCache, "/.auth/verify", withForward(cookieHeader(cookieName)), verifiedUser, 0, 0, 0)

	for _, c := range cases {
		if c.check == nil {
			continue
		}
		if err := c.check(); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
	}
	fmt.Fprintln(os.Stderr, "refusal checks passed: missing, forged, expired and wrong-audience tokens get 401 from every gateway case")

	loadBefore := loadAvg()
	res, err := measure(cases, duration, rounds, conns, threads)
	if err != nil {
		return err
	}
	printTable(os.Stdout, cases, res, tableInfo{
		duration: duration, rounds: rounds, conns: conns, threads: threads,
		goVersion: runtime.Version(), when: time.Now().UTC(), loadBefore: loadBefore, loadAfter: loadAvg(),
	})
	return nil
}
