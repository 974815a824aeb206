package redisstore

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/redistest"
	"github.com/gatehouse/gatehouse/session/sessiontest"
)

// BenchmarkRotation is a refresh rotation against a local redis-server
// (started here): one GET and one Lua rotation script per iteration.
// Issue #9 asks for at least 2,000 rotations/s.
func BenchmarkRotation(b *testing.B) {
	srv := redistest.Start(b)
	sessiontest.BenchRotation(b, open(b, single(srv.Addr), Options{}), 2000)
}
