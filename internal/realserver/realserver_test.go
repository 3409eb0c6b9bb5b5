package realserver

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// TestStartWmpolicy: serve runs from the built binary; the harness waits
// for it to serve and knows each listener's port-0 address.
func TestStartWmpolicy(t *testing.T) {
	root := RepoRoot(t)
	w := StartWmpolicy(t, "--rules", root+"/examples/org/rules.json", "--users", root+"/examples/org/users.json",
		"--dovecot", "127.0.0.1:0", "--postfix", "127.0.0.1:0")
	if w.Addr("dovecot") == "" || w.Addr("postfix") == "" {
		t.Fatalf("addresses %q %q", w.Addr("dovecot"), w.Addr("postfix"))
	}
	resp, err := http.Post("http://"+w.Addr("dovecot")+"/?command=allow", "application/json",
		strings.NewReader(`{"login":"bob","remote":"192.0.2.5","protocol":"imap"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"status":0}` {
		t.Fatalf("dovecot answer %q", body)
	}
	n := len(w.Records())
	w.Signal(syscall.SIGTERM)
	if err := w.Wait(15 * time.Second); err != nil {
		t.Fatalf("serve after SIGTERM: %v", err)
	}
	if recs := w.Records(); len(recs) <= n || recs[len(recs)-1]["msg"] != "stopped" {
		t.Fatalf("last record %v, want stopped", recs[len(recs)-1])
	}
}

// TestStartNginx: nginx runs in the foreground from a temporary directory and
// answers on the port the harness picked.
func TestStartNginx(t *testing.T) {
	addr := FreeAddr(t)
	StartNginx(t, NginxConfig{
		HTTP: "server { listen " + addr + "; location / { return 200 \"ok\\n\"; } }",
		Wait: []string{addr},
	})
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("GET / = %d %q", resp.StatusCode, body)
	}
}

// TestStartDovecot: Dovecot runs from a temporary directory; a known user
// logs in over IMAP and POP3 from a 127.0.x.y address, a wrong user does not.
func TestStartDovecot(t *testing.T) {
	d := StartDovecot(t, DovecotConfig{Users: []string{"bob"}})
	if r := CurlMail(t, "imap://"+d.IMAP+"/", "127.0.1.5", "bob"); r.Code != 0 {
		t.Errorf("IMAP login as bob: %v", r)
	}
	if r := CurlMail(t, "pop3://"+d.POP3+"/", "127.0.1.5", "bob"); r.Code != 0 {
		t.Errorf("POP3 login as bob: %v", r)
	}
	if r := CurlMail(t, "imap://"+d.IMAP+"/", "127.0.1.5", "nobody-here"); r.Code != 67 {
		t.Errorf("IMAP login as an unknown user: %v, want exit 67", r)
	}
}

// TestStartPostfix: Postfix runs from a temporary configuration directory
// and authenticates through the harness's Dovecot.
func TestStartPostfix(t *testing.T) {
	RequireRoot(t, "postfix")
	d := StartDovecot(t, DovecotConfig{Users: []string{"bob"}, Auth: true})
	p := StartPostfix(t, PostfixConfig{SASLPath: d.Auth})
	if r := SwaksAuth(t, p.SMTP, "127.0.1.5", "bob", "someone@test.invalid"); r.Code != 0 {
		t.Errorf("swaks as bob: %v", r)
	}
}

// recordTB records what Missing asks of a test.
type recordTB struct {
	testing.TB
	fatal, skip string
}

func (r *recordTB) Helper()           {}
func (r *recordTB) Fatal(args ...any) { r.fatal = fmt.Sprint(args...) }
func (r *recordTB) Skip(args ...any)  { r.skip = fmt.Sprint(args...) }

// TestMissing: a missing server fails the test when CI is set and skips it
// otherwise, both naming the install script.
func TestMissing(t *testing.T) {
	t.Setenv("CI", "true")
	r := &recordTB{TB: t}
	Missing(r, "frobd is not installed")
	if r.skip != "" || !strings.Contains(r.fatal, "frobd is not installed") || !strings.Contains(r.fatal, InstallScript) {
		t.Errorf("CI set: fatal %q, skip %q", r.fatal, r.skip)
	}
	t.Setenv("CI", "")
	r = &recordTB{TB: t}
	Missing(r, "frobd is not installed")
	if r.fatal != "" || !strings.Contains(r.skip, InstallScript) {
		t.Errorf("CI unset: fatal %q, skip %q", r.fatal, r.skip)
	}
}
