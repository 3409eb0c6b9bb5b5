package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/impersonation"
)

const (
	exRole   = "../../examples/org/role.json"
	exKey    = "../../examples/org/demo-key.json"
	exOrg    = "m-d281d0a2fd824be5b6cd3d3ce909fd27"
	exRoleID = "9f1c2a64-3b7e-4d5a-8c21-0e6b7a9d4f10"
)

// SEMANTICS B2-B4: one target, readable output and exit codes.
func TestImpersonationEffectSingle(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"allow by email", []string{"--users", exUsers, "--target", "bob@example.com"}, 0,
			[]string{"ALLOW (explicit allow)", "role: archiver (" + exRoleID + "), type READ_ONLY",
				"(user S-1-1-11-1234567890-1234567890-1234567890-1002)", "matched rules: allow-all-users (All users)", "READ_ONLY"}},
		{"deny admin, case-insensitive", []string{"--users", exUsers, "--target", "ALICE@EXAMPLE.COM"}, 2,
			[]string{"DENY (explicit deny)", "matched rules: deny-admin (Not the administrator)",
				"ALLOW allow-all-users (All users)  (overridden by DENY)", "DENY  deny-admin (Not the administrator)",
				"S-1-1-11-1234567890-1234567890-1234567890-1001"}},
		{"deny admin by ID", []string{"--users", exUsers, "--target", "S-1-1-11-1234567890-1234567890-1234567890-1001"}, 2,
			[]string{"DENY (explicit deny)", "deny-admin"}},
		{"disabled target", []string{"--users", exUsers, "--target", "dave"}, 3,
			[]string{"EntityStateException", "DISABLED"}},
		{"unknown target", []string{"--users", exUsers, "--target", "mallory@example.com"}, 3,
			[]string{"EntityNotFoundException", "TargetUser"}},
		{"malformed target", []string{"--users", exUsers, "--target", "bob smith"}, 3,
			[]string{"ValidationException", "TargetUser"}},
		{"empty target", []string{"--target", ""}, 3, []string{"ValidationException", "TargetUser"}},
		{"too long target", []string{"--target", strings.Repeat("a", 257)}, 3, []string{"ValidationException", "TargetUser"}},
		// SEMANTICS B2: without a directory, exact strings.
		{"no users: exact string matches", []string{"--target", "alice@example.com"}, 2, []string{"DENY (explicit deny)", "deny-admin"}},
		{"no users: other spelling is another user", []string{"--target", "alice"}, 0, []string{"ALLOW", "target: alice\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"impersonation-effect", "--role", exRole}, tc.args...)
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

// SEMANTICS B4: --output json is the GetImpersonationRoleEffect response,
// indented like the AWS CLI; an invalid request prints the error shape.
func TestImpersonationEffectJSON(t *testing.T) {
	code, out, errs := runCLI(t, "", "impersonation-effect", "--role", exRole, "--users", exUsers, "--target", "alice", "--output", "json")
	if code != 2 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := `{
    "Type": "READ_ONLY",
    "Effect": "DENY",
    "MatchedRules": [
        {
            "ImpersonationRuleId": "deny-admin",
            "Name": "Not the administrator"
        }
    ]
}
`
	if out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
	code, out, _ = runCLI(t, "", "impersonation-effect", "--role", exRole, "--users", exUsers, "--target", "carol", "--output", "json")
	if code != 0 || !strings.Contains(out, `"Effect": "ALLOW"`) || !strings.Contains(out, `"ImpersonationRuleId": "allow-all-users"`) {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, out, _ = runCLI(t, "", "impersonation-effect", "--role", exRole, "--users", exUsers, "--target", "nobody", "--output", "json")
	var e map[string]string
	if code != 3 || json.Unmarshal([]byte(out), &e) != nil || e["__type"] != "EntityNotFoundException" || e["Message"] == "" {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// The batch contract: one output line per input line, errors in the AWS error
// shape, keep going, blank lines ignored, exit 3 after answering every value
// because some were invalid; strict lines (TargetUser only).
func TestImpersonationEffectBatchContract(t *testing.T) {
	in := strings.Join([]string{
		`{"TargetUser":"bob@example.com"}`,
		`{"TargetUser":"Alice@Example.com"}`,
		`{"TargetUser":"dave"}`,
		`not json`,
		``,
		`   `,
		`{"TargetUser":"bob","OrganizationId":"` + exOrg + `"}`,
		`{"targetUser":"bob"}`,
		`{}`,
		`{"TargetUser":"bob smith"}`,
		`{"TargetUser":"mallory"}`,
		`{"TargetUser":"` + strings.Repeat("x", maxValue+10) + `"}`,
		`{"TargetUser":"helpdesk"}` + "\r",
		`{"TargetUser":"carol"}`,
	}, "\n") // no final newline: the last line still counts
	code, out, errs := runCLI(t, in, "impersonation-effect", "--role", exRole, "--users", exUsers)
	if code != exitInvalid || !strings.Contains(errs, "some requests were invalid") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	allow := `{"Type":"READ_ONLY","Effect":"ALLOW","MatchedRules":[{"ImpersonationRuleId":"allow-all-users","Name":"All users"}]}`
	want := []string{
		allow,
		`{"Type":"READ_ONLY","Effect":"DENY","MatchedRules":[{"ImpersonationRuleId":"deny-admin","Name":"Not the administrator"}]}`,
		`{"__type":"EntityStateException","Message":"TargetUser: `,
		`{"__type":"ValidationException"`,
		`{"__type":"ValidationException","Message":"OrganizationId: unknown field`,
		`{"__type":"ValidationException","Message":"targetUser: `,
		`{"__type":"ValidationException","Message":"TargetUser: `,
		`{"__type":"ValidationException","Message":"TargetUser: `,
		`{"__type":"EntityNotFoundException","Message":"TargetUser: `,
		`{"__type":"ValidationException","Message":"input value longer than`,
		allow,
		allow,
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
	if code, out, _ := runCLI(t, "", "impersonation-effect", "--role", exRole); code != 0 || out != "" {
		t.Errorf("empty input: exit %d, out %q", code, out)
	}
}

// The shipped example file answers every line.
func TestImpersonationEffectExampleFile(t *testing.T) {
	in, err := os.ReadFile("../../examples/org/impersonation-requests.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, string(in), "impersonation-effect", "--role", exRole, "--users", exUsers)
	if code != exitInvalid { // the file shows errors too
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got, want := strings.Count(out, "\n"), strings.Count(string(in), "\n"); got != want {
		t.Fatalf("%d answers for %d requests", got, want)
	}
	if !strings.Contains(out, `"Effect":"ALLOW"`) || !strings.Contains(out, `"Effect":"DENY"`) || !strings.Contains(out, `"__type"`) {
		t.Errorf("the example should show ALLOW, DENY and an error:\n%s", out)
	}
}

// An invalid role file: exit 3, every problem on stderr with the file and its path.
func TestImpersonationEffectInvalidRoleFile(t *testing.T) {
	for _, tc := range []struct {
		name, role string
		users      bool
		want       []string
	}{
		{"decoding", `{"Name":"r","Type":"READ_ONLY","Rules":[
			{"ImpersonationRuleId":"a","Effect":"ALLOW","NotTargetUser":["bob"]},
			{"ImpersonationRuleId":"b","effect":"DENY"}]}`, false,
			[]string{"Rules[0].NotTargetUser", "Rules[1].effect", "did you mean"}},
		{"validation", `{"Type":"READ_ONLY","Rules":[
			{"ImpersonationRuleId":"a","Effect":"ALLOW","TargetUsers":[]},
			{"ImpersonationRuleId":"a","Effect":"DENY","NotTargetUsers":["bob smith"]},
			{"ImpersonationRuleId":"c d"}]}`, false,
			[]string{"Name", "Rules[0].TargetUsers", "Rules[1].ImpersonationRuleId", "Rules[1].NotTargetUsers[0]",
				"Rules[2].ImpersonationRuleId", "Rules[2].Effect"}},
		{"unknown users", `{"Name":"r","Type":"FULL_ACCESS","Rules":[
			{"ImpersonationRuleId":"a","Effect":"ALLOW","TargetUsers":["bob","mallory"]},
			{"ImpersonationRuleId":"b","Effect":"DENY","NotTargetUsers":["eve@example.com"]}]}`, true,
			[]string{"EntityNotFoundException", "Rules[0].TargetUsers[1]", "Rules[1].NotTargetUsers[0]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := writeTemp(t, "role.json", tc.role)
			args := []string{"impersonation-effect", "--role", bad, "--target", "bob"}
			if tc.users {
				args = append(args, "--users", exUsers)
			}
			code, _, errs := runCLI(t, "", args...)
			if code != 3 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			for _, l := range strings.Split(strings.TrimSpace(errs), "\n") {
				if !strings.HasPrefix(l, bad+": ") {
					t.Errorf("line without the file name: %q", l)
				}
			}
			if n := strings.Count(errs, "\n"); n < len(tc.want)-1 {
				t.Errorf("%d problem lines:\n%s", n, errs)
			}
		})
	}
}

func TestImpersonationEffectUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"impersonation-effect"}, 3},
		{[]string{"impersonation-effect", "--target", "bob"}, 3},
		{[]string{"impersonation-effect", "--role", exRole, "--output", "yaml", "--target", "bob"}, 3},
		{[]string{"impersonation-effect", "--role", exRole, "extra"}, 3},
		{[]string{"impersonation-effect", "--role", exRole, "--nope"}, 3},
		{[]string{"impersonation-effect", "--role", "/nonexistent/role.json", "--target", "bob"}, 1},
		{[]string{"impersonation-effect", "--role", exRole, "--users", "/nonexistent/users.json", "--target", "bob"}, 1},
		{[]string{"impersonation-effect", "--role", exRole, "--users", exRules, "--target", "bob"}, 3},
		{[]string{"impersonation-effect", "--role", exRules, "--target", "bob"}, 3},
		{[]string{"impersonation-effect", "--target", "bob", "--role", exRole}, 0},
	} {
		if code, out, errs := runCLI(t, "", tc.args...); code != tc.code {
			t.Errorf("%q: exit %d, want %d\n%s%s", tc.args, code, tc.code, out, errs)
		}
	}
}

// ---- token ----

// genKey runs `token genkey --id ID --out FILE` and returns the file.
func genKey(t *testing.T, id string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "key.json")
	code, out, errs := runCLI(t, "", "token", "genkey", "--id", id, "--out", p)
	if code != 0 || out != "" {
		t.Fatalf("genkey: exit %d\n%s%s", code, out, errs)
	}
	return p
}

func issue(t *testing.T, key, org, role, now string) string {
	t.Helper()
	code, out, errs := runCLI(t, "", "token", "issue", "--key", key, "--org", org, "--role", role, "--now", now)
	if code != 0 {
		t.Fatalf("issue: exit %d\n%s%s", code, out, errs)
	}
	var resp struct {
		Token     string
		ExpiresIn int
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("issue output %q: %v", out, err)
	}
	if resp.ExpiresIn != 900 || resp.Token == "" || !strings.HasPrefix(out, "{\n    \"Token\": ") {
		t.Fatalf("issue output:\n%s", out)
	}
	return resp.Token
}

const tokNow = "2026-01-02T03:04:05Z"

// SEMANTICS B8: genkey, issue and verify round trip with an injected clock.
func TestTokenRoundTrip(t *testing.T) {
	key := genKey(t, "k1")
	if fi, err := os.Stat(key); err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("genkey --out: %v %v", fi.Mode(), err)
	}
	tok := issue(t, key, exOrg, exRoleID, tokNow)
	verify := func(stdin string, args ...string) (int, string, string) {
		return runCLI(t, stdin, append([]string{"token", "verify", "--key", key, "--org", exOrg}, args...)...)
	}
	code, out, errs := verify("", "--now", "2026-01-02T03:10:00Z", tok)
	if code != 0 {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errs)
	}
	if strings.Contains(errs, "warning") {
		t.Errorf("warning for a 0600 key file: %s", errs)
	}
	var c map[string]string
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"OrganizationId": exOrg, "ImpersonationRoleId": exRoleID, "KeyId": "k1",
		"IssuedAt": "2026-01-02T03:04:05Z", "ExpiresAt": "2026-01-02T03:19:05Z",
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("%s = %q, want %q", k, c[k], v)
		}
	}
	if len(c["TokenId"]) != 32 || len(c) != 6 {
		t.Errorf("claims: %v", c)
	}
	// The token on standard input, and with existing roles.
	if code, out2, errs := verify(tok+"\n", "--now", "2026-01-02T03:10:00Z", "--role-exists", "other", "--role-exists", exRoleID); code != 0 || out2 != out {
		t.Errorf("stdin: exit %d\n%s%s", code, out2, errs)
	}
	// SEMANTICS B8: a role that no longer exists.
	if code, _, errs := verify(tok, "--now", "2026-01-02T03:10:00Z", "--role-exists", "other"); code != 2 || !strings.Contains(errs, "role deleted") {
		t.Errorf("deleted role: exit %d: %s", code, errs)
	}
	// Two tokens are never the same.
	if tok2 := issue(t, key, exOrg, exRoleID, tokNow); tok2 == tok {
		t.Error("two issues gave the same token")
	}
}

