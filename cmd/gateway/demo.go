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
	"net/netip"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/session"
	"github.com/gatehouse/gatehouse/session/userfile"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "public `address`; loopback only")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := checkLoopback(*listen); err != nil {
		fmt.Fprintf(stderr, "gateway demo: --listen %s: %v\n", *listen, err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	// The demo upstream: a real server on a loopback port of its own, so
	// requests really cross the reverse proxy.
	appLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(stderr, "gateway demo: %v\n", err)
		return 1
	}
	app := &http.Server{Handler: demoApp(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = app.Serve(appLn) }()
	defer app.Close()

	cfg, err := demoConfig(*listen, "http://"+appLn.Addr().String())
	if err != nil {
		fmt.Fprintf(stderr, "gateway demo: %v\n", err)
		return 1
	}
	users, err := demoUsers()
	if err != nil {
		fmt.Fprintf(stderr, "gateway demo: %v\n", err)
		return 1
	}
	gw, err := proxy.New(cfg, proxy.Options{Logger: log, Users: func() *userfile.Users { return users }})
	if err != nil {
		fmt.Fprintf(stderr, "gateway demo: %v\n", err)
		return 1
	}
	if err := printDemoTokens(stdout, cfg); err != nil {
		fmt.Fprintf(stderr, "gateway demo: %v\n", err)
		return 1
	}
	if err := listenAndServe(ctx, log, cfg.Server.ShutdownTimeout, nil, listener{"public", cfg.Server, gw}); err != nil {
		log.Error("server failed", "err", err)
		return 1
	}
	return 0
}

// demoConfig is the embedded configuration of `gateway demo`: defaults,
// a freshly generated key, a public area and an admin area.
func demoConfig(listen, upstream string) (*config.Config, error) {
	key, err := session.GenerateKey("EdDSA")
	if err != nil {
		return nil, err
	}
	pem, err := key.PrivatePEM()
	if err != nil {
		return nil, err
	}
	cfg := config.Default()
	cfg.Server.Listen = listen
	cfg.Upstream.URL = upstream
	cfg.Keys = []config.Key{{PrivateKey: string(pem)}}
	cfg.Tokens.AccessTTL = time.Hour
	cfg.Log.Format = "text"
	cfg.Store.Type = "memory"
	cfg.Admin.Listen = ""
	cfg.Policy.Rules = []config.Rule{
		{Name: "public", PathPrefix: "/public", Access: "public"},
		{Name: "admin", PathPrefix: "/admin", RolesAny: []string{"admin"}},
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// demoUsers is the demo's users file: demo / demo.
func demoUsers() (*userfile.Users, error) {
	hash, err := userfile.HashPassword("demo")
	if err != nil {
		return nil, err
	}
	return userfile.Parse([]byte(`users:
  - username: demo
    password_hash: "` + hash + `"
    email: demo@example.test
    roles: [user]
`))
}

// printDemoTokens mints access tokens for the demo user and an admin, and
// says how to use them.
func printDemoTokens(w io.Writer, cfg *config.Config) error {
	keys, err := session.LoadKeySet(cfg.Keys, "")
	if err != nil {
		return err
	}
	tokens, err := session.NewTokens(cfg.Tokens, keys, nil)
	if err != nil {
		return err
	}
	user, _, err := tokens.Mint(session.Identity{Subject: "demo", Email: "demo@example.test", Roles: []string{"user"}}, "demo-session")
	if err != nil {
		return err
	}
	admin, _, err := tokens.Mint(session.Identity{Subject: "admin", Email: "admin@example.test", Roles: []string{"admin", "user"}}, "admin-session")
	if err != nil {
		return err
	}
	base := "http://" + cfg.Server.Listen
	fmt.Fprintf(w, `Gatehouse demo — for trying it out on this machine only (loopback, in-memory, throwaway key).

  gateway:  %[1]s   (app behind it: %[2]s)
  sign in:  %[1]s/ in a browser, as demo / demo

Bearer tokens, valid for %[3]s:
  DEMO=%[4]s
  ADMIN=%[5]s

Try:
  curl -s %[1]s/public/                                   # public: no token needed
  curl -s %[1]s/                                          # 401: who are you?
  curl -s -H "Authorization: Bearer $DEMO" %[1]s/         # the app sees X-Auth-User: demo
  curl -s -H "Authorization: Bearer $DEMO" %[1]s/admin/   # 403: not an admin
  curl -s -H "Authorization: Bearer $ADMIN" %[1]s/admin/  # allowed
  curl -s -H "Authorization: Bearer $DEMO" -H "X-Auth-User: root" %[1]s/   # forged header is stripped

`, base, cfg.Upstream.URL, cfg.Tokens.AccessTTL, user, admin)
	return nil
}

// checkLoopback refuses a demo listener reachable from other machines.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "localhost" {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return errors.New("the demo serves a well-known user and a throwaway key, so it listens on loopback only (e.g. 127.0.0.1:8080)")
	}
	return nil
}
