package userfile

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
)

// File is a users file on disk that can be reloaded while in use (on
// SIGHUP, say). Users returns the current snapshot without locking;
// Reload swaps in a new one atomically, or keeps the old one if the file
// no longer parses. A File is safe for concurrent use.
type File struct {
	path string
	// mu serialises Reload, so that a slow reload of an older version
	// of the file cannot overwrite a newer one's snapshot.
	mu    sync.Mutex
	users atomic.Pointer[Users]
}

// Open reads and parses the users file at path. Errors are as for Reload.
func Open(path string) (*File, error) {
	f := &File{path: path}
	if err := f.Reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// Reload re-reads the file and, if it parses, makes it the snapshot that
// Users returns. If it does not, the previous snapshot stays in place and
// the error is returned: a read error (wrapped, naming the path), or
// Parse's error unchanged (a join of *config.FieldError, which does not
// repeat the path; the caller prints it once, as for config.Load).
func (f *File) Reload() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := os.ReadFile(f.path)
	if err != nil {
		return fmt.Errorf("userfile: %w", err)
	}
	users, err := Parse(data)
	if err != nil {
		return err
	}
	f.users.Store(users)
	return nil
}

// Users returns the current snapshot. It is never nil for a File from
// Open.
func (f *File) Users() *Users { return f.users.Load() }
