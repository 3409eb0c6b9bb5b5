package analysis_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/analysis"
	"github.com/wmpolicy/wmpolicy/policy"
)

func loadCases(t *testing.T, file string) []analysis.TestCase {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := analysis.DecodeTestCases(data)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

func runTests(t *testing.T, rules []accessctl.Rule, opts analysis.Options, cases []analysis.TestCase) *analysis.TestReport {
	t.Helper()
	a, err := analysis.New(rules, opts)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.RunTests(context.Background(), cases)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// The shipped example tests pass and cover every rule and condition; every
// answer equals accessctl's (A6, A7).
func TestSemanticsA7_RunTestsExampleOrg(t *testing.T) {
	rules := loadRules(t, "../examples/org/rules.json")
	dir := loadUsers(t)
	opts := analysis.Options{Directory: dir, Roles: []string{"9f1c2a64-3b7e-4d5a-8c21-0e6b7a9d4f10"}}
	cases := loadCases(t, "../examples/org/tests.json")
	rep := runTests(t, rules, opts, cases)
	if rep.Failed != 0 || rep.Passed != len(cases) {
		for _, r := range rep.Results {
			if !r.Passed {
				t.Errorf("%s: %s", r.Case.Name, r.Problem)
			}
		}
		t.Fatalf("%d passed, %d failed", rep.Passed, rep.Failed)
	}
	c := rep.Coverage
	if c.RulesCovered != 6 || len(c.Rules) != 6 || c.ConditionsCovered != 9 || c.Conditions != 9 {
		t.Errorf("coverage %+v", c)
	}
	p, err := accessctl.Compile(rules, accessctl.Options{Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Err != nil {
			continue
		}
		req, _ := r.Case.Request.Request()
		d, err := p.Decide(req)
		if err != nil || d.Effect != r.Effect || !slices.Equal(d.MatchedRules, r.MatchedRules) {
			t.Errorf("%s: RunTests %v %v, accessctl %v %v %v", r.Case.Name, r.Effect, r.MatchedRules, d.Effect, d.MatchedRules, err)
		}
	}
}

// A planted wrong expectation — effect, matched rules, error code — fails
// its case, and only that case, with the reason.
func TestRunTestsCatchesWrongExpectations(t *testing.T) {
	rules := loadRules(t, "../examples/org/rules.json")
	opts := analysis.Options{Directory: loadUsers(t)}
	for _, tc := range []struct {
		name    string
		plant   func(c *analysis.TestCase)
		problem string
	}{
		{"effect", func(c *analysis.TestCase) { c.Effect = policy.Allow }, "want ALLOW, got DENY"},
		{"matched rules", func(c *analysis.TestCase) { c.MatchedRules = &[]string{"default"} }, `want MatchedRules ["default"], got ["legacy-protocols-office-only"]`},
		{"no matched rules", func(c *analysis.TestCase) { c.MatchedRules = &[]string{} }, `want MatchedRules [], got ["legacy-protocols-office-only"]`},
		{"error instead of effect", func(c *analysis.TestCase) { c.Effect, c.Error = 0, policy.EntityNotFoundException }, "want EntityNotFoundException, got DENY"},
		{"effect of a refused request", func(c *analysis.TestCase) { c.Request.UserId = "nobody@example.com" }, "want DENY, got EntityNotFoundException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cases := loadCases(t, "../examples/org/tests.json")
			const planted = 4 // "bob may not use IMAP from home"
			tc.plant(&cases[planted])
			rep := runTests(t, rules, opts, cases)
			if rep.Failed != 1 || rep.Passed != len(cases)-1 {
				t.Fatalf("%d passed, %d failed", rep.Passed, rep.Failed)
			}
			r := rep.Results[planted]
			if r.Passed || !strings.HasPrefix(r.Problem, tc.problem) {
				t.Errorf("planted case: passed %v, problem %q, want %q", r.Passed, r.Problem, tc.problem)
			}
			if (r.Err == nil) != (r.Explanation != nil) {
				t.Errorf("explanation %v with error %v", r.Explanation, r.Err)
			}
		})
	}
}

// Coverage is exact: rules no case matches and conditions no case saw both
// ways are reported, with the counts.
func TestRunTestsCoverageExact(t *testing.T) {
	rules := []accessctl.Rule{
		defaultRule,
		{Name: "office-imap", Effect: policy.Deny, NotIpRanges: []string{"192.0.2.0/24"}, Actions: []string{"IMAP"}},
		{Name: "never-tested", Effect: policy.Deny, IpRanges: []string{"198.51.100.0/24"}},
		{Name: "alice-role", Effect: policy.Deny, ImpersonationRoleIds: []string{"role-a"}, NotIpRanges: []string{"10.0.0.0/8"}},
	}
	effect := func(e policy.Effect) policy.Effect { return e }
	cases := []analysis.TestCase{
		{Name: "IMAP from the office", Request: accessctl.GetAccessControlEffectInput{IpAddress: "192.0.2.1", Action: "IMAP", UserId: alice}, Effect: effect(policy.Allow)},
		{Name: "IMAP from home", Request: accessctl.GetAccessControlEffectInput{IpAddress: "203.0.113.1", Action: "IMAP", UserId: alice}, Effect: effect(policy.Deny)},
		{Name: "invalid", Request: accessctl.GetAccessControlEffectInput{IpAddress: "203.0.113.01", Action: "IMAP", UserId: alice}, Error: policy.ValidationException},
	}
	rep := runTests(t, rules, analysis.Options{}, cases)
	if rep.Failed != 0 {
		t.Fatalf("%+v", rep.Results)
	}
	var got []string
	for _, rc := range rep.Coverage.Rules {
		s := fmt.Sprintf("%s m%d d%d", rc.Name, rc.Matched, rc.Decided)
		for _, cc := range rc.Conditions {
			s += fmt.Sprintf(" %s:%d/%d", cc.Field, cc.Held, cc.Failed)
		}
		got = append(got, s)
	}
	want := []string{
		"default m2 d1",
		"office-imap m1 d1 NotIpRanges:1/1 Actions:2/0",
		"never-tested m0 d0 IpRanges:0/2",
		"alice-role m0 d0 NotIpRanges:2/0 ImpersonationRoleIds:0/2",
	}
	if !slices.Equal(got, want) {
		t.Errorf("coverage\n got %q\nwant %q", got, want)
	}
	if c := rep.Coverage; c.RulesCovered != 2 || c.ConditionsCovered != 1 || c.Conditions != 5 {
		t.Errorf("totals %+v", c)
	}
}

func TestDecodeTestCasesErrors(t *testing.T) {
	for _, tc := range []struct {
		json  string
		paths []string
	}{
		{`{"Tests": [{"Name": "a", "Request": {"IpAddress": "1.2.3.4", "Action": "IMAP", "UserId": "x"}, "Efect": "ALLOW"}]}`, []string{"Tests[0].Efect"}},
		{`{"Tests": [{"Name": "a", "Request": {}, "Effect": "ALLOW"}, {"Name": "a", "Request": {}, "Effect": "DENY"}]}`, []string{"Tests[1].Name"}},
		{`{"Tests": [{"Request": {}, "Effect": "ALLOW"}]}`, []string{"Tests[0].Name"}},
		{`{"Tests": [{"Name": "a", "Request": {}}]}`, []string{"Tests[0]"}},
		{`{"Tests": [{"Name": "a", "Request": {}, "Effect": "DENY", "Error": "ValidationException"}]}`, []string{"Tests[0].Error"}},
		{`{"Tests": [{"Name": "a", "Request": {}, "Error": "ValidationException", "MatchedRules": []}]}`, []string{"Tests[0].MatchedRules"}},
		{`{"Tests": [{"Name": "a", "Request": {}, "Effect": "MAYBE"}]}`, []string{"Tests[0].Effect"}},
		{`{}`, []string{"Tests"}},
		{`{"Tests": [` + strings.Repeat(`{"Name":"x","Request":{},"Effect":"ALLOW"},`, analysis.MaxTestCases) + `{"Name":"y","Request":{},"Effect":"ALLOW"}]}`, []string{"Tests"}},
	} {
		cases, err := analysis.DecodeTestCases([]byte(tc.json))
		var paths []string
		for _, e := range policy.Errors(err) {
			if e.Code != policy.ValidationException {
				t.Errorf("%v: code %s", e, e.Code)
			}
			paths = append(paths, e.Path)
		}
		if cases != nil || !slices.Equal(paths, tc.paths) {
			t.Errorf("%.80s: paths %q, want %q (%v)", tc.json, paths, tc.paths, err)
		}
	}
}

// FuzzDecodeTestCases: any input is decoded or refused with a typed error,
// never a panic; what decodes runs.
func FuzzDecodeTestCases(f *testing.F) {
	data, err := os.ReadFile("../examples/org/tests.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"Tests": [{"Name": "a", "Request": {"IpAddress": "1.2.3.4", "Action": "EWS", "ImpersonationRoleId": "r"}, "Error": "X"}]}`))
	a, err := analysis.New([]accessctl.Rule{defaultRule, {Name: "d", Effect: policy.Deny, IpRanges: []string{"10.0.0.0/8"}}}, analysis.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cases, err := analysis.DecodeTestCases(data)
		if err != nil {
			if policy.CodeOf(err) == "" {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		rep, err := a.RunTests(context.Background(), cases)
		if err != nil || rep.Passed+rep.Failed != len(cases) {
			t.Fatalf("RunTests: %v", err)
		}
	})
}
