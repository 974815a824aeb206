package main

import (
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"sync/atomic"
	"syscall"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/config/doctor"
	"github.com/gatehouse/gatehouse/proxy"
)

// live is the gateway currently serving, swapped atomically on reload.
// Each request runs entirely on the gateway it started on, so in-flight
// requests finish on the old configuration.
type live struct {
	cur atomic.Pointer[generation]
}

// generation is one loaded configuration and the handlers built from it.
type generation struct {
	cfg   *config.Config
	gw    *proxy.Gateway
	admin http.Handler
}

func newLive(cfg *config.Config, gw *proxy.Gateway) *live {
	l := &live{}
	l.cur.Store(&generation{cfg: cfg, gw: gw, admin: gw.AdminHandler(cfg.Admin.Token)})
	return l
}

func (l *live) ServeHTTP(w http.ResponseWriter, r *http.Request) { l.cur.Load().gw.ServeHTTP(w, r) }

// adminHandler serves the admin listener from the current generation.
func (l *live) adminHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { l.cur.Load().admin.ServeHTTP(w, r) })
}

// drain marks the current gateway as shutting down.
func (l *live) drain() { l.cur.Load().gw.Drain() }

// reload loads the configuration file again and, if it is valid, swaps
// it in. An invalid file is refused with the same errors as at start and
// the running configuration keeps serving. Settings that need a restart
// (listeners, the store, logging) keep their running values, and the
// reload says so.
func (l *live) reload(path string, opts proxy.Options, log *slog.Logger) error {
	old := l.cur.Load()
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name     string
		old, new any
	}{
		{"server", old.cfg.Server, cfg.Server},
		{"admin.listen", old.cfg.Admin.Listen, cfg.Admin.Listen},
		{"store", old.cfg.Store, cfg.Store},
		{"log", old.cfg.Log, cfg.Log},
	} {
		if !reflect.DeepEqual(f.old, f.new) {
			log.Warn("reload: this setting changed but needs a restart; the running value stays", "setting", f.name)
		}
	}
	cfg.Server, cfg.Admin.Listen, cfg.Store, cfg.Log = old.cfg.Server, old.cfg.Admin.Listen, old.cfg.Store, old.cfg.Log
	opts.Previous = old.gw
	gw, err := proxy.New(cfg, opts)
	if err != nil {
		return err
	}
	for _, f := range doctor.Diagnose(cfg) {
		log.Warn("configuration: "+f.Problem, "id", f.ID, "field", f.Field, "fix", f.Fix)
	}
	l.cur.Store(&generation{cfg: cfg, gw: gw, admin: gw.AdminHandler(cfg.Admin.Token)})
	return nil
}

// reloadOnHangup reloads the configuration on SIGHUP until stop is called.
func reloadOnHangup(l *live, path string, opts proxy.Options, log *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				if err := l.reload(path, opts, log); err != nil {
					var problems []string
					for _, fe := range config.FieldErrors(err) {
						problems = append(problems, fe.Error())
					}
					if len(problems) == 0 {
						problems = []string{err.Error()}
					}
					log.Error("reload refused; the previous configuration keeps serving", "problems", problems)
					continue
				}
				log.Info("configuration reloaded", "file", path)
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(hup); close(done) }
}