// SEMANTICS B8: expiry (now >= expiry), tokens from the future, other
// organizations, tampering.
func TestTokenInvalid(t *testing.T) {
	key := genKey(t, "k1")
	tok := issue(t, key, exOrg, exRoleID, tokNow)
	other := genKey(t, "k1") // same ID, another secret
	tampered := []byte(tok)
	i := len(tampered) - 5
	if tampered[i] == 'A' {
		tampered[i] = 'B'
	} else {
		tampered[i] = 'A'
	}
	for _, tc := range []struct {
		name   string
		key    string
		org    string
		token  string
		now    string
		code   int
		reason string
	}{
		{"just before expiry", key, exOrg, tok, "2026-01-02T03:19:04Z", 0, ""},
		{"at expiry", key, exOrg, tok, "2026-01-02T03:19:05Z", 2, "expired"},
		{"later", key, exOrg, tok, "2026-01-03T00:00:00Z", 2, "expired"},
		{"issued in the future", key, exOrg, tok, "2026-01-02T03:04:04Z", 2, "not yet valid"},
		{"wrong org", key, "m-0123456789abcdef0123456789abcdef", tok, "2026-01-02T03:05:00Z", 2, "wrong organization"},
		{"tampered MAC", key, exOrg, string(tampered), "2026-01-02T03:05:00Z", 2, "bad signature"},
		{"other key, same ID", other, exOrg, tok, "2026-01-02T03:05:00Z", 2, "bad signature"},
		{"garbage", key, exOrg, "v1.not-a-token", "2026-01-02T03:05:00Z", 2, "malformed"},
		{"empty stdin", key, exOrg, "", "2026-01-02T03:05:00Z", 3, "no token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tc.token, "token", "verify", "--key", tc.key, "--org", tc.org, "--now", tc.now)
			if code != tc.code || !strings.Contains(errs, tc.reason) {
				t.Fatalf("exit %d, want %d with %q\n%s%s", code, tc.code, tc.reason, out, errs)
			}
			if code != 0 && out != "" {
				t.Errorf("stdout on failure: %s", out)
			}
			if code == 2 && strings.Contains(errs, tc.token) {
				t.Errorf("the error echoes the token: %s", errs)
			}
		})
	}
}

