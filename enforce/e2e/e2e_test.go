// Package e2e proves the enforcement points against the real servers from
// Debian's packages (SEMANTICS E1–E6): Dovecot, Postfix and nginx, started
// by internal/realserver on loopback with the configuration snippets of
// deploy/ (only their addresses replaced), and clients (curl, swaks)
// connecting from chosen 127.0.x.y addresses so that IP rules apply for real.
// TestDovecotFleetSharedStore also needs the PostgreSQL server of
// .ci/postgres.sh: two gateways decide from one organization there (G3).
//
// The rules are testdata/rules.json: the example organization's rules
// (examples/org) with its ranges moved into 127.0.0.0/8:
//
//	192.0.2.0/24 (office) → 127.0.1.0/24     10.8.0.0/16 (VPN) → 127.0.8.0/24
//	198.51.100.0/24 → 127.0.66.0/24          203.0.113.128/25 → 127.0.113.128/25
//	10.20.0.0/16 → 127.0.20.0/24
//
// so "legacy-protocols-office-only" allows bob IMAP and SMTP from
// 127.0.1.5 and denies them from 127.0.2.5. In CI (CI set) a missing server
// fails; elsewhere the tests skip naming .ci/realservers.sh.
package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/internal/realserver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	realserver.Cleanup()
	os.Exit(code)
}

// Client addresses: each call returns a fresh one (realserver.ClientAddr).
func office() string  { return realserver.ClientAddr("127.0.1.0") }  // the office: IMAP and SMTP allowed
func outside() string { return realserver.ClientAddr("127.0.2.0") }  // elsewhere: denied by legacy-protocols-office-only
func abusive() string { return realserver.ClientAddr("127.0.66.0") } // block-abusive-networks

const (
	curlDeny = 67 // curl: "the user name, password, or similar was not accepted"
	// swaks exit codes
	swaksAuthFailed = 28
	swaksRCPTFailed = 24
	// the deploy/ snippets' addresses, replaced by the listeners' actual ones
	dovecotDeployAddr = "127.0.0.1:9180"
	postfixDeployAddr = "127.0.0.1:9181"
	nginxDeployAddr   = "127.0.0.1:9182"
)

// rulesDir copies testdata/rules.json and users.json into a temporary
// directory (the tests change the rules file) and returns their paths.
func rulesDir(t *testing.T) (rules, users string) {
	t.Helper()
	dir := t.TempDir()
	rules, users = filepath.Join(dir, "rules.json"), filepath.Join(dir, "users.json")
	for from, to := range map[string]string{"testdata/rules.json": rules, "testdata/users.json": users} {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return rules, users
}

// deploySnippet returns a deploy/ file with the wmpolicy address it names
// replaced by addr.
func deploySnippet(t *testing.T, file, deployAddr, addr string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(realserver.RepoRoot(t), "deploy", file))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), deployAddr) {
		t.Fatalf("deploy/%s does not name %s", file, deployAddr)
	}
	return strings.ReplaceAll(string(data), deployAddr, addr)
}

// users every Dovecot knows (password realserver.Password): bob (allowed
// from the office), carol (contractor: WebMail only), dave (DISABLED) and
// mallory (not in the WorkMail directory at all).
var mailUsers = []string{"bob", "carol", "dave", "mallory"}

// decision waits for wmpolicy's decision record for login after record from.
func decision(t *testing.T, w *realserver.Wmpolicy, from int, login string) map[string]any {
	t.Helper()
	return w.WaitRecord(t, from, 10*time.Second, "decision for "+login, func(r map[string]any) bool {
		return r["msg"] == "decision" && r["login"] == login
	})
}

func wantCode(t *testing.T, what string, r realserver.Result, code int) {
	t.Helper()
	if r.Code != code {
		t.Errorf("%s: %v\nwant exit %d", what, r, code)
	}
}
