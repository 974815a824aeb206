package proxy

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// requestIDHeader carries the request id to the client and the upstream.
const requestIDHeader = "X-Request-Id"

// forwardedHeaders are the headers by which a peer describes the original
// client. They are believed only from trusted proxies; from anyone else they
// are removed in every spelling, and the gateway sets its own.
var forwardedHeaders = []string{
	"forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto",
	"x-forwarded-port", "x-forwarded-prefix", "x-forwarded-uri", "x-forwarded-method",
	"x-forwarded-server", "x-forwarded-ssl", "x-real-ip", "x-original-uri",
	"x-original-url", "x-original-method", "x-original-host", "x-client-ip",
	"true-client-ip", "cf-connecting-ip",
}

// trust decides which peers' forwarding headers are believed.
type trust struct {
	prefixes  []netip.Prefix
	forwarded map[string]bool // folded names of forwardedHeaders
}

func newTrust(cidrs []string) (*trust, error) {
	t := &trust{forwarded: map[string]bool{}}
	for _, h := range forwardedHeaders {
		t.forwarded[h] = true
	}
	for i, c := range cidrs {
		if !strings.Contains(c, "/") {
			a, err := netip.ParseAddr(c)
			if err != nil {
				return nil, fmt.Errorf("trusted_proxies[%d]: %w", i, err)
			}
			t.prefixes = append(t.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("trusted_proxies[%d]: %w", i, err)
		}
		t.prefixes = append(t.prefixes, p.Masked())
	}
	return t, nil
}

// peerIP is the address of the TCP peer (not what any header claims).
func peerIP(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// trusted reports whether the request's peer is a trusted proxy.
func (t *trust) trusted(r *http.Request) bool {
	if len(t.prefixes) == 0 {
		return false
	}
	a, ok := peerIP(r)
	return ok && t.contains(a)
}

// setForwarded writes the X-Forwarded-* headers of the outgoing request.
// From an untrusted peer, every client-sent forwarding header (any
// spelling) is dropped and the gateway states what it saw itself; from a
// trusted proxy, the chain it reports is kept and the peer appended.
func (t *trust) setForwarded(in *http.Request, out http.Header, trusted bool) {
	if !trusted {
		for name := range out {
			if t.forwarded[fold(name)] {
				delete(out, name)
			}
		}
	}
	peer, _, err := net.SplitHostPort(in.RemoteAddr)
	if err != nil {
		peer = in.RemoteAddr
	}
	xff := peer
	if trusted {
		// ReverseProxy removed Forwarded before Rewrite; a trusted
		// proxy's copy is passed on.
		if v := in.Header.Values("Forwarded"); len(v) > 0 {
			out["Forwarded"] = v
		}
		if prior := in.Header.Values("X-Forwarded-For"); len(prior) > 0 {
			xff = strings.Join(prior, ", ") + ", " + peer
		}
	}
	out.Set("X-Forwarded-For", xff)

	host, proto := t.originalHost(in, trusted), "http"
	if in.TLS != nil {
		proto = "https"
	}
	if trusted {
		if v := in.Header.Get("X-Forwarded-Proto"); v == "http" || v == "https" {
			proto = v
		}
	}
	out.Set("X-Forwarded-Host", host)
	out.Set("X-Forwarded-Proto", proto)
}

// originalHost is the host the client asked for: the X-Forwarded-Host a
// trusted proxy states (its last entry, when proxies appended a list: the
// one the nearest trusted proxy wrote), else Host. The policy judges this
// host and the upstream is told exactly this one (setForwarded), so a
// host rule cannot be skipped by a Host and an X-Forwarded-Host that
// disagree (issue #10).
func (t *trust) originalHost(r *http.Request, trusted bool) string {
	if trusted {
		if v := r.Header.Get("X-Forwarded-Host"); v != "" {
			if i := strings.LastIndexByte(v, ','); i >= 0 {
				v = v[i+1:]
			}
			return strings.TrimSpace(v)
		}
	}
	return r.Host
}

// requestID returns the id of this request: the one a trusted proxy sent,
// if it is sane, or a new random one.
func requestID(r *http.Request, trusted bool) string {
	if trusted {
		if v := r.Header.Get(requestIDHeader); v != "" && len(v) <= 128 && strings.IndexFunc(v, isCtl) < 0 {
			return v
		}
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// clientIP is the address of the client: the peer, or, when the peer is a
// trusted proxy, the right-most X-Forwarded-For entry that is not itself a
// trusted proxy (entries further left could have been written by anyone).
func (t *trust) clientIP(r *http.Request, trusted bool) string {
	peer, _ := peerIP(r)
	if !trusted {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !t.contains(a) {
			return a.String()
		}
	}
	return peer.String()
}

func (t *trust) contains(a netip.Addr) bool {
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
