package impersonation_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

func capturedCLI(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "aws-cli", "captured", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// SEMANTICS D3: get-impersonation-role and list-impersonation-roles output as
// AWS CLI v2 prints it (ISO 8601, microseconds, +01:00) loads as it is.
func TestSemanticsD3_CapturedRoles(t *testing.T) {
	role, err := impersonation.DecodeRole(capturedCLI(t, "get-impersonation-role.tz-europe-berlin.json"))
	if err != nil {
		t.Fatal(err)
	}
	if role.DateCreated != policy.Timestamp(1700000000500e6) || len(role.Rules) != 2 || role.Type != impersonation.ReadOnly {
		t.Errorf("role = %+v", role)
	}
	list, err := impersonation.DecodeRoleList(capturedCLI(t, "list-impersonation-roles.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Roles) != 2 || list.NextToken != "" {
		t.Errorf("list = %+v", list)
	}
}

// SEMANTICS D4: list-impersonation-roles --max-results 1 prints one page with
// a NextToken; it is refused with a message saying how to get every page.
func TestSemanticsD4_OnePageOfRolesIsRefused(t *testing.T) {
	_, err := impersonation.DecodeRoleList(capturedCLI(t, "list-impersonation-roles.max-results-1.json"))
	es := policy.Errors(err)
	if len(es) != 1 || es[0].Path != "NextToken" || es[0].Code != policy.ValidationException || !strings.Contains(es[0].Message, "one page") {
		t.Errorf("got %v", err)
	}
	for _, last := range []string{`{"Roles":[],"NextToken":null}`, `{"Roles":[]}`} {
		if _, err := impersonation.DecodeRoleList([]byte(last)); err != nil {
			t.Errorf("%s: %v", last, err)
		}
	}
	// A rules file given as a role is named as such.
	_, err = impersonation.DecodeRole(capturedCLI(t, "list-users.json"))
	if es := policy.Errors(err); len(es) != 1 || !strings.Contains(es[0].Message, "this is aws workmail list-users output") {
		t.Errorf("DecodeRole(list-users) = %v", err)
	}
}

// FuzzDecodeRoleList: DecodeRoleList never panics, accepts no page with a
// NextToken (SEMANTICS D4), and what it accepts EncodeRoleList writes and
// DecodeRoleList reads back to the same roles.
func FuzzDecodeRoleList(f *testing.F) {
	for _, name := range []string{"list-impersonation-roles.json", "list-impersonation-roles.max-results-1.json", "list-users.json"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "aws-cli", "captured", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := impersonation.DecodeRoleList(data)
		if err != nil {
			return
		}
		if out.NextToken != "" {
			t.Fatalf("accepted a page with NextToken %q", out.NextToken)
		}
		enc, err := impersonation.EncodeRoleList(out)
		if err != nil {
			t.Fatalf("EncodeRoleList of an accepted listing: %v", err)
		}
		again, err := impersonation.DecodeRoleList(enc)
		if err != nil || len(again.Roles) != len(out.Roles) {
			t.Fatalf("round trip: %v, %d roles, want %d", err, len(again.Roles), len(out.Roles))
		}
	})
}
