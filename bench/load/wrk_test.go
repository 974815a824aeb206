package main

import (
	"testing"
	"time"
)

// A wrk 4.1 report, as printed with --latency.
const wrkReport = `Running 5s test @ http://127.0.0.1:40000/orders/17
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.52ms    4.07ms  55.72ms   90.12%
    Req/Sec     4.06k   512.33     5.01k    71.00%
  Latency Distribution
     50%    2.74ms
     75%    3.90ms
     90%    6.01ms
     99%   10.60ms
  40412 requests in 5.00s, 6.32MB read
Requests/sec:   8072.41
Transfer/sec:      1.26MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk([]byte(wrkReport))
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{requests: 40412, rps: 8072.41, p50: 2740 * time.Microsecond, p99: 10600 * time.Microsecond}
	if r != want {
		t.Errorf("parseWrk = %+v, want %+v", r, want)
	}
	withErrors := wrkReport + "  Non-2xx or 3xx responses: 12\n"
	if r, _ := parseWrk([]byte(withErrors)); r.errors == "" {
		t.Error("non-2xx responses not reported")
	}
	if _, err := parseWrk([]byte("unable to connect to 127.0.0.1:1 Connection refused\n")); err == nil {
		t.Error("a report without results parsed")
	}
}

func TestParseWrkDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"812.00us": 812 * time.Microsecond, "1.23ms": 1230 * time.Microsecond,
		"2.00s": 2 * time.Second, "1.50m": 90 * time.Second,
	} {
		if got, err := parseWrkDuration(in); err != nil || got != want {
			t.Errorf("parseWrkDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}
