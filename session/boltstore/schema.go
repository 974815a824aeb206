package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The file holds these top-level buckets, and nothing else:
//
//	meta               "schema" -> schemaName, "version" -> schemaVersion (decimal)
//	sessions           session id -> JSON of storedRecord
//	subjects           uvarint(len(subject)) subject id -> empty
//	expiry             removal time (big-endian uint64 ms) id -> empty
//	revocations        kind 0x00 id -> JSON of storedRevocation
//	revocation-expiry  Until (big-endian uint64 ms) revocation key -> empty
//
// The subject index key is length-prefixed so that a prefix scan for one
// subject never matches another subject that merely starts with it (a
// separator byte could appear in a subject). Removal times are rounded up
// to the millisecond, so the sweep never deletes anything early.
const (
	bucketMeta          = "meta"
	bucketSessions      = "sessions"
	bucketSubjects      = "subjects"
	bucketExpiry        = "expiry"
	bucketRevocations   = "revocations"
	bucketRevocationExp = "revocation-expiry"
)

// dataBuckets are the buckets besides meta, created with it.
func dataBuckets() []string {
	return []string{bucketSessions, bucketSubjects, bucketExpiry, bucketRevocations, bucketRevocationExp}
}

// The meta bucket's keys and the values this version writes.
const (
	metaSchema  = "schema"
	metaVersion = "version"
	// schemaName identifies a Gatehouse session database.
	schemaName = "gatehouse-sessions"
	// schemaVersion is the layout version this package reads and writes.
	// A change to the buckets or to an encoding that older code would
	// misread MUST increase it.
	schemaVersion = 1
)

// fileState is what checkSchema found in a file.
type fileState int

const (
	stateEmpty   fileState = iota + 1 // no buckets: a new file
	stateCurrent                      // ours, at schemaVersion
)

// checkSchema tells a new file from one of ours, and refuses anything
// else: another application's bbolt file, or one written by a newer
// Gatehouse. It only reads.
func checkSchema(tx *bolt.Tx) (fileState, error) {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		var other string
		_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			other = string(name)
			return errStop
		})
		if other != "" {
			return 0, fmt.Errorf("%w: it holds bucket %q and no Gatehouse schema", ErrNotSessionDatabase, other)
		}
		return stateEmpty, nil
	}
	if name := meta.Get([]byte(metaSchema)); string(name) != schemaName {
		return 0, fmt.Errorf("%w: its schema is %q, not %q", ErrNotSessionDatabase, name, schemaName)
	}
	raw := meta.Get([]byte(metaVersion))
	v, err := strconv.Atoi(string(raw))
	if err != nil {
		return 0, fmt.Errorf("%w: unreadable schema version %q", ErrNotSessionDatabase, raw)
	}
	if v != schemaVersion {
		return 0, fmt.Errorf("%w: the file has schema version %d, this Gatehouse reads version %d", ErrSchemaVersion, v, schemaVersion)
	}
	for _, name := range dataBuckets() {
		if tx.Bucket([]byte(name)) == nil {
			return 0, fmt.Errorf("%w: bucket %q is missing", ErrNotSessionDatabase, name)
		}
	}
	return stateCurrent, nil
}

// errStop ends a ForEach early.
var errStop = errors.New("stop")

// initSchema writes the meta bucket and creates the data buckets of a new
// file.
func initSchema(tx *bolt.Tx) error {
	meta, err := tx.CreateBucket([]byte(bucketMeta))
	if err != nil {
		return fmt.Errorf("creating bucket %s: %w", bucketMeta, err)
	}
	if err := meta.Put([]byte(metaSchema), []byte(schemaName)); err != nil {
		return fmt.Errorf("writing schema name: %w", err)
	}
	if err := meta.Put([]byte(metaVersion), []byte(strconv.Itoa(schemaVersion))); err != nil {
		return fmt.Errorf("writing schema version: %w", err)
	}
	for _, name := range dataBuckets() {
		if _, err := tx.CreateBucket([]byte(name)); err != nil {
			return fmt.Errorf("creating bucket %s: %w", name, err)
		}
	}
	return nil
}

// subjectPrefix is the key prefix of every index entry of subject.
func subjectPrefix(subject string) []byte {
	b := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(subject)), uint64(len(subject)))
	return append(b, subject...)
}

// subjectKey is the index entry of session id under subject.
func subjectKey(subject, id string) []byte {
	return append(subjectPrefix(subject), id...)
}

// timeKey is an expiry index key: t in milliseconds, rounded up, then
// suffix. Times before 1970 sort first, as 0.
func timeKey(t time.Time, suffix []byte) []byte {
	k := make([]byte, 8, 8+len(suffix))
	binary.BigEndian.PutUint64(k, ceilMilli(t))
	return append(k, suffix...)
}

// ceilMilli is t in Unix milliseconds rounded up, clamped at 0.
func ceilMilli(t time.Time) uint64 {
	ms := t.UnixMilli()
	if t.After(time.UnixMilli(ms)) && ms < math.MaxInt64 {
		ms++
	}
	return uint64(max(ms, 0))
}

// floorMilli is t in Unix milliseconds rounded down, clamped at 0.
func floorMilli(t time.Time) uint64 {
	ms := t.UnixMilli()
	if t.Before(time.UnixMilli(ms)) {
		ms-- // UnixMilli truncates toward zero before 1970
	}
	return uint64(max(ms, 0))
}

// revocationKey is the revocations bucket key of kind and id. Kind never
// contains a NUL byte (AddRevocation refuses it), so the key is
// unambiguous.
func revocationKey(kind, id string) []byte {
	k := make([]byte, 0, len(kind)+1+len(id))
	k = append(k, kind...)
	k = append(k, 0)
	return append(k, id...)
}

// hasPrefix is bytes.HasPrefix, named for cursor loops.
func hasPrefix(k, prefix []byte) bool { return k != nil && bytes.HasPrefix(k, prefix) }
