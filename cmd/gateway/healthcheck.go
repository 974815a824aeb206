package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// cmdHealthcheck probes the admin listener's /readyz (or --url) and exits
// 0 when it answers 200: a HEALTHCHECK for images without a shell or curl.
func cmdHealthcheck(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:9091/readyz", "`URL` to probe")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	res, err := (&http.Client{Timeout: *timeout}).Get(*url)
	if err != nil {
		fmt.Fprintf(stderr, "gateway healthcheck: %v\n", err)
		return 1
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "gateway healthcheck: %s answered %s\n", *url, res.Status)
		return 1
	}
	return 0
}
