package boltstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// fileMode is the mode of a new database file: it holds identities and
// refresh token hashes, so only the gateway's user may read it.
const fileMode = 0o600

// Open opens the session database at path, creating the file (never its
// directory) if it does not exist. Every start-up problem is an error
// that names the path and says what to do: a missing directory, a path
// that is a directory, a file the process may not read and write, a
// file locked by another process for longer than opts.Timeout
// (ErrLocked), a file that is not a Gatehouse session database
// (ErrNotSessionDatabase), is damaged (ErrCorrupt) or has another schema
// version (ErrSchemaVersion). Open never panics on a bad file.
func Open(path string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Tombstone <= 0 {
		opts.Tombstone = DefaultTombstone
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if err := preflight(path); err != nil {
		return nil, err
	}
	db, err := openBolt(path, opts.Timeout)
	if err != nil {
		return nil, explainOpen(path, opts.Timeout, err)
	}
	if err := prepare(db); err != nil {
		_ = db.Close()
		return nil, explain(path, err)
	}
	return &Store{
		db:        db,
		path:      path,
		now:       opts.Now,
		tombstone: opts.Tombstone,
		subs:      make(map[*subscriber]struct{}),
	}, nil
}

// preflight catches the path problems whose bbolt error would be obscure
// ("no such file or directory" for a missing directory). Anything else is
// left to bbolt's open and explainOpen.
func preflight(path string) error {
	if path == "" {
		return errors.New("boltstore: no database path: set store.path")
	}
	fi, err := os.Stat(path)
	switch {
	case err != nil && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)):
		return checkDir(path)
	case err == nil && fi.IsDir():
		return fmt.Errorf("boltstore: open %s: %w: set store.path to a file, such as %s",
			path, syscall.EISDIR, filepath.Join(path, "gatehouse-sessions.db"))
	case err == nil && !fi.Mode().IsRegular():
		return fmt.Errorf("boltstore: open %s: %w: it is a %s: set store.path to a regular file",
			path, ErrNotSessionDatabase, fi.Mode().Type())
	}
	return nil
}

// checkDir explains why path, which does not exist, cannot be created:
// a missing directory, or a parent that is not a directory. Gatehouse
// creates the file, never directories: a mistyped path should not leave
// a tree of directories behind.
func checkDir(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("boltstore: open %s: directory %s does not exist (%w): create it, or set store.path to a file in an existing directory",
			path, dir, fs.ErrNotExist)
	case errors.Is(err, syscall.ENOTDIR), err == nil && !fi.IsDir():
		return fmt.Errorf("boltstore: open %s: %s: %w: set store.path to a file in a directory",
			path, dir, syscall.ENOTDIR)
	}
	return nil // let bbolt try, and explainOpen say what went wrong
}

// openBolt opens the file with bbolt, turning a panic (bbolt can panic
// on some damaged files, reading the freelist for one) into an ErrCorrupt
// error. After a panic the lock is released and the file closed, so a
// later Open is not told "locked"; bbolt's memory map of the file, if it
// made one, cannot be reached to unmap, and leaks.
func openBolt(path string, timeout time.Duration) (db *bolt.DB, err error) {
	var f *os.File
	defer func() {
		if p := recover(); p != nil {
			if f != nil {
				unlock(f)
				_ = f.Close()
			}
			db, err = nil, fmt.Errorf("%w: bbolt failed reading it: %v", ErrCorrupt, p)
		}
	}()
	return bolt.Open(path, fileMode, &bolt.Options{
		Timeout: timeout,
		OpenFile: func(name string, flag int, mode os.FileMode) (*os.File, error) {
			file, err := os.OpenFile(name, flag, mode)
			f = file
			return file, err
		},
	})
}

// prepare checks the schema of an open file and initialises a new one,
// turning a panic while reading a damaged file into ErrCorrupt.
func prepare(db *bolt.DB) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: bbolt failed reading its buckets: %v", ErrCorrupt, p)
		}
	}()
	var state fileState
	if err := db.View(func(tx *bolt.Tx) error {
		var err error
		state, err = checkSchema(tx)
		return err
	}); err != nil {
		return err
	}
	if state == stateEmpty {
		if err := db.Update(initSchema); err != nil {
			return fmt.Errorf("initialising a new database: %w", err)
		}
	}
	return nil
}

// explainOpen turns an error of bolt.Open into one that names the path
// and says what to do.
func explainOpen(path string, timeout time.Duration, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		err = pe.Err // the path is in our message already
	}
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return fmt.Errorf("boltstore: open %s: %w: it was not released within %v (%w); is another gateway running with the same store.path? Stop it, or give this one its own store.path (a bolt store serves one replica: use the redis store to share sessions)",
			path, ErrLocked, timeout, err)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrVersionMismatch):
		err = fmt.Errorf("%w: it is not a bbolt database (%w)", ErrNotSessionDatabase, err)
	case errors.Is(err, bolterrors.ErrChecksum):
		err = fmt.Errorf("%w: %w", ErrCorrupt, err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("boltstore: open %s: %w: the gateway must be able to read and write the file (and, to create it, write its directory): fix the owner or mode (0600), or set store.path",
			path, err)
	case errors.Is(err, syscall.EISDIR):
		return fmt.Errorf("boltstore: open %s: %w: set store.path to a file", path, err)
	}
	return explain(path, err)
}

// explain adds the path and the remedy to a problem with the file's
// content.
func explain(path string, err error) error {
	switch {
	case errors.Is(err, ErrNotSessionDatabase):
		return fmt.Errorf("boltstore: open %s: %w: move it away or set store.path to another file", path, err)
	case errors.Is(err, ErrCorrupt):
		return fmt.Errorf("boltstore: open %s: %w: move it away (its sessions are lost: users log in again) or restore a backup", path, err)
	case errors.Is(err, ErrSchemaVersion):
		return fmt.Errorf("boltstore: open %s: %w: run the Gatehouse version that wrote it, or move it away (its sessions are lost: users log in again)", path, err)
	}
	return fmt.Errorf("boltstore: open %s: %w", path, err)
}
