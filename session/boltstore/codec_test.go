package boltstore

import (
	"reflect"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/session"
)

// TestCodecCoversRecord fails when session.Record gains a field, so that
// whoever adds it also adds it to storedRecord (the conformance suite
// only catches string fields).
func TestCodecCoversRecord(t *testing.T) {
	known := []string{
		"ID", "Identity", "CreatedAt", "RefreshedAt", "IdleExpiresAt", "ExpiresAt",
		"UserAgent", "IP", "Source", "SourceSecret", "RefreshHash", "PrevHash", "PrevValidUntil", "Revoked",
		"Subject", "Email", "Roles", "Claims", // Identity's
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[session.Record](), reflect.TypeFor[session.Identity]()} {
		for f := range typ.Fields() {
			if f.IsExported() && !slices.Contains(known, f.Name) {
				t.Errorf("%s.%s is not stored: add it to storedRecord, encodeRecord and decodeRecord (and bump recordVersion if old records would be misread)", typ.Name(), f.Name)
			}
		}
	}
	if n := reflect.TypeFor[session.Revocation]().NumField(); n != 4 {
		t.Errorf("session.Revocation has %d fields, storedRevocation knows 4: update it", n)
	}
}
