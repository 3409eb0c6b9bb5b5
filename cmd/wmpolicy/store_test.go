package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wmpolicy/wmpolicy/org"
)

// pgSchemaURL returns the URL of a fresh schema on the test server
// (WMPOLICY_TEST_POSTGRES, set by .ci/postgres.sh), dropped at cleanup;
// without the server it skips, naming the script (fails under CI).
func pgSchemaURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("WMPOLICY_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("WMPOLICY_TEST_POSTGRES is not set: CI must run the PostgreSQL tests (.ci/postgres.sh)")
		}
		t.Skip("no PostgreSQL: run .ci/postgres.sh go test ./cmd/wmpolicy/ (it starts a throwaway cluster)")
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema := "wmc_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
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
