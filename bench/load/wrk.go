package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what one wrk run measured.
type wrkResult struct {
	requests int64
	rps      float64
	p50, p99 time.Duration
	errors   string // non-2xx or socket errors, as wrk printed them
}

// runWrk loads url for d with conns connections on threads threads,
// sending headers ("Name: value").
func runWrk(url string, headers []string, d time.Duration, threads, conns int) (wrkResult, error) {
	args := []string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", d.String(), "--latency"}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	args = append(args, url)
	out, err := exec.Command("wrk", args...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	return parseWrk(out)
}

// parseWrk reads wrk 4's text report.
func parseWrk(out []byte) (wrkResult, error) {
	var r wrkResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "50%") && len(f) == 2:
			r.p50, _ = parseWrkDuration(f[1])
		case strings.HasPrefix(line, "99%") && len(f) == 2:
			r.p99, _ = parseWrkDuration(f[1])
		case strings.Contains(line, "requests in") && len(f) > 0:
			r.requests, _ = strconv.ParseInt(f[0], 10, 64)
		case strings.HasPrefix(line, "Requests/sec:") && len(f) == 2:
			r.rps, _ = strconv.ParseFloat(f[1], 64)
		case strings.HasPrefix(line, "Non-2xx") || strings.HasPrefix(line, "Socket errors"):
			r.errors += line + "; "
		}
	}
	if r.requests == 0 || r.rps == 0 || r.p99 == 0 {
		return r, fmt.Errorf("could not read wrk's report:\n%s", out)
	}
	return r, nil
}

// parseWrkDuration reads wrk's "812.00us", "1.23ms", "2.00s".
func parseWrkDuration(s string) (time.Duration, error) {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"m", time.Minute}, {"s", time.Second}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			return time.Duration(f * float64(u.unit)), err
		}
	}
	return 0, fmt.Errorf("unknown duration %q", s)
}
