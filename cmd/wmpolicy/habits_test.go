package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/org"
)

// Tests of the CLI habits a user expects (issue 18): "-" for standard input,
// bounded inputs, streams of JSON values, I/O errors as I/O errors, help,
// version, validate's JSON output, escaped control characters, one-page
// listings and files of the wrong kind.

const capturedDir = "../../testdata/aws-cli/captured/"

// SEMANTICS D3: batch eval reads a stream of JSON values: JSON Lines,
// pretty-printed values as the AWS CLI and jq print them, several values on
// one line, blank lines (ignored); a truncated value costs one answer, and the
// run exits 3 after answering every value because one was invalid.
func TestBatchReadsAStreamOfJSONValues(t *testing.T) {
	doc, err := os.ReadFile("../../testdata/aws-cli/documented/get-access-control-effect.request.json")
	if err != nil {
		t.Fatal(err)
	}
	in := string(doc) + "\n\n" + // pretty-printed, as documented
		`{"IpAddress":"192.0.2.44","Action":"IMAP","UserId":"bob"}  {"IpAddress":"203.0.113.9","Action":"IMAP","UserId":"bob"}` + "\n" +
		"\n   \n" +
		`{"IpAddress":"192.0.2.44","Action":"IMAP",` + "\n" + // truncated: no closing brace
		"{\n    \"IpAddress\": \"192.0.2.44\",\n    \"Action\": \"WebMail\",\n    \"UserId\": \"alice\"\n}\n"
	code, out, errs := runCLI(t, in, "eval", "--rules", capturedDir+"list-access-control-rules.json", "--users", capturedDir+"list-users.json")
	if code != exitInvalid || !strings.Contains(errs, "some requests were invalid") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := []string{
		`{"__type":"EntityNotFoundException"`, // the documented user is not in this directory
		`{"Effect":"ALLOW","MatchedRules":["default"]}`,
		`{"Effect":"DENY","MatchedRules":["block-abusive-networks","legacy-protocols-office-only"]}`,
		`{"__type":"ValidationException"`, // the truncated value
		`{"Effect":"ALLOW","MatchedRules":["default"]}`,
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d answers, want %d:\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("answer %d = %s, want prefix %s", i+1, lines[i], w)
		}
	}
	// Every value valid: exit 0, DENY answers included.
	code, _, errs = runCLI(t, `{"IpAddress":"203.0.113.9","Action":"IMAP","UserId":"bob"}`, "eval", "--rules", exRules, "--users", exUsers)
	if code != 0 {
		t.Errorf("all valid: exit %d %s", code, errs)
	}
	// impersonation-effect reads the same streams.
	code, out, _ = runCLI(t, "{\n    \"TargetUser\": \"bob\"\n}\n\n{\"TargetUser\":\"carol\"}\n", "impersonation-effect", "--role", exRole, "--users", exUsers)
	if code != 0 || strings.Count(out, "\n") != 2 {
		t.Errorf("impersonation-effect stream: exit %d\n%s", code, out)
	}
}

