package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestServeListenerFlags: the mail listeners refuse bad flags before
// listening, naming the flag (exit 3).
func TestServeListenerFlags(t *testing.T) {
	src := []string{"--rules", "../../examples/org/rules.json", "--users", "../../examples/org/users.json"}
	key := filepath.Join(t.TempDir(), "key")
	os.WriteFile(key, []byte("s3cret\n"), 0o600)
	twoLines := filepath.Join(t.TempDir(), "two")
	os.WriteFile(twoLines, []byte("a\nb\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--dovecot", "127.0.0.1:0", "--dovecot-pop3", "POP3"}, `--dovecot-pop3: InvalidParameterException: invalid action "POP3"`},
		{[]string{"--dovecot", "127.0.0.1:0", "--dovecot-api-header", "X-API-Key"}, "--dovecot-api-header and --dovecot-api-key-file go together"},
		{[]string{"--dovecot", "127.0.0.1:0", "--dovecot-api-header", "X-API-Key", "--dovecot-api-key-file", twoLines}, "want one non-empty line"},
		{[]string{"--dovecot", "127.0.0.1:0", "--dovecot-api-header", "X-API-Key", "--dovecot-api-key-file", key + ".missing"}, "--dovecot-api-key-file"},
		{[]string{"--nginx-mail", "127.0.0.1:0"}, "give at least one backend"},
		{[]string{"--nginx-mail", "127.0.0.1:0", "--nginx-mail-imap-backend", "localhost:143"}, "--nginx-mail-imap-backend"},
		{[]string{"--nginx-mail", "127.0.0.1:0", "--nginx-mail-imap-backend", "127.0.0.1:143", "--nginx-mail-secret-file", key}, "go together"},
		{[]string{"--postfix", "127.0.0.1:0", "--postfix-idle", "0s"}, "--postfix-idle must be positive"},
	} {
		var stdout, stderr bytes.Buffer
		args := append(append([]string{"serve"}, src...), tc.args...)
		if code := run(args, nil, &stdout, &stderr); code != exitInvalid {
			t.Errorf("serve %v: exit %d, want %d; stderr: %s", tc.args, code, exitInvalid, stderr.String())
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("serve %v: stderr %q does not say %q", tc.args, stderr.String(), tc.want)
		}
	}
	// --state without --org has no rules for a mail listener.
	var stdout, stderr bytes.Buffer
	if code := run([]string{"serve", "--state", t.TempDir(), "--postfix", "127.0.0.1:0"}, nil, &stdout, &stderr); code != exitInvalid ||
		!strings.Contains(stderr.String(), "--postfix needs rules") {
		t.Errorf("serve --state without --org: exit %d, stderr %s", code, stderr.String())
	}
}

// lockedBuffer is a concurrency-safe stderr for an in-process serve.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeStateOrgPostfix: 'wmpolicy serve --state DIR --org ID --postfix'
// decides from the organization's rules and users in the state directory,
// and SIGTERM stops it with exit 0.
func TestServeStateOrgPostfix(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	var created struct{ OrganizationId string }
	if err := json.Unmarshal([]byte(orgCLI(t, 0, "", "create", "--state", dir, "--alias", "serve-test")), &created); err != nil {
		t.Fatal(err)
	}
	id := created.OrganizationId
	users, _ := os.ReadFile("../../examples/org/users.json")
	orgCLI(t, 0, string(users), "import-users", "--state", dir, "--org", id)
	orgCLI(t, 0, "", "put-rule", "--state", dir, "--org", id, writeTemp(t, "rule.json",
		`{"Name": "smtp-office", "Effect": "DENY", "Description": "SMTP from the office only", "Actions": ["SMTP"], "NotIpRanges": ["192.0.2.0/24"]}`))

	sigs := make(chan chan<- os.Signal, 1)
	old := serveNotify
	serveNotify = func(c chan<- os.Signal, _ ...os.Signal) { sigs <- c }
	defer func() { serveNotify = old }()
	stderr := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"serve", "--state", dir, "--org", id, "--postfix", "127.0.0.1:0", "--log", "json"}, nil, io.Discard, stderr)
	}()
	var notify chan<- os.Signal
	select {
	case notify = <-sigs:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not start: %s", stderr.String())
	}
	var addr string
	for _, line := range strings.Split(stderr.String(), "\n") {
		var rec struct{ Msg, Listener, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" && rec.Listener == "postfix" {
			addr = rec.Addr
		}
	}
	if addr == "" {
		t.Fatalf("no listening record: %s", stderr.String())
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for _, tc := range []struct{ client, want string }{
		{"192.0.2.1", "action=DUNNO\n"},
		{"127.0.0.1", "action=REJECT 5.7.1 Access denied by policy\n"},
	} {
		fmt.Fprintf(c, "request=smtpd_access_policy\nsasl_username=bob@example.com\nclient_address=%s\n\n", tc.client)
		line, err := br.ReadString('\n')
		empty, _ := br.ReadString('\n')
		if err != nil || line != tc.want || empty != "\n" {
			t.Errorf("bob from %s: %q %q (%v), want %q", tc.client, line, empty, err, tc.want)
		}
	}
	notify <- syscall.SIGTERM
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exit %d after SIGTERM: %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not stop after SIGTERM: %s", stderr.String())
	}
	c.Close()
}
