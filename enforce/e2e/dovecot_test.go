package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/internal/realserver"
)

// TestDovecot: Dovecot 2.3 with deploy/dovecot/95-wmpolicy.conf asks wmpolicy
// on every login (SEMANTICS E4). IMAP is allowed from the office and refused
// from elsewhere by the rule the example organization names, and so is
// submission (decided as SMTP); POP3 is refused
// (E2: no default mapping); a DISABLED user, an unknown user and a
// contractor are refused alike; a rules file changed while the servers run
// decides the next login, an invalid change keeps the rules in force; with
// wmpolicy stopped every login is refused (E3).
func TestDovecot(t *testing.T) {
	rules, users := rulesDir(t)
	w := realserver.StartWmpolicy(t, "--rules", rules, "--users", users, "--poll", "1h", "--dovecot", "127.0.0.1:0")
	d := realserver.StartDovecot(t, realserver.DovecotConfig{
		Users:      mailUsers,
		Submission: true,
		Extra:      deploySnippet(t, "dovecot/95-wmpolicy.conf", dovecotDeployAddr, w.Addr("dovecot")),
	})
	imap, pop3 := "imap://"+d.IMAP+"/", "pop3://"+d.POP3+"/"

	n := len(w.Records())
	from := office()
	wantCode(t, "IMAP bob from the office", realserver.CurlMail(t, imap, from, "bob"), 0)
	if r := decision(t, w, n, "bob"); r["effect"] != "ALLOW" || r["client"] != from || r["protocol"] != "imap" {
		t.Errorf("decision record %v", r)
	}

	n = len(w.Records())
	wantCode(t, "IMAP bob from outside", realserver.CurlMail(t, imap, outside(), "bob"), curlDeny)
	if r := decision(t, w, n, "bob"); r["effect"] != "DENY" || !strings.Contains(toString(r["rules"]), "legacy-protocols-office-only") {
		t.Errorf("decision record %v, want a DENY by legacy-protocols-office-only", r)
	}

	n = len(w.Records())
	wantCode(t, "POP3 bob from the office (E2)", realserver.CurlMail(t, pop3, office(), "bob"), curlDeny)
	if r := decision(t, w, n, "bob"); r["reason"] != "protocol has no WorkMail action" {
		t.Errorf("decision record %v", r)
	}

	// Submission is SMTP (E4).
	n = len(w.Records())
	wantCode(t, "submission AUTH bob from the office", realserver.SwaksAuthOnly(t, d.Submission, office(), "bob"), 0)
	if r := decision(t, w, n, "bob"); r["effect"] != "ALLOW" || r["protocol"] != "submission" {
		t.Errorf("decision record %v", r)
	}
	wantCode(t, "submission AUTH bob from outside", realserver.SwaksAuthOnly(t, d.Submission, outside(), "bob"), swaksAuthFailed)

	// Refused alike: the client sees the same answer whatever the reason
	// (E2); only wmpolicy's log says which it was.
	seen := map[string]string{}
	for _, tc := range []struct{ login, reason string }{
		{"dave", "user not enabled"},
		{"mallory", "unknown user"},
		{"carol", "explicit deny"},
	} {
		n = len(w.Records())
		r := realserver.CurlMail(t, imap, office(), tc.login)
		wantCode(t, "IMAP "+tc.login+" from the office", r, curlDeny)
		seen[imapLoginReply(t, d.IMAP, office(), tc.login)] = tc.login
		if rec := decision(t, w, n, tc.login); rec["reason"] != tc.reason || rec["effect"] != "DENY" {
			t.Errorf("decision record %v, want reason %q", rec, tc.reason)
		}
	}

	t.Logf("refusals seen: %q", seen)
	if len(seen) != 1 {
		t.Errorf("refusals differ between a disabled, an unknown and a denied user: %v", seen)
	}

	// The rules change while the servers run: the office now includes
	// 127.0.2.0/24, and the next login from there is allowed.
	orig, err := os.ReadFile(rules)
	if err != nil {
		t.Fatal(err)
	}
	widened := strings.ReplaceAll(string(orig), `"127.0.1.0/24",`, `"127.0.1.0/24", "127.0.2.0/24",`)
	reload(t, w, rules, widened, "rules reloaded")
	wantCode(t, "IMAP bob from 127.0.2.x after the change", realserver.CurlMail(t, imap, outside(), "bob"), 0)

	// An invalid change is rejected; the widened rules stay in force.
	reload(t, w, rules, strings.Replace(widened, `"127.0.2.0/24"`, `"127.0.2.0/33"`, 1), "reload rejected: keeping the rules in force")
	wantCode(t, "IMAP bob from 127.0.2.x after an invalid change", realserver.CurlMail(t, imap, outside(), "bob"), 0)

	// E3: wmpolicy stopped, Dovecot refuses.
	w.Stop()
	wantCode(t, "IMAP bob from the office with wmpolicy stopped", realserver.CurlMail(t, imap, office(), "bob"), curlDeny)
}