// The shipped file of invalid requests: every line answered, exit 3.
func TestExampleInvalidRequestsFile(t *testing.T) {
	in, err := os.ReadFile("../../examples/org/invalid-requests.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, string(in), "eval", "--rules", exRules, "--users", exUsers)
	if code != exitInvalid || strings.Count(out, `"__type"`) != strings.Count(string(in), "\n") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// "-" reads standard input on every verb that reads a file, at most once.
func TestDashIsStandardInputOnEveryVerb(t *testing.T) {
	rules, _ := os.ReadFile(exRules)
	users, _ := os.ReadFile(exUsers)
	role, _ := os.ReadFile(exRole)
	for _, tc := range []struct {
		stdin string
		args  []string
		code  int
	}{
		{string(rules), []string{"validate", "-"}, 0},
		{string(users), []string{"validate", "--users", "-", exRules}, 0},
		{string(rules), []string{"eval", "--rules", "-", "--ip", "192.0.2.44", "--action", "IMAP", "--user", "S-1-1-11-1234567890-1234567890-1234567890-1002"}, 0},
		{string(users), []string{"eval", "--rules", exRules, "--users", "-", "--ip", "192.0.2.44", "--action", "IMAP", "--user", "bob"}, 0},
		{string(role), []string{"impersonation-effect", "--role", "-", "--target", "bob"}, 0},
		{string(rules), []string{"audit", "-"}, 0},
		{string(rules), []string{"who-can", "-", "--user", "S-1-1-11-1234567890-1234567890-1234567890-1002"}, 0},
		{string(rules), []string{"diff", exRules, "-"}, 0},
		{string(rules), []string{"eval", "--rules", "-", "--users", "-", "--ip", "192.0.2.44", "--action", "IMAP", "--user", "bob"}, exitInvalid},
	} {
		code, out, errs := runCLI(t, tc.stdin, tc.args...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d\n%s%s", tc.args, code, tc.code, out, errs)
		}
	}
	code, out, _ := runCLI(t, string(rules), "validate", "-")
	if code != 0 || !strings.HasPrefix(out, "standard input: valid: ") {
		t.Errorf("validate -: %d %q", code, out)
	}
}

// endless is an input that never ends, like /dev/zero or a runaway pipe.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.n += int64(len(p))
	return len(p), nil
}

// SEMANTICS D5: every input is capped (default 64 MiB, --max-input-bytes),
// whatever it is: a regular file, a device that never ends, an endless
// standard input. The cap is exit 3 with a message naming the flag; reading
// stops at the cap, so memory stays bounded.
func TestSemanticsD5_InputsAreBounded(t *testing.T) {
	big := writeTemp(t, "rules.json", `{"Rules":[]}`+strings.Repeat(" ", 2000))
	code, _, errs := runCLI(t, "", "validate", "--max-input-bytes", "1K", big)
	if code != exitInvalid || !strings.Contains(errs, "larger than 1024 bytes") || !strings.Contains(errs, "--max-input-bytes") {
		t.Errorf("over the cap: exit %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "", "validate", "--max-input-bytes", "4K", big); code != 0 {
		t.Errorf("under a raised cap: exit %d %s", code, errs)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		for _, args := range [][]string{
			{"validate", "--max-input-bytes", "1M", "/dev/zero"},
			{"eval", "--max-input-bytes", "1M", "--rules", exRules, "--users", "/dev/zero"},
			{"audit", "--max-input-bytes", "1M", "/dev/zero"},
			{"impersonation-effect", "--max-input-bytes", "1M", "--role", "/dev/zero", "--target", "bob"},
		} {
			code, _, errs := runCLI(t, "", args...)
			if code != exitInvalid || !strings.Contains(errs, "larger than 1048576 bytes") {
				t.Errorf("%v: exit %d %s", args, code, errs)
			}
		}
	}
	stdin := &endless{}
	var out, errb strings.Builder
	code = run([]string{"org", "put-rule", "--state", t.TempDir(), "--org", "m-00000000000000000000000000000000", "--max-input-bytes", "1M", "-"}, stdin, &out, &errb)
	if code != exitInvalid || !strings.Contains(errb.String(), "standard input is larger than") || stdin.n > 2<<20 {
		t.Errorf("endless stdin: exit %d, read %d bytes: %s", code, stdin.n, errb.String())
	}
	if code, _, errs := runCLI(t, "", "validate", "--max-input-bytes", "0", exRules); code != exitInvalid || !strings.Contains(errs, "positive") {
		t.Errorf("--max-input-bytes 0: exit %d %s", code, errs)
	}
}

// I/O failures are reported in the system's words with exit 1, never as an
// AWS error code.
func TestIOErrorsAreIOErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.json")
	for _, args := range [][]string{
		{"validate", missing},
		{"eval", "--rules", missing, "--ip", "192.0.2.1", "--action", "IMAP", "--user", "bob"},
		{"eval", "--rules", exRules, "--users", missing},
		{"audit", missing},
		{"impersonation-effect", "--role", missing, "--target", "bob"},
		{"validate", t.TempDir()},
	} {
		code, _, errs := runCLI(t, "", args...)
		if code != exitFailure || strings.Contains(errs, "Exception") {
			t.Errorf("%v: exit %d, %s", args, code, errs)
		}
	}
	// A full disk on output.
	var errb strings.Builder
	code := run([]string{"eval", "--rules", exRules, "--ip", "192.0.2.44", "--action", "IMAP", "--user", "x-123456789012"}, strings.NewReader(""), failingWriter{}, &errb)
	if code != exitFailure || !strings.Contains(errb.String(), "no space left") {
		t.Errorf("full disk: exit %d %s", code, errb.String())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) {
	return 0, errors.New("write /dev/full: no space left on device")
}

// The output that comes with org.ErrDurabilityUncertain (the change was
// applied) is printed, with the error, exit 1.
func TestOrgPrintsOutputWithDurabilityUncertain(t *testing.T) {
	var out, errb strings.Builder
	err := fmt.Errorf("%w: writing x: fsync: input/output error", org.ErrDurabilityUncertain)
	code := printOrgResult("wmpolicy org create", org.CreateOrganizationOutput{OrganizationId: "m-0123456789abcdef0123456789abcdef"}, err, &out, &errb)
	if code != exitFailure || !strings.Contains(out.String(), "m-0123456789abcdef0123456789abcdef") || !strings.Contains(errb.String(), "durability is uncertain") {
		t.Errorf("exit %d, out %q, err %q", code, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	code = printOrgResult("wmpolicy org create", nil, errors.New("org: open x: permission denied"), &out, &errb)
	if code != exitFailure || strings.Contains(errb.String(), "Exception") {
		t.Errorf("I/O error: exit %d, %q", code, errb.String())
	}
}

// --help (and -h) on every verb prints its usage to standard output and
// exits 0; 'wmpolicy version' prints the version.
func TestHelpExitsZeroAndVersion(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"help"}, {"eval", "--help"}, {"validate", "-h"}, {"impersonation-effect", "--help"},
		{"token", "issue", "--help"}, {"token", "verify", "-help"}, {"org", "put-rule", "--help"},
		{"audit", "--help"}, {"diff", "--help"}, {"who-can", "--help"}, {"explain", "--help"},
		{"org", "--help"}, {"token", "--help"},
	} {
		code, out, _ := runCLI(t, "", args...)
		if code != 0 || out == "" {
			t.Errorf("%v: exit %d, stdout %q", args, code, out)
		}
	}
	code, out, _ := runCLI(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "wmpolicy ") || !strings.Contains(out, "go1.") {
		t.Errorf("version: exit %d %q", code, out)
	}
}

// validate --output json: the verdict, rules, notes and every error with
// its code and path.
func TestValidateJSON(t *testing.T) {
	code, out, _ := runCLI(t, "", "validate", "--output", "json", exRules)
	var v validateOutput
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 0 || !v.Valid || v.Rules == 0 || len(v.Errors) != 0 {
		t.Errorf("valid: exit %d %+v %v\n%s", code, v, err, out)
	}
	bad := writeTemp(t, "rules.json", `{"Rules":[{"Name":"a","Effect":"ALLOW","IpRanges":["010.0.0.0/8"],"Actions":["Imap"]}]}`)
	code, out, _ = runCLI(t, "", "validate", "--output", "json", bad)
	v = validateOutput{}
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != exitInvalid || v.Valid || len(v.Errors) != 2 ||
		v.Errors[0].Path != "Rules[0].IpRanges[0]" || v.Errors[1].Type != "InvalidParameterException" {
		t.Errorf("invalid: exit %d %+v %v\n%s", code, v, err, out)
	}
}

// User-supplied text with control characters is quoted in text output, so
// that no terminal escape sequence reaches the operator's terminal.
func TestControlCharactersAreEscaped(t *testing.T) {
	evil := "bob\x1b]0;pwned\x07\x1b[31m-12345"
	code, out, _ := runCLI(t, "", "eval", "--rules", exRules, "--ip", "192.0.2.44", "--action", "IMAP", "--user", evil)
	if code != 0 || strings.ContainsAny(out, "\x1b\x07") || !strings.Contains(out, `"bob\x1b]0;pwned\a\x1b[31m-12345"`) {
		t.Errorf("exit %d:\n%q", code, out)
	}
	code, out, errs := runCLI(t, "", "impersonation-effect", "--role", exRole, "--target", "a\x1bb")
	if strings.ContainsAny(out+errs, "\x1b") {
		t.Errorf("impersonation-effect: exit %d %q %q", code, out, errs)
	}
	if quoteText("plain text é") != "plain text é" || quoteText("bad\xff") != `"bad\xff"` {
		t.Error("quoteText")
	}
}

// eval's text output notes a user whose state is not ENABLED (the effect
// ignores it, as GetAccessControlEffect does; enforcement points deny).
func TestEvalNotesADisabledUser(t *testing.T) {
	code, out, _ := runCLI(t, "", "eval", "--rules", exRules, "--users", exUsers, "--ip", "192.0.2.44", "--action", "IMAP", "--user", "dave")
	if code != 0 || !strings.Contains(out, "note: user S-1-1-11-1234567890-1234567890-1234567890-1004 is DISABLED") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	_, out, _ = runCLI(t, "", "eval", "--rules", exRules, "--users", exUsers, "--ip", "192.0.2.44", "--action", "IMAP", "--user", "bob")
	if strings.Contains(out, "note: user") {
		t.Errorf("an enabled user got a note:\n%s", out)
	}
}

// SEMANTICS D4: every verb that reads a paginated listing refuses one page.
func TestSemanticsD4_EveryVerbRefusesOnePage(t *testing.T) {
	page := capturedDir + "list-users.max-items-2.json"
	dir := t.TempDir()
	orgCLI(t, 0, "", "create", "--state", dir, "--alias", "paged")
	for _, args := range [][]string{
		{"validate", "--users", page, exRules},
		{"eval", "--rules", exRules, "--users", page, "--ip", "192.0.2.44", "--action", "IMAP", "--user", "bob"},
		{"impersonation-effect", "--role", exRole, "--users", page, "--target", "bob"},
		{"audit", exRules, "--users", page},
		{"audit", exRules, "--roles", capturedDir + "list-impersonation-roles.max-results-1.json"},
		{"who-can", exRules, "--users", page, "--user", "bob"},
		{"org", "import-users", "--state", dir, "--org", "m-00000000000000000000000000000000", page},
	} {
		code, _, errs := runCLI(t, "", args...)
		if code != exitInvalid || !strings.Contains(errs, "NextToken") || !strings.Contains(errs, "one page") {
			t.Errorf("%v: exit %d %s", args, code, errs)
		}
	}
}

// A file of the wrong kind is named as such.
func TestWrongKindOfFileIsNamed(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"validate", exUsers}, "this is aws workmail list-users output, not aws workmail list-access-control-rules output"},
		{[]string{"eval", "--rules", exRules, "--users", exRules}, "this is aws workmail list-access-control-rules output, not aws workmail list-users output"},
		{[]string{"impersonation-effect", "--role", exRules, "--target", "bob"}, "this is aws workmail list-access-control-rules output, not aws workmail get-impersonation-role output"},
	} {
		code, _, errs := runCLI(t, "", tc.args...)
		if code != exitInvalid || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d %s", tc.args, code, errs)
		}
	}
}

