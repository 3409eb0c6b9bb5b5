package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// orgCLI runs 'wmpolicy org …' and fails the test on an unexpected exit code.
func orgCLI(t *testing.T, want int, stdin string, args ...string) string {
	t.Helper()
	code, out, errOut := runCLI(t, stdin, append([]string{"org"}, args...)...)
	if code != want {
		t.Fatalf("wmpolicy org %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errOut)
	}
	return out + errOut
}

func TestOrgCLIFlow(t *testing.T) {
	orgCLIFlow(t, filepath.Join(t.TempDir(), "state"))
}

// orgCLIFlow runs every verb on the store dir: a state directory, or a
// PostgreSQL URL (TestOrgCLIFlowPostgres).
func orgCLIFlow(t *testing.T, dir string) {
	var created struct{ OrganizationId string }
	out := orgCLI(t, 0, "", "create", "--state", dir, "--alias", "example", "--domain", "example.com")
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.OrganizationId == "" {
		t.Fatalf("create: %q %v", out, err)
	}
	id := created.OrganizationId
	orgCLI(t, 3, "", "create", "--state", dir, "--alias", "EXAMPLE") // NameAvailabilityException
	out = orgCLI(t, 0, "", "list", "--state", dir)
	if !strings.Contains(out, `"Alias": "example"`) || !strings.Contains(out, `"DefaultMailDomain": "example.com"`) {
		t.Fatalf("list: %s", out)
	}
	out = orgCLI(t, 0, "", "describe", "--state", dir, "--org", id)
	if !strings.Contains(out, `"State": "Active"`) {
		t.Fatalf("describe: %s", out)
	}

	users, _ := os.ReadFile("../../examples/org/users.json")
	orgCLI(t, 0, string(users), "import-users", "--state", dir, "--org", id)
	orgCLI(t, 0, "", "put-user", "--state", dir, "--org", id, "--id", "S-1-1-11-0000000000-0000000000-0000000000-9999",
		"--email", "zed@example.com", "--alias", "z@example.com", "--name", "zed", "--user-state", "DISABLED")
	out = orgCLI(t, 0, "", "list-users", "--state", dir, "--org", id, "--max-results", "100")
	if !strings.Contains(out, `"zed@example.com"`) {
		t.Fatalf("list-users: %s", out)
	}
	orgCLI(t, 0, "", "delete-user", "--state", dir, "--org", id, "--id", "S-1-1-11-0000000000-0000000000-0000000000-9999")
	// Aliases (SEMANTICS F5): bob gets one, lists it, and eval names him by it.
	orgCLI(t, 0, "", "create-alias", "--state", dir, "--org", id, "--id", "bob", "--alias", "robert@example.com")
	out = orgCLI(t, 3, "", "create-alias", "--state", dir, "--org", id, "--id", "bob", "--alias", "robert@elsewhere.example")
	if !strings.Contains(out, "MailDomainNotFoundException") {
		t.Fatalf("create-alias in a foreign domain: %s", out)
	}
	out = orgCLI(t, 0, "", "list-aliases", "--state", dir, "--org", id, "--id", "bob@example.com")
	if !strings.Contains(out, `"robert@example.com"`) {
		t.Fatalf("list-aliases: %s", out)
	}
	orgCLI(t, 0, "", "delete-alias", "--state", dir, "--org", id, "--id", "bob", "--alias", "ROBERT@example.com")
	if out = orgCLI(t, 0, "", "list-aliases", "--state", dir, "--org", id, "--id", "bob"); !strings.Contains(out, `"Aliases": []`) {
		t.Fatalf("list-aliases after delete-alias: %s", out)
	}
	orgCLI(t, 0, "", "create-alias", "--state", dir, "--org", id, "--id", "bob", "--alias", "robert@example.com")

	rule := writeTemp(t, "rule.json", `{"Name": "no-imap", "Effect": "DENY", "Description": "no IMAP from outside",
		"Actions": ["IMAP"], "NotIpRanges": ["192.0.2.0/24"]}`)
	orgCLI(t, 0, "", "put-rule", "--state", dir, "--org", id, rule)
	bad := writeTemp(t, "bad.json", `{"Name": "x", "Effect": "DENY", "Description": "", "NotIpRange": ["10.0.0.0/8"]}`)
	out = orgCLI(t, 3, "", "put-rule", "--state", dir, "--org", id, bad)
	if !strings.Contains(out, "NotIpRange") {
		t.Fatalf("strict decoding: %s", out)
	}
	out = orgCLI(t, 0, "", "list-rules", "--state", dir, "--org", id)
	if !strings.Contains(out, `"Name": "default"`) || !strings.Contains(out, `"Name": "no-imap"`) {
		t.Fatalf("list-rules: %s", out)
	}
	// eval over the state, single and batch.
	code, evalOut, _ := runCLI(t, "", "eval", "--state", dir, "--org", id, "--ip", "203.0.113.1", "--action", "IMAP", "--user", "alice@example.com")
	if code != exitDeny || !strings.Contains(evalOut, "no-imap") {
		t.Fatalf("eval: %d %s", code, evalOut)
	}
	code, evalOut, _ = runCLI(t, `{"IpAddress":"192.0.2.1","Action":"IMAP","UserId":"robert@example.com"}`+"\n", "eval", "--state", dir, "--org", id)
	if code != 0 || strings.TrimSpace(evalOut) != `{"Effect":"ALLOW","MatchedRules":["default"]}` {
		t.Fatalf("eval batch: %d %s", code, evalOut)
	}
	if code, _, errOut := runCLI(t, "", "eval", "--state", dir, "--rules", "x.json", "--org", id, "--ip", "1.2.3.4"); code != exitInvalid {
		t.Fatalf("eval --state with --rules: %d %s", code, errOut)
	}
	orgCLI(t, 0, "", "delete-rule", "--state", dir, "--org", id, "--name", "no-imap")
	orgCLI(t, 0, "", "delete-rule", "--state", dir, "--org", id, "--name", "no-imap") // A15

	role := writeTemp(t, "role.json", `{"Name": "archiver", "Type": "READ_ONLY", "ClientToken": "t1",
		"Rules": [{"ImpersonationRuleId": "all", "Effect": "ALLOW"},
		          {"ImpersonationRuleId": "not-alice", "Effect": "DENY", "TargetUsers": ["alice@example.com"]}]}`)
	var r struct{ ImpersonationRoleId string }
	out = orgCLI(t, 0, "", "create-role", "--state", dir, "--org", id, role)
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.ImpersonationRoleId == "" {
		t.Fatalf("create-role: %s", out)
	}
	again := orgCLI(t, 0, "", "create-role", "--state", dir, "--org", id, role) // ClientToken replay
	if !strings.Contains(again, r.ImpersonationRoleId) {
		t.Fatalf("replay: %s", again)
	}
	out = orgCLI(t, 0, "", "get-role", "--state", dir, "--org", id, "--role", r.ImpersonationRoleId)
	if !strings.Contains(out, `"not-alice"`) {
		t.Fatalf("get-role: %s", out)
	}
	out = orgCLI(t, 0, "", "list-roles", "--state", dir, "--org", id, "--max-results", "1")
	if !strings.Contains(out, `"archiver"`) || strings.Contains(out, "NextToken") {
		t.Fatalf("list-roles: %s", out)
	}
	code, effOut, _ := runCLI(t, "", "impersonation-effect", "--state", dir, "--org", id, "--role-id", r.ImpersonationRoleId, "--target", "bob", "--output", "json")
	if code != 0 || !strings.Contains(effOut, `"ALLOW"`) {
		t.Fatalf("impersonation-effect: %d %s", code, effOut)
	}
	code, _, _ = runCLI(t, "", "impersonation-effect", "--state", dir, "--org", id, "--role-id", r.ImpersonationRoleId, "--target", "alice")
	if code != exitDeny {
		t.Fatalf("impersonation-effect alice: %d", code)
	}
	update := writeTemp(t, "update.json", `{"Name": "archiver", "Type": "FULL_ACCESS", "Rules": []}`)
	orgCLI(t, 0, "", "update-role", "--state", dir, "--org", id, "--role", r.ImpersonationRoleId, update)
	out = orgCLI(t, 0, "", "assume", "--state", dir, "--org", id, "--role", r.ImpersonationRoleId)
	if !strings.Contains(out, `"ExpiresIn": 900`) {
		t.Fatalf("assume: %s", out)
	}
	code, _, _ = runCLI(t, "", "eval", "--state", dir, "--org", id, "--ip", "192.0.2.1", "--action", "EWS", "--role", r.ImpersonationRoleId)
	if code != 0 {
		t.Fatalf("eval --role of a live role: %d", code)
	}
	orgCLI(t, 0, "", "delete-role", "--state", dir, "--org", id, "--role", r.ImpersonationRoleId)
	orgCLI(t, 3, "", "get-role", "--state", dir, "--org", id, "--role", r.ImpersonationRoleId)
	// B6: a deleted role's ID never matches: eval over the state refuses it,
	// single and batch.
	code, _, errOut := runCLI(t, "", "eval", "--state", dir, "--org", id, "--ip", "192.0.2.1", "--action", "EWS", "--role", r.ImpersonationRoleId)
	if code != exitInvalid || !strings.Contains(errOut, "ResourceNotFoundException") {
		t.Fatalf("eval --role of a deleted role: %d %s", code, errOut)
	}
	code, evalOut, _ = runCLI(t, `{"IpAddress":"192.0.2.1","Action":"EWS","ImpersonationRoleId":"`+r.ImpersonationRoleId+`"}`+"\n", "eval", "--state", dir, "--org", id)
	if code != exitInvalid || !strings.Contains(evalOut, `"__type":"ResourceNotFoundException"`) {
		t.Fatalf("eval batch, deleted role: %d %s", code, evalOut)
	}

	out = orgCLI(t, 3, "", "delete", "--state", dir, "--org", id) // enabled users
	if !strings.Contains(out, "OrganizationStateException") {
		t.Fatalf("delete: %s", out)
	}
	out = orgCLI(t, 0, "", "delete", "--state", dir, "--org", id, "--force")
	if !strings.Contains(out, `"State": "Deleted"`) {
		t.Fatalf("delete: %s", out)
	}
	orgCLI(t, 0, "", "delete", "--state", dir, "--org", id, "--force")
	orgCLI(t, 3, "", "describe", "--state", dir, "--org", id)
}

func TestOrgCLIUsageAndFailures(t *testing.T) {
	dir := t.TempDir()
	orgCLI(t, 3, "")
	orgCLI(t, 0, "", "help")
	orgCLI(t, 3, "", "frobnicate")
	orgCLI(t, 3, "", "describe", "--state", dir)                      // no --org
	orgCLI(t, 3, "", "create", "--alias", "x")                        // no --state
	orgCLI(t, 1, "", "list", "--state", filepath.Join(dir, "absent")) // no state there
	out := orgCLI(t, 0, "", "create", "--state", dir, "--alias", "x")
	orgCLI(t, 3, "", "describe", "--state", dir, "--org", "m-1")
	var c struct{ OrganizationId string }
	json.Unmarshal([]byte(out), &c)
	orgCLI(t, 3, "", "describe", "--state", dir, "--org", "m-0123456789abcdef0123456789abcdef")
	// A damaged state file is refused with its name, exit 1.
	file := filepath.Join(dir, "orgs", c.OrganizationId+".json")
	if err := os.WriteFile(file, []byte(`{"Schema": 9}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out = orgCLI(t, 1, "", "list", "--state", dir)
	if !strings.Contains(out, file) || !strings.Contains(out, "newer") {
		t.Fatalf("damaged state: %s", out)
	}
	code, _, errOut := runCLI(t, "", "eval", "--state", dir, "--org", c.OrganizationId, "--ip", "1.2.3.4", "--action", "EWS", "--user", "someone")
	if code != exitFailure || !strings.Contains(errOut, "newer") {
		t.Fatalf("eval on damaged state: %d %s", code, errOut)
	}
	if code, _, _ := runCLI(t, "", "impersonation-effect", "--state", dir, "--org", c.OrganizationId, "--target", "x"); code != exitInvalid {
		t.Fatalf("impersonation-effect without --role-id: %d", code)
	}
}

// SEMANTICS B7, C3: --max-results absent is the default page; an explicit
// --max-results 0 (or any value outside 1–100) is a ValidationException at
// MaxResults, exit 3; a non-integer is bad usage, exit 3.
func TestSemanticsB7_CLIMaxResultsExplicitZero(t *testing.T) {
	dir := t.TempDir()
	out := orgCLI(t, 0, "", "create", "--state", dir, "--alias", "x")
	var c struct{ OrganizationId string }
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	orgCLI(t, 0, "", "list", "--state", dir)
	orgCLI(t, 0, "", "list-roles", "--state", dir, "--org", c.OrganizationId)
	for _, n := range []string{"0", "-1", "101", "99999999999"} {
		out = orgCLI(t, 3, "", "list", "--state", dir, "--max-results", n)
		if !strings.Contains(out, "ValidationException") || !strings.Contains(out, "MaxResults") {
			t.Fatalf("list --max-results %s: %s", n, out)
		}
		out = orgCLI(t, 3, "", "list-roles", "--state", dir, "--org", c.OrganizationId, "--max-results", n)
		if !strings.Contains(out, "ValidationException") || !strings.Contains(out, "MaxResults") {
			t.Fatalf("list-roles --max-results %s: %s", n, out)
		}
	}
	orgCLI(t, 3, "", "list", "--state", dir, "--max-results", "ten")
	orgCLI(t, 0, "", "list", "--state", dir, "--max-results", "100")
}
