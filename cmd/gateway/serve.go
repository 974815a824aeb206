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
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/proxy"
)

// shutdownGrace bounds how long in-flight requests may take after SIGTERM.
const shutdownGrace = 15 * time.Second

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
	gw, err := proxy.New(cfg, proxy.Options{Logger: log})
	if err != nil {
		reportProblems(stderr, *path, err)
		return 1
	}
	stopReload := reloadOnHangup(gw, log)
	defer stopReload()
	if err := listenAndServe(ctx, cfg.Server, gw, log); err != nil {
		log.Error("server failed", "err", err)
		return 1
	}
	return 0
}

// reloadOnHangup re-reads the users file on SIGHUP. A bad file is refused
// and the old users keep working.
func reloadOnHangup(gw *proxy.Gateway, log *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				if err := gw.ReloadUsers(); err != nil {
					log.Error("reload refused; keeping the previous users", "err", err)
					continue
				}
				log.Info("reloaded users file")
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(hup); close(done) }
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration `file` (YAML)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" {
		fmt.Fprintln(stderr, "gateway check: --config FILE is required")
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
	fmt.Fprintf(stdout, "%s: OK\n  listen:   %s\n  upstream: %s\n  keys:     %d\n  rules:    %d (default: %s)\n",
		*path, cfg.Server.Listen, cfg.Upstream.URL, len(cfg.Keys), len(cfg.Policy.Rules), cfg.Policy.Default)
	return 0
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

// listenAndServe runs h on the public listener until ctx is done, then
// shuts down gracefully.
func listenAndServe(ctx context.Context, c config.Server, h http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("server.listen: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout:       c.ReadTimeout,
		WriteTimeout:      c.WriteTimeout,
		IdleTimeout:       c.IdleTimeout,
		MaxHeaderBytes:    c.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("listening", "addr", ln.Addr().String())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