// reload writes data to the rules file, sends wmpolicy SIGHUP and waits for
// the log record msg.
func reload(t *testing.T, w *realserver.Wmpolicy, rules, data, msg string) {
	t.Helper()
	n := len(w.Records())
	if err := os.WriteFile(rules, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := w.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	w.WaitRecord(t, n, 10*time.Second, msg, func(r map[string]any) bool { return r["msg"] == msg })
}

func toString(v any) string {
	switch v := v.(type) {
	case []any:
		var s []string
		for _, x := range v {
			s = append(s, toString(x))
		}
		return strings.Join(s, ",")
	case string:
		return v
	}
	return ""
}

// imapLoginReply logs in over a raw IMAP connection from the local address
// from and returns the server's tagged reply to LOGIN.
func imapLoginReply(t *testing.T, addr, from, login string) string {
	t.Helper()
	dialer := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
	c, err := dialer.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	if _, err := br.ReadString('\n'); err != nil { // greeting
		t.Fatal(err)
	}
	fmt.Fprintf(c, "a LOGIN %s %s\r\n", login, realserver.Password)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "connection closed: " + err.Error()
		}
		if strings.HasPrefix(line, "a ") {
			return strings.TrimSpace(line)
		}
	}
}

// TestDovecotAPIHeader: the deploy snippet's optional API header line,
// uncommented, is what wmpolicy's --dovecot-api-header expects (E4): with
// the right key an office login is allowed, with another it is refused.
func TestDovecotAPIHeader(t *testing.T) {
	rules, users := rulesDir(t)
	keyFile := filepath.Join(t.TempDir(), "dovecot.key")
	if err := os.WriteFile(keyFile, []byte("k3y-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := realserver.StartWmpolicy(t, "--rules", rules, "--users", users, "--dovecot", "127.0.0.1:0",
		"--dovecot-api-header", "X-API-Key", "--dovecot-api-key-file", keyFile)
	for _, tc := range []struct {
		key  string
		want int
	}{{"k3y-from-file", 0}, {"another-key", curlDeny}} {
		snippet := deploySnippet(t, "dovecot/95-wmpolicy.conf", dovecotDeployAddr, w.Addr("dovecot"))
		line := "#auth_policy_server_api_header = X-API-Key: <contents of dovecot.key>"
		if !strings.Contains(snippet, line) {
			t.Fatalf("deploy/dovecot/95-wmpolicy.conf has no line %q", line)
		}
		snippet = strings.Replace(snippet, line, "auth_policy_server_api_header = X-API-Key: "+tc.key, 1)
		d := realserver.StartDovecot(t, realserver.DovecotConfig{Users: mailUsers, Extra: snippet})
		wantCode(t, "IMAP bob from the office, API key "+tc.key, realserver.CurlMail(t, "imap://"+d.IMAP+"/", office(), "bob"), tc.want)
		d.Stop()
	}
}

// TestDovecotPOP3Mapping: with --dovecot-pop3 IMAP the operator maps POP3
// to the IMAP action explicitly (E2): POP3 then follows the IMAP rules,
// allowed from the office and refused from elsewhere.
func TestDovecotPOP3Mapping(t *testing.T) {
	rules, users := rulesDir(t)
	w := realserver.StartWmpolicy(t, "--rules", rules, "--users", users, "--dovecot", "127.0.0.1:0", "--dovecot-pop3", "IMAP")
	d := realserver.StartDovecot(t, realserver.DovecotConfig{
		Users: mailUsers,
		Extra: deploySnippet(t, "dovecot/95-wmpolicy.conf", dovecotDeployAddr, w.Addr("dovecot")),
	})
	pop3 := "pop3://" + d.POP3 + "/"
	wantCode(t, "POP3 bob from the office", realserver.CurlMail(t, pop3, office(), "bob"), 0)
	wantCode(t, "POP3 bob from outside", realserver.CurlMail(t, pop3, outside(), "bob"), curlDeny)
}
