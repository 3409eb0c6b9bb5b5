package realserver

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// TestListenerFlags: StartWmpolicy waits for exactly the listeners named by
// address flags, whichever form the flag takes.
func TestListenerFlags(t *testing.T) {
	got := listenerFlags([]string{"--rules", "r.json", "--users=u.json", "--dovecot", "127.0.0.1:0", "-postfix=127.0.0.1:0", "--dovecot-secret", "x", "--nginx-mail", ":0"})
	want := []string{"dovecot", "postfix", "nginx-mail"}
	if !slices.Equal(got, want) {
		t.Errorf("listenerFlags = %v, want %v", got, want)
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
