//go:build linux

package org

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/wmpolicy/wmpolicy/policy"
)

// TestReadOnlyMount: a state directory on a file system mounted read-only
// (issue 17, item 5) opens with Options.ReadOnly and answers from the state
// written before the remount; every mutation is refused, and opening it for
// writing fails with an error instead of half-opening. It mounts a tmpfs, so
// it needs root (CI runs as root, and there it must not skip).
func TestReadOnlyMount(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("TestReadOnlyMount needs root to mount a tmpfs, and CI runs as root")
		}
		t.Skip("needs root to mount a tmpfs")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=16m,mode=0700"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mount tmpfs: %v", err)
		}
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })

	dir := filepath.Join(mnt, "state")
	w, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	org := mustCreate(t, w, "acme")
	addUsers(t, w, org, alice)
	rev := w.Snapshot(org).Revision()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("", mnt, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount read-only: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "probe"), nil, 0o600); err == nil {
		t.Fatal("the remount did not make the file system read-only")
	}

	if _, err := Open(Options{Dir: dir}); err == nil {
		t.Fatal("a read-write open of a read-only mount succeeded")
	}
	r, err := Open(Options{Dir: dir, ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open of a read-only mount: %v", err)
	}
	defer r.Close()
	snap := r.Snapshot(org)
	if snap == nil || snap.Revision() != rev || len(snap.Users()) != 1 {
		t.Fatalf("read-only store on a read-only mount: %+v", snap)
	}
	out, err := r.ListAccessControlRules(context.Background(), ListAccessControlRulesInput{OrganizationId: org})
	if err != nil || len(out.Rules) != 1 || out.Rules[0].Name != "default" {
		t.Fatalf("ListAccessControlRules: %+v, %v", out, err)
	}
	if _, err := r.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "x", Effect: policy.Deny}); !errors.Is(err, errReadOnly) {
		t.Fatalf("mutation on a read-only mount: %v", err)
	}
}
