package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/internal/realserver"
)

// TestNginxMail: nginx 1.22's mail proxy with deploy/nginx/mail-wmpolicy.conf
// asks wmpolicy on every login (SEMANTICS E6): an allowed IMAP login is
// proxied to the Dovecot backend and works end to end, a denied one is
// refused; a denied SMTP AUTH gets 535 5.7.8; with wmpolicy stopped nginx
// refuses (E3).
func TestNginxMail(t *testing.T) {
	backend := realserver.StartDovecot(t, realserver.DovecotConfig{Users: mailUsers}) // no policy: nginx enforces
	rules, users := rulesDir(t)
	w := realserver.StartWmpolicy(t, "--rules", rules, "--users", users,
		"--nginx-mail", "127.0.0.1:0", "--nginx-mail-imap-backend", backend.IMAP, "--nginx-mail-smtp-backend", "127.0.0.1:9")
	snippet := filepath.Join(t.TempDir(), "mail-wmpolicy.conf")
	if err := os.WriteFile(snippet, []byte(deploySnippet(t, "nginx/mail-wmpolicy.conf", nginxDeployAddr, w.Addr("nginx-mail"))), 0o644); err != nil {
		t.Fatal(err)
	}
	imapAddr, smtpAddr := realserver.FreeAddr(t), realserver.FreeAddr(t)
	realserver.StartNginx(t, realserver.NginxConfig{
		Mail: fmt.Sprintf(`    include %s;
    server_name mail.test.invalid;
    server { listen %s; protocol imap; }
    server { listen %s; protocol smtp; smtp_auth plain login; }`, snippet, imapAddr, smtpAddr),
		Wait: []string{imapAddr, smtpAddr},
	})
	imap := "imap://" + imapAddr + "/"

	n := len(w.Records())
	from := office()
	r := realserver.CurlMail(t, imap, from, "bob")
	wantCode(t, "IMAP bob via nginx from the office", r, 0)
	if !strings.Contains(r.Output, "INBOX") {
		t.Errorf("IMAP bob via nginx: no mailbox listing from the backend:\n%s", r.Output)
	}
	if rec := decision(t, w, n, "bob"); rec["effect"] != "ALLOW" || rec["client"] != from || rec["protocol"] != "imap" {
		t.Errorf("decision record %v", rec)
	}
	n = len(w.Records())
	wantCode(t, "IMAP bob via nginx from outside", realserver.CurlMail(t, imap, outside(), "bob"), curlDeny)
	if rec := decision(t, w, n, "bob"); rec["effect"] != "DENY" {
		t.Errorf("decision record %v", rec)
	}
	wantCode(t, "IMAP dave (DISABLED) via nginx", realserver.CurlMail(t, imap, office(), "dave"), curlDeny)

	r = realserver.SwaksAuth(t, smtpAddr, outside(), "bob", "someone@test.invalid")
	wantCode(t, "SMTP AUTH bob via nginx from outside", r, swaksAuthFailed)
	if !strings.Contains(r.Output, "535 5.7.8") {
		t.Errorf("SMTP AUTH refused via nginx: want 535 5.7.8:\n%s", r.Output)
	}

	w.Stop()
	r = realserver.CurlMail(t, imap, office(), "bob")
	t.Logf("IMAP via nginx with wmpolicy stopped: %v", r)
	if r.Code == 0 {
		t.Errorf("IMAP bob via nginx with wmpolicy stopped: %v\nwant a refusal", r)
	}
}
