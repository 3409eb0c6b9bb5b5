package realserver

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

// Password is the password of every user a Dovecot started by StartDovecot
// knows.
const Password = "secret"

// DovecotConfig is what a test adds to the harness's dovecot.conf.
type DovecotConfig struct {
	// Users are the login names Dovecot's passdb knows, each with Password.
	Users []string
	// Extra is appended to dovecot.conf (the deploy/ snippet under test,
	// with its address replaced).
	Extra string
	// Auth opens Dovecot's auth service on a loopback TCP port (Dovecot.Auth)
	// for Postfix's smtpd_sasl_path.
	Auth bool
}

// Dovecot is a running Dovecot.
type Dovecot struct {
	*Process
	// IMAP, POP3 and Auth are the listening addresses ("127.0.0.1:PORT");
	// Auth is "" unless DovecotConfig.Auth.
	IMAP, POP3, Auth string
	// Conf is the path of the dovecot.conf written.
	Conf string
}

// StartDovecot writes a dovecot.conf for IMAP and POP3 on free loopback
// ports without TLS, with a passwd-file passdb (cleartext passwords), a static
// userdb whose mail lives in the server's directory, and runs 'dovecot -F'.
// As root, logins run as nobody and Dovecot's own users (dovenull, dovecot)
// run its login and internal processes; as another user, everything runs as
// that user.
func StartDovecot(t testing.TB, cfg DovecotConfig) *Dovecot {
	t.Helper()
	bin := Require(t, "dovecot")
	for _, f := range []string{"/usr/lib/dovecot/imap", "/usr/lib/dovecot/pop3"} {
		if _, err := os.Stat(f); err != nil {
			Missing(t, "dovecot-imapd and dovecot-pop3d are not installed")
		}
	}
	dir := t.TempDir()
	// The mail processes run as nobody (as root) and must reach their homes.
	for d := dir; d != os.TempDir() && d != "/" && strings.HasPrefix(d, os.TempDir()); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o777); err != nil {
		t.Fatalf("realserver: %v", err)
	}
	os.Chmod(home, 0o777)

	var passwd strings.Builder
	for _, u := range cfg.Users {
		fmt.Fprintf(&passwd, "%s:{PLAIN}%s::::::\n", u, Password)
	}
	passwdFile := filepath.Join(dir, "passwd")
	if err := os.WriteFile(passwdFile, []byte(passwd.String()), 0o644); err != nil {
		t.Fatalf("realserver: %v", err)
	}

	loginUser, internalUser, uid, gid := "dovenull", "dovecot", "65534", "65534"
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			t.Fatalf("realserver: %v", err)
		}
		loginUser, internalUser, uid, gid = u.Username, u.Username, u.Uid, u.Gid
	}
	d := &Dovecot{IMAP: FreeAddr(t), POP3: FreeAddr(t)}
	if cfg.Auth {
		d.Auth = FreeAddr(t)
	}
	port := func(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }
	var b strings.Builder
	fmt.Fprintf(&b, `# written by internal/realserver
base_dir = %[1]s/run
state_dir = %[1]s/state
instance_name = wmpolicy-test-%[2]s
listen = 127.0.0.1
protocols = imap pop3
log_path = /dev/stderr
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
# Tests refuse many logins: no delay after a failure. Dovecot also delays
# repeated failures from one address (anvil's auth penalty), so tests use a
# fresh client address for each refusal (ClientAddr).
auth_failure_delay = 0
default_login_user = %[3]s
default_internal_user = %[4]s
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[5]s
}
userdb {
  driver = static
  args = uid=%[6]s gid=%[7]s home=%[8]s/%%u
}
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    port = %[9]s
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %[10]s
  }
  inet_listener pop3s {
    port = 0
  }
}
`, dir, port(d.IMAP), loginUser, internalUser, passwdFile, uid, gid, home, port(d.IMAP), port(d.POP3))
	if cfg.Auth {
		fmt.Fprintf(&b, "service auth {\n  inet_listener auth-tcp {\n    address = 127.0.0.1\n    port = %s\n  }\n}\n", port(d.Auth))
	}
	if cfg.Extra != "" {
		b.WriteString("\n# the configuration under test\n")
		b.WriteString(cfg.Extra)
		b.WriteString("\n")
	}
	d.Conf = filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(d.Conf, []byte(b.String()), 0o644); err != nil {
		t.Fatalf("realserver: %v", err)
	}
	d.Process = Start(t, "dovecot", dir, nil, bin, "-F", "-c", d.Conf)
	for _, addr := range []string{d.IMAP, d.POP3, d.Auth} {
		if addr != "" {
			WaitPort(t, d.Process, addr)
		}
	}
	return d
}
