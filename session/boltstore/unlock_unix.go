//go:build unix

package boltstore

import (
	"os"
	"syscall"
)

// unlock releases bbolt's flock(2) on f after bbolt panicked while
// opening it. Closing f is not enough: the lock belongs to the open file,
// which bbolt's memory map (left behind by the panic) keeps open.
func unlock(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
