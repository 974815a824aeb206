package main

import (
	"fmt"
	"os"
	"slices"
	"time"
)

// sample is one case in one round.
type sample struct {
	rps      float64
	p50, p99 time.Duration
	cpuUS    float64 // CPU of the measured process per request, µs
	// Ratios to the bare proxy in the same round.
	xRPS, xP99, xCPU float64
}

// results are every round's samples per case, and each process's peak RSS.
type results struct {
	samples map[*benchCase][]sample
	rss     map[*benchCase]int64
}

// measure warms every case up, then runs rounds; within a round each case
// runs once, the order rotating from round to round so no case always
// follows the same neighbour.
func measure(cases []*benchCase, d time.Duration, rounds, conns, threads int) (results, error) {
	res := results{samples: map[*benchCase][]sample{}, rss: map[*benchCase]int64{}}
	var bare *benchCase
	for _, c := range cases {
		if c.name == "bare proxy" {
			bare = c
		}
	}
	hz := clockTicks()
	for _, c := range cases {
		if _, err := runWrk(c.url, c.headers, time.Second, threads, conns); err != nil {
			return res, fmt.Errorf("%s warm-up: %w", c.name, err)
		}
	}
	for r := range rounds {
		round := map[*benchCase]sample{}
		for i := range cases {
			c := cases[(i+r)%len(cases)]
			fmt.Fprintf(os.Stderr, "round %d/%d: %s\n", r+1, rounds, c.name)
			t0, err := c.proc.cpuTicks()
			if err != nil {
				return res, err
			}
			w, err := runWrk(c.url, c.headers, d, threads, conns)
			if err != nil {
				return res, fmt.Errorf("%s: %w", c.name, err)
			}
			if w.errors != "" {
				return res, fmt.Errorf("%s: wrk saw errors: %s", c.name, w.errors)
			}
			t1, err := c.proc.cpuTicks()
			if err != nil {
				return res, err
			}
			round[c] = sample{rps: w.rps, p50: w.p50, p99: w.p99,
				cpuUS: float64(t1-t0) / hz * 1e6 / float64(w.requests)}
		}
		b := round[bare]
		for c, s := range round {
			s.xRPS, s.xP99, s.xCPU = s.rps/b.rps, float64(s.p99)/float64(b.p99), s.cpuUS/b.cpuUS
			res.samples[c] = append(res.samples[c], s)
		}
	}
	for _, c := range cases {
		rss, err := c.proc.peakRSS()
		if err != nil {
			return res, err
		}
		res.rss[c] = rss
	}
	return res, nil
}

// median of xs by key.
func median(xs []sample, key func(sample) float64) float64 {
	v := make([]float64, len(xs))
	for i, s := range xs {
		v[i] = key(s)
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