// Key rotation: the first key signs, every key verifies; a dropped key's tokens
// stop verifying.
func TestTokenKeyRotation(t *testing.T) {
	secret := func(b byte) string {
		s := make([]byte, 32)
		for i := range s {
			s[i] = b + byte(i)
		}
		return base64.StdEncoding.EncodeToString(s)
	}
	oldOnly := writeTemp(t, "old.json", `{"Keys":[{"Id":"k1","Secret":"`+secret(1)+`"}]}`)
	both := writeTemp(t, "both.json", `{"Keys":[{"Id":"k2","Secret":"`+secret(100)+`"},{"Id":"k1","Secret":"`+secret(1)+`"}]}`)
	newOnly := writeTemp(t, "new.json", `{"Keys":[{"Id":"k2","Secret":"`+secret(100)+`"}]}`)
	oldTok := issue(t, oldOnly, exOrg, exRoleID, tokNow)
	newTok := issue(t, both, exOrg, exRoleID, tokNow)
	for _, tc := range []struct {
		key, tok string
		code     int
		keyID    string
	}{
		{both, oldTok, 0, `"KeyId": "k1"`},
		{both, newTok, 0, `"KeyId": "k2"`},
		{newOnly, newTok, 0, `"KeyId": "k2"`},
		{newOnly, oldTok, 2, ""},
		{oldOnly, newTok, 2, ""},
	} {
		code, out, errs := runCLI(t, "", "token", "verify", "--key", tc.key, "--org", exOrg, "--now", tokNow, tc.tok)
		if code != tc.code || !strings.Contains(out, tc.keyID) {
			t.Errorf("%s: exit %d, want %d\n%s%s", filepath.Base(tc.key), code, tc.code, out, errs)
		}
	}
}

