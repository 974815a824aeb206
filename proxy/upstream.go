package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

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
}

type forwardKey struct{}

// newTransport builds the pooled transport to one upstream. It ignores
// HTTP_PROXY and friends: an upstream is reached directly.
func newTransport(c config.Upstream) *http.Transport {
	d := &net.Dialer{Timeout: c.DialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext:           d.DialContext,
		ResponseHeaderTimeout: c.ResponseHeaderTimeout,
		IdleConnTimeout:       c.IdleConnTimeout,
		MaxIdleConns:          c.MaxIdleConnsPerHost * 2,
		MaxIdleConnsPerHost:   c.MaxIdleConnsPerHost,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// newReverseProxy builds the reverse proxy to target. It uses Rewrite, not
// Director: with Director a client can make the proxy drop headers the
// gateway added by naming them in Connection (golang/go#50580).
func (g *Gateway) newReverseProxy(target *url.URL, c config.Upstream) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			f := pr.In.Context().Value(forwardKey{}).(*forward)
			out := pr.Out
			// Strip before inject: nothing the client said about identity
			// or its own address survives, in any spelling.
			g.headers.strip(out.Header)
			g.trust.setForwarded(pr.In, out.Header, f.req.trusted)
			g.cookies.StripFrom(out.Header)
			if f.dropAuthz {
				out.Header.Del("Authorization")
			}
			if f.principal != nil {
				g.headers.inject(out.Header, f.principal)
			}
			out.Header.Set(requestIDHeader, f.req.id)
			// The upstream serves exactly the path the policy matched.
			out.URL.Path, out.URL.RawPath = f.path, ""
			pr.SetURL(target)
		},
		Transport:      metrics.InstrumentTransport(newTransport(c), g.metrics),
		ModifyResponse: g.modifyResponse,
		ErrorHandler:   g.upstreamError,
		ErrorLog:       nil,
	}
}

// modifyResponse removes any Set-Cookie by which the upstream would
// overwrite the gateway's session cookie, and turns an upstream grant into
// a session.
func (g *Gateway) modifyResponse(res *http.Response) error {
	g.co.cors.Decorate(res.Header, res.Request.Header.Get("Origin"))
	g.dropSessionCookies(res)
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
// or did not answer in time (504).
func (g *Gateway) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away; nobody to answer
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		g.metrics.UpstreamError(metrics.UpstreamTimeout)
		g.writeError(w, r, &Error{Status: http.StatusGatewayTimeout, Code: CodeUpstreamTimeout, Message: "The application did not answer in time.", Err: err})
		return
	}
	g.metrics.UpstreamError(metrics.UpstreamUnavailable)
	g.writeError(w, r, &Error{Status: http.StatusBadGateway, Code: CodeUpstreamUnavailable, Message: "The application is unavailable.", Err: fmt.Errorf("upstream: %w", err)})
}
