package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/policy"
)

func captured(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "aws-cli", "captured", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// SEMANTICS D3: list-users output as AWS CLI v2 prints it, in any time zone
// (ISO 8601 with an offset and microseconds) or with epoch numbers, loads, and
// every form gives the same directory.
func TestSemanticsD3_CapturedListUsers(t *testing.T) {
	var want []policy.User
	for i, name := range []string{"list-users.json", "list-users.tz-asia-kolkata.json", "list-users.epoch.json"} {
		dir, err := policy.DecodeUsers(captured(t, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := dir.Users()
		if len(got) != 5 {
			t.Fatalf("%s: %d users, want 5", name, len(got))
		}
		if i == 0 {
			want = got
			continue
		}
		for j := range want {
			if !reflect.DeepEqual(got[j], want[j]) {
				t.Errorf("%s: user %d = %+v, want %+v", name, j, got[j], want[j])
			}
		}
	}
	if u, ok := mustUsers(t).Lookup("dave"); !ok || u.State != "DISABLED" {
		t.Errorf("dave = %+v, %v", u, ok)
	}
}

func mustUsers(t *testing.T) *policy.MemDirectory {
	dir, err := policy.DecodeUsers(captured(t, "list-users.json"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// SEMANTICS D4: a list-users page with a NextToken — the CLI's own token from
// --max-items, or the service's from --max-results --no-paginate — is one page
// and refused, with a message that says how to get the whole listing; a null
// or empty NextToken (the last page) is not.
func TestSemanticsD4_OnePageOfUsersIsRefused(t *testing.T) {
	for _, name := range []string{"list-users.max-items-2.json", "list-users.max-results-2.json"} {
		_, err := policy.DecodeUsers(captured(t, name))
		es := policy.Errors(err)
		if len(es) != 1 || es[0].Code != policy.ValidationException || es[0].Path != "NextToken" ||
			!strings.Contains(es[0].Message, "one page") || !strings.Contains(es[0].Message, "--max-items") {
			t.Errorf("%s: got %v, want the one-page refusal", name, err)
		}
		if _, err := policy.DecodeListUsers(captured(t, name)); err == nil {
			t.Errorf("%s: DecodeListUsers accepted one page", name)
		}
	}
	for _, last := range []string{`{"Users":[],"NextToken":null}`, `{"Users":[],"NextToken":""}`, `{"Users":[]}`} {
		if _, err := policy.DecodeUsers([]byte(last)); err != nil {
			t.Errorf("%s: %v", last, err)
		}
	}
}

// A file of another kind is named as such (not "unknown field Rules").
func TestDecodeUsersNamesTheWrongKind(t *testing.T) {
	_, err := policy.DecodeUsers(captured(t, "list-access-control-rules.json"))
	var e *policy.Error
	if !errors.As(err, &e) || !strings.Contains(e.Message, "this is aws workmail list-access-control-rules output, not aws workmail list-users output") {
		t.Errorf("got %v", err)
	}
}

// FuzzDecodeListUsers: DecodeListUsers never panics, and a
// listing DecodeListUsers accepts carries no NextToken (SEMANTICS D4).
func FuzzDecodeListUsers(f *testing.F) {
	for _, name := range []string{"list-users.json", "list-users.max-items-2.json", "list-access-control-rules.json", "get-impersonation-role.tz-europe-berlin.json"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "aws-cli", "captured", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"Users":[],"NextToken":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := policy.DecodeListUsers(data)
		if err == nil && len(out.NextToken) > 0 && string(out.NextToken) != "null" && string(out.NextToken) != `""` {
			t.Fatalf("accepted a page with NextToken %s", out.NextToken)
		}
	})
}
