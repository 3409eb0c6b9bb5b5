package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRun runs the command as `go run ./examples/gateway` would: flags, the
// printed addresses, a login on each protocol, a reload, and a clean stop.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	rules, users := filepath.Join(dir, "rules.json"), filepath.Join(dir, "users.json")
	copyFile(t, "../org/rules.json", rules)
	copyFile(t, "../org/users.json", users)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	logs := &logBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-rules", rules, "-users", users, "-proxy", "-poll", "10ms", "-log", "json"}, pw, logs)
		pw.Close()
	}()
	addr := map[string]string{}
	sc := bufio.NewScanner(pr)
	for len(addr) < 2 && sc.Scan() {
		proto, a, ok := strings.Cut(sc.Text(), " listening on ")
		if !ok {
			t.Fatalf("stdout: %q", sc.Text())
		}
		addr[proto] = a
	}
	if len(addr) != 2 {
		t.Fatalf("addresses %v; log: %+v", addr, logs.records(t, ""))
	}
	if ans, err := imapLogin(addr["IMAP"], office, "bob", "pw"); err != nil || ans != imapOK {
		t.Errorf("IMAP: %q, %v", ans, err)
	}
	if ans, err := smtpLogin(addr["SMTP"], outside, "bob", "pw"); err != nil || ans != smtpExplDen {
		t.Errorf("SMTP: %q, %v", ans, err)
	}
	writeAtomic(t, rules, []byte(`{"Rules": []}`)) // no rules: everything denied (A6)
	deadline := time.Now().Add(3 * time.Second)
	for len(logs.records(t, "rules reloaded")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no reload logged")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if ans, err := imapLogin(addr["IMAP"], office, "bob", "pw"); err != nil ||
		ans != "a1 NO [AUTHORIZATIONFAILED] access denied by the organization's access-control rules (implicit deny)" {
		t.Errorf("after reload: %q, %v", ans, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return")
	}
	if rs := logs.records(t, "stopped"); len(rs) != 1 {
		t.Errorf("stopped logged %d times", len(rs))
	}
}

// Invalid files at start: every problem printed with its path; nothing starts.
func TestRunInvalid(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.json")
	if err := os.WriteFile(rules, []byte(`{"Rules": [{"Name": "a b", "Effect": "ALLOW", "NotActions": ["imap"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	err := run(context.Background(), []string{"-rules", rules, "-users", "../org/users.json"}, io.Discard, &stderr)
	if !errors.Is(err, errInvalid) {
		t.Fatalf("err %v", err)
	}
	for _, want := range []string{"ValidationException: Rules[0].Name:", "InvalidParameterException: Rules[0].NotActions[0]:", "did you mean IMAP?", "(in " + rules + ")"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

func TestRunFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-imap", "0.0.0.0:0"}, "not a loopback address"},
		{[]string{"-smtp", "example.com:25"}, "not a loopback address"},
		{[]string{"-as-client", "2001:db8::1"}, "not an IPv4 address"},
		{[]string{"-log", "xml"}, "want text or json"},
		{[]string{"-proxy", "-as-client", "192.0.2.44"}, "either -proxy or -as-client"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-rules", "/nonexistent/rules.json", "-users", "../org/users.json"}, "no such file"},
	} {
		err := run(context.Background(), tc.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
	}
	if err := run(context.Background(), []string{"-h"}, io.Discard, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}
