package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// TestOpenErrors: every start-up problem is an error, never a panic, that
// names the path, says what to do, and matches its cause.
func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		// setup prepares dir and returns the path to open, or skips.
		setup func(t *testing.T, dir string) string
		want  []error  // errors.Is targets
		says  []string // substrings of the message besides the path
	}{
		{
			name: "garbage file",
			setup: func(t *testing.T, dir string) string {
				return writeFile(t, dir, bytes.Repeat([]byte("not a database\n"), 1000))
			},
			want: []error{ErrNotSessionDatabase, bolterrors.ErrInvalid},
			says: []string{"not a Gatehouse session database", "move it away or set store.path"},
		},
		{
			name:  "short garbage file",
			setup: func(t *testing.T, dir string) string { return writeFile(t, dir, []byte("hello")) },
			want:  []error{ErrNotSessionDatabase},
			says:  []string{"not a Gatehouse session database", "move it away or set store.path"},
		},
		{
			name: "another application's bbolt file",
			setup: func(t *testing.T, dir string) string {
				return boltFile(t, dir, func(tx *bolt.Tx) error {
					b, err := tx.CreateBucket([]byte("widgets"))
					if err != nil {
						return err
					}
					return b.Put([]byte("w1"), []byte("blue"))
				})
			},
			want: []error{ErrNotSessionDatabase},
			says: []string{`bucket "widgets"`, "move it away or set store.path"},
		},
		{
			name: "another schema",
			setup: func(t *testing.T, dir string) string {
				return boltFile(t, dir, func(tx *bolt.Tx) error {
					b, err := tx.CreateBucket([]byte(bucketMeta))
					if err != nil {
						return err
					}
					return b.Put([]byte(metaSchema), []byte("someone-else"))
				})
			},
			want: []error{ErrNotSessionDatabase},
			says: []string{`"someone-else"`, "move it away or set store.path"},
		},
		{
			name: "newer schema version",
			setup: func(t *testing.T, dir string) string {
				path := newDatabase(t, dir)
				editFile(t, path, func(tx *bolt.Tx) error {
					return tx.Bucket([]byte(bucketMeta)).Put([]byte(metaVersion), []byte(strconv.Itoa(schemaVersion+1)))
				})
				return path
			},
			want: []error{ErrSchemaVersion},
			says: []string{"schema version 2", "run the Gatehouse version that wrote it, or move it away"},
		},
		{
			name: "damaged meta pages",
			setup: func(t *testing.T, dir string) string {
				path := newDatabase(t, dir)
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				// Flip a byte in each meta page's body (pages 0 and 1,
				// after the 16-byte page header and 4-byte magic), so both
				// checksums fail.
				ps := os.Getpagesize()
				b[16+40] ^= 0xff
				b[ps+16+40] ^= 0xff
				return writeFile(t, dir, b)
			},
			want: []error{ErrCorrupt, bolterrors.ErrChecksum},
			says: []string{"corrupt", "move it away", "restore a backup"},
		},
		{
			name: "damaged data pages",
			setup: func(t *testing.T, dir string) string {
				path := newDatabase(t, dir)
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				// Keep the meta pages, scribble over everything else:
				// reading the buckets trips bbolt's page checks.
				ps := os.Getpagesize()
				for i := 2 * ps; i < len(b); i++ {
					b[i] = 0xa5
				}
				return writeFile(t, dir, b)
			},
			want: []error{ErrCorrupt},
			says: []string{"corrupt", "move it away", "restore a backup"},
		},
		{
			name: "damaged bucket pages",
			setup: func(t *testing.T, dir string) string {
				path := newDatabase(t, dir)
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				// Keep the meta pages and the freelist pages they name,
				// so bbolt opens the file, and scribble over the rest:
				// reading the buckets (the schema check) panics.
				ps := os.Getpagesize()
				keep := map[int]bool{0: true, 1: true}
				for _, meta := range []int{0, 1} {
					keep[int(binary.LittleEndian.Uint64(b[meta*ps+16+32:]))] = true
				}
				for i := 2 * ps; i < len(b); i++ {
					if !keep[i/ps] {
						b[i] = 0xa5
					}
				}
				return writeFile(t, dir, b)
			},
			want: []error{ErrCorrupt},
			says: []string{"corrupt", "move it away", "restore a backup"},
		},
		{
			name:  "directory does not exist",
			setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "missing", "sessions.db") },
			want:  []error{fs.ErrNotExist},
			says:  []string{filepath.Join("missing") + " does not exist", "create it, or set store.path"},
		},
		{
			name: "parent is a file",
			setup: func(t *testing.T, dir string) string {
				return filepath.Join(writeFile(t, dir, []byte("x")), "sessions.db")
			},
			want: []error{syscall.ENOTDIR},
			says: []string{"not a directory", "set store.path to a file in a directory"},
		},
		{
			name:  "path is a directory",
			setup: func(t *testing.T, dir string) string { return dir },
			want:  []error{syscall.EISDIR},
			says:  []string{"is a directory", "set store.path to a file, such as", "gatehouse-sessions.db"},
		},
		{
			name: "unwritable file",
			setup: func(t *testing.T, dir string) string {
				path := newDatabase(t, dir)
				if err := os.Chmod(path, 0o400); err != nil {
					t.Fatal(err)
				}
				skipIfWritable(t, path)
				return path
			},
			want: []error{fs.ErrPermission},
			says: []string{"permission denied", "read and write the file", "set store.path"},
		},
		{
			name: "unwritable directory",
			setup: func(t *testing.T, dir string) string {
				sub := filepath.Join(dir, "ro")
				if err := os.Mkdir(sub, 0o500); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = os.Chmod(sub, 0o700) })
				skipIfWritable(t, sub)
				return filepath.Join(sub, "sessions.db")
			},
			want: []error{fs.ErrPermission},
			says: []string{"permission denied", "write its directory", "set store.path"},
		},
		{
			name: "locked by another process",
			setup: func(t *testing.T, dir string) string {
				// bbolt's lock is flock(2), held per open file: a second
				// Open in the same process waits for it like another
				// process would.
				path := filepath.Join(dir, "sessions.db")
				s, err := Open(path, Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close() })
				return path
			},
			want: []error{ErrLocked, bolterrors.ErrTimeout},
			says: []string{"not released within 100ms", "same store.path", "use the redis store"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.setup(t, t.TempDir())
			var before []byte
			if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && !strings.Contains(tc.name, "locked") {
				before, _ = os.ReadFile(path)
			}
			const timeout = 100 * time.Millisecond
			start := time.Now()
			s, err := Open(path, Options{Timeout: timeout})
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open(%s) succeeded, want an error", path)
			}
			msg := err.Error()
			t.Logf("error: %v", msg)
			if !strings.Contains(msg, path) {
				t.Errorf("error does not name the path %s: %v", path, msg)
			}
			for _, target := range tc.want {
				if !errors.Is(err, target) {
					t.Errorf("error does not match %v: %v", target, msg)
				}
			}
			for _, s := range tc.says {
				if !strings.Contains(msg, s) {
					t.Errorf("error does not say %q: %v", s, msg)
				}
			}
			// bbolt retries every 50ms and gives up when the next retry
			// would be late, so it may fail up to 50ms early.
			if errors.Is(err, ErrLocked) && time.Since(start) < timeout-50*time.Millisecond {
				t.Errorf("Open gave up after %v, before its timeout %v", time.Since(start), timeout)
			}
			// A refused file is left as it was, and unlocked: opening it
			// again fails the same way, not with ErrLocked.
			if before != nil {
				if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
					t.Errorf("the refused file was modified")
				}
				if _, err2 := Open(path, Options{Timeout: timeout}); errors.Is(err2, ErrLocked) {
					t.Errorf("a second Open of the refused file: %v; the first left it locked", err2)
				}
			}
		})
	}
}

