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

// TestNginxMailSMTP: nginx's SMTP proxy in front of a real Postfix (SEMANTICS
// E6): inbound MX traffic (no AUTH: Auth-Method none) is proxied without a
// rule check, even from a network the rules block; SMTP AUTH from the
// office is allowed and proxied; from elsewhere it gets 535 5.7.8.
func TestNginxMailSMTP(t *testing.T) {
	realserver.RequireRoot(t, "postfix")
	// The backend authenticates (Dovecot SASL): nginx never passes an SMTP
	// password on unless proxy_smtp_auth is on, and wmpolicy checks none.
	sasl := realserver.StartDovecot(t, realserver.DovecotConfig{Users: mailUsers, Auth: true})
	backend := realserver.StartPostfix(t, realserver.PostfixConfig{SASLPath: sasl.Auth})
	rules, users := rulesDir(t)
	w := realserver.StartWmpolicy(t, "--rules", rules, "--users", users,
		"--nginx-mail", "127.0.0.1:0", "--nginx-mail-smtp-backend", backend.SMTP)
	snippet := filepath.Join(t.TempDir(), "mail-wmpolicy.conf")
	if err := os.WriteFile(snippet, []byte(deploySnippet(t, "nginx/mail-wmpolicy.conf", nginxDeployAddr, w.Addr("nginx-mail"))), 0o644); err != nil {
		t.Fatal(err)
	}
	smtpAddr := realserver.FreeAddr(t)
	realserver.StartNginx(t, realserver.NginxConfig{
		Mail: fmt.Sprintf(`    include %s;
    server_name mail.test.invalid;
    xclient off;
    server { listen %s; protocol smtp; smtp_auth none plain login; }`, snippet, smtpAddr),
		Wait: []string{smtpAddr},
	})
	const to = "someone@test.invalid"

	wantCode(t, "MX traffic via nginx from a blocked network", realserver.SwaksAuth(t, smtpAddr, abusive(), "", to), 0)
	n := len(w.Records())
	wantCode(t, "SMTP AUTH bob via nginx from the office", realserver.SwaksAuth(t, smtpAddr, office(), "bob", to), 0)
	if rec := decision(t, w, n, "bob"); rec["effect"] != "ALLOW" || rec["protocol"] != "smtp" {
		t.Errorf("decision record %v", rec)
	}
	r := realserver.SwaksAuth(t, smtpAddr, outside(), "bob", to)
	wantCode(t, "SMTP AUTH bob via nginx from outside", r, swaksAuthFailed)
	if !strings.Contains(r.Output, "535 5.7.8") {
		t.Errorf("want 535 5.7.8:\n%s", r.Output)
	}
	// SEMANTICS E6, E3: wmpolicy decides the rules, not the password. The
	// shipped snippet turns proxy_smtp_auth on, so that the backend checks
	// the password of a login the rules allow; without it nginx would take
	// wmpolicy's Auth-Status: OK as the authentication, and any password
	// would do.
	n = len(w.Records())
	r = realserver.Run(t, "swaks", "--server", smtpAddr, "--local-interface", office(), "--from", "sender@test.invalid",
		"--to", to, "--timeout", "15", "--helo", "client.test.invalid",
		"--auth", "PLAIN", "--auth-user", "bob", "--auth-password", "not-"+realserver.Password)
	if r.Code == 0 {
		t.Errorf("SMTP AUTH bob with a wrong password via nginx from the office was accepted:\n%s", r.Output)
	}
	if rec := decision(t, w, n, "bob"); rec["effect"] != "ALLOW" {
		t.Errorf("the rules allow bob from the office: decision record %v", rec)
	}
	for _, rec := range w.Records() {
		if rec["msg"] == "decision" && rec["login"] == "" {
			t.Errorf("MX traffic was decided by the rules: %v", rec)
		}
	}
}

// TestNginxMailSecretHeader: the deploy snippet's optional auth_http_header
// line, uncommented, is what --nginx-mail-secret-header expects: with the
// right value an office login is proxied, with another it is refused.
func TestNginxMailSecretHeader(t *testing.T) {
	backend := realserver.StartDovecot(t, realserver.DovecotConfig{Users: mailUsers})
	rules, users := rulesDir(t)
	secretFile := filepath.Join(t.TempDir(), "nginx.key")
	if err := os.WriteFile(secretFile, []byte("s3cret-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := realserver.StartWmpolicy(t, "--rules", rules, "--users", users, "--nginx-mail", "127.0.0.1:0",
		"--nginx-mail-imap-backend", backend.IMAP, "--nginx-mail-secret-header", "X-Auth-Key", "--nginx-mail-secret-file", secretFile)
	for _, tc := range []struct {
		secret string
		ok     bool
	}{{"s3cret-from-file", true}, {"guess", false}} {
		snippet := deploySnippet(t, "nginx/mail-wmpolicy.conf", nginxDeployAddr, w.Addr("nginx-mail"))
		line := `#auth_http_header X-Auth-Key "<contents of nginx.key>";`
		if !strings.Contains(snippet, line) {
			t.Fatalf("deploy/nginx/mail-wmpolicy.conf has no line %q", line)
		}
		snippet = strings.Replace(snippet, line, `auth_http_header X-Auth-Key "`+tc.secret+`";`, 1)
		file := filepath.Join(t.TempDir(), "mail-wmpolicy.conf")
		if err := os.WriteFile(file, []byte(snippet), 0o644); err != nil {
			t.Fatal(err)
		}
		imapAddr := realserver.FreeAddr(t)
		n := realserver.StartNginx(t, realserver.NginxConfig{
			Mail: fmt.Sprintf("    include %s;\n    server { listen %s; protocol imap; }", file, imapAddr),
			Wait: []string{imapAddr},
		})
		r := realserver.CurlMail(t, "imap://"+imapAddr+"/", office(), "bob")
		if (r.Code == 0) != tc.ok {
			t.Errorf("IMAP via nginx with secret %q: %v, want success %v", tc.secret, r, tc.ok)
		}
		n.Stop()
	}
}
