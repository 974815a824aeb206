// Command upstream is the app behind the proxies in the load test
// (`make bench`): a fixed small answer, plus X-Seen-User echoing the
// identity header it received, so the load driver can check that the
// gateway injected it.
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"time"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:0", "listen `address`")
	flag.Parse()
	body := "hello from the upstream\n"
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if u := r.Header.Get("X-Auth-User"); u != "" {
			w.Header().Set("X-Seen-User", u)
		}
		_, _ = io.WriteString(w, body)
	})
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
