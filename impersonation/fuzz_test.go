package impersonation_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/internal/reference"
	"github.com/wmpolicy/wmpolicy/policy"
)

// FuzzDecodeRole: decoding `get-impersonation-role` output never panics and
// every error carries an AWS code; what decodes is valid, compiles, answers
// every target exactly as the reference does, and encodes back to a document
// that decodes to the same role.
func FuzzDecodeRole(f *testing.F) {
	const rule = `{"ImpersonationRuleId":"r","Effect":"DENY","TargetUsers":["alice@example.org"]}`
	for _, seed := range []string{
		// Valid: the CLI's shape, every member.
		`{"ImpersonationRoleId":"b4ef6a1c-9c3e-4a5d-8e2f-0123456789ab","Name":"archiver","Type":"READ_ONLY","Description":"line 1\r\nline 2",` +
			`"Rules":[{"ImpersonationRuleId":"allow-all","Name":"Everyone","Description":"d","Effect":"ALLOW"},` +
			`{"ImpersonationRuleId":"deny-ceo","Effect":"DENY","TargetUsers":["ceo@example.org","S-1-1-11-1111111111-2222222222-3333333333-3333"],"NotTargetUsers":["ceo"]}],` +
			`"DateCreated":1700000000.123,"DateModified":"2023-11-14T22:13:20Z"}`,
		`{"Name":"n","Type":"FULL_ACCESS"}`,
		`{"Name":"n","Type":"FULL_ACCESS","Rules":[]}`,
		// The typo that would widen a rule, wrong case, duplicates.
		`{"Name":"n","Type":"READ_ONLY","Rules":[{"ImpersonationRuleId":"r","Effect":"ALLOW","NotTargetUser":["ceo"]}]}`,
		`{"Name":"n","Type":"READ_ONLY","Rules":[{"ImpersonationRuleId":"r","Effect":"ALLOW","notTargetUsers":["ceo"]}]}`,
		`{"name":"n","type":"READ_ONLY","rules":[]}`,
		`{"Name":"n","Name":"m","Type":"READ_ONLY"}`,
		`{"Name":"n","Type":"READ_ONLY","Rules":[{"ImpersonationRuleId":"r","ImpersonationRuleId":"s","Effect":"ALLOW"}]}`,
		`{"Name":"n","Type":"READ_ONLY","Rules":[` + rule + `,` + rule + `]}`, // duplicate rule IDs
		// Enum values in the wrong case or of the wrong kind.
		`{"Name":"n","Type":"read_only","Rules":[{"ImpersonationRuleId":"r","Effect":"allow"}]}`,
		`{"Name":"n","Type":1,"Rules":[{"ImpersonationRuleId":"r","Effect":true}]}`,
		// Invalid UTF-8, lone surrogates, control characters, forbidden characters.
		"{\"Name\":\"\xff\",\"Type\":\"READ_ONLY\"}",
		"{\"Name\":\"n\",\"Type\":\"READ_ONLY\",\"Rules\":[{\"ImpersonationRuleId\":\"r\",\"Effect\":\"ALLOW\",\"TargetUsers\":[\"a\xc3\"]}]}",
		`{"Name":"\ud800","Type":"READ_ONLY"}`,
		`{"Name":"a\u0000b","Type":"READ_ONLY","Description":"tab\there"}`,
		`{"Name":"<b>\\","Type":"READ_ONLY","Rules":[{"ImpersonationRuleId":"r","Name":"x>y","Effect":"DENY","NotTargetUsers":["bob smith",""]}]}`,
		// Sizes: empty lists, eleven items, huge strings.
		`{"Name":"n","Type":"READ_ONLY","Rules":[{"ImpersonationRuleId":"r","Effect":"ALLOW","TargetUsers":[],"NotTargetUsers":[]}]}`,
		`{"Name":"n","Type":"READ_ONLY","Rules":[{"ImpersonationRuleId":"r","Effect":"ALLOW","TargetUsers":["1","2","3","4","5","6","7","8","9","10","11"]}]}`,
		`{"Name":"n","Type":"READ_ONLY","Rules":[` + strings.Repeat(rule+`,`, 10) + rule + `]}`,
		`{"Name":"` + strings.Repeat("x", 100000) + `","Type":"READ_ONLY"}`,
		`{"Name":"n","Type":"READ_ONLY","Rules":[{"ImpersonationRuleId":"r","Effect":"ALLOW","TargetUsers":["` + strings.Repeat("a", 100000) + `"]}]}`,
		// Nulls, wrong shapes, syntax.
		`{"ImpersonationRoleId":null,"Name":"n","Type":"READ_ONLY","Rules":[null]}`,
		`{"Name":"n","Type":"READ_ONLY","Rules":{"ImpersonationRuleId":"r"}}`,
		`{"Name":"n","Type":"READ_ONLY","DateCreated":1e400,"DateModified":"tomorrow"}`,
		`{"Name":"n","Type":"READ_ONLY",}`,
		"\ufeff{\"Name\":\"n\",\"Type\":\"READ_ONLY\"}",
		`{"Name":"n","Type":"READ_ONLY"} {}`,
		strings.Repeat(`{"Rules":[`, 200),
		`null`, `[]`, `{}`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		role, err := impersonation.DecodeRole(data)
		if err != nil {
			for _, e := range policy.Errors(err) {
				if e.Code == "" || e.Message == "" {
					t.Fatalf("error without a code or message: %+v", e)
				}
			}
			if role.Name != "" || role.Rules != nil {
				t.Fatalf("a role came back with an error: %+v", role)
			}
			return
		}
		if err := impersonation.ValidateRole(role); err != nil {
			t.Fatalf("decoded role is invalid: %v", err)
		}
		ev, err := impersonation.Compile(role, nil)
		if err != nil {
			t.Fatalf("decoded role does not compile: %v", err)
		}
		// Every entry the role names, and someone it does not.
		targets := []string{"someone-else"}
		for _, r := range role.Rules {
			targets = append(targets, r.TargetUsers...)
			targets = append(targets, r.NotTargetUsers...)
		}
		for _, target := range targets {
			res, rerr := reference.EvaluateImpersonation(role, target, nil)
			d, derr := ev.Decide(target)
			if policy.CodeOf(rerr) != policy.CodeOf(derr) {
				t.Fatalf("%q: Decide error %v, reference %v", target, derr, rerr)
			}
			if derr == nil {
				got := reference.ImpersonationResult{Type: d.Type, Effect: d.Effect, Reason: d.Reason, MatchedRules: d.MatchedRules, Matching: d.Matching, UserID: d.UserID}
				if diff := cmp.Diff(res, got); diff != "" {
					t.Fatalf("%q: Decide differs from the reference:\n%s", target, diff)
				}
			}
		}
		out, err := impersonation.EncodeRole(role)
		if err != nil {
			t.Fatalf("EncodeRole: %v", err)
		}
		if !utf8.Valid(out) {
			t.Fatalf("EncodeRole wrote invalid UTF-8")
		}
		back, err := impersonation.DecodeRole(out)
		if err != nil {
			t.Fatalf("re-decode: %v\n%s", err, out)
		}
		if role.Rules == nil {
			role.Rules = []impersonation.Rule{} // written as "Rules": []
		}
		if diff := cmp.Diff(role, back); diff != "" {
			t.Fatalf("round trip changed the role (-decoded +re-decoded):\n%s", diff)
		}
	})
}
