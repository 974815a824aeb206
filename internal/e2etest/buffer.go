package e2etest

import (
	"bytes"
	"sync"
)

// LockedBuffer is a bytes.Buffer safe for one writer and many readers at
// once: a process's output written by exec's copier goroutine while a test
// reads it for assertions and failure messages. The zero value is ready.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
