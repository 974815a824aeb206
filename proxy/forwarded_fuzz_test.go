package proxy

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

// FuzzForwarded is the parsing of what a peer says about the client and
// the original request: X-Forwarded-For for the client IP, the forwarded
// method, URI and host for forward-auth, and the X-Forwarded-* the
// upstream gets. Invariants: no panic; an untrusted peer's client IP is
// the peer; a trusted peer's is an address that is not a trusted proxy, or
// the peer; a rebuilt original request has a token method and an
// absolute path; the upstream is told exactly the host the policy judges;
// the upstream's forwarding headers from an untrusted peer carry nothing
// the client wrote. Seeds are also in
// testdata/fuzz/FuzzForwarded.
func FuzzForwarded(f *testing.F) {
	f.Add("10.0.0.1:1234", "1.2.3.4, 10.0.0.2", "GET", "/app?x=1", "", "app.example.com", "")
	f.Add("192.0.2.9:1", "evil, 1.2.3.4", "POST", "", "/public", "", "http://h/x")
	f.Add("[::ffff:10.0.0.1]:80", "::ffff:10.0.0.3,,", "g e t", "//x", "/y", "a:b", "")
	f.Add("10.0.0.1:1", "1.2.3.4", "GET", "/admin", "/public", "", "")
	f.Add("garbage", "", "", "", "", "", "http://[::1")
	tr, err := newTrust([]string{"10.0.0.0/24", "::1"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, remote, xff, method, fwdURI, origURI, fwdHost, origURL string) {
		r := httptest.NewRequest("GET", "/.auth/verify", nil)
		r.RemoteAddr = remote
		h := r.Header
		for name, v := range map[string]string{"X-Forwarded-For": xff, "X-Forwarded-Method": method, "X-Forwarded-Uri": fwdURI,
			"X-Original-URI": origURI, "X-Forwarded-Host": fwdHost, "X-Original-URL": origURL} {
			if v != "" {
				h[http.CanonicalHeaderKey(name)] = strings.Split(v, "\n")
			}
		}
		trusted := tr.trusted(r)
		peer, peerOK := peerIP(r)
		ip := tr.clientIP(r, trusted)
		switch {
		case !trusted && peerOK && ip != peer.String():
			t.Fatalf("untrusted peer %q: client IP %q from X-Forwarded-For %q", remote, ip, xff)
		case trusted && ip != peer.String():
			a, err := netip.ParseAddr(ip)
			if err != nil || tr.contains(a) || !strings.Contains(xff, strings.TrimPrefix(ip, "::ffff:")) && !strings.Contains(xff, ip) {
				t.Fatalf("trusted peer %q, X-Forwarded-For %q: client IP %q", remote, xff, ip)
			}
		}

		if o, err := originalRequest(r); err == nil {
			if !config.IsToken(o.Method) || !strings.HasPrefix(o.URL.Path, "/") && o.URL.Path != "" || !strings.HasPrefix(o.RequestURI, "/") {
				t.Fatalf("original request %q %q (path %q) accepted", o.Method, o.RequestURI, o.URL.Path)
			}
			if fwdURI != "" && origURI != "" && fwdURI != origURI {
				t.Fatalf("conflicting URIs %q and %q accepted", fwdURI, origURI)
			}
		}

		out := http.Header{}
		for k, v := range h {
			out[k] = v
		}
		tr.setForwarded(r, out, trusted)
		if got, judged := out.Get("X-Forwarded-Host"), tr.originalHost(r, trusted); got != judged || strings.Contains(got, ",") {
			t.Fatalf("the upstream is told host %q, the policy judges %q", got, judged)
		}
		if !trusted && peerOK {
			if got := out.Get("X-Forwarded-For"); strings.Contains(got, ",") || (xff != "" && got != remote && strings.Contains(got, xff)) {
				t.Fatalf("untrusted peer: upstream X-Forwarded-For %q from client %q", got, xff)
			}
			if got := out.Get("X-Forwarded-Host"); got != r.Host {
				t.Fatalf("untrusted peer: upstream X-Forwarded-Host %q, want the Host %q", got, r.Host)
			}
			for _, n := range []string{"X-Forwarded-Uri", "X-Original-URI", "X-Original-URL", "X-Forwarded-Method"} {
				if len(out.Values(n)) != 0 {
					t.Fatalf("untrusted peer: upstream %s %q", n, out.Values(n))
				}
			}
		}
	})
}
