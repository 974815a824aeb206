package boltstore

import "errors"

// Start-up errors. Open wraps them, with the path and what to do; match
// them with errors.Is.
var (
	// ErrNotSessionDatabase: the file exists but is not a Gatehouse
	// session database (not a bbolt file, or another application's).
	ErrNotSessionDatabase = errors.New("not a Gatehouse session database")
	// ErrCorrupt: the file looks like a bbolt database but cannot be
	// read.
	ErrCorrupt = errors.New("corrupt session database")
	// ErrSchemaVersion: the file was written by a Gatehouse with another
	// schema version (a newer one, usually).
	ErrSchemaVersion = errors.New("unsupported session database version")
	// ErrLocked: another process holds the file's lock for longer than
	// Options.Timeout; usually another gateway with the same store path.
	ErrLocked = errors.New("session database locked by another process")
)
