package memstore

import (
	"testing"

	"github.com/gatehouse/gatehouse/session/sessiontest"
)

// BenchmarkRotation is a refresh rotation on the in-memory store.
func BenchmarkRotation(b *testing.B) {
	sessiontest.BenchRotation(b, New(Options{}), 0)
}
