package e2e

import (
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/internal/realserver"
)

// TestPostfixDovecotSASL: Postfix 3.7 authenticating through Dovecot SASL,
// Dovecot configured with deploy/dovecot/95-wmpolicy.conf: SMTP AUTH is
// decided by the rules as SMTP (SEMANTICS E4: protocol smtp), allowed from
// the office and refused from elsewhere; with wmpolicy stopped AUTH is
// refused (E3).
func TestPostfixDovecotSASL(t *testing.T) {
	realserver.RequireRoot(t, "postfix")
	rules, users := rulesDir(t)
	w := realserver.StartWmpolicy(t, "--rules", rules, "--users", users, "--dovecot", "127.0.0.1:0")
	d := realserver.StartDovecot(t, realserver.DovecotConfig{
		Users: mailUsers,
		Auth:  true,
		Extra: deploySnippet(t, "dovecot/95-wmpolicy.conf", dovecotDeployAddr, w.Addr("dovecot")),
	})
	p := realserver.StartPostfix(t, realserver.PostfixConfig{SASLPath: d.Auth})
	const to = "someone@test.invalid"

	n := len(w.Records())
	wantCode(t, "SMTP AUTH bob from the office", realserver.SwaksAuth(t, p.SMTP, office(), "bob", to), 0)
	if r := decision(t, w, n, "bob"); r["effect"] != "ALLOW" || r["protocol"] != "smtp" {
		t.Errorf("decision record %v", r)
	}
	n = len(w.Records())
	wantCode(t, "SMTP AUTH bob from outside", realserver.SwaksAuth(t, p.SMTP, outside(), "bob", to), swaksAuthFailed)
	if r := decision(t, w, n, "bob"); r["effect"] != "DENY" || !strings.Contains(toString(r["rules"]), "legacy-protocols-office-only") {
		t.Errorf("decision record %v", r)
	}
	wantCode(t, "SMTP AUTH dave (DISABLED) from the office", realserver.SwaksAuth(t, p.SMTP, office(), "dave", to), swaksAuthFailed)
	wantCode(t, "SMTP AUTH mallory (unknown) from the office", realserver.SwaksAuth(t, p.SMTP, office(), "mallory", to), swaksAuthFailed)

	w.Stop()
	wantCode(t, "SMTP AUTH bob from the office with wmpolicy stopped", realserver.SwaksAuth(t, p.SMTP, office(), "bob", to), swaksAuthFailed)
}

// TestPostfixPolicyService: Postfix 3.7 with deploy/postfix/main.cf asks
// wmpolicy at RCPT (SEMANTICS E5). Here Dovecot SASL has no policy, so a
// user the rules deny still authenticates: Postfix then refuses the
// recipient with 5.7.1; the same user from the office is accepted; MX
// traffic (no AUTH), even from a network the rules block, is DUNNO and
// delivered; with wmpolicy stopped every recipient is deferred with a 4xx
// (E3).
func TestPostfixPolicyService(t *testing.T) {
	realserver.RequireRoot(t, "postfix")
	rules, users := rulesDir(t)
	w := realserver.StartWmpolicy(t, "--rules", rules, "--users", users, "--postfix", "127.0.0.1:0")
	d := realserver.StartDovecot(t, realserver.DovecotConfig{Users: mailUsers, Auth: true})
	p := realserver.StartPostfix(t, realserver.PostfixConfig{
		SASLPath: d.Auth,
		Main:     deploySnippet(t, "postfix/main.cf", postfixDeployAddr, w.Addr("postfix")),
	})
	const to = "someone@test.invalid"

	n := len(w.Records())
	wantCode(t, "bob from the office", realserver.SwaksAuth(t, p.SMTP, office(), "bob", to), 0)
	if r := decision(t, w, n, "bob"); r["effect"] != "ALLOW" || r["protocol"] != "postfix" {
		t.Errorf("decision record %v", r)
	}
	n = len(w.Records())
	r := realserver.SwaksAuth(t, p.SMTP, outside(), "bob", to)
	wantCode(t, "bob from outside", r, swaksRCPTFailed)
	if !strings.Contains(r.Output, "554 5.7.1") || !strings.Contains(r.Output, "Access denied by policy") {
		t.Errorf("bob from outside: want 554 5.7.1 Access denied by policy at RCPT:\n%s", r.Output)
	}
	if rec := decision(t, w, n, "bob"); rec["effect"] != "DENY" {
		t.Errorf("decision record %v", rec)
	}
	wantCode(t, "dave (DISABLED) from the office", realserver.SwaksAuth(t, p.SMTP, office(), "dave", to), swaksRCPTFailed)
	wantCode(t, "MX traffic from a blocked network", realserver.SwaksAuth(t, p.SMTP, abusive(), "", to), 0)

	w.Stop()
	r = realserver.SwaksAuth(t, p.SMTP, office(), "bob", to)
	wantCode(t, "bob from the office with wmpolicy stopped", r, swaksRCPTFailed)
	if !strings.Contains(r.Output, "451 4.3.5") {
		t.Errorf("with wmpolicy stopped: want 451 4.3.5 at RCPT:\n%s", r.Output)
	}
	r = realserver.SwaksAuth(t, p.SMTP, abusive(), "", to)
	wantCode(t, "MX traffic with wmpolicy stopped", r, swaksRCPTFailed)
}

// TestPostfixPolicySubmissionOverrides: the submission service of Debian's
// master.cf template overrides smtpd_recipient_restrictions (empty) and
// smtpd_relay_restrictions, so the RCPT check of deploy/postfix/main.cf is
// not asked on port 587. The snippet also asks at the end of each message
// (smtpd_end_of_data_restrictions, which the template leaves alone), so a
// user the rules deny SMTP is still refused there (SEMANTICS E5, E3).
func TestPostfixPolicySubmissionOverrides(t *testing.T) {
	realserver.RequireRoot(t, "postfix")
	rules, users := rulesDir(t)
	w := realserver.StartWmpolicy(t, "--rules", rules, "--users", users, "--postfix", "127.0.0.1:0")
	d := realserver.StartDovecot(t, realserver.DovecotConfig{Users: mailUsers, Auth: true})
	p := realserver.StartPostfix(t, realserver.PostfixConfig{
		SASLPath:     d.Auth,
		Main:         deploySnippet(t, "postfix/main.cf", postfixDeployAddr, w.Addr("postfix")),
		SMTPDOptions: []string{"syslog_name=postfix/submission", "smtpd_recipient_restrictions=", "smtpd_relay_restrictions=permit_sasl_authenticated,reject"},
	})
	const to = "someone@test.invalid"

	wantCode(t, "submission: bob from the office", realserver.SwaksAuth(t, p.SMTP, office(), "bob", to), 0)
	n := len(w.Records())
	r := realserver.SwaksAuth(t, p.SMTP, outside(), "bob", to)
	if r.Code == 0 || !strings.Contains(r.Output, "5.7.1") {
		t.Errorf("submission: bob from outside: want a 5.7.1 refusal:\n%s", r.Output)
	}
	if rec := decision(t, w, n, "bob"); rec["effect"] != "DENY" {
		t.Errorf("decision record %v", rec)
	}
	wantCode(t, "submission: MX-style traffic without AUTH", realserver.SwaksAuth(t, p.SMTP, office(), "", to), swaksRCPTFailed)
}