// Token verbs read a state's keys: a token 'org assume' issued verifies with
// 'token verify --state', and 'token issue --state' signs with the same keys
// and refuses a role the organization does not have.
func TestTokenVerbsReadTheStatesKeys(t *testing.T) {
	dir := t.TempDir()
	var created org.CreateOrganizationOutput
	json.Unmarshal([]byte(orgCLI(t, 0, "", "create", "--state", dir, "--alias", "tokens")), &created)
	id := created.OrganizationId
	var role org.CreateImpersonationRoleOutput
	json.Unmarshal([]byte(orgCLI(t, 0, `{"Name":"r","Type":"READ_ONLY","Rules":[{"ImpersonationRuleId":"a","Effect":"ALLOW"}]}`, "create-role", "--state", dir, "--org", id, "-")), &role)
	var tok struct{ Token string }
	json.Unmarshal([]byte(orgCLI(t, 0, "", "assume", "--state", dir, "--org", id, "--role", role.ImpersonationRoleId)), &tok)
	code, out, errs := runCLI(t, "", "token", "verify", "--state", dir, "--org", id, tok.Token)
	if code != 0 || !strings.Contains(out, role.ImpersonationRoleId) {
		t.Fatalf("verify --state: exit %d %s %s", code, out, errs)
	}
	code, out, errs = runCLI(t, "", "token", "issue", "--state", dir, "--org", id, "--role", role.ImpersonationRoleId)
	json.Unmarshal([]byte(out), &tok)
	if code != 0 || tok.Token == "" {
		t.Fatalf("issue --state: exit %d %s %s", code, out, errs)
	}
	if code, _, errs := runCLI(t, tok.Token, "token", "verify", "--state", dir, "--org", id); code != 0 {
		t.Errorf("verify --state of issue --state: exit %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "", "token", "issue", "--state", dir, "--org", id, "--role", "no-such-role"); code != exitInvalid || !strings.Contains(errs, "ResourceNotFoundException") {
		t.Errorf("issue --state of an unknown role: exit %d %s", code, errs)
	}
	// Deleting the role makes its tokens invalid (B8).
	orgCLI(t, 0, "", "delete-role", "--state", dir, "--org", id, "--role", role.ImpersonationRoleId)
	if code, _, errs := runCLI(t, "", "token", "verify", "--state", dir, "--org", id, tok.Token); code != exitDeny {
		t.Errorf("verify --state of a deleted role's token: exit %d %s", code, errs)
	}
	// One of --key and --state.
	if code, _, _ := runCLI(t, "", "token", "verify", "--state", dir, "--key", exKey, "--org", id, tok.Token); code != exitInvalid {
		t.Errorf("--key and --state: exit %d", code)
	}
	if code, _, _ := runCLI(t, "", "token", "verify", "--state", dir, "--role-exists", "x", "--org", id, tok.Token); code != exitInvalid {
		t.Errorf("--state with --role-exists: exit %d", code)
	}
}
