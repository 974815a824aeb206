package e2etest

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// recordingTB is a testing.TB whose Error, Fatal and Skip calls are
// recorded instead of acting on the real test, so a test can check that
// the harness fails or skips when it should. Fatal and Skip end the calling
// goroutine, as the real ones do; call the harness through run.
type recordingTB struct {
	testing.TB
	mu      sync.Mutex
	errors  []string
	fatal   string
	skipped string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatal = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recordingTB) Skip(args ...any) {
	r.mu.Lock()
	r.skipped = fmt.Sprint(args...)
	r.mu.Unlock()
	runtime.Goexit()
}

// run calls f with r on a goroutine of its own (Fatal and Skip end it)
// and waits for it.
func (r *recordingTB) run(f func(t testing.TB)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
}
