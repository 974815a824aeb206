package userfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/config"
)

// usersYAML returns a users file with one user per name, password "pw".
func usersYAML(t testing.TB, names ...string) []byte {
	t.Helper()
	hash := cheapHash(t, "pw")
	b := []byte("users:\n")
	for _, n := range names {
		b = fmt.Appendf(b, "  - username: %s\n    password_hash: %q\n", n, hash)
	}
	return b
}

func TestOpenMissing(t *testing.T) {
	f, err := Open(filepath.Join(t.TempDir(), "users.yaml"))
	if !errors.Is(err, fs.ErrNotExist) || f != nil {
		t.Errorf("Open = %v, %v; want nil, fs.ErrNotExist", f, err)
	}
}

func TestOpenBroken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.yaml")
	writeFile(t, path, []byte("users:\n  - username: a\n"))
	f, err := Open(path)
	if f != nil || len(config.FieldErrors(err)) != 1 {
		t.Errorf("Open = %v, %v; want nil and one field error", f, err)
	}
}

func TestFileReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.yaml")
	writeFile(t, path, usersYAML(t, "alice"))
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Users().Lookup("alice"); !ok || f.Users().Len() != 1 {
		t.Fatalf("after Open, Users has %d users, alice %v; want just alice", f.Users().Len(), ok)
	}

	// A change on disk is seen after Reload, not before.
	writeFile(t, path, usersYAML(t, "alice", "bob"))
	if _, ok := f.Users().Lookup("bob"); ok {
		t.Fatal("bob visible before Reload")
	}
	if err := f.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if _, ok := f.Users().Lookup("bob"); !ok {
		t.Fatal("bob not visible after Reload")
	}

	// A broken file keeps the last good snapshot.
	good := f.Users()
	writeFile(t, path, []byte("users:\n  - username: mallory\n    password_hash: x\n"))
	err = f.Reload()
	if len(config.FieldErrors(err)) != 1 || !errors.Is(err, ErrInvalidHash) {
		t.Errorf("Reload of a broken file = %v, want one field error matching ErrInvalidHash", err)
	}
	if f.Users() != good {
		t.Error("a failed Reload replaced the snapshot")
	}
	writeFile(t, path, []byte("users: [\n"))
	if err := f.Reload(); err == nil || f.Users() != good {
		t.Errorf("Reload of a file that is not YAML = %v and replaced the snapshot: %v", err, f.Users() != good)
	}

	// So does a file that has gone.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := f.Reload(); !errors.Is(err, fs.ErrNotExist) || f.Users() != good {
		t.Errorf("Reload of a removed file = %v, snapshot kept %v; want fs.ErrNotExist, true", err, f.Users() == good)
	}
}

// TestFileConcurrent is for -race: readers use snapshots while a writer
// rewrites the file and reloads.
func TestFileConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.yaml")
	versions := [][]byte{usersYAML(t, "alice"), usersYAML(t, "alice", "bob"), []byte("users: [\n")}
	writeFile(t, path, versions[0])
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				u := f.Users()
				if _, ok := u.Lookup("alice"); !ok {
					t.Error("a snapshot without alice")
					return
				}
				if n := u.Len(); n != 1 && n != 2 {
					t.Errorf("a snapshot with %d users", n)
					return
				}
			}
		})
	}
	// Two reloaders, so that Reload also races with itself.
	var reloaders sync.WaitGroup
	for w := range 2 {
		reloaders.Go(func() {
			for i := range 50 {
				if w == 0 {
					writeFile(t, path, versions[i%len(versions)])
				}
				_ = f.Reload() // fails for the broken version; the snapshot stays
			}
		})
	}
	reloaders.Wait()
	close(stop)
	wg.Wait()
}
