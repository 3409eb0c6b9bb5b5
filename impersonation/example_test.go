package impersonation_test

import (
	"encoding/json"
	"fmt"

	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

// A READ_ONLY role for an archiving service: every mailbox except the CEO's.
// The role comes as `aws workmail get-impersonation-role` prints it, the users
// as `aws workmail list-users` does; the CEO is excluded by email, so naming
// her by user name does not get around the exclusion (SEMANTICS B2–B4).
func Example() {
	role, err := impersonation.DecodeRole([]byte(`{
		"ImpersonationRoleId": "b4ef6a1c-9c3e-4a5d-8e2f-0123456789ab",
		"Name": "archiver",
		"Type": "READ_ONLY",
		"Rules": [
			{"ImpersonationRuleId": "everyone", "Name": "All users", "Effect": "ALLOW"},
			{"ImpersonationRuleId": "not-the-ceo", "Effect": "DENY", "TargetUsers": ["ceo@example.org"]}
		],
		"DateCreated": 1700000000,
		"DateModified": 1700000000
	}`))
	if err != nil {
		panic(err)
	}
	dir, err := policy.DecodeUsers([]byte(`{"Users": [
		{"Id": "S-1-1-11-1111111111-2222222222-3333333333-3333", "Email": "ceo@example.org", "Name": "ceo", "State": "ENABLED"},
		{"Id": "S-1-1-11-1122222222-2222233333-3333334444-4444", "Email": "bob@example.org", "Name": "bob", "State": "ENABLED"},
		{"Id": "S-1-1-11-5555555555-5555555555-5555555555-5555", "Email": "carol@example.org", "Name": "carol", "State": "DISABLED"}
	]}`))
	if err != nil {
		panic(err)
	}
	ev, err := impersonation.Compile(role, dir)
	if err != nil {
		panic(err)
	}
	for _, target := range []string{"bob@example.org", "CEO", "carol", "nobody"} {
		out, err := ev.GetImpersonationRoleEffect(impersonation.GetImpersonationRoleEffectInput{TargetUser: target})
		if err != nil {
			fmt.Println(target, policy.CodeOf(err))
			continue
		}
		b, _ := json.Marshal(out)
		fmt.Println(target, string(b))
	}
	// Output:
	// bob@example.org {"Type":"READ_ONLY","Effect":"ALLOW","MatchedRules":[{"ImpersonationRuleId":"everyone","Name":"All users"}]}
	// CEO {"Type":"READ_ONLY","Effect":"DENY","MatchedRules":[{"ImpersonationRuleId":"not-the-ceo"}]}
	// carol EntityStateException
	// nobody EntityNotFoundException
}

// The fast path: a reused slice receives the deciding rules; no allocation.
func ExampleEvaluator_Evaluate() {
	ev, err := impersonation.Compile(impersonation.Role{
		Name: "support",
		Type: impersonation.FullAccess,
		Rules: []impersonation.Rule{
			{ImpersonationRuleId: "helpdesk", Effect: policy.Allow, NotTargetUsers: []string{"S-1-5-21-0000000001"}},
		},
	}, nil) // no directory: identifiers are exact strings
	if err != nil {
		panic(err)
	}
	matched := make([]impersonation.MatchedRule, 0, impersonation.MaxRules)
	for _, target := range []string{"S-1-5-21-0000000002", "S-1-5-21-0000000001"} {
		typ, eff, m, err := ev.Evaluate(target, matched[:0])
		fmt.Println(target, typ, eff, m, err)
		matched = m
	}
	// Output:
	// S-1-5-21-0000000002 FULL_ACCESS ALLOW [{helpdesk }] <nil>
	// S-1-5-21-0000000001 FULL_ACCESS DENY [] <nil>
}

// Decide tells the whole story: every matching rule, the reason, the user ID.
func ExampleEvaluator_Decide() {
	dir, _ := policy.NewDirectory([]policy.User{
		{ID: "S-1-1-11-1111111111", Email: "ana@example.org", Name: "ana", State: "ENABLED"},
	})
	ev, _ := impersonation.Compile(impersonation.Role{
		Name: "audit",
		Type: impersonation.ReadOnly,
		Rules: []impersonation.Rule{
			{ImpersonationRuleId: "all", Effect: policy.Allow},
			{ImpersonationRuleId: "not-ana", Name: "Ana is off limits", Effect: policy.Deny, TargetUsers: []string{"ana"}},
		},
	}, dir)
	d, err := ev.Decide("ANA@example.org")
	fmt.Println(d.Type, d.Effect, d.Reason, d.MatchedRules, len(d.Matching), d.UserID, err)
	// Output: READ_ONLY DENY explicit deny [{not-ana Ana is off limits}] 2 S-1-1-11-1111111111 <nil>
}

// Validation reports every problem, each with its AWS code and field path.
func ExampleValidateRole() {
	err := impersonation.ValidateRole(impersonation.Role{
		Name: "bad<name>",
		Type: impersonation.ReadOnly,
		Rules: []impersonation.Rule{
			{ImpersonationRuleId: "r", Effect: policy.Allow, TargetUsers: []string{"bob smith"}},
			{ImpersonationRuleId: "r"},
		},
	})
	for _, e := range policy.Errors(err) {
		fmt.Println(e.Code, e.Path)
	}
	// Output:
	// ValidationException Name
	// ValidationException Rules[0].TargetUsers[0]
	// ValidationException Rules[1].Effect
	// ValidationException Rules[1].ImpersonationRuleId
}
