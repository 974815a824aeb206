// Package benchbudget pins an allocation budget in a benchmark's own
// output. Budgets are not timing assertions and never fail a run: the
// machine's load changes ns/op, not allocs/op, so the budget is printed
// beside the measurement (and flagged when exceeded) for a reviewer and
// for benchstat to compare.
package benchbudget

import (
	"runtime"
	"testing"
)

// Allocs starts measuring heap allocations for the benchmark loop that
// follows and returns the function to call after it. That function reports
// two metrics, "allocs-budget" (max) and "allocs-over-budget" (0 when
// within), and logs a line naming the benchmark when over budget.
//
//	done := benchbudget.Allocs(b, 25)
//	for b.Loop() { ... }
//	done()
func Allocs(b *testing.B, max float64) func() {
	b.Helper()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	return func() {
		b.Helper()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if b.N == 0 {
			return
		}
		got := float64(after.Mallocs-before.Mallocs) / float64(b.N)
		over := 0.0
		if got > max+0.5 { // rounding: allocs/op is an average
			over = got - max
			b.Logf("OVER BUDGET: %s makes %.1f allocs/op, budget %.0f", b.Name(), got, max)
		}
		b.ReportMetric(max, "allocs-budget")
		b.ReportMetric(over, "allocs-over-budget")
	}
}
