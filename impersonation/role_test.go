package impersonation_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

func TestParseType(t *testing.T) {
	for s, want := range map[string]impersonation.Type{"FULL_ACCESS": impersonation.FullAccess, "READ_ONLY": impersonation.ReadOnly} {
		got, err := impersonation.ParseType(s)
		if err != nil || got != want || got.String() != s || !got.Valid() {
			t.Errorf("ParseType(%q) = %v, %v", s, got, err)
		}
	}
	for s, hint := range map[string]string{"read_only": "did you mean READ_ONLY?", "Full_Access": "did you mean FULL_ACCESS?", "ADMIN": "", "": "", "READ_ONLY ": ""} {
		got, err := impersonation.ParseType(s)
		if got != 0 || !errors.Is(err, policy.ErrInvalidParameter) {
			t.Errorf("ParseType(%q) = %v, %v", s, got, err)
			continue
		}
		if hint != "" && !strings.Contains(err.Error(), hint) {
			t.Errorf("ParseType(%q): %v lacks %q", s, err, hint)
		}
		if hint == "" && strings.Contains(err.Error(), "did you mean") {
			t.Errorf("ParseType(%q): unexpected hint in %v", s, err)
		}
	}
	var zero impersonation.Type
	if zero.Valid() || zero.String() != "" || impersonation.Type(9).String() != "" {
		t.Error("zero or unknown Type")
	}
	if _, err := json.Marshal(zero); err == nil {
		t.Error("the zero Type marshals")
	}
	var typ impersonation.Type
	for _, doc := range []string{`"read_only"`, `1`, `null`, `"READ_ONLY`} {
		if err := json.Unmarshal([]byte(doc), &typ); err == nil && doc != "null" {
			t.Errorf("Unmarshal(%s) accepted", doc)
		}
	}
	if err := json.Unmarshal([]byte(`"READ_ONLY"`), &typ); err != nil || typ != impersonation.ReadOnly {
		t.Errorf("Unmarshal READ_ONLY: %v %v", typ, err)
	}
}

func TestCheckTargetUser(t *testing.T) {
	for _, s := range []string{"a", "bob", "alice@example.org", "S-1-1-11-1111111111-2222222222-3333333333-3333",
		"12345678-1234-1234-1234-123456789012", "first.last+tag%x@sub-domain.example", strings.Repeat("z", 256)} {
		if msg := impersonation.CheckTargetUser(s); msg != "" {
			t.Errorf("CheckTargetUser(%q) = %q, want valid", s, msg)
		}
	}
	for _, s := range []string{"", " ", "a b", "a,b", "a/b", "a\\b", "<a>", "jürgen", "a\x00", "a\xff", strings.Repeat("z", 257), "tab\t"} {
		if msg := impersonation.CheckTargetUser(s); msg == "" {
			t.Errorf("CheckTargetUser(%q) accepted", s)
		}
	}
	if n := testing.AllocsPerRun(100, func() { impersonation.CheckTargetUser("alice@example.org") }); n != 0 {
		t.Errorf("CheckTargetUser allocates %v times on a valid identifier", n)
	}
}

func TestRoleClone(t *testing.T) {
	r := impersonation.Role{Name: "n", Type: impersonation.ReadOnly, Rules: []impersonation.Rule{
		{ImpersonationRuleId: "a", Effect: policy.Allow, TargetUsers: []string{"x"}, NotTargetUsers: []string{}},
		{ImpersonationRuleId: "b", Effect: policy.Deny},
	}}
	c := r.Clone()
	c.Rules[0].TargetUsers[0] = "changed"
	c.Rules[1].Effect = policy.Allow
	if r.Rules[0].TargetUsers[0] != "x" || r.Rules[1].Effect != policy.Deny {
		t.Error("Clone shares memory")
	}
	if c.Rules[0].NotTargetUsers == nil || c.Rules[1].TargetUsers != nil {
		t.Error("Clone changed nil and empty lists")
	}
	if (impersonation.Role{}).Clone().Rules != nil {
		t.Error("Clone of nil rules is not nil")
	}
}

// EncodeRole writes what the AWS CLI writes: no HTML escaping, 4-space
// indentation, rules in their order.
func TestEncodeRoleText(t *testing.T) {
	r := impersonation.Role{Name: "Mail & more", Type: impersonation.FullAccess, Rules: []impersonation.Rule{
		{ImpersonationRuleId: "z", Effect: policy.Allow}, {ImpersonationRuleId: "a", Name: "Tom & Jerry", Effect: policy.Deny, NotTargetUsers: []string{"tom"}},
	}}
	out, err := impersonation.EncodeRole(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
    "Name": "Mail & more",
    "Type": "FULL_ACCESS",
    "Rules": [
        {
            "ImpersonationRuleId": "z",
            "Effect": "ALLOW"
        },
        {
            "ImpersonationRuleId": "a",
            "Name": "Tom & Jerry",
            "Effect": "DENY",
            "NotTargetUsers": [
                "tom"
            ]
        }
    ]
}
`
	if string(out) != want {
		t.Errorf("EncodeRole:\n%s\nwant\n%s", out, want)
	}
	r.Rules[0].Effect = 0
	if _, err := impersonation.EncodeRole(r); !slices.Equal(errorPaths(err), []string{"ValidationException Rules[0].Effect"}) {
		t.Errorf("EncodeRole of an invalid role: %v", err)
	}
}
