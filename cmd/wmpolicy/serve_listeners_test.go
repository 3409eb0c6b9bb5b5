package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
