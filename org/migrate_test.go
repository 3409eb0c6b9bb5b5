package org

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

// Issue 14 item 4, SEMANTICS D2, D3: an organization comes in from the AWS
// CLI's own output (ISO timestamps in several time zones, epoch seconds with
// fractions, members wmpolicy does not use) keeping its organization ID,
// role ID, user IDs, aliases (F5) and every date; export → import → export
// is then byte-identical.
func TestImportAWSCLIOutput(t *testing.T) {
	files := readDir(t, "testdata/migrate-aws")
	e, err := ParseExport(files)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := testStore(t, "")
	out, err := s.ImportOrganization(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	const id = "m-0123456789abcdef0123456789abcdef"
	if out.OrganizationId != id {
		t.Fatalf("imported as %s", out.OrganizationId)
	}
	d, err := s.DescribeOrganization(context.Background(), DescribeOrganizationInput{OrganizationId: id})
	if err != nil {
		t.Fatal(err)
	}
	if d.Alias != "site" || d.DirectoryId != "d-1234567890" || d.CompletedDate != policy.Timestamp(1581628428012000000) {
		t.Fatalf("DescribeOrganization: %+v", d)
	}
	u, err := s.DescribeUser(context.Background(), DescribeUserInput{OrganizationId: id, UserId: "exampleUser1"})
	if err != nil {
		t.Fatal(err)
	}
	if u.UserId != "S-1-1-11-1111111111-2222222222-3333333333-3333" || u.EnabledDate != policy.Timestamp(1532459261827000000) || u.UserRole != "USER" {
		t.Fatalf("DescribeUser: %+v", u)
	}
	role, err := s.GetImpersonationRole(context.Background(), GetImpersonationRoleInput{OrganizationId: id, ImpersonationRoleId: "13f6f9b9-2c88-4d4f-a11d-2e2b0c5e2f77"})
	if err != nil {
		t.Fatal(err)
	}
	if role.DateCreated != policy.Timestamp(1668621845500000000) || role.DateModified != role.DateCreated {
		t.Fatalf("role dates: %+v", role)
	}
	rules := s.Snapshot(id).Rules()
	if len(rules) != 2 || rules[1].Name != "myRule" || rules[1].DateCreated != policy.Timestamp(1581635628000000000) {
		t.Fatalf("rules: %+v", rules)
	}
	for _, who := range []string{"exampleUser1@site.awsapps.com", "USER1@example.com"} { // the second an alias (F5)
		eff, err := s.GetAccessControlEffect(context.Background(), accessctl.GetAccessControlEffectInput{OrganizationId: id, IpAddress: "192.0.2.1", Action: "IMAP", UserId: who})
		if err != nil || eff.Effect != policy.Deny {
			t.Fatalf("effect for %s: %+v %v", who, eff, err)
		}
	}
	if al, err := s.ListAliases(context.Background(), ListAliasesInput{OrganizationId: id, EntityId: "exampleUser1"}); err != nil || len(al.Aliases) != 2 {
		t.Fatalf("ListAliases: %+v %v", al, err)
	}
	// RegisterToWorkMail knows the imported domains.
	if _, err := s.RegisterToWorkMail(context.Background(), RegisterToWorkMailInput{OrganizationId: id, EntityId: "exampleGuestUser", Email: "guest@example.com"}); err != nil {
		t.Fatal(err)
	}

	// Out and in again, byte-identical.
	ex, err := s.Export(id)
	if err != nil {
		t.Fatal(err)
	}
	f1, err := ex.Files()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(f1[FileDescribeOrganization]), `"CompletedDate": 1581628428.012`) {
		t.Fatalf("export: %s", f1[FileDescribeOrganization])
	}
	e2, err := ParseExport(f1)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := testStore(t, t.TempDir())
	if _, err := s2.ImportOrganization(context.Background(), e2); err != nil {
		t.Fatal(err)
	}
	ex2, _ := s2.Export(id)
	f2, _ := ex2.Files()
	if diff := cmp.Diff(f1, f2); diff != "" {
		t.Fatalf("export → import → export: %s", diff)
	}
	// Importing twice is refused, and so is the same alias under another ID.
	if _, err := s2.ImportOrganization(context.Background(), e2); policy.CodeOf(err) != policy.NameAvailabilityException {
		t.Fatalf("second import: %v", err)
	}
	e2.Organization.OrganizationId = "m-0123456789abcdef0123456789abcde0"
	if _, err := s2.ImportOrganization(context.Background(), e2); policy.CodeOf(err) != policy.NameAvailabilityException {
		t.Fatalf("alias in use: %v", err)
	}
}

