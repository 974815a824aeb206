package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/config/doctor"
	"github.com/gatehouse/gatehouse/policy"
	"github.com/gatehouse/gatehouse/proxy"
)

func cmdServe(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration `file` (YAML)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" {
		fmt.Fprintln(stderr, "gateway serve: --config FILE is required (try `gateway demo` to run without one)")
		return 2
	}
	cfg, err := config.Load(*path)
	if err != nil {
		reportProblems(stderr, *path, err)
		return 1
	}
	log := newLogger(stderr, cfg.Log)
	for _, f := range doctor.Diagnose(cfg) {
		log.Warn("configuration: "+f.Problem, "id", f.ID, "field", f.Field, "browser", f.Browser, "fix", f.Fix)
	}
	store, closeStore, err := openStore(cfg.Store)
	if err != nil {
		reportProblems(stderr, *path, err)
		return 1
	}
	defer closeStore.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opts := proxy.Options{Logger: log, Store: store, Metrics: reg, Version: buildVersion()}
	gw, err := proxy.New(cfg, opts)
	if err != nil {
		reportProblems(stderr, *path, err)
		return 1
	}
	if err := gw.Start(ctx); err != nil {
		// Not fatal: the gateway applies store.unavailable until the
		// store answers, like during any other outage.
		log.Error("session store unreachable at start", "err", err, "store", cfg.Store.Type)
	}
	current := newLive(cfg, gw)
	stopReload := reloadOnHangup(current, *path, opts, log)
	defer stopReload()
	var public http.Handler = current
	if cfg.Log.Access {
		public = proxy.AccessLog(current, log)
	}
	ls := []listener{{"public", cfg.Server, public}}
	if cfg.Admin.Listen != "" {
		admin := cfg.Server
		admin.Listen = cfg.Admin.Listen
		ls = append(ls, listener{"admin", admin, current.adminHandler()})
	}
	drain := func() {
		current.drain()
		if d := cfg.Server.DrainDelay; d > 0 {
			log.Info("draining: readiness is false; closing the listener after the drain delay", "delay", d.String())
			time.Sleep(d)
		}
	}
	if err := listenAndServe(ctx, log, cfg.Server.ShutdownTimeout, drain, ls...); err != nil {
		log.Error("server failed", "err", err)
		return 1
	}
	return 0
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration `file` (YAML)")
	explain := fs.String("explain", "", "explain which rule a request would match and why: --explain `METHOD` URL")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// "--explain GET URL --config FILE": flags may follow the URL too.
	rest := fs.Args()
	if len(rest) > 1 {
		if err := fs.Parse(rest[1:]); err != nil {
			return 2
		}
		rest = append(rest[:1], fs.Args()...)
	}
	if *path == "" {
		fmt.Fprintln(stderr, "gateway check: --config FILE is required")
		return 2
	}
	if (*explain == "") != (len(rest) == 0) || len(rest) > 1 {
		fmt.Fprintln(stderr, "gateway check: use --explain METHOD URL, such as --explain GET https://app.example.com/admin")
		return 2
	}
	cfg, err := config.Load(*path)
	if err == nil {
		_, err = proxy.New(cfg, proxy.Options{})
	}
	if err != nil {
		reportProblems(stdout, *path, err)
		return 1
	}
	engine, err := policy.Compile(cfg.Policy)
	if err != nil { // proxy.New compiled it already
		reportProblems(stdout, *path, err)
		return 1
	}
	if *explain != "" {
		if err := explainRequest(stdout, cfg, engine, *explain, rest[0]); err != nil {
			fmt.Fprintf(stderr, "gateway check: %v\n", err)
			return 2
		}
		return 0
	}
	fmt.Fprintf(stdout, "%s: OK\n  listen:   %s\n  upstream: %s\n  store:    %s\n  keys:     %d\n  rules:    %d (default: %s)\n",
		*path, cfg.Server.Listen, orNone(cfg.Upstream.URL), cfg.Store.Type, len(cfg.Keys), len(cfg.Policy.Rules), cfg.Policy.Default)
	printRoutes(stdout, cfg, engine)
	if fs := doctor.Diagnose(cfg); len(fs) > 0 {
		fmt.Fprintf(stdout, "\n%d finding(s) — valid, but probably not what you want:\n", len(fs))
		for _, f := range fs {
			fmt.Fprintf(stdout, "  - %s\n", f)
		}
	}
	return 0
}

// orNone is s, or "(none)" when s is empty.
func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// reportProblems prints every configuration problem on its own line.
func reportProblems(w io.Writer, path string, err error) {
	fes := config.FieldErrors(err)
	if len(fes) == 0 {
		fmt.Fprintf(w, "%s: %v\n", path, err)
		return
	}
	fmt.Fprintf(w, "%s: %d problem(s):\n", path, len(fes))
	for _, fe := range fes {
		fmt.Fprintf(w, "  - %s\n", fe.Error())
	}
}

// newLogger builds the process logger from the log section.
func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(c.Format, "text") {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// listener is one HTTP server the gateway runs.
type listener struct {
	name    string // "public" or "admin", for logs
	cfg     config.Server
	handler http.Handler
}

// listenAndServe binds every listener first — so a taken port fails the
// start, before anything is served — then serves them all until ctx is
// done. Then it calls drain (nil: none) and shuts the servers down,
// giving in-flight requests up to grace to finish.
func listenAndServe(ctx context.Context, log *slog.Logger, grace time.Duration, drain func(), ls ...listener) error {
	var srvs []*http.Server
	var lns []net.Listener
	for _, l := range ls {
		ln, err := net.Listen("tcp", l.cfg.Listen)
		if err != nil {
			for _, o := range lns {
				o.Close()
			}
			return fmt.Errorf("%s listener %s: %w", l.name, l.cfg.Listen, err)
		}
		lns = append(lns, ln)
		srvs = append(srvs, &http.Server{
			Handler:           l.handler,
			ReadHeaderTimeout: l.cfg.ReadHeaderTimeout,
			ReadTimeout:       l.cfg.ReadTimeout,
			WriteTimeout:      l.cfg.WriteTimeout,
			IdleTimeout:       l.cfg.IdleTimeout,
			MaxHeaderBytes:    l.cfg.MaxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		})
	}
	done := make(chan error, len(srvs))
	for i, srv := range srvs {
		log.Info("listening", "listener", ls[i].name, "addr", lns[i].Addr().String())
		go func() { done <- srv.Serve(lns[i]) }()
	}
	var first error
	select {
	case first = <-done: // a server failed on its own
	case <-ctx.Done():
	}
	log.Info("shutting down")
	if drain != nil && first == nil {
		drain()
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	for _, srv := range srvs {
		if err := srv.Shutdown(sctx); err != nil && first == nil {
			first = fmt.Errorf("shutdown: %w", err)
		}
	}
	if errors.Is(first, http.ErrServerClosed) {
		first = nil
	}
	return first
}
