package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/analysis"
	"github.com/wmpolicy/wmpolicy/policy"
)

const exRoles = "../../examples/org/roles.json"

// rulesFile writes a list-access-control-rules file with the given rules.
func rulesFile(t *testing.T, rules ...string) string {
	t.Helper()
	return writeTemp(t, "rules.json", `{"Rules": [`+strings.Join(rules, ",")+`]}`)
}

const defaultRuleJSON = `{"Name": "default", "Effect": "ALLOW", "Description": "Default WorkMail Rule", "DateCreated": 0, "DateModified": 0}`

func TestAuditCLI(t *testing.T) {
	code, out, errs := runCLI(t, "", "audit", exRules, "--users", exUsers, "--roles", exRoles)
	if code != 0 || !strings.Contains(out, "no findings (6 rules") {
		t.Fatalf("example org: exit %d\n%s%s", code, out, errs)
	}
	hostBits := rulesFile(t, defaultRuleJSON, `{"Name": "hb", "Effect": "DENY", "IpRanges": ["10.0.0.1/8"], "Actions": ["IMAP"]}`)
	never := rulesFile(t, defaultRuleJSON,
		`{"Name": "never", "Effect": "DENY", "IpRanges": ["10.1.0.0/16"], "NotIpRanges": ["10.0.0.0/8"]}`,
		`{"Name": "shadowed", "Effect": "ALLOW", "IpRanges": ["10.2.0.0/16"], "UserIds": ["S-1-1-11-1234567890-1234567890-1234567890-1001"]}`,
		`{"Name": "deny-10", "Effect": "DENY", "IpRanges": ["10.0.0.0/8"], "NotIpRanges": ["10.1.0.0/16"]}`)
	for _, tc := range []struct {
		args     []string
		code     int
		contains []string
	}{
		{[]string{hostBits}, 0, []string{"1 suggestion", "suggestion: Rules[1].IpRanges[0] (hb): 10.0.0.1/8 has host bits set"}},
		{[]string{hostBits, "--fail-on", "suggestion"}, 4, []string{"[host-bits]"}},
		{[]string{hostBits, "--fail-on", "warning"}, 0, nil},
		{[]string{never}, 4, []string{"1 error, 1 warning",
			"error: Rules[1].IpRanges (never): every address in IpRanges is also in NotIpRanges",
			"warning: Rules[2] (shadowed): DENY rules match every request",
			`witness: {"IpAddress":"10.2.0.1","Action":"ActiveSync","UserId":"S-1-1-11-1234567890-1234567890-1234567890-1001"}`}},
		{[]string{never, "--fail-on", "bogus"}, 3, []string{"--fail-on"}},
		{[]string{rulesFile(t, `{"Name": "x", "Effect": "ALLOW", "IpRanges": ["010.0.0.0/8"]}`)}, 3, []string{"Rules[0].IpRanges[0]", "ValidationException"}},
		{[]string{}, 3, []string{"want one RULES.json"}},
		{[]string{exRules, "--output", "yaml"}, 3, []string{"--output"}},
		{[]string{rulesFile(t, defaultRuleJSON, `{"Name": "ghost", "Effect": "DENY", "UserIds": ["mallory@example.com"]}`), "--users", exUsers}, 4,
			[]string{"unknown-user", "Rules[1].UserIds[0]"}},
	} {
		code, out, errs := runCLI(t, "", append([]string{"audit"}, tc.args...)...)
		if code != tc.code {
			t.Errorf("audit %v: exit %d, want %d\n%s%s", tc.args, code, tc.code, out, errs)
			continue
		}
		for _, c := range tc.contains {
			if !strings.Contains(out+errs, c) {
				t.Errorf("audit %v: output lacks %q:\n%s%s", tc.args, c, out, errs)
			}
		}
	}
	code, out, _ = runCLI(t, "", "audit", never, "--output", "json")
	var rep struct {
		Findings []struct {
			Severity, Kind, Rule, Path, Message string
			Witness                             map[string]string
		}
		Cells int64
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 4 || len(rep.Findings) != 2 || rep.Cells == 0 {
		t.Fatalf("json: exit %d, %v\n%s", code, err, out)
	}
	if f := rep.Findings[1]; f.Severity != "warning" || f.Kind != "shadowed" || f.Witness["IpAddress"] != "10.2.0.1" {
		t.Errorf("json finding %+v", f)
	}
	// The witness, replayed with eval, is denied although the rule matches.
	w, _ := json.Marshal(rep.Findings[1].Witness)
	_, out, _ = runCLI(t, string(w)+"\n", "eval", "--rules", never)
	if !strings.Contains(out, `"Effect":"DENY","MatchedRules":["deny-10"]`) {
		t.Errorf("witness through eval: %s", out)
	}
}

func TestDiffCLI(t *testing.T) {
	before := rulesFile(t, defaultRuleJSON, `{"Name": "office", "Effect": "DENY", "NotIpRanges": ["192.0.2.0/24"], "Actions": ["IMAP", "SMTP"]}`)
	after := rulesFile(t, defaultRuleJSON, `{"Name": "office", "Effect": "DENY", "NotIpRanges": ["192.0.2.0/24", "10.9.0.0/16"], "Actions": ["IMAP", "SMTP"]}`)
	for _, tc := range []struct {
		args     []string
		code     int
		contains []string
	}{
		{[]string{exRules, exRules}, 0, []string{"equivalent"}},
		{[]string{before, after}, 5, []string{"more permissive (1 region)", "+ newly allowed: 10.9.0.0/16  IMAP,SMTP  any other user",
			`witness: {"IpAddress":"10.9.0.1","Action":"IMAP","UserId":"S-1-1-11-0000000000-0000000000-0000000000-1001"}`}},
		{[]string{after, before}, 5, []string{"less permissive (1 region)", "- newly denied: 10.9.0.0/16"}},
		{[]string{before}, 3, []string{"want OLD.json and NEW.json"}},
		{[]string{before, rulesFile(t, `{"Name": "x", "Effect": "ALLOW", "Actions": ["Imap"]}`)}, 3, []string{"did you mean IMAP?"}},
		{[]string{exRules, rulesFile(t, `{"Name": "x", "Effect": "DENY", "UserIds": ["mallory@example.com"]}`), "--users", exUsers}, 3, []string{"EntityNotFoundException"}},
	} {
		code, out, errs := runCLI(t, "", append([]string{"diff"}, tc.args...)...)
		if code != tc.code {
			t.Errorf("diff %v: exit %d, want %d\n%s%s", tc.args, code, tc.code, out, errs)
			continue
		}
		for _, c := range tc.contains {
			if !strings.Contains(out+errs, c) {
				t.Errorf("diff %v: output lacks %q:\n%s%s", tc.args, c, out, errs)
			}
		}
	}
	code, out, _ := runCLI(t, "", "diff", before, after, "--output", "json")
	var d struct {
		Verdict string
		Regions []struct {
			Change string
			Addrs  struct {
				Text, Form string
				CIDRs      []string
				Intervals  []struct{ First, Last string }
			}
			Actions []string
			Witness map[string]string
		}
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || code != 5 || d.Verdict != "more-permissive" || len(d.Regions) != 1 {
		t.Fatalf("json: exit %d %v\n%s", code, err, out)
	}
	g := d.Regions[0]
	if g.Change != "newly-allowed" || g.Addrs.Text != "10.9.0.0/16" || g.Addrs.Form != "cidrs" || len(g.Addrs.Intervals) != 1 ||
		g.Addrs.Intervals[0].First != "10.9.0.0" || g.Addrs.Intervals[0].Last != "10.9.255.255" || len(g.Addrs.CIDRs) != 1 {
		t.Errorf("region %+v", g)
	}
	// the witness through eval: DENY before, ALLOW after
	w, _ := json.Marshal(g.Witness)
	_, ob, _ := runCLI(t, string(w)+"\n", "eval", "--rules", before)
	_, oa, _ := runCLI(t, string(w)+"\n", "eval", "--rules", after)
	if !strings.Contains(ob, `"DENY"`) || !strings.Contains(oa, `"ALLOW"`) {
		t.Errorf("witness through eval: before %s after %s", ob, oa)
	}
}

func TestWhoCanCLI(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		contains []string
	}{
		{[]string{exRules, "--users", exUsers, "--user", "alice"}, 0, []string{"what may user alice <alice@example.com> (S-1-1-11-1234567890-1234567890-1234567890-1001) do?", "every action from 10.8.0.0/16, 192.0.2.0/24"}},
		{[]string{exRules, "--users", exUsers, "--user", "carol"}, 0, []string{"WebMail from everywhere except 198.51.100.0/24, 203.0.113.128/25", "denied everywhere: ActiveSync,AutoDiscover,EWS,IMAP,SMTP,WindowsOutlook"}},
		{[]string{exRules, "--users", exUsers, "--user", "dave"}, 0, []string{`(no rule names this user: it is one of "any other user")`}},
		{[]string{exRules, "--role", "9f1c2a64-3b7e-4d5a-8c21-0e6b7a9d4f10"}, 0, []string{"EWS from 10.20.0.0/16"}},
		{[]string{exRules, "--roles", exRoles, "--role", "9f1c2a64-3b7e-4d5a-8c21-0e6b7a9d4f10"}, 0, []string{"what may role archiver (9f1c2a64-3b7e-4d5a-8c21-0e6b7a9d4f10) do?"}},
		{[]string{exRules, "--users", exUsers, "--action", "IMAP", "--ip", "10.8.1.1"}, 0, []string{"who may use IMAP from 10.8.1.1?", "allowed: user alice <alice@example.com>, any other user", "denied:  user carol <carol.contractor@example.com>"}},
		{[]string{exRules, "--users", exUsers, "--user", "mallory"}, 3, []string{"EntityNotFoundException"}},
		{[]string{exRules, "--user", "x", "--role", "y"}, 3, []string{"exactly one of"}},
		{[]string{exRules, "--action", "IMAP"}, 3, []string{"go together"}},
		{[]string{exRules, "--action", "Imap", "--ip", "10.0.0.1"}, 3, []string{"did you mean IMAP?"}},
		{[]string{exRules, "--action", "IMAP", "--ip", "10.0.0.01"}, 3, []string{"leading zero"}},
	} {
		code, out, errs := runCLI(t, "", append([]string{"who-can"}, tc.args...)...)
		if code != tc.code {
			t.Errorf("who-can %v: exit %d, want %d\n%s%s", tc.args, code, tc.code, out, errs)
			continue
		}
		for _, c := range tc.contains {
			if !strings.Contains(out+errs, c) {
				t.Errorf("who-can %v: output lacks %q:\n%s%s", tc.args, c, out, errs)
			}
		}
	}
	code, out, _ := runCLI(t, "", "who-can", exRules, "--users", exUsers, "--user", "alice", "--output", "json")
	var pa struct {
		Question  struct{ User string }
		Principal struct{ Kind, Id, Name, Email string }
		UserId    string
		Grants    []struct {
			Actions []string
			Ranges  struct {
				Text      string
				Intervals []struct{ First, Last string }
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &pa); err != nil || code != 0 || pa.Question.User != "alice" || pa.Principal.Kind != "user" ||
		pa.Principal.Name != "alice" || pa.Principal.Email != "alice@example.com" || len(pa.Grants) != 1 || len(pa.Grants[0].Actions) != 7 ||
		pa.Grants[0].Ranges.Text != "10.8.0.0/16, 192.0.2.0/24" || len(pa.Grants[0].Ranges.Intervals) != 2 {
		t.Fatalf("json: %v\n%s", err, out)
	}
}

func TestExplainCLI(t *testing.T) {
	code, out, errs := runCLI(t, "", "explain", "--rules", exRules, "--users", exUsers, "--ip", "203.0.113.9", "--action", "IMAP", "--user", "bob")
	if code != 2 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	for _, c := range []string{"DENY (explicit deny)", "matched rules: legacy-protocols-office-only",
		"DENY  legacy-protocols-office-only (Rules[5]): matches, decides", "ALLOW default (Rules[4]): matches, overridden by DENY",
		"principal: user bob <bob@example.com>",
		"NotIpRanges             holds  203.0.113.9 is in none of the 2 NotIpRanges items",
		"UserIds                 FAILS  user S-1-1-11-1234567890-1234567890-1234567890-1002 is not in UserIds"} {
		if !strings.Contains(out, c) {
			t.Errorf("output lacks %q:\n%s", c, out)
		}
	}
	code, out, _ = runCLI(t, "", "explain", "--rules", exRules, "--ip", "192.0.2.9", "--action", "IMAP", "--user", "x-user-000000001", "--output", "json")
	var ex struct {
		Effect, Reason string
		MatchedRules   []string
		Rules          []struct {
			Name       string
			Index      int
			Matches    bool
			Conditions []struct {
				Field  string
				Holds  bool
				Index  *int
				Detail string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &ex); err != nil || code != 0 || ex.Effect != "ALLOW" || ex.Reason != "explicit allow" || len(ex.Rules) != 6 {
		t.Fatalf("json: exit %d %v\n%s", code, err, out)
	}
	last := ex.Rules[5] // legacy-protocols-office-only
	if last.Index != 5 || last.Matches || last.Conditions[0].Field != "NotIpRanges" || last.Conditions[0].Holds || *last.Conditions[0].Index != 0 {
		t.Errorf("legacy rule: %+v", last)
	}
	for _, args := range [][]string{
		{"--rules", exRules, "--ip", "192.0.2.9", "--action", "IMAP", "--role", "r"},
		{"--rules", exRules, "--roles", exRoles, "--ip", "192.0.2.9", "--action", "EWS", "--role", "no-such-role"}, // ResourceNotFoundException, as who-can
		{"--rules", exRules, "--users", exUsers, "--ip", "192.0.2.9", "--action", "IMAP", "--user", "mallory"},
		{"--ip", "192.0.2.9"},
		{"--rules", exRules, "extra"},
	} {
		if code, out, errs := runCLI(t, "", append([]string{"explain"}, args...)...); code != 3 {
			t.Errorf("explain %v: exit %d\n%s%s", args, code, out, errs)
		}
	}
}

// An exceeded budget (or a cancelled context) is a failure, exit 1, printed
// as what it is: not as a ValidationException of the input.
func TestAnalysisErrorBudget(t *testing.T) {
	var b strings.Builder
	code := analysisError("wmpolicy diff", &analysis.BudgetError{Resource: "cells", Need: 10, Limit: 5}, &b)
	if want := "wmpolicy diff: analysis: 10 cells needed, budget is 5\n"; code != exitFailure || b.String() != want {
		t.Errorf("budget error: exit %d, %q; want exit %d, %q", code, b.String(), exitFailure, want)
	}
	b.Reset()
	code = analysisError("wmpolicy who-can", policy.Errorf(policy.ResourceNotFoundException, "ImpersonationRoleId", "no impersonation role \"x\""), &b)
	if code != exitInvalid || !strings.Contains(b.String(), "ResourceNotFoundException") {
		t.Errorf("policy error: exit %d, %q", code, b.String())
	}
}

func TestAnalysisUsage(t *testing.T) {
	for verb, exits := range map[string]string{"audit": "4 findings", "diff": "5 different", "explain": "2 DENY", "who-can": "0 answered",
		"test": "6 a case failed", "fmt": "7 with --check"} {
		code, out, _ := runCLI(t, "", verb, "-h") // help asked for: on stdout, exit 0
		if code != 0 || !strings.Contains(out, "wmpolicy "+verb) || !strings.Contains(out, exits) || (verb != "fmt" && !strings.Contains(out, "-output")) {
			t.Errorf("%s -h: exit %d\n%s", verb, code, out)
		}
	}
	_, out, _ := runCLI(t, "", "help")
	for _, verb := range []string{"wmpolicy explain --rules", "wmpolicy audit RULES.json", "wmpolicy diff OLD.json NEW.json", "wmpolicy who-can RULES.json",
		"wmpolicy test --rules", "wmpolicy fmt [--check | -w]", "--output text|json|sarif", "--output text|json|markdown"} {
		if !strings.Contains(out, verb) {
			t.Errorf("usage lacks %q", verb)
		}
	}
}

func TestTestCLI(t *testing.T) {
	wrong := "testdata/tests-wrong.json"
	for _, tc := range []struct {
		args     []string
		code     int
		contains []string
	}{
		{[]string{"--rules", exRules, "--users", exUsers, "--roles", exRoles, "../../examples/org/tests.json"}, 0,
			[]string{"ok: 13 passed, 0 failed (13 cases)", "coverage: 6 of 6 rules matched by some case (100%), 9 of 9 conditions"}},
		// without the directory the example's user names name nobody: the
		// cases fail, and so does the unknown-user case
		{[]string{"--rules", exRules, "../../examples/org/tests.json"}, 6, []string{"FAILED"}},
		{[]string{"--rules", exRules, "--users", exUsers, wrong}, 6, []string{
			"FAIL  planted: bob may use IMAP from home (Tests[1])\n      want ALLOW, got DENY",
			"      DENY  legacy-protocols-office-only (Rules[5]): matches, decides",
			`want MatchedRules ["contractors-webmail-only"], got ["default"]`,
			"want DENY, got EntityNotFoundException",
			"FAILED: 1 passed, 3 failed (4 cases)",
			"not covered: Rules[1] archiver-from-datacenter: matched by no case; NotIpRanges never failed; ImpersonationRoleIds never held"}},
		{[]string{"--rules", exRules, rulesFile(t, defaultRuleJSON)}, 3, []string{`unknown field "Rules"`}},
		{[]string{"--rules", exRules}, 3, []string{"want one TESTS.json"}},
		{[]string{wrong}, 3, []string{"--rules is required"}},
	} {
		code, out, errs := runCLI(t, "", append([]string{"test"}, tc.args...)...)
		if code != tc.code {
			t.Errorf("test %v: exit %d, want %d\n%s%s", tc.args, code, tc.code, out, errs)
			continue
		}
		for _, c := range tc.contains {
			if !strings.Contains(out+errs, c) {
				t.Errorf("test %v: output lacks %q:\n%s%s", tc.args, c, out, errs)
			}
		}
	}
}
