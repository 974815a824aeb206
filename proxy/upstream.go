package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"time"

	"log/slog"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/proxy/metrics"
	"github.com/gatehouse/gatehouse/session"
)

// forward is what the request path decided, handed to the Rewrite hook
// through the request context.
type forward struct {
	path      string // canonical path: what the policy matched, and what the upstream gets
	principal *session.Principal
	dropAuthz bool          // the Authorization header was the gateway's to consume
	req       *reqContext   // request id, trusted peer, client IP
	in        *http.Request // the client's request, for a grant login
	route     *route        // the matched rule's route: headers, prefix, CORS
}

type forwardKey struct{}

// newTransport builds the pooled transport to one upstream. It ignores
// HTTP_PROXY and friends: an upstream is reached directly.
func newTransport(c config.Upstream) *http.Transport {
	d := &net.Dialer{Timeout: c.DialTimeout, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		DialContext:           d.DialContext,
		ResponseHeaderTimeout: c.ResponseHeaderTimeout,
		IdleConnTimeout:       c.IdleConnTimeout,
		MaxIdleConns:          c.MaxIdleConnsPerHost * 2,
		MaxIdleConnsPerHost:   c.MaxIdleConnsPerHost,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	if c.HTTP2 {
		// HTTP/2 only: without HTTP1 in the set, an http:// upstream gets
		// unencrypted HTTP/2 with prior knowledge (net/http.Protocols).
		var p http.Protocols
		p.SetHTTP2(true)
		p.SetUnencryptedHTTP2(true)
		t.Protocols = &p
	}
	return t
}

// newReverseProxy builds the reverse proxy to target, over transport (one
// per upstream, built once). It uses Rewrite, not Director: with Director
// a client can make the proxy drop headers the gateway added by naming
// them in Connection (golang/go#50580). The matched route, carried in the
// request context, says which identity headers to set and what prefix to
// strip.
func (g *Gateway) newReverseProxy(conn *upstreamConn) *httputil.ReverseProxy {
	target := conn.target
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			f := pr.In.Context().Value(forwardKey{}).(*forward)
			rt, out := f.route, pr.Out
			// Strip before inject: nothing the client said about identity
			// or its own address survives, in any spelling.
			rt.headers.strip(out.Header)
			keepOnlyWebSocketUpgrade(out.Header)
			stripMethodOverride(out.Header)
			g.trust.setForwarded(pr.In, out.Header, f.req.trusted)
			g.cookies.StripFrom(out.Header)
			stripStateCookies(out.Header)
			if f.dropAuthz && !rt.passAuthz {
				out.Header.Del("Authorization")
			}
			if f.principal != nil {
				rt.headers.inject(out.Header, f.principal)
				if err := g.assertion.set(out.Header, f.principal, rt.audience); err != nil {
					g.log.Error("identity assertion not added", "err", err)
				}
			}
			for _, h := range rt.set {
				out.Header[h.name] = []string{h.value}
			}
			out.Header.Set(requestIDHeader, f.req.id)
			// The upstream serves exactly the path the policy matched,
			// less the route's prefix, which it learns from
			// X-Forwarded-Prefix (after any a trusted proxy set).
			path := f.path
			if rt.strip != "" {
				path = stripPrefix(path, rt.strip)
				out.Header.Set("X-Forwarded-Prefix", strings.TrimSuffix(out.Header.Get("X-Forwarded-Prefix"), "/")+rt.strip)
			}
			out.URL.Path, out.URL.RawPath = path, ""
			pr.SetURL(target)
		},
		Transport:      metrics.InstrumentTransport(conn.transport, conn.metrics),
		BufferPool:     g.buffers,
		ModifyResponse: func(res *http.Response) error { return g.modifyResponse(res, target.Host) },
		ErrorHandler:   g.upstreamError,
		ErrorLog:       slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
}

// modifyResponse removes any Set-Cookie by which the upstream would
// overwrite the gateway's session cookie, turns an upstream grant into
// a session, and, for a route that strips a prefix and asks for it, puts
// the prefix back into Location and Set-Cookie paths.
func (g *Gateway) modifyResponse(res *http.Response, upstreamHost string) error {
	f := res.Request.Context().Value(forwardKey{}).(*forward)
	rt := f.route
	rt.co.cors.Decorate(res.Header, res.Request.Header.Get("Origin"))
	g.dropSessionCookies(res)
	if rt.rewrite {
		rewritePrefixed(res.Header, rt.strip, upstreamHost, f.in.Host)
	}
	g.acceptGrant(res) // after the drop: it sets the session cookie itself
	return nil
}

// dropSessionCookies removes upstream Set-Cookie headers that name the
// session cookie.
func (g *Gateway) dropSessionCookies(res *http.Response) {
	sc := res.Header.Values("Set-Cookie")
	if len(sc) == 0 {
		return
	}
	kept := sc[:0:0]
	for _, v := range sc {
		name, _, _ := strings.Cut(v, "=")
		if strings.TrimSpace(name) == g.cookies.Name() {
			g.log.Warn("dropped upstream Set-Cookie for the session cookie", "name", g.cookies.Name())
			continue
		}
		kept = append(kept, v)
	}
	if len(kept) != len(sc) {
		res.Header.Del("Set-Cookie")
		for _, v := range kept {
			res.Header.Add("Set-Cookie", v)
		}
	}
}

// upstreamError answers for an upstream that could not be reached (502)
// or did not answer in time (504), with the CORS settings of the request's
// route, and logs which upstream it was.
func (g *Gateway) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away; nobody to answer
	}
	co, name := g.co, "default"
	var um *metrics.Upstream
	if f, ok := r.Context().Value(forwardKey{}).(*forward); ok {
		co = f.route.co
		if f.route.conn != nil {
			name, um = f.route.conn.name, f.route.conn.metrics
		}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		um.Error(metrics.UpstreamTimeout)
		g.writeErrorCORS(w, r, co, &Error{Status: http.StatusGatewayTimeout, Code: CodeUpstreamTimeout, Message: "The application did not answer in time.", Err: fmt.Errorf("upstream %s: %w", name, err)})
		return
	}
	um.Error(metrics.UpstreamUnavailable)
	g.writeErrorCORS(w, r, co, &Error{Status: http.StatusBadGateway, Code: CodeUpstreamUnavailable, Message: "The application is unavailable.", Err: fmt.Errorf("upstream %s: %w", name, err)})
}