// Issue 14 item 4: a listing that is one page (it carries a NextToken) is
// refused with a message that says so; role files must match the listing.
func TestParseExportRefusals(t *testing.T) {
	base := readDir(t, "testdata/migrate-aws")
	with := func(name, content string) map[string][]byte {
		f := map[string][]byte{}
		for k, v := range base {
			f[k] = v
		}
		if content == "" {
			delete(f, name)
		} else {
			f[name] = []byte(content)
		}
		return f
	}
	const roleFile = "get-impersonation-role-13f6f9b9-2c88-4d4f-a11d-2e2b0c5e2f77.json"
	const aliasFile = "list-aliases-S-1-1-11-1111111111-2222222222-3333333333-3333.json"
	for _, c := range []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"users page", with(FileListUsers, `{"Users": [], "NextToken": "AAAA"}`), "one page of a paginated listing"},
		{"roles page", with(FileListImpersonationRoles, `{"Roles": [], "NextToken": "AAAA"}`), "one page of a paginated listing"},
		{"missing role file", with(roleFile, ""), "missing file"},
		{"extra role file", with("get-impersonation-role-other.json", `{}`), "does not list"},
		{"missing organization", with(FileDescribeOrganization, ""), "missing file"},
		{"unknown member", with(FileListUsers, `{"Users": [{"Id": "S-1-1-11-1111111111-2222222222-3333333333-3333", "Emial": "x"}]}`), "Emial"},
		{"aliases page", with(aliasFile, `{"Aliases": ["a@example.com"], "NextToken": "AAAA"}`), "one page of a paginated listing"},
		{"aliases of an unlisted user", with("list-aliases-S-1-1-11-0.json", `{"Aliases": []}`), "does not list"},
		{"aliases member", with(aliasFile, `{"Alias": []}`), "Alias"},
		{"bad timestamp", with(FileListUsers, `{"Users": [{"Id": "S-1-1-11-1111111111-2222222222-3333333333-3333", "EnabledDate": "yesterday"}]}`), "timestamp"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseExport(c.files)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// SEMANTICS F5: imported aliases are checked as CreateAlias checks them, and
// an address may name only one user; a failed import changes nothing.
func TestImportAliasRefusals(t *testing.T) {
	const u1 = "S-1-1-11-1111111111-2222222222-3333333333-3333"
	const u2 = "S-1-1-11-1122222222-2222233333-3333334444-4444"
	many := make([]string, MaxAliasesPerUser+1)
	for i := range many {
		many[i] = fmt.Sprintf("a%d@example.com", i)
	}
	for _, c := range []struct {
		name    string
		aliases map[string][]string
		code    policy.Code
		path    string
	}{
		{"not an address", map[string][]string{u1: {"not-an-address"}}, policy.ValidationException, "list-aliases-" + u1 + ".json:Aliases[0]"},
		{"twice", map[string][]string{u1: {"a@example.com", "A@example.com"}}, policy.ValidationException, "list-aliases-" + u1 + ".json:Aliases[1]"},
		{"too many", map[string][]string{u1: many}, policy.LimitExceededException, "list-aliases-" + u1 + ".json:Aliases"},
		{"unlisted user", map[string][]string{"S-1-1-11-0": {"a@example.com"}}, policy.ValidationException, "list-aliases-S-1-1-11-0.json"},
		{"another user's email", map[string][]string{u2: {"exampleUser1@site.awsapps.com"}}, policy.ValidationException, ""},
		{"two users' alias", map[string][]string{u1: {"a@example.com"}, u2: {"a@example.com"}}, policy.ValidationException, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := ParseExport(readDir(t, "testdata/migrate-aws"))
			if err != nil {
				t.Fatal(err)
			}
			e.Aliases = c.aliases
			s, _ := testStore(t, "")
			_, err = s.ImportOrganization(context.Background(), e)
			if policy.CodeOf(err) != c.code {
				t.Fatalf("err = %v, want %s", err, c.code)
			}
			if c.path != "" && !slices.ContainsFunc(policy.Errors(err), func(e *policy.Error) bool { return e.Path == c.path }) {
				t.Errorf("err = %v, want one at %s", err, c.path)
			}
			if orgs, _ := s.ListOrganizations(context.Background(), ListOrganizationsInput{}); len(orgs.OrganizationSummaries) != 0 {
				t.Errorf("a failed import left %v", orgs.OrganizationSummaries)
			}
		})
	}
}
