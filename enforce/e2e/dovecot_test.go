package e2e

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/internal/realserver"
)

// TestDovecot: Dovecot 2.3 with deploy/dovecot/95-wmpolicy.conf asks wmpolicy
// on every login (SEMANTICS E4). IMAP is allowed from the office and refused
// from elsewhere by the rule the example organization names; POP3 is refused
// (E2: no default mapping); a DISABLED user, an unknown user and a
// contractor are refused alike; a rules file changed while the servers run
// decides the next login, an invalid change keeps the rules in force; with
// wmpolicy stopped every login is refused (E3).
func TestDovecot(t *testing.T) {
	rules, users := rulesDir(t)
	w := realserver.StartWmpolicy(t, "--rules", rules, "--users", users, "--poll", "1h", "--dovecot", "127.0.0.1:0")
	d := realserver.StartDovecot(t, realserver.DovecotConfig{
		Users: mailUsers,
		Extra: deploySnippet(t, "dovecot/95-wmpolicy.conf", dovecotDeployAddr, w.Addr("dovecot")),
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

	for _, tc := range []struct{ login, reason string }{
		{"dave", "user not enabled"},
		{"mallory", "unknown user"},
		{"carol", "explicit deny"},
	} {
		n = len(w.Records())
		r := realserver.CurlMail(t, imap, office(), tc.login)
		wantCode(t, "IMAP "+tc.login+" from the office", r, curlDeny)
		if rec := decision(t, w, n, tc.login); rec["reason"] != tc.reason || rec["effect"] != "DENY" {
			t.Errorf("decision record %v, want reason %q", rec, tc.reason)
		}
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
