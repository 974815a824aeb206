package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

// TestUpstreamHTTP2: upstream.http2 speaks h2c (prior knowledge) to an
// http:// upstream; off, the gateway speaks HTTP/1.1 with keep-alive.
func TestUpstreamHTTP2(t *testing.T) {
	h2c := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	h2c.Config.Protocols = &p
	h2c.Start()
	t.Cleanup(h2c.Close)

	for _, tt := range []struct {
		http2 bool
		want  string
	}{{false, "HTTP/1.1"}, {true, "HTTP/2.0"}} {
		env := newTestEnv(t, func(c *config.Config) {
			c.Upstream.URL = h2c.URL
			c.Upstream.HTTP2 = tt.http2
		})
		for i := range 3 {
			res := env.do(httptest.NewRequest(http.MethodGet, "/public/proto", nil))
			got, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK || string(got) != tt.want {
				t.Errorf("http2=%v request %d: status %d, upstream saw %q, want %q", tt.http2, i, res.StatusCode, got, tt.want)
			}
		}
	}
}
