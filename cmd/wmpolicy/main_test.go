package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	exRules = "../../examples/org/rules.json"
	exUsers = "../../examples/org/users.json"
)

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEvalSingleExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"allow", []string{"--ip", "192.0.2.44", "--action", "IMAP", "--user", "bob@example.com"}, 0,
			[]string{"ALLOW (explicit allow)", "matched rules: default"}},
		{"deny", []string{"--ip", "203.0.113.9", "--action", "IMAP", "--user", "bob"}, 2,
			[]string{"DENY (explicit deny)", "legacy-protocols-office-only", "(overridden by DENY)", "S-1-1-11-1234567890-1234567890-1234567890-1002"}},
		{"implicit deny via role outside", []string{"--ip", "192.0.2.1", "--action", "EWS", "--role", "9f1c2a64-3b7e-4d5a-8c21-0e6b7a9d4f10"}, 2,
			[]string{"DENY", "archiver-from-datacenter"}},
		{"invalid action", []string{"--ip", "192.0.2.1", "--action", "Imap", "--user", "bob"}, 3,
			[]string{"InvalidParameterException", "did you mean IMAP?"}},
		{"invalid ip", []string{"--ip", "010.0.0.1", "--action", "IMAP", "--user", "bob"}, 3,
			[]string{"ValidationException", "leading zero"}},
		{"unknown user", []string{"--ip", "192.0.2.1", "--action", "IMAP", "--user", "mallory"}, 3,
			[]string{"EntityNotFoundException"}},
		{"two principals", []string{"--ip", "192.0.2.1", "--action", "EWS", "--user", "bob", "--role", "r"}, 3,
			[]string{"InvalidParameterException", "both"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"eval", "--rules", exRules, "--users", exUsers}, tc.args...)
			code, out, errs := runCLI(t, "", args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
			for _, c := range tc.contains {
				if !strings.Contains(out+errs, c) {
					t.Errorf("output lacks %q:\n%s%s", c, out, errs)
				}
			}
		})
	}
}

// SEMANTICS A8: --output json prints the GetAccessControlEffect response shape.
func TestEvalJSONOutput(t *testing.T) {
	const ref = "../../testdata/aws-cli/documented/"
	want, err := os.ReadFile(ref + "get-access-control-effect.response.json")
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, "", "eval", "--rules", ref+"list-access-control-rules.json",
		"--ip", "192.0.2.0", "--action", "WindowsOutlook", "--user", "S-1-1-11-1111111111-2222222222-3333333333-3333", "--output", "json")
	if code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	var got, w any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(want, &w)
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("got %s, want %s", gb, wb)
	}
}

// The batch contract: one output line per input line, errors in the AWS error
// shape, keep going, exit 0.
func TestEvalBatchContract(t *testing.T) {
	in := strings.Join([]string{
		`{"IpAddress":"192.0.2.44","Action":"IMAP","UserId":"bob@example.com"}`,
		`{"IpAddress":"203.0.113.9","Action":"IMAP","UserId":"bob","OrganizationId":"m-n1pq2345678r901st2u3vx45x6789yza"}`,
		`{"IpAddress":"192.0.2.1","Action":"Imap","UserId":"bob"}`,
		`not json`,
		``,
		`{"IpAddress":"192.0.2.1","Action":"IMAP","UserId":"bob","NotAField":1}`,
		`{"IpAddress":"192.0.2.1","Action":"IMAP"}`,
		`{"IpAddress":"192.0.2.1","Action":"IMAP","UserId":"nobody-at-all"}`,
		`{"IpAddress":"10.20.0.1","Action":"EWS","ImpersonationRoleId":"9f1c2a64-3b7e-4d5a-8c21-0e6b7a9d4f10"}`,
		`{"IpAddress":"10.20.0.1","Action":"IMAP","ImpersonationRoleId":"9f1c2a64-3b7e-4d5a-8c21-0e6b7a9d4f10"}`,
		`{"IpAddress":"192.0.2.1","Action":"WebMail","UserId":"alice"}` + "\r",
	}, "\n") // no final newline: the last line still counts
	code, out, errs := runCLI(t, in, "eval", "--rules", exRules, "--users", exUsers)
	if code != exitInvalid || !strings.Contains(errs, "some requests were invalid") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := []string{
		`{"Effect":"ALLOW","MatchedRules":["default"]}`,
		`{"Effect":"DENY","MatchedRules":["legacy-protocols-office-only"]}`,
		`{"__type":"InvalidParameterException"`,
		`{"__type":"ValidationException"`,
		`{"__type":"ValidationException","Message":"NotAField: unknown field`,
		`{"__type":"InvalidParameterException"`,
		`{"__type":"EntityNotFoundException"`,
		`{"Effect":"ALLOW","MatchedRules":["default"]}`,
		`{"__type":"InvalidParameterException"`,
		`{"Effect":"ALLOW","MatchedRules":["default"]}`,
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d output lines for %d input lines:\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %s, want prefix %s", i+1, lines[i], w)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &v); err != nil {
			t.Errorf("line %d is not JSON: %v", i+1, err)
		}
	}
}

