package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// tableInfo is the context printed above the table.
type tableInfo struct {
	duration       time.Duration
	rounds         int
	conns, threads int
	goVersion      string
	when           time.Time
	// loadBefore and loadAfter are /proc/loadavg's 1-minute figure
	// before the first round and after the last: how quiet the machine
	// was. The driver's own load (wrk and the servers) is part of it.
	loadBefore, loadAfter string
}

// loadAvg returns the 1-minute load average, or "?".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// printTable writes the Markdown table docs/performance.md shows: medians
// over rounds, and each budget's verdict.
func printTable(w io.Writer, cases []*benchCase, res results, info tableInfo) {
	fmt.Fprintf(w, "Run %s on %s (%d CPUs, %s, %s); wrk -t%d -c%d, %s per case, %d interleaved rounds; medians. Load average (1 min) %s before, %s after.\n\n",
		info.when.Format("2006-01-02 15:04 MST"), cpuModel(), runtime.NumCPU(), kernel(), info.goVersion,
		info.threads, info.conns, info.duration, info.rounds, info.loadBefore, info.loadAfter)
	fmt.Fprintln(w, "| case | req/s | p50 | p99 | CPU µs/req | peak RSS | req/s vs bare | p99 vs bare | CPU vs bare | budget |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, c := range cases {
		s := res.samples[c]
		get := func(f func(sample) float64) float64 { return median(s, f) }
		rps := get(func(x sample) float64 { return x.rps })
		p50 := time.Duration(get(func(x sample) float64 { return float64(x.p50) }))
		p99 := time.Duration(get(func(x sample) float64 { return float64(x.p99) }))
		cpu := get(func(x sample) float64 { return x.cpuUS })
		xRPS := get(func(x sample) float64 { return x.xRPS })
		xP99 := get(func(x sample) float64 { return x.xP99 })
		xCPU := get(func(x sample) float64 { return x.xCPU })
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %.0f | %.1f MB | %.2fx | %.2fx | %.2fx | %s |\n",
			c.name, rps, round(p50), round(p99), cpu, float64(res.rss[c])/(1<<20), xRPS, xP99, xCPU, verdict(c, xRPS, xP99, xCPU, res.rss[c]))
	}
}

// verdict states the case's budgets and whether the medians meet them.
func verdict(c *benchCase, xRPS, xP99, xCPU float64, rss int64) string {
	var parts []string
	check := func(ok bool, s string) {
		mark := "ok"
		if !ok {
			mark = "MISSED"
		}
		parts = append(parts, s+" "+mark)
	}
	if c.minRPS > 0 {
		check(xRPS >= c.minRPS, fmt.Sprintf("req/s >= %.2fx", c.minRPS))
	}
	if c.maxP99 > 0 {
		check(xP99 <= c.maxP99, fmt.Sprintf("p99 <= %.1fx", c.maxP99))
	}
	if c.maxCPU > 0 {
		check(xCPU <= c.maxCPU, fmt.Sprintf("CPU <= %.1fx", c.maxCPU))
	}
	if strings.HasPrefix(c.proc.name, "gateway") {
		check(rss <= 30<<20, "RSS <= 30 MB")
	}
	return strings.Join(parts, "; ")
}

func round(d time.Duration) time.Duration {
	switch {
	case d > 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown CPU"
}

func kernel() string {
	out, err := exec.Command("uname", "-sr").Output()
	if err != nil {
		return "unknown kernel"
	}
	return strings.TrimSpace(string(out))
}
