package org

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/wmpolicy/wmpolicy/policy"
)

// Options.ReadOnly over a state directory (issue 17, item 5): it opens while
// another store holds the LOCK, sees that store's committed state, removes no
// leftover temporary file, creates nothing (no keys.json, no LOCK), refuses
// every mutation, and refuses a directory that does not exist.
func TestReadOnlyDirectory(t *testing.T) {
	dir := t.TempDir()
	w, _ := testStore(t, dir)
	org := mustCreate(t, w, "acme")
	addUsers(t, w, org, alice)
	tmp := filepath.Join(dir, orgsDirName, ".m-x.json.tmp-1")
	if err := os.WriteFile(tmp, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Open(Options{Dir: dir, ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open next to a writer: %v", err)
	}
	defer r.Close()
	if snap := r.Snapshot(org); snap == nil || snap.Revision() != 2 || len(snap.Users()) != 1 {
		t.Fatalf("read-only store: %+v", snap)
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Fatalf("the read-only open removed a temporary file: %v", err)
	}
	if _, err := r.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "x", Effect: policy.Deny}); !errors.Is(err, errReadOnly) {
		t.Fatalf("mutation of a read-only store: %v", err)
	}
	if s := r.Snapshot(org); s.Revision() != 2 {
		t.Fatal("the refused mutation was published")
	}

	// A directory without keys.json or LOCK: nothing is created.
	bare := t.TempDir()
	if err := os.Mkdir(filepath.Join(bare, orgsDirName), 0o700); err != nil {
		t.Fatal(err)
	}
	r2, err := Open(Options{Dir: bare, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	r2.Close()
	if ents, _ := os.ReadDir(bare); len(ents) != 1 {
		t.Fatalf("a read-only open created files: %v", ents)
	}
	if _, err := Open(Options{Dir: filepath.Join(bare, "absent"), ReadOnly: true}); err == nil {
		t.Fatal("a read-only open of a missing directory succeeded")
	}
}
