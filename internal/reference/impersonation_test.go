package reference_test

import (
	"fmt"
	"testing"

	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/internal/reference"
	"github.com/wmpolicy/wmpolicy/policy"
)

func ExampleEvaluateImpersonation() {
	role := impersonation.Role{Name: "archiver", Type: impersonation.ReadOnly, Rules: []impersonation.Rule{
		{ImpersonationRuleId: "everyone", Effect: policy.Allow},
		{ImpersonationRuleId: "not-the-ceo", Name: "Not the CEO", Effect: policy.Deny, TargetUsers: []string{"ceo@example.org"}},
	}}
	for _, target := range []string{"bob@example.org", "ceo@example.org"} {
		res, err := reference.EvaluateImpersonation(role, target, nil)
		fmt.Println(target, res.Type, res.Effect, res.Reason, res.MatchedRules, err)
	}
	// Output:
	// bob@example.org READ_ONLY ALLOW explicit allow [{everyone }] <nil>
	// ceo@example.org READ_ONLY DENY explicit deny [{not-the-ceo Not the CEO}] <nil>
}

// SEMANTICS B2 B3 B4: the reference on its own, with a directory: resolution,
// state, the match table, deny overrides, role order, implicit deny.
func TestEvaluateImpersonation(t *testing.T) {
	dir, err := policy.NewDirectory([]policy.User{
		{ID: "S-1-1-11-1", Email: "ana@example.org", Name: "ana", State: "ENABLED"},
		{ID: "S-1-1-11-2", Email: "bo@example.org", Name: "bo", State: "ENABLED"},
		{ID: "S-1-1-11-3", Name: "cy", State: "DISABLED"},
	})
	if err != nil {
		t.Fatal(err)
	}
	role := impersonation.Role{Name: "r", Type: impersonation.FullAccess, Rules: []impersonation.Rule{
		{ImpersonationRuleId: "z-allow-not-ana", Effect: policy.Allow, NotTargetUsers: []string{"ANA"}},
		{ImpersonationRuleId: "a-allow-bo", Effect: policy.Allow, TargetUsers: []string{"bo@example.org"}},
	}}
	for _, c := range []struct {
		target  string
		code    policy.Code
		effect  policy.Effect
		matched []string
		userID  string
	}{
		{"ana@example.org", "", policy.Deny, nil, "S-1-1-11-1"},
		{"S-1-1-11-2", "", policy.Allow, []string{"z-allow-not-ana", "a-allow-bo"}, "S-1-1-11-2"},
		{"cy", policy.EntityStateException, 0, nil, ""},
		{"dee", policy.EntityNotFoundException, 0, nil, ""},
		{"", policy.ValidationException, 0, nil, ""},
	} {
		res, err := reference.EvaluateImpersonation(role, c.target, dir)
		if policy.CodeOf(err) != c.code {
			t.Errorf("%q: error %v, want %q", c.target, err, c.code)
			continue
		}
		if err != nil {
			continue
		}
		var ids []string
		for _, m := range res.MatchedRules {
			ids = append(ids, m.ImpersonationRuleId)
		}
		if res.Effect != c.effect || fmt.Sprint(ids) != fmt.Sprint(c.matched) || res.UserID != c.userID || res.Type != impersonation.FullAccess {
			t.Errorf("%q: %+v", c.target, res)
		}
	}
	// An unknown rule entry is EntityNotFoundException.
	bad := impersonation.Role{Name: "r", Type: impersonation.ReadOnly, Rules: []impersonation.Rule{{ImpersonationRuleId: "x", Effect: policy.Allow, TargetUsers: []string{"ghost"}}}}
	if _, err := reference.EvaluateImpersonation(bad, "ana", dir); policy.CodeOf(err) != policy.EntityNotFoundException {
		t.Errorf("unknown entry: %v", err)
	}
}
