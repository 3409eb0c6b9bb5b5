package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// Issue 14 item 4: 'org import' reads the AWS CLI's output files and keeps
// the organization's IDs and dates; 'org export' → 'org import' → 'org
// export' is byte-identical; a one-page listing is refused saying so.
func TestOrgExportImport(t *testing.T) {
	tmp := t.TempDir()
	state1, state2 := filepath.Join(tmp, "s1"), filepath.Join(tmp, "s2")
	out := orgCLI(t, 0, "", "import", "--state", state1, "../../org/testdata/migrate-aws")
	if !strings.Contains(out, "m-0123456789abcdef0123456789abcdef") {
		t.Fatalf("import: %s", out)
	}
	const id = "m-0123456789abcdef0123456789abcdef"
	out = orgCLI(t, 0, "", "list-roles", "--state", state1, "--org", id)
	if !strings.Contains(out, "13f6f9b9-2c88-4d4f-a11d-2e2b0c5e2f77") {
		t.Fatalf("list-roles: %s", out)
	}
	ex1, ex2 := filepath.Join(tmp, "ex1"), filepath.Join(tmp, "ex2")
	orgCLI(t, 0, "", "export", "--state", state1, "--org", id, ex1)
	orgCLI(t, 0, "", "import", "--state", state2, ex1)
	orgCLI(t, 0, "", "export", "--state", state2, "--org", id, ex2)
	a, b := readTree(t, ex1), readTree(t, ex2)
	if len(a) != 7 {
		t.Fatalf("export wrote %d files: %v", len(a), a)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("export → import → export: %s", diff)
	}
	// Refusals: a non-empty OUTDIR, an organization already here, a page.
	out = orgCLI(t, 3, "", "export", "--state", state1, "--org", id, ex1)
	if !strings.Contains(out, "not empty") {
		t.Fatalf("export into a non-empty dir: %s", out)
	}
	out = orgCLI(t, 3, "", "import", "--state", state2, ex1)
	if !strings.Contains(out, "NameAvailabilityException") {
		t.Fatalf("second import: %s", out)
	}
	os.WriteFile(filepath.Join(ex2, "list-users.json"), []byte(`{"Users": [], "NextToken": "AAAA"}`), 0o644)
	out = orgCLI(t, 3, "", "import", "--state", filepath.Join(tmp, "s3"), ex2)
	if !strings.Contains(out, "one page of a paginated listing") {
		t.Fatalf("page import: %s", out)
	}
}
