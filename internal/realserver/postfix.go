package realserver

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// PostfixConfig is what a test adds to the harness's main.cf.
type PostfixConfig struct {
	// SASLPath is the address of Dovecot's auth service (Dovecot.Auth);
	// when set, Postfix offers SMTP AUTH through Dovecot SASL.
	SASLPath string
	// Main is appended to main.cf (the deploy/ snippet under test, with its
	// address replaced); later lines override earlier ones.
	Main string
	// SMTPDOptions are master.cf "-o name=value" overrides of the smtpd
	// service (without the "-o"), as a submission service has them.
	SMTPDOptions []string
}

// Postfix is a running Postfix.
type Postfix struct {
	*Process
	// SMTP is the address of its smtpd ("127.0.0.1:PORT").
	SMTP string
	// ConfDir is its configuration directory (main.cf, master.cf).
	ConfDir string
}

// StartPostfix writes main.cf and master.cf into a temporary configuration
// directory, with its own queue and data directories, one smtpd on a free
// loopback port, every service unchrooted, and all mail discarded; it then
// runs 'postfix -c DIR start-fg'. Postfix's master must start as root:
// elsewhere the test fails in CI, or skips.
func StartPostfix(t testing.TB, cfg PostfixConfig) *Postfix {
	t.Helper()
	bin := Require(t, "postfix")
	RequireRoot(t, "postfix")
	dir := t.TempDir()
	conf, queue, data := filepath.Join(dir, "conf"), filepath.Join(dir, "queue"), filepath.Join(dir, "data")
	for _, d := range []string{conf, queue, data} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatalf("realserver: %v", err)
		}
	}
	for d := dir; d != os.TempDir() && d != "/" && strings.HasPrefix(d, os.TempDir()); d = filepath.Dir(d) {
		os.Chmod(d, 0o755) // the postfix user reaches its queue
	}
	p := &Postfix{SMTP: FreeAddr(t), ConfDir: conf}
	var main strings.Builder
	fmt.Fprintf(&main, `# written by internal/realserver
compatibility_level = 3.6
queue_directory = %s
data_directory = %s
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mail.test.invalid
mydomain = test.invalid
mydestination = test.invalid
local_recipient_maps =
mynetworks = 127.0.0.0/32
relayhost =
maillog_file = /dev/stdout
smtpd_tls_security_level = none
smtp_tls_security_level = none
local_transport = discard:
default_transport = discard:
alias_maps =
alias_database =
biff = no
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
`, queue, data)
	if cfg.SASLPath != "" {
		fmt.Fprintf(&main, "smtpd_sasl_auth_enable = yes\nsmtpd_sasl_type = dovecot\nsmtpd_sasl_path = inet:%s\n", cfg.SASLPath)
	}
	if cfg.Main != "" {
		main.WriteString("\n# the configuration under test\n")
		main.WriteString(cfg.Main)
		main.WriteString("\n")
	}
	master := p.SMTP + ` inet n - n - - smtpd
`
	for _, o := range cfg.SMTPDOptions {
		master += "  -o " + o + "\n"
	}
	master += `pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`
	if err := os.WriteFile(filepath.Join(conf, "main.cf"), []byte(main.String()), 0o644); err != nil {
		t.Fatalf("realserver: %v", err)
	}
	if err := os.WriteFile(filepath.Join(conf, "master.cf"), []byte(master), 0o644); err != nil {
		t.Fatalf("realserver: %v", err)
	}
	if out, err := exec.Command(bin, "-c", conf, "set-permissions").CombinedOutput(); err != nil {
		t.Fatalf("realserver: postfix set-permissions: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "-c", conf, "check").CombinedOutput(); err != nil {
		t.Fatalf("realserver: postfix check: %v\n%s", err, out)
	}
	p.Process = Start(t, "postfix", dir, nil, bin, "-c", conf, "start-fg")
	// start-fg runs the master daemon under a shell script, in a session of
	// its own: stop it through postfix, whose script signals the master.
	p.Process.beforeStop = func() {
		exec.Command(bin, "-c", conf, "stop").Run()
		p.Process.Wait(5 * time.Second)
	}
	WaitPort(t, p.Process, p.SMTP)
	return p
}