// A bad key file is exit 3 (unreadable: 1), each problem with the file and
// its path, never the secret.
func TestTokenBadKeyFile(t *testing.T) {
	good := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789ABCDEF"))
	short := base64.StdEncoding.EncodeToString([]byte("0123456789"))
	for _, tc := range []struct {
		name, file string
		want       []string
	}{
		{"not JSON", `Keys: k1`, []string{"ValidationException"}},
		{"unknown field", `{"Keys":[{"Id":"k1","Secret":"` + good + `","Comment":"x"}],"Key":1}`, []string{"Keys[0].Comment", "Key: unknown field"}},
		{"no keys", `{"Keys":[]}`, []string{"Keys: no keys"}},
		{"missing keys", `{}`, []string{"Keys: no keys"}},
		{"not base64", `{"Keys":[{"Id":"k1","Secret":"not base64!"},{"Id":"k0","Secret":"` + good + `="}]}`, []string{"Keys[0].Secret", "Keys[1].Secret", "not standard base64"}},
		{"short secret, bad and duplicate IDs", `{"Keys":[{"Id":"k1","Secret":"` + short + `"},{"Id":"k 2","Secret":"` + good + `"},{"Id":"k3","Secret":"` + good + `"},{"Id":"k3","Secret":"` + good + `"},{"Secret":"` + good + `"}]}`,
			[]string{"Keys[0].Secret", "Keys[1].Id", "Keys[3].Id", "Keys[4].Id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeTemp(t, "key.json", tc.file)
			for _, cmd := range [][]string{
				{"token", "issue", "--key", p, "--org", exOrg, "--role", exRoleID},
				{"token", "verify", "--key", p, "--org", exOrg, "v1.x.y"},
			} {
				code, out, errs := runCLI(t, "", cmd...)
				if code != 3 || out != "" {
					t.Fatalf("%s: exit %d\n%s%s", cmd[1], code, out, errs)
				}
				for _, w := range tc.want {
					if !strings.Contains(errs, w) {
						t.Errorf("%s: stderr lacks %q:\n%s", cmd[1], w, errs)
					}
				}
				for _, l := range strings.Split(strings.TrimSpace(errs), "\n") {
					if !strings.HasPrefix(l, p+": ") {
						t.Errorf("line without the file name: %q", l)
					}
				}
				if strings.Contains(errs, good) || strings.Contains(errs, short) {
					t.Errorf("the error shows a secret:\n%s", errs)
				}
			}
		})
	}
	if code, _, _ := runCLI(t, "", "token", "issue", "--key", "/nonexistent/key.json", "--org", exOrg, "--role", exRoleID); code != 1 {
		t.Errorf("unreadable key file: exit %d, want 1", code)
	}
}

