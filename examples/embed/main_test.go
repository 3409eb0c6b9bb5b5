package main

import (
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var b strings.Builder
	if err := run("../org", &b); err != nil {
		t.Fatal(err)
	}
	want := `192.0.2.44   IMAP     bob@example.com      ALLOW [default]
203.0.113.9  IMAP     bob                  DENY  [legacy-protocols-office-only]
203.0.113.9  WebMail  Bob@Example.com      ALLOW [default]
192.0.2.10   ActiveSync carol                DENY  [contractors-webmail-only]
192.0.2.10   WebMail  mallory@example.com  error: EntityNotFoundException: UserId: no user "mallory@example.com" in the directory
after reload with no rules: allowed=false (an organization without rules denies everything)
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}
