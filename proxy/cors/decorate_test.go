package cors

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"reflect"
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

// upstreamCORS is what an app that manages CORS badly sends.
func upstreamCORS() http.Header {
	return http.Header{
		"Access-Control-Allow-Origin":      {"*"},
		"Access-Control-Allow-Credentials": {"false"},
		"Access-Control-Expose-Headers":    {"X-Internal"},
		"Access-Control-Max-Age":           {"86400"},
		"Content-Type":                     {"application/json"},
		"Vary":                             {"Accept-Encoding"},
	}
}

func TestDecorate(t *testing.T) {
	const origin = "https://app.example.com"
	const exposed = "X-Request-Id, WWW-Authenticate, Retry-After, X-Total-Count"

	base := conf(origin)
	base.ExposedHeaders = []string{"X-Total-Count", "retry-after"}
	keep := base
	keep.KeepUpstreamHeaders = true
	noCredentials := base
	noCredentials.AllowCredentials = new(false)
	disabled := conf()
	disabledKeep := conf()
	disabledKeep.KeepUpstreamHeaders = true

	tests := []struct {
		name   string
		c      config.CORS
		in     http.Header
		origin string
		want   http.Header
	}{
		{"upstream CORS replaced", base, upstreamCORS(), origin, http.Header{
			"Access-Control-Allow-Origin":      {origin},
			"Access-Control-Allow-Credentials": {"true"},
			"Access-Control-Expose-Headers":    {exposed},
			"Content-Type":                     {"application/json"},
			"Vary":                             {"Accept-Encoding", "Origin"},
		}},
		{"gateway's own response", base, http.Header{"Content-Type": {"text/plain"}}, origin, http.Header{
			"Access-Control-Allow-Origin":      {origin},
			"Access-Control-Allow-Credentials": {"true"},
			"Access-Control-Expose-Headers":    {exposed},
			"Content-Type":                     {"text/plain"},
			"Vary":                             {"Origin"},
		}},
		{"without credentials", noCredentials, upstreamCORS(), origin, http.Header{
			"Access-Control-Allow-Origin":   {origin},
			"Access-Control-Expose-Headers": {exposed},
			"Content-Type":                  {"application/json"},
			"Vary":                          {"Accept-Encoding", "Origin"},
		}},
		{"origin not allowed: upstream CORS still removed", base, upstreamCORS(), "https://evil.example", http.Header{
			"Content-Type": {"application/json"},
			"Vary":         {"Accept-Encoding", "Origin"},
		}},
		{"no Origin header", base, upstreamCORS(), "", http.Header{
			"Content-Type": {"application/json"},
			"Vary":         {"Accept-Encoding", "Origin"},
		}},
		{"any spelling of Access-Control-", base, http.Header{"access-control-allow-origin": {"*"}, "ACCESS-CONTROL-MAX-AGE": {"1"}}, "", http.Header{
			"Vary": {"Origin"},
		}},
		{"keep upstream headers", keep, upstreamCORS(), origin, func() http.Header {
			h := upstreamCORS()
			h["Vary"] = []string{"Accept-Encoding", "Origin"}
			return h
		}()},
		{"keep upstream headers, gateway's own response", keep, http.Header{"Access-Control-Max-Age": {"5"}}, origin, http.Header{
			"Access-Control-Allow-Origin":      {origin},
			"Access-Control-Allow-Credentials": {"true"},
			"Access-Control-Expose-Headers":    {exposed},
			"Access-Control-Max-Age":           {"5"},
			"Vary":                             {"Origin"},
		}},
		{"disabled: upstream CORS removed, no Vary", disabled, upstreamCORS(), origin, http.Header{
			"Content-Type": {"application/json"},
			"Vary":         {"Accept-Encoding"},
		}},
		{"disabled with keep: untouched", disabledKeep, upstreamCORS(), origin, upstreamCORS()},

		{"Vary already lists origin", base, http.Header{"Vary": {"Accept-Encoding, origin"}}, "", http.Header{"Vary": {"Accept-Encoding, origin"}}},
		{"Vary lists Origin on a second line", base, http.Header{"Vary": {"Accept", " Origin "}}, "", http.Header{"Vary": {"Accept", " Origin "}}},
		{"Vary *", base, http.Header{"Vary": {"*"}}, "", http.Header{"Vary": {"*"}}},
		{"Vary names a longer field", base, http.Header{"Vary": {"Origin-Agent-Cluster"}}, "", http.Header{"Vary": {"Origin-Agent-Cluster", "Origin"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.in.Clone()
			mustNew(t, tt.c).Decorate(h, tt.origin)
			if !reflect.DeepEqual(h, tt.want) {
				t.Errorf("headers:\n got %v\nwant %v", h, tt.want)
			}
		})
	}
}

// TestDecorateValuesAreIndependent checks that the values Decorate sets
// share no storage an append could overwrite.
func TestDecorateValuesAreIndependent(t *testing.T) {
	h := http.Header{}
	mustNew(t, conf("https://app.example.com")).Decorate(h, "https://app.example.com")
	h.Add("Access-Control-Allow-Origin", "https://other.example")
	h.Add("Access-Control-Allow-Credentials", "x")
	if got := h.Get("Access-Control-Allow-Credentials"); got != "true" {
		t.Errorf("Access-Control-Allow-Credentials = %q after an append to the origin", got)
	}
	if got := h.Get("Access-Control-Expose-Headers"); got != "X-Request-Id, WWW-Authenticate, Retry-After" {
		t.Errorf("Access-Control-Expose-Headers = %q after appends", got)
	}
}

// TestDecorateProxied runs Decorate where the gateway will: in
// ReverseProxy.ModifyResponse, on an upstream that sends its own CORS
// headers.
func TestDecorateProxied(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range upstreamCORS() {
			w.Header()[k] = v
		}
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin")) // reflects anyone
		w.Write([]byte(`{}`))
	}))
	defer upstream.Close()
	target, err := url.Parse(upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := mustNew(t, conf("https://app.example.com"))
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) },
		ModifyResponse: func(resp *http.Response) error {
			p.Decorate(resp.Header, resp.Request.Header.Get("Origin"))
			return nil
		},
	}
	gateway := httptest.NewServer(rp)
	defer gateway.Close()

	tests := []struct {
		origin   string
		wantACAO []string
		wantACAC []string
	}{
		{"https://app.example.com", []string{"https://app.example.com"}, []string{"true"}},
		{"https://evil.example", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, gateway.URL+"/api", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Origin", tt.origin)
			resp, err := gateway.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Values("Access-Control-Allow-Origin"); !reflect.DeepEqual(got, tt.wantACAO) {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.wantACAO)
			}
			if got := resp.Header.Values("Access-Control-Allow-Credentials"); !reflect.DeepEqual(got, tt.wantACAC) {
				t.Errorf("Access-Control-Allow-Credentials = %q, want %q", got, tt.wantACAC)
			}
			if got := resp.Header.Values("Access-Control-Max-Age"); got != nil {
				t.Errorf("upstream Access-Control-Max-Age = %q survived", got)
			}
			if got, want := resp.Header.Values("Vary"), []string{"Accept-Encoding", "Origin"}; !reflect.DeepEqual(got, want) {
				t.Errorf("Vary = %q, want %q", got, want)
			}
		})
	}
}
