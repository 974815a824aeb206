package proxy

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestBufferPool(t *testing.T) {
	bp := newBufferPool()
	b := bp.Get()
	if len(b) != copyBufferSize {
		t.Fatalf("Get = %d bytes, want %d", len(b), copyBufferSize)
	}
	bp.Put(b[:10]) // a resliced buffer comes back full size
	if got := bp.Get(); len(got) != copyBufferSize {
		t.Fatalf("after Put of a reslice, Get = %d bytes", len(got))
	}
	bp.Put(make([]byte, 100)) // too small: dropped, never handed out
	for range 10 {
		if got := bp.Get(); len(got) != copyBufferSize {
			t.Fatalf("a small buffer was handed out: %d bytes", len(got))
		}
	}
}

// TestLargeBodiesThroughThePool: bodies larger than one copy buffer, both
// ways, arrive intact and in order through the pooled reverse proxy,
// request after request.
func TestLargeBodiesThroughThePool(t *testing.T) {
	env := newTestEnv(t)
	body := bytes.Repeat([]byte("0123456789abcdef"), 3*copyBufferSize/16+7)
	env.up.h = func(w http.ResponseWriter, r *http.Request) {
		got, _ := io.ReadAll(r.Body)
		w.Write(got) // echo
	}
	for i := range 5 {
		in := append([]byte{byte('a' + i)}, body...)
		r := httptest.NewRequest(http.MethodPost, "/public/echo", bytes.NewReader(in))
		r.Header.Set("Origin", "http://example.com") // same origin as the request
		res := env.do(r)
		got, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || !bytes.Equal(got, in) {
			t.Fatalf("request %d: status %d, body %d bytes (want %d, equal %v)", i, res.StatusCode, len(got), len(in), bytes.Equal(got, in))
		}
	}
}
