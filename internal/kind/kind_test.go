package kind

import (
	"strings"
	"testing"
)

// Sniff names each AWS CLI output by its top-level members, and anything it
// does not recognize, malformed input included, as Unknown (moved from
// policy's TestDecodeUsersNamesTheWrongKind with SniffKind).
func TestSniff(t *testing.T) {
	for in, want := range map[string]Kind{
		`{"Users":[]}`:                               ListUsers,
		`{"Rules":[]}`:                               ListAccessControlRules,
		`{"Roles":[],"NextToken":"x"}`:               ListImpersonationRoles,
		`{"ImpersonationRoleId":"r","Rules":[]}`:     GetImpersonationRole,
		`{"Name":"n","Type":"READ_ONLY","Rules":[]}`: GetImpersonationRole,
		`{"OrganizationSummaries":[]}`:               ListOrganizations,
		`{"Effect":"ALLOW","MatchedRules":[]}`:       AccessControlEffect,
		`{"Keys":[]}`:                                KeyFile,
		`[1,2]`:                                      Unknown,
		`{"Users":`:                                  Unknown,
		``:                                           Unknown,
	} {
		if got := Sniff([]byte(in)); got != want {
			t.Errorf("Sniff(%s) = %q, want %q", in, got, want)
		}
	}
}

// SEMANTICS D2: a file of another kind is named as that mix-up; a file of the
// wanted kind, or of no recognizable kind, is not.
func TestSemanticsD2_Mixup(t *testing.T) {
	if got := Mixup([]byte(`{"Rules":[]}`), ListUsers); !strings.Contains(got, "this is aws workmail list-access-control-rules output, not aws workmail list-users output") {
		t.Errorf("got %q", got)
	}
	for _, in := range []string{`{"Users":[]}`, `{"Whatever":1}`, `nonsense`} {
		if got := Mixup([]byte(in), ListUsers); got != "" {
			t.Errorf("Mixup(%s) = %q, want none", in, got)
		}
	}
}

// FuzzSniff: Sniff never panics and Mixup never names the wanted kind.
func FuzzSniff(f *testing.F) {
	f.Add([]byte(`{"Users":[],"NextToken":null}`))
	f.Add([]byte(`{"Rules":[{"Name":"r"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		k := Sniff(data)
		if m := Mixup(data, k); m != "" {
			t.Fatalf("Mixup names the sniffed kind %q as a mix-up: %s", k, m)
		}
	})
}
