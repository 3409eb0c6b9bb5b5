package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/internal/pgtest"
	"github.com/wmpolicy/wmpolicy/org"
)

// pgSchemaURL returns the URL of a fresh schema on the test server
// (WMPOLICY_TEST_POSTGRES, set by .ci/postgres.sh), dropped at cleanup;
// without the server it skips, naming the script (fails under CI).
func pgSchemaURL(t *testing.T) string {
	t.Helper()
	return pgtest.FreshSchema(t, pgtest.URL(t))
}

// Every 'wmpolicy org' verb, eval and impersonation-effect over --store
// postgres://… (SEMANTICS G1: the same answers as over a directory).
func TestOrgCLIFlowPostgres(t *testing.T) {
	orgCLIFlow(t, pgSchemaURL(t))
}

// --store is --state's other name: a directory works through it too, and a
// second process's state (another wmpolicy org create) is seen by the next.
func TestOrgCLIStoreFlag(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	out := orgCLI(t, 0, "", "create", "--store", dir, "--alias", "viastore")
	if !strings.Contains(out, "OrganizationId") {
		t.Fatalf("create: %s", out)
	}
	if out := orgCLI(t, 0, "", "list", "--state", dir); !strings.Contains(out, "viastore") {
		t.Fatalf("list: %s", out)
	}
}

// Issue 17 item 5: read-only verbs run while another process holds the
// state directory (its LOCK), and write nothing.
func TestOrgCLIReadOnlyVerbsWithoutLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	out := orgCLI(t, 0, "", "create", "--state", dir, "--alias", "locked")
	id := strings.Split(strings.Split(out, `"OrganizationId": "`)[1], `"`)[0]
	holder, err := org.Open(org.Options{Dir: dir}) // a serve holding the directory
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	before := listTree(t, dir)
	for _, args := range [][]string{
		{"list", "--state", dir},
		{"describe", "--state", dir, "--org", id},
		{"list-rules", "--state", dir, "--org", id},
		{"list-roles", "--state", dir, "--org", id},
		{"list-users", "--state", dir, "--org", id},
	} {
		orgCLI(t, 0, "", args...)
	}
	if code, _, errOut := runCLI(t, "", "eval", "--state", dir, "--org", id, "--ip", "192.0.2.1", "--action", "EWS", "--user", "x"); code == exitFailure {
		t.Fatalf("eval --state on a locked directory: %s", errOut)
	}
	out = orgCLI(t, 1, "", "put-user", "--state", dir, "--org", id, "--id", "S-1-1-11-0000000000-0000000000-0000000000-9999", "--email", "z@example.com")
	if !strings.Contains(out, "in use") {
		t.Fatalf("a writing verb on a locked directory: %s", out)
	}
	if after := listTree(t, dir); after != before {
		t.Fatalf("read-only verbs changed the directory:\n%s\n---\n%s", before, after)
	}
}

// listTree lists the files under dir with their sizes and times.
func listTree(t *testing.T, dir string) string {
	var b strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(p + " " + fi.ModTime().String() + " " + fi.Mode().String() + "\n")
		return nil
	})
	return b.String()
}
