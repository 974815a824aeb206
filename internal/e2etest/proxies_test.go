package e2etest

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
)

func TestFreePort(t *testing.T) {
	port := FreePort(t)
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("FreePort gave %d, which cannot be listened on: %v", port, err)
	}
	l.Close()
}

// TestStartProxies runs the real nginx and Caddy with a one-line recipe and
// reads its answer through them.
func TestStartProxies(t *testing.T) {
	for _, c := range []struct {
		name, fallback string
		start          func(t testing.TB, bin, recipe, addr string)
		recipe         func(addr string) string
	}{
		{"nginx", "/usr/sbin/nginx", StartNginx, func(addr string) string {
			return "server { listen " + addr + "; location / { return 200 'from nginx'; } }\n"
		}},
		{"caddy", "/usr/bin/caddy", StartCaddy, func(addr string) string {
			return "http://" + addr + " {\n\trespond \"from caddy\"\n}\n"
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			bin := FindProgram(t, c.name, "`apt-get install "+c.name+"`", c.fallback)
			addr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
			c.start(t, bin, c.recipe(addr), addr)
			res, err := http.Get("http://" + addr + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || string(body) != "from "+c.name {
				t.Errorf("through %s: %d %q, want 200 %q", c.name, res.StatusCode, body, "from "+c.name)
			}
		})
	}
}

func TestLockedBuffer(t *testing.T) {
	var b LockedBuffer
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("x"))
				_ = b.String() // read while others write: -race checks it
			}
		})
	}
	wg.Wait()
	if n := len(b.String()); n != 400 {
		t.Errorf("len = %d, want 400", n)
	}
}
