package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/internal/realserver"
)

// garbageHTTP answers every request 200 with a body and headers that are no
// policy answer; slowHTTP answers after delay.
func garbageHTTP(t *testing.T, delay time.Duration) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `<html>not a policy answer</html>`)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestFailClosedDovecot: Dovecot with deploy/dovecot/95-wmpolicy.conf
// refuses a login the rules would allow when the policy server answers
// garbage or is slower than auth_policy_server_timeout_msecs (E3).
func TestFailClosedDovecot(t *testing.T) {
	for _, tc := range []struct {
		name  string
		delay time.Duration
	}{{"garbage", 0}, {"slow", 3 * time.Second}} {
		t.Run(tc.name, func(t *testing.T) {
			d := realserver.StartDovecot(t, realserver.DovecotConfig{
				Users: mailUsers,
				Extra: deploySnippet(t, "dovecot/95-wmpolicy.conf", dovecotDeployAddr, garbageHTTP(t, tc.delay)),
			})
			wantCode(t, "IMAP bob from the office", realserver.CurlMail(t, "imap://"+d.IMAP+"/", office(), "bob"), curlDeny)
		})
	}
}

// TestFailClosedNginx: nginx with deploy/nginx/mail-wmpolicy.conf refuses a
// login when the auth_http server answers garbage (E3).
func TestFailClosedNginx(t *testing.T) {
	snippet := filepath.Join(t.TempDir(), "mail-wmpolicy.conf")
	if err := os.WriteFile(snippet, []byte(deploySnippet(t, "nginx/mail-wmpolicy.conf", nginxDeployAddr, garbageHTTP(t, 0))), 0o644); err != nil {
		t.Fatal(err)
	}
	imapAddr := realserver.FreeAddr(t)
	realserver.StartNginx(t, realserver.NginxConfig{
		Mail: fmt.Sprintf("    include %s;\n    server { listen %s; protocol imap; }", snippet, imapAddr),
		Wait: []string{imapAddr},
	})
	reply := imapLoginReply(t, imapAddr, office(), "bob")
	t.Logf("IMAP LOGIN via nginx with a garbage auth_http answer: %q", reply)
	if strings.HasPrefix(reply, "a OK") {
		t.Errorf("IMAP LOGIN via nginx with a garbage auth_http answer: %q, want a refusal", reply)
	}
}

// TestFailClosedPostfix: Postfix with deploy/postfix/main.cf defers the
// recipient (451 4.3.5) when the policy service answers garbage (E3).
func TestFailClosedPostfix(t *testing.T) {
	realserver.RequireRoot(t, "postfix")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\n" {
						fmt.Fprint(c, "hello there\n\n")
					}
				}
			}()
		}
	}()
	d := realserver.StartDovecot(t, realserver.DovecotConfig{Users: mailUsers, Auth: true})
	p := realserver.StartPostfix(t, realserver.PostfixConfig{
		SASLPath: d.Auth,
		Main:     deploySnippet(t, "postfix/main.cf", postfixDeployAddr, ln.Addr().String()),
	})
	r := realserver.SwaksAuth(t, p.SMTP, office(), "bob", "someone@test.invalid")
	wantCode(t, "bob from the office with a garbage policy answer", r, swaksRCPTFailed)
	if !strings.Contains(r.Output, "451 4.3.5") {
		t.Errorf("want 451 4.3.5 at RCPT:\n%s", r.Output)
	}
}
