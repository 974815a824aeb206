// Package boltstore is a persistent session.Store and
// session.RevocationStore kept in one local bbolt file: for a single
// gateway replica with nothing else installed, so that sessions and
// revocations survive a restart. It is the default store of
// "gateway serve".
//
// It is not for several replicas: the file is locked by the process that
// opens it (a second process waits Options.Timeout, then fails), and
// revocations are announced only to subscribers in that process. Replicas
// that share sessions need a shared store (Redis). The file MUST be on a
// local disk: bbolt relies on mmap, flock and fsync, which network file
// systems do not reliably provide.
//
// Every write is one bbolt read-write transaction, which makes Rotate
// atomic and durable: the transaction is fsynced before Rotate returns,
// so a rotation a client has seen is never lost by a crash. That costs
// one fsync per write (see BenchmarkRotate); reads do not sync, and a
// write that changes nothing (a re-issue within the grace window) is
// rolled back rather than committed.
//
// Records are deleted once their Deadline plus Options.Tombstone has
// passed on the store's clock: each write first deletes a bounded number
// of due records through an expiry index, and reads treat a due record as
// already gone, so no background goroutine is needed. The file layout is
// described in schema.go.
package boltstore