func TestEvalBatchEmptyInput(t *testing.T) {
	code, out, _ := runCLI(t, "", "eval", "--rules", exRules)
	if code != 0 || out != "" {
		t.Fatalf("exit %d, out %q", code, out)
	}
}

func TestEvalBatchLongLine(t *testing.T) {
	in := `{"IpAddress":"` + strings.Repeat("1", maxValue+10) + `"}` + "\n" + `{"IpAddress":"192.0.2.1","Action":"IMAP","UserId":"S-1-1-11-1234567890-1234567890-1234567890-1002"}` + "\n"
	code, out, _ := runCLI(t, in, "eval", "--rules", exRules)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitInvalid || len(lines) != 2 || !strings.Contains(lines[0], "longer than") || !strings.Contains(lines[1], `"Effect":"ALLOW"`) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// An invalid rules file: exit 3, every problem on stderr with its path.
func TestInvalidRulesFile(t *testing.T) {
	bad := writeTemp(t, "rules.json", `{"Rules":[
		{"Name":"a","Effect":"ALLOW","NotIpRange":["10.0.0.0/8"]},
		{"Name":"b","effect":"DENY"}
	]}`)
	code, _, errs := runCLI(t, "", "eval", "--rules", bad, "--ip", "192.0.2.1", "--action", "IMAP", "--user", "S-1-1-11-1234567890-1")
	if code != 3 {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{"Rules[0].NotIpRange", "Rules[1].effect", "did you mean"} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errs)
		}
	}
	bad2 := writeTemp(t, "rules.json", `{"Rules":[
		{"Name":"a","Effect":"ALLOW","IpRanges":["010.0.0.0/8","10.0.0.0/33"],"Actions":["Imap"]},
		{"Name":"a","Effect":"DENY"}
	]}`)
	code, _, errs = runCLI(t, "", "validate", bad2)
	if code != 3 {
		t.Fatalf("validate exit %d", code)
	}
	for _, w := range []string{"Rules[0].IpRanges[0]", "Rules[0].IpRanges[1]", "Rules[0].Actions[0]", "Rules[1].Name", "duplicate rule name"} {
		if !strings.Contains(errs, w) {
			t.Errorf("validate stderr lacks %q:\n%s", w, errs)
		}
	}
}

// SEMANTICS A14: more rules than WorkMail allows is a note, not an error.
func TestValidateNotesRuleLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"Rules":[`)
	for i := range 12 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"Name":"r` + string(rune('a'+i)) + `","Effect":"ALLOW"}`)
	}
	b.WriteString(`]}`)
	code, out, errs := runCLI(t, "", "validate", writeTemp(t, "r.json", b.String()))
	if code != 0 || !strings.Contains(out, "valid: 12 rules") || !strings.Contains(out, "note:") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
}

func TestUsageAndFailures(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{nil, 3},
		{[]string{"frobnicate"}, 3},
		{[]string{"eval"}, 3},
		{[]string{"eval", "--rules", exRules, "--output", "yaml", "--ip", "1.2.3.4"}, 3},
		{[]string{"eval", "--rules", "/nonexistent/rules.json"}, 1},
		{[]string{"validate"}, 3},
		{[]string{"validate", exRules, exRules}, 3},
		{[]string{"help"}, 0},
		{[]string{"validate", exRules, "--users", exUsers}, 0},
	} {
		if code, out, errs := runCLI(t, "", tc.args...); code != tc.code {
			t.Errorf("%q: exit %d, want %d\n%s%s", tc.args, code, tc.code, out, errs)
		}
	}
}

// The shipped example's requests file is what the README's first command runs.
func TestExampleRequestsFile(t *testing.T) {
	in, err := os.ReadFile("../../examples/org/requests.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, string(in), "eval", "--rules", exRules, "--users", exUsers)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got, want := strings.Count(out, "\n"), strings.Count(string(in), "\n"); got != want {
		t.Fatalf("%d answers for %d requests", got, want)
	}
}

// Verbs that take flags only refuse a stray argument with exit 3, naming it.
func TestStrayArgumentRefused(t *testing.T) {
	for _, args := range [][]string{
		{"eval", "--rules", "x.json", "stray"},
		{"explain", "--rules", "x.json", "stray"},
		{"impersonation-effect", "--role", "x.json", "stray"},
		{"token", "issue", "--key", "k.json", "stray"},
		{"token", "genkey", "stray"},
	} {
		code, _, stderr := runCLI(t, "", args...)
		if code != exitInvalid || !strings.Contains(stderr, `unexpected argument "stray"`) {
			t.Errorf("%q: exit %d, stderr %q; want 3 and the stray argument named", args, code, stderr)
		}
	}
}