// TestOpenNewFile: a new file is created with mode 0600, and an empty
// file (touched by an installer) is taken as a new database.
func TestOpenNewFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open(new file): %v", err)
	}
	_ = s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != fileMode {
		t.Errorf("new file mode = %v, want %v", perm, fs.FileMode(fileMode))
	}

	empty := writeFile(t, dir, nil)
	s, err = Open(empty, Options{})
	if err != nil {
		t.Fatalf("Open(empty file): %v", err)
	}
	_ = s.Close()
	// And it is ours from then on.
	s, err = Open(empty, Options{})
	if err != nil {
		t.Fatalf("Open(initialised file) again: %v", err)
	}
	_ = s.Close()

	if _, err := Open("", Options{}); err == nil || !strings.Contains(err.Error(), "set store.path") {
		t.Errorf("Open(\"\") = %v, want an error asking for store.path", err)
	}
}

// writeFile writes b to a new file in dir and returns its path.
func writeFile(t *testing.T, dir string, b []byte) string {
	t.Helper()
	f, err := os.CreateTemp(dir, "file-*.db")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// boltFile makes a bbolt file in dir with setup's content.
func boltFile(t *testing.T, dir string, setup func(*bolt.Tx) error) string {
	t.Helper()
	path := filepath.Join(dir, "other.db")
	editFile(t, path, setup)
	return path
}

// editFile changes the bbolt file at path with bbolt itself.
func editFile(t *testing.T, path string, edit func(*bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(edit); err != nil {
		t.Fatal(err)
	}
}

// newDatabase makes a session database in dir, with a session in it.
func newDatabase(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "sessions.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, record("s1", "alice"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// skipIfWritable skips the test when the process can write path despite
// its mode: as root, or with CAP_DAC_OVERRIDE, permissions do not apply.
func skipIfWritable(t *testing.T, path string) {
	t.Helper()
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		probe := filepath.Join(path, "probe")
		if f, err := os.Create(probe); err == nil {
			_ = f.Close()
			_ = os.Remove(probe)
			t.Skip("the directory is writable despite mode 0500 (running as root?): permission checks do not apply")
		}
		return
	}
	if f, err := os.OpenFile(path, os.O_RDWR, 0); err == nil {
		_ = f.Close()
		t.Skip("the file is writable despite mode 0400 (running as root?): permission checks do not apply")
	}
}