func TestTokenKeyFileModeWarning(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	key := genKey(t, "k1")
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", "token", "issue", "--key", key, "--org", exOrg, "--role", exRoleID)
	if code != 0 || !strings.Contains(errs, "warning") || !strings.Contains(errs, "0644") || !strings.Contains(out, "Token") {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
}

func TestTokenGenkey(t *testing.T) {
	code, out, errs := runCLI(t, "", "token", "genkey")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var kf struct {
		Keys []struct{ Id, Secret string }
	}
	if err := json.Unmarshal([]byte(out), &kf); err != nil || len(kf.Keys) != 1 {
		t.Fatalf("%v:\n%s", err, out)
	}
	if s, err := base64.StdEncoding.DecodeString(kf.Keys[0].Secret); err != nil || len(s) != 32 {
		t.Errorf("secret %v, %d bytes", err, len(s))
	}
	if !strings.HasPrefix(kf.Keys[0].Id, "k-"+time.Now().UTC().Format("2006")) {
		t.Errorf("default ID %q", kf.Keys[0].Id)
	}
	_, out2, _ := runCLI(t, "", "token", "genkey")
	if out2 == out {
		t.Error("two keys are the same")
	}
	// The printed file is usable as it is.
	p := writeTemp(t, "key.json", out)
	issue(t, p, exOrg, exRoleID, tokNow)
	// --out never overwrites.
	key := genKey(t, "k1")
	if code, _, errs := runCLI(t, "", "token", "genkey", "--out", key); code != 1 || !strings.Contains(errs, "exists") {
		t.Errorf("overwrite: exit %d: %s", code, errs)
	}
	if code, _, errs := runCLI(t, "", "token", "genkey", "--id", "bad id"); code != 3 || !strings.Contains(errs, "--id") {
		t.Errorf("bad id: exit %d: %s", code, errs)
	}
}

// The shipped demo key works with the example organization's role.
func TestTokenDemoKey(t *testing.T) {
	tok := issue(t, exKey, exOrg, exRoleID, tokNow)
	code, out, errs := runCLI(t, "", "token", "verify", "--key", exKey, "--org", exOrg, "--role-exists", exRoleID, "--now", tokNow, tok)
	if code != 0 || !strings.Contains(out, `"KeyId": "demo-not-for-production"`) {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
}

func TestTokenUsage(t *testing.T) {
	key := genKey(t, "k1")
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"token"}, 3},
		{[]string{"token", "frobnicate"}, 3},
		{[]string{"token", "help"}, 0},
		{[]string{"token", "issue", "--key", key, "--org", exOrg}, 3},
		{[]string{"token", "issue", "--key", key, "--role", exRoleID}, 3},
		{[]string{"token", "issue", "--org", exOrg, "--role", exRoleID}, 3},
		{[]string{"token", "issue", "--key", key, "--org", "m-NOTVALID", "--role", exRoleID}, 3},
		{[]string{"token", "issue", "--key", key, "--org", exOrg, "--role", "no spaces"}, 3},
		{[]string{"token", "issue", "--key", key, "--org", exOrg, "--role", exRoleID, "--now", "yesterday"}, 3},
		{[]string{"token", "issue", "--key", key, "--org", exOrg, "--role", exRoleID, "extra"}, 3},
		{[]string{"token", "verify", "--key", key, "tok"}, 3},
		{[]string{"token", "verify", "--org", exOrg, "tok"}, 3},
		{[]string{"token", "verify", "--key", key, "--org", "m-x", "tok"}, 3},
		{[]string{"token", "verify", "--key", key, "--org", exOrg, "--now", "2026-01-02", "tok"}, 3},
		{[]string{"token", "verify", "--key", key, "--org", exOrg, "a", "b"}, 3},
		{[]string{"token", "genkey", "extra"}, 3},
	} {
		if code, out, errs := runCLI(t, "", tc.args...); code != tc.code {
			t.Errorf("%q: exit %d, want %d\n%s%s", tc.args, code, tc.code, out, errs)
		}
	}
}

// examples/org/roles.json is list-impersonation-roles output for role.json.
func TestExampleRoleFiles(t *testing.T) {
	data, err := os.ReadFile("../../examples/org/roles.json")
	if err != nil {
		t.Fatal(err)
	}
	list, err := impersonation.DecodeRoleList(data)
	if err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile(exRole)
	if err != nil {
		t.Fatal(err)
	}
	role, err := impersonation.DecodeRole(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Roles) != 1 || list.Roles[0] != role.Summary() {
		t.Errorf("roles.json %+v, role.json %+v", list.Roles, role.Summary())
	}
	if role.ImpersonationRoleId != exRoleID || role.Type != impersonation.ReadOnly {
		t.Errorf("role.json: %+v", role)
	}
}
