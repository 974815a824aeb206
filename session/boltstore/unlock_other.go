//go:build !unix

package boltstore

import "os"

// unlock does nothing where bbolt's lock is not flock(2): closing f is
// all this package can do after bbolt panicked while opening it.
func unlock(*os.File) {}
