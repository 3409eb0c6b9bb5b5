package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// The users of examples/org/users.json.
const (
	aliceID = "S-1-1-11-1234567890-1234567890-1234567890-1001"
	bobID   = "S-1-1-11-1234567890-1234567890-1234567890-1002"
	carolID = "S-1-1-11-1234567890-1234567890-1234567890-1003"
	daveID  = "S-1-1-11-1234567890-1234567890-1234567890-1004"
)

// Client addresses, as the PROXY header tells them.
const (
	office  = "192.0.2.44"   // inside 192.0.2.0/24, the office
	outside = "203.0.113.9"  // outside the office, not abusive
	abusive = "198.51.100.7" // inside block-abusive-networks
)

// logBuffer collects JSON log lines; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// record is one decoded log line (the fields the tests look at).
type record struct {
	Msg          string   `json:"msg"`
	Level        string   `json:"level"`
	Conn         uint64   `json:"conn"`
	Proto        string   `json:"proto"`
	Client       string   `json:"client"`
	Login        string   `json:"login"`
	User         string   `json:"user"`
	Effect       string   `json:"effect"`
	Step         string   `json:"step"`
	Reason       string   `json:"reason"`
	MatchedRules []string `json:"matched_rules"`
	Error        string   `json:"error"`
	Version      uint64   `json:"version"`
	File         string   `json:"file"`
	Code         string   `json:"code"`
	Path         string   `json:"path"`
	Problem      string   `json:"problem"`
}

func (b *logBuffer) records(t testing.TB, msg string) []record {
	t.Helper()
	b.mu.Lock()
	data := slices.Clone(b.buf.Bytes())
	b.mu.Unlock()
	var out []record
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var r record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if msg == "" || r.Msg == msg {
			out = append(out, r)
		}
	}
	return out
}

// last returns the last login record.
func (b *logBuffer) last(t testing.TB) record {
	t.Helper()
	rs := b.records(t, "login")
	if len(rs) == 0 {
		t.Fatal("no login logged")
	}
	return rs[len(rs)-1]
}

type fixture struct {
	g                    *Gateway
	rulesPath, usersPath string
	imap, smtp           string
	logs                 *logBuffer
	cancel               context.CancelFunc
	done                 chan error // one value per front end when it returns
}

// start runs a gateway on 127.0.0.1:0 over temp-dir copies of examples/org,
// polling every 10 ms, with PROXY headers on unless cfg says otherwise.
func start(t testing.TB, edit func(*Config)) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{rulesPath: filepath.Join(dir, "rules.json"), usersPath: filepath.Join(dir, "users.json"), logs: &logBuffer{}}
	copyFile(t, "../org/rules.json", f.rulesPath)
	copyFile(t, "../org/users.json", f.usersPath)
	cfg := Config{
		RulesFile: f.rulesPath, UsersFile: f.usersPath, Poll: 10 * time.Millisecond,
		Log:         slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ProxyHeader: true, IdleTimeout: 5 * time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.g = g
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.done = make(chan error, 2)
	li, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ls, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.imap, f.smtp = li.Addr().String(), ls.Addr().String()
	go func() { f.done <- g.ServeIMAP(ctx, li) }()
	go func() { f.done <- g.ServeSMTP(ctx, ls) }()
	watched := make(chan struct{})
	go func() { g.Watch(ctx); close(watched) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			select {
			case err := <-f.done:
				if err != nil {
					t.Errorf("serve: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the gateway did not stop")
			}
		}
		<-watched
	})
	return f
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeAtomic(t, to, data)
}

// writeAtomic replaces a file as an operator should: a temp file, then rename.
func writeAtomic(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// waitReload waits until the reload counters satisfy ok.
func (f *fixture) waitReload(t testing.TB, ok func(ReloadStatus) bool) ReloadStatus {
	t.Helper()
	deadline := time.After(3 * time.Second)
	for {
		st, ch := f.g.reloadState()
		if ok(st) {
			return st
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no such reload; status %+v", st)
		}
	}
}

// client is a test's connection to the gateway.
type client struct {
	c net.Conn
	r *bufio.Reader
}

// dial connects and, when ip is set, sends a PROXY header for it.
func dial(addr, ip string) (*client, error) {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	cl := &client{c: c, r: bufio.NewReader(c)}
	if ip != "" {
		fam := "TCP4"
		if strings.Contains(ip, ":") {
			fam = "TCP6"
		}
		dst := "127.0.0.1"
		if fam == "TCP6" {
			dst = "::1"
		}
		if err := cl.send(fmt.Sprintf("PROXY %s %s %s 50000 143", fam, ip, dst)); err != nil {
			return nil, err
		}
	}
	return cl, nil
}

func (c *client) send(line string) error {
	_, err := io.WriteString(c.c, line+"\r\n")
	return err
}

func (c *client) line() (string, error) {
	s, err := c.r.ReadString('\n')
	if err != nil {
		return s, err
	}
	if !strings.HasSuffix(s, "\r\n") {
		return s, fmt.Errorf("line %q does not end in CRLF", s)
	}
	return strings.TrimSuffix(s, "\r\n"), nil
}

// until reads lines until one starts with prefix and returns it.
func (c *client) until(prefix string) (string, error) {
	for {
		l, err := c.line()
		if err != nil {
			return l, err
		}
		if strings.HasPrefix(l, prefix) {
			return l, nil
		}
	}
}

// imapLogin logs in over IMAP from ip and returns the tagged answer.
func imapLogin(addr, ip, user, pass string) (string, error) {
	c, err := dial(addr, ip)
	if err != nil {
		return "", err
	}
	defer c.c.Close()
	if _, err := c.until("* OK"); err != nil {
		return "", err
	}
	if err := c.send("a1 LOGIN " + quoteIMAP(user) + " " + quoteIMAP(pass)); err != nil {
		return "", err
	}
	ans, err := c.until("a1 ")
	if err != nil {
		return "", err
	}
	c.send("a2 LOGOUT")
	_, err = c.until("a2 OK")
	return ans, err
}

// smtpLogin logs in over SMTP (AUTH PLAIN with an initial response) from ip
// and returns the answer.
func smtpLogin(addr, ip, user, pass string) (string, error) {
	c, err := dial(addr, ip)
	if err != nil {
		return "", err
	}
	defer c.c.Close()
	if _, err := c.until("220 "); err != nil {
		return "", err
	}
	c.send("EHLO test")
	if _, err := c.until("250 "); err != nil {
		return "", err
	}
	if err := c.send("AUTH PLAIN " + encodePlain("", user, pass)); err != nil {
		return "", err
	}
	ans, err := c.line()
	if err != nil {
		return "", err
	}
	c.send("QUIT")
	_, err = c.until("221 ")
	return ans, err
}

func login(t testing.TB, f *fixture, proto accessctl.Action, ip, user, pass string) string {
	t.Helper()
	var ans string
	var err error
	if proto == accessctl.IMAP {
		ans, err = imapLogin(f.imap, ip, user, pass)
	} else {
		ans, err = smtpLogin(f.smtp, ip, user, pass)
	}
	if err != nil {
		t.Fatalf("%s login %s from %s: %v", proto, user, ip, err)
	}
	return ans
}

const (
	imapOK      = "a1 OK LOGIN completed: welcome (this example stops here)"
	imapExplDen = "a1 NO [AUTHORIZATIONFAILED] access denied by the organization's access-control rules (explicit deny)"
	imapAuthNo  = "a1 NO [AUTHENTICATIONFAILED] authentication failed"
	smtpOK      = "235 2.7.0 authentication successful (this example stops here)"
	smtpExplDen = "535 5.7.1 access denied by the organization's access-control rules (explicit deny)"
	smtpAuthNo  = "535 5.7.8 authentication failed"
)

// decisionCase is one login and what the client and the log must show.
type decisionCase struct {
	name       string
	ip, user   string
	imap, smtp string // the answers
	want       record // the log record's decision fields
}

var decisionCases = []decisionCase{
	{"office allows", office, "bob@example.com", imapOK, smtpOK,
		record{User: bobID, Effect: "ALLOW", Step: "allowed", Reason: "explicit allow", MatchedRules: []string{"default"}}},
	{"outside denies legacy protocols", outside, "bob", imapExplDen, smtpExplDen,
		record{User: bobID, Effect: "DENY", Step: "access control", Reason: "explicit deny", MatchedRules: []string{"legacy-protocols-office-only"}}},
	{"contractor webmail only", office, "carol", imapExplDen, smtpExplDen,
		record{User: carolID, Effect: "DENY", Step: "access control", Reason: "explicit deny", MatchedRules: []string{"contractors-webmail-only"}}},
	{"every deciding DENY rule, in name order", abusive, "alice", imapExplDen, smtpExplDen,
		record{User: aliceID, Effect: "DENY", Step: "access control", Reason: "explicit deny",
			MatchedRules: []string{"admins-office-only", "block-abusive-networks", "legacy-protocols-office-only"}}},
	{"admin in the office", office, "Alice@Example.COM", imapOK, smtpOK,
		record{User: aliceID, Effect: "ALLOW", Step: "allowed", Reason: "explicit allow", MatchedRules: []string{"default"}}},
	{"unknown user", office, "mallory@example.com", imapAuthNo, smtpAuthNo,
		record{Effect: "DENY", Step: "unknown user"}},
	{"disabled user", office, "dave", imapAuthNo, smtpAuthNo,
		record{User: daveID, Effect: "DENY", Step: "user not enabled"}},
}

// The answer to every login over IMAP and SMTP, and the decision the log shows
// with the rules that said so (SEMANTICS A6, A7).
func TestDecisions(t *testing.T) {
	f := start(t, nil)
	for _, proto := range []accessctl.Action{accessctl.IMAP, accessctl.SMTP} {
		for _, tc := range decisionCases {
			t.Run(proto.String()+"/"+tc.name, func(t *testing.T) {
				ans := login(t, f, proto, tc.ip, tc.user, "secret")
				want := tc.imap
				if proto == accessctl.SMTP {
					want = tc.smtp
				}
				if ans != want {
					t.Errorf("answer %q, want %q", ans, want)
				}
				got := f.logs.last(t)
				w := tc.want
				w.Msg, w.Proto, w.Client, w.Login, w.Version = "login", proto.String(), tc.ip, tc.user, 1
				w.Level, w.Conn = got.Level, got.Conn
				if diff := cmp.Diff(w, got); diff != "" {
					t.Errorf("log (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// SEMANTICS A18: a login name may be the user ID, the email address in any
// case or the user name; all resolve to the same user, whom the rules decide.
func TestSemanticsA18_LoginNames(t *testing.T) {
	f := start(t, nil)
	for _, name := range []string{carolID, "carol.contractor@example.com", "CAROL.Contractor@EXAMPLE.com", "carol", "Carol"} {
		if ans := login(t, f, accessctl.IMAP, office, name, "pw"); ans != imapExplDen {
			t.Errorf("%s: %q", name, ans)
		}
		r := f.logs.last(t)
		if r.User != carolID || !slices.Equal(r.MatchedRules, []string{"contractors-webmail-only"}) {
			t.Errorf("%s: user %q, matched %q", name, r.User, r.MatchedRules)
		}
	}
	// A user ID is compared exactly: another case names nobody.
	if ans := login(t, f, accessctl.IMAP, office, strings.ToLower(carolID), "pw"); ans != imapAuthNo {
		t.Errorf("lower-case ID: %q", ans)
	}
}

// SEMANTICS A10: the rules speak IPv4; an IPv6 client cannot be evaluated and
// is denied, while an IPv4-mapped IPv6 address is the IPv4 address.
func TestSemanticsA10_IPv6Clients(t *testing.T) {
	f := start(t, nil)
	ans := login(t, f, accessctl.IMAP, "2001:db8::1", "bob", "pw")
	if ans != "a1 NO [AUTHORIZATIONFAILED] access denied: the request cannot be evaluated" {
		t.Errorf("IPv6: %q", ans)
	}
	r := f.logs.last(t)
	if r.Effect != "DENY" || !strings.HasPrefix(r.Error, "InvalidParameterException") {
		t.Errorf("IPv6 log: %+v", r)
	}
	if ans := login(t, f, accessctl.SMTP, "::ffff:"+office, "bob", "pw"); ans != smtpOK {
		t.Errorf("IPv4-mapped: %q", ans)
	}
	if r := f.logs.last(t); r.Client != office {
		t.Errorf("client %q, want %q", r.Client, office)
	}
}

// Where the client's address comes from: the TCP peer, a PROXY header, or -as-client.
func TestClientAddress(t *testing.T) {
	t.Run("peer", func(t *testing.T) {
		f := start(t, func(c *Config) { c.ProxyHeader = false })
		// 127.0.0.1 is outside the office: IMAP is denied.
		if ans := login(t, f, accessctl.IMAP, "", "bob", "pw"); ans != imapExplDen {
			t.Errorf("%q", ans)
		}
		if r := f.logs.last(t); r.Client != "127.0.0.1" {
			t.Errorf("client %q", r.Client)
		}
	})
	t.Run("as-client", func(t *testing.T) {
		f := start(t, func(c *Config) { c.ProxyHeader, c.AsClient = false, netip.MustParseAddr(office) })
		if ans := login(t, f, accessctl.SMTP, "", "bob", "pw"); ans != smtpOK {
			t.Errorf("%q", ans)
		}
	})
	t.Run("proxy unknown", func(t *testing.T) {
		f := start(t, nil)
		c, err := dial(f.imap, "")
		if err != nil {
			t.Fatal(err)
		}
		defer c.c.Close()
		c.send("PROXY UNKNOWN")
		c.until("* OK")
		c.send("a1 LOGIN bob pw")
		if ans, _ := c.until("a1 "); ans != imapExplDen {
			t.Errorf("%q", ans)
		}
		if r := f.logs.last(t); r.Client != "127.0.0.1" {
			t.Errorf("client %q", r.Client)
		}
	})
	t.Run("proxy header required", func(t *testing.T) {
		f := start(t, nil)
		for _, first := range []string{"a1 LOGIN bob pw", "PROXY TCP4 192.0.2.044 127.0.0.1 1 2", "PROXY TCP6 192.0.2.44 ::1 1 2"} {
			c, err := dial(f.imap, "")
			if err != nil {
				t.Fatal(err)
			}
			c.send(first)
			if l, err := c.line(); err != io.EOF {
				t.Errorf("%q: got %q, %v; want the connection closed", first, l, err)
			}
			c.c.Close()
		}
		if rs := f.logs.records(t, "connection refused"); len(rs) != 3 {
			t.Errorf("%d refusals logged", len(rs))
		}
	})
}

// dialog sends each line and checks the answer lines that follow it.
func dialog(t *testing.T, c *client, steps [][2]string) {
	t.Helper()
	for _, s := range steps {
		if s[0] != "" {
			if err := c.send(s[0]); err != nil {
				t.Fatal(err)
			}
		}
		for _, want := range strings.Split(s[1], "\n") {
			got, err := c.line()
			if err != nil {
				t.Fatalf("after %q: %v", s[0], err)
			}
			if got != want {
				t.Fatalf("after %q: got %q, want %q", s[0], got, want)
			}
		}
	}
}

func TestIMAPProtocol(t *testing.T) {
	f := start(t, func(c *Config) {
		c.Authenticate = func(u policy.User, pw string) bool { return pw == "right" }
	})
	const greeting = "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] wmpolicy gateway example ready"
	t.Run("session", func(t *testing.T) {
		c, err := dial(f.imap, office)
		if err != nil {
			t.Fatal(err)
		}
		defer c.c.Close()
		dialog(t, c, [][2]string{
			{"", greeting},
			{"a0 capability", "* CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR\na0 OK CAPABILITY completed"},
			{"a1 SELECT INBOX", "a1 BAD [CLIENTBUG] command unknown or not allowed before LOGIN"},
			{"a1 LIST \"\" *", "a1 BAD [CLIENTBUG] command unknown or not allowed before LOGIN"},
			{"lonely", "lonely BAD [CLIENTBUG] syntax error"},
			{"(x) NOOP", "* BAD [CLIENTBUG] syntax error"},
			{"a2 LOGIN {3}", "a2 BAD [CLIENTBUG] LOGIN " + errIMAPLiteral.Error()},
			{"a3 LOGIN bob", "a3 BAD [CLIENTBUG] LOGIN syntax error"},
			{"a4 LOGIN bob wrong", "a4 NO [AUTHENTICATIONFAILED] authentication failed"},
			{"a5 AUTHENTICATE CRAM-MD5", "a5 NO [CANNOT] only AUTHENTICATE PLAIN is supported"},
			{"a6 AUTHENTICATE PLAIN", "+ "},
			{"*", "a6 BAD AUTHENTICATE cancelled"},
			{"a7 AUTHENTICATE PLAIN", "+ "},
			{"not base64!", "a7 BAD [CLIENTBUG] " + errPlain.Error()},
			{"a8 AUTHENTICATE PLAIN " + encodePlain("alice", "bob", "right"),
				"a8 NO [AUTHORIZATIONFAILED] acting as another user is not supported"},
			{"a9 authenticate plain " + encodePlain("Bob@example.com", "Bob@example.com", "right"),
				"a9 OK AUTHENTICATE completed: welcome (this example stops here)"},
			{"b1 LOGIN bob right", "b1 BAD [CLIENTBUG] already authenticated"},
			{"b2 SELECT INBOX", "b2 NO [CANNOT] this example stops after the login decision"},
			{"b2 LIST \"\" *", "b2 OK LIST completed (this example has no mailboxes)"},
			{"b3 NOOP", "b3 OK NOOP completed"},
			{"b4 LOGOUT", "* BYE logging out\nb4 OK LOGOUT completed"},
		})
		if _, err := c.line(); err != io.EOF {
			t.Errorf("after LOGOUT: %v", err)
		}
	})
	t.Run("too many failures", func(t *testing.T) {
		c, err := dial(f.imap, outside)
		if err != nil {
			t.Fatal(err)
		}
		defer c.c.Close()
		dialog(t, c, [][2]string{
			{"", greeting},
			{"a1 LOGIN bob right", imapExplDen},
			{"a2 LOGIN nobody right", "a2 NO [AUTHENTICATIONFAILED] authentication failed"},
			{"a3 LOGIN bob \"\"", "a3 NO [AUTHENTICATIONFAILED] authentication failed\n* BYE too many failed logins"},
		})
		if _, err := c.line(); err != io.EOF {
			t.Errorf("after BYE: %v", err)
		}
	})
	t.Run("line too long", func(t *testing.T) {
		c, err := dial(f.imap, office)
		if err != nil {
			t.Fatal(err)
		}
		defer c.c.Close()
		dialog(t, c, [][2]string{{"", greeting}, {"a1 NOOP " + strings.Repeat("x", maxLine), "* BYE [TOOBIG] line too long"}})
	})
}

func TestSMTPProtocol(t *testing.T) {
	f := start(t, nil)
	c, err := dial(f.smtp, office)
	if err != nil {
		t.Fatal(err)
	}
	defer c.c.Close()
	dialog(t, c, [][2]string{
		{"", "220 localhost ESMTP wmpolicy gateway example ready"},
		{"AUTH PLAIN " + encodePlain("", "bob", "pw"), "503 5.5.1 EHLO first"},
		{"MAIL FROM:<bob@example.com>", "530 5.7.0 authentication required"},
		{"ehlo client.example", "250-localhost greets client.example\n250-AUTH PLAIN\n250 ENHANCEDSTATUSCODES"},
		{"AUTH LOGIN", "504 5.5.4 only AUTH PLAIN is supported"},
		{"AUTH PLAIN", "334 "},
		{"*", "501 5.0.0 authentication cancelled"},
		{"AUTH PLAIN =", "501 5.5.2 " + errPlain.Error()},
		{"AUTH PLAIN", "334 "},
		{encodePlain("", "carol", "pw"), smtpExplDen},
		{"AUTH PLAIN " + encodePlain("", "bob", "pw"), smtpOK},
		{"AUTH PLAIN " + encodePlain("", "bob", "pw"), "503 5.5.1 already authenticated"},
		{"MAIL FROM:<bob@example.com>", "502 5.5.1 this example stops after the login decision"},
		{"NOOP", "250 2.0.0 OK"},
		{"VRFY bob", "500 5.5.2 command not recognized"},
		{"QUIT", "221 2.0.0 bye"},
	})
}

// Rewriting the rules file changes the next decision; an invalid file keeps
// the last good rules in force and logs every problem with its path.
func TestHotReload(t *testing.T) {
	f := start(t, nil)
	orig, err := os.ReadFile(f.rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	if ans := login(t, f, accessctl.IMAP, outside, "bob", "pw"); ans != imapExplDen {
		t.Fatalf("before: %q", ans)
	}

	// 1. Legacy protocols from anywhere: drop the rule.
	p, err := accessctl.DecodeRules(orig)
	if err != nil {
		t.Fatal(err)
	}
	p = slices.DeleteFunc(p, func(r accessctl.Rule) bool { return r.Name == "legacy-protocols-office-only" })
	open, err := accessctl.EncodeRules(p)
	if err != nil {
		t.Fatal(err)
	}
	writeAtomic(t, f.rulesPath, open)
	f.waitReload(t, func(s ReloadStatus) bool { return s.Applied == 1 })
	if ans := login(t, f, accessctl.IMAP, outside, "bob", "pw"); ans != imapOK {
		t.Errorf("after the rule was dropped: %q", ans)
	}
	if r := f.logs.last(t); r.Version != 2 || !slices.Equal(r.MatchedRules, []string{"default"}) {
		t.Errorf("log: %+v", r)
	}

	// 2. An invalid file: every problem logged with its path; version 2 stays.
	bad := []byte(`{"Rules": [
		{"Name": "default", "Effect": "ALLOW"},
		{"Name": "typo", "Effect": "DENY", "IpRanges": ["10.0.0.256/8"], "Actions": ["Imap"], "UserIds": ["nobody@example.com"]},
		{"Name": "default", "Effect": "DENY"}
	]}`)
	writeAtomic(t, f.rulesPath, bad)
	st := f.waitReload(t, func(s ReloadStatus) bool { return s.Rejected == 1 })
	if st.Version != 2 || st.LastError == nil {
		t.Errorf("status %+v", st)
	}
	var got [][2]string
	for _, r := range f.logs.records(t, "reload rejected: keeping the rules in force") {
		if r.File != f.rulesPath || r.Version != 2 || r.Problem == "" {
			t.Errorf("record %+v", r)
		}
		got = append(got, [2]string{r.Code, r.Path})
	}
	var want [][2]string
	_, derr := accessctl.DecodeRules(bad)
	for _, e := range policy.Errors(derr) {
		want = append(want, [2]string{string(e.Code), e.Path})
	}
	if len(want) < 3 || !cmp.Equal(got, want) {
		t.Errorf("logged problems %q, want %q", got, want)
	}
	if ans := login(t, f, accessctl.IMAP, outside, "bob", "pw"); ans != imapOK {
		t.Errorf("after the invalid file: %q", ans)
	}
	if r := f.logs.last(t); r.Version != 2 {
		t.Errorf("version %d, want 2", r.Version)
	}

	// 3. A half-written file (as a non-atomic writer leaves it): rejected too.
	if err := os.WriteFile(f.rulesPath, orig[:len(orig)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	f.waitReload(t, func(s ReloadStatus) bool { return s.Rejected == 2 })

	// 4. Back to the original rules, written in place: version 3 denies again.
	if err := os.WriteFile(f.rulesPath, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	f.waitReload(t, func(s ReloadStatus) bool { return s.Applied == 2 && s.Version == 3 && s.LastError == nil })
	if ans := login(t, f, accessctl.IMAP, outside, "bob", "pw"); ans != imapExplDen {
		t.Errorf("after restoring: %q", ans)
	}

	// 5. A same-size edit in place, within the file system's timestamp
	// granularity: found by the content hash. IMAP → SMTP in the legacy rule.
	edited := bytes.Replace(orig, []byte(`"IMAP",`), []byte(`"SMTP",`), 1)
	if len(edited) != len(orig) || bytes.Equal(edited, orig) {
		t.Fatal("edit failed")
	}
	if err := os.WriteFile(f.rulesPath, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	f.waitReload(t, func(s ReloadStatus) bool { return s.Applied == 3 })
	if ans := login(t, f, accessctl.IMAP, outside, "bob", "pw"); ans != imapOK {
		t.Errorf("IMAP after the same-size edit: %q", ans)
	}

	// 6. Rewriting the same bytes is no change.
	before := f.g.ReloadStatus()
	if err := os.WriteFile(f.rulesPath, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	f.g.Check()
	if after := f.g.ReloadStatus(); after != before {
		t.Errorf("same bytes reloaded: %+v → %+v", before, after)
	}
}

// The users file is watched too: the rules are compiled against the new
// directory and swapped in with it, or both stay.
func TestHotReloadUsers(t *testing.T) {
	f := start(t, nil)
	orig, err := os.ReadFile(f.usersPath)
	if err != nil {
		t.Fatal(err)
	}
	var lu policy.ListUsersOutput
	if err := json.Unmarshal(orig, &lu); err != nil {
		t.Fatal(err)
	}
	if ans := login(t, f, accessctl.IMAP, office, "erin@example.com", "pw"); ans != imapAuthNo {
		t.Fatalf("unknown erin: %q", ans)
	}
	// A new user.
	lu.Users = append(lu.Users, policy.UserJSON{Id: "S-1-1-11-1234567890-1234567890-1234567890-1006",
		Email: "erin@example.com", Name: "erin", State: "ENABLED"})
	data, _ := json.Marshal(lu)
	writeAtomic(t, f.usersPath, data)
	f.waitReload(t, func(s ReloadStatus) bool { return s.Applied == 1 })
	if ans := login(t, f, accessctl.IMAP, office, "erin@example.com", "pw"); ans != imapOK {
		t.Errorf("erin after reload: %q", ans)
	}
	// Carol leaves the directory, but a rule still names her: rejected, with
	// the rule's path in the rules file; erin and carol both still resolve.
	lu.Users = slices.DeleteFunc(lu.Users, func(u policy.UserJSON) bool { return u.Name == "carol" })
	data, _ = json.Marshal(lu)
	writeAtomic(t, f.usersPath, data)
	f.waitReload(t, func(s ReloadStatus) bool { return s.Rejected == 1 })
	rs := f.logs.records(t, "reload rejected: keeping the rules in force")
	if len(rs) != 1 || rs[0].File != f.rulesPath || rs[0].Code != "EntityNotFoundException" || rs[0].Path != "Rules[3].UserIds[0]" {
		t.Errorf("records %+v", rs)
	}
	if ans := login(t, f, accessctl.IMAP, office, "erin", "pw"); ans != imapOK {
		t.Errorf("erin: %q", ans)
	}
	if ans := login(t, f, accessctl.IMAP, office, "carol", "pw"); ans != imapExplDen {
		t.Errorf("carol: %q", ans)
	}
	// An invalid users file: two users with one email, and a typo'd key.
	writeAtomic(t, f.usersPath, []byte(`{"Users": [
		{"Id": "u-1-000000001", "Email": "x@example.com"},
		{"Id": "u-1-000000002", "Email": "X@example.com", "Nmae": "x"}
	]}`))
	f.waitReload(t, func(s ReloadStatus) bool { return s.Rejected == 2 })
	rs = f.logs.records(t, "reload rejected: keeping the rules in force")[1:]
	if len(rs) == 0 {
		t.Fatal("nothing logged")
	}
	for _, r := range rs {
		if r.File != f.usersPath || r.Code != "ValidationException" || !strings.HasPrefix(r.Path, "Users[1].") {
			t.Errorf("record %+v", r)
		}
	}
	if ans := login(t, f, accessctl.IMAP, office, "erin", "pw"); ans != imapOK {
		t.Errorf("erin: %q", ans)
	}
}

// A file that cannot be read keeps the rules in force, is reported once, and
// a change made while it was missing is compiled once it is back.
func TestHotReloadUnreadable(t *testing.T) {
	f := start(t, nil)
	orig, err := os.ReadFile(f.rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(f.rulesPath); err != nil {
		t.Fatal(err)
	}
	f.waitReload(t, func(s ReloadStatus) bool { return s.Rejected == 1 })
	f.g.Check()
	f.g.Check()
	if st := f.g.ReloadStatus(); st.Rejected != 1 || !errors.Is(st.LastError, os.ErrNotExist) {
		t.Errorf("status %+v", st)
	}
	if ans := login(t, f, accessctl.SMTP, outside, "bob", "pw"); ans != smtpExplDen {
		t.Errorf("while missing: %q", ans)
	}
	writeAtomic(t, f.rulesPath, orig) // the same rules: nothing to apply
	f.g.Check()
	if st := f.g.ReloadStatus(); st.Applied != 0 || st.Version != 1 {
		t.Errorf("status %+v", st)
	}
}

// Many clients log in over both protocols while the rules flip between two
// versions with invalid files in between. Every answer is one of the two
// versions' answers, and every logged decision is exactly what the version it
// names decides: no login ever sees a half-applied change. Run under -race.
func TestConcurrentLoginsDuringReload(t *testing.T) {
	f := start(t, nil)
	versionA, err := os.ReadFile(f.rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	rulesA, err := accessctl.DecodeRules(versionA)
	if err != nil {
		t.Fatal(err)
	}
	// Version B: legacy protocols from anywhere, but the office network blocked.
	rulesB := slices.DeleteFunc(slices.Clone(rulesA), func(r accessctl.Rule) bool { return r.Name == "legacy-protocols-office-only" })
	rulesB = append(rulesB, accessctl.Rule{Name: "office-blocked", Effect: policy.Deny, IpRanges: []string{"192.0.2.0/24"}})
	versionB, err := accessctl.EncodeRules(rulesB)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := policy.DecodeUsers(mustRead(t, f.usersPath))
	if err != nil {
		t.Fatal(err)
	}
	compiled := map[bool]*accessctl.Policy{}
	for isB, rules := range map[bool][]accessctl.Rule{false: rulesA, true: rulesB} {
		if compiled[isB], err = accessctl.Compile(rules, accessctl.Options{Directory: dir}); err != nil {
			t.Fatal(err)
		}
	}
	isB := func(version uint64) bool { return version%2 == 0 } // 1: A, 2: B, 3: A, …

	const clients, logins = 16, 12 // each client makes at least this many logins
	type req struct{ ip, user string }
	reqs := []req{{office, "bob"}, {outside, "bob@example.com"}, {office, "carol"}, {outside, "alice"}}
	writerDone := make(chan struct{})
	go func() { // the operator: two cycles of B, an invalid file, A
		defer close(writerDone)
		flip := [][]byte{versionB, []byte(`{"Rules": [{"Name": "x"}]}`), versionA}
		for i := range 2 * len(flip) {
			st, ch := f.g.reloadState()
			tmp := f.rulesPath + ".tmp"
			if err := os.WriteFile(tmp, flip[i%len(flip)], 0o644); err != nil {
				t.Error(err)
				return
			}
			if err := os.Rename(tmp, f.rulesPath); err != nil {
				t.Error(err)
				return
			}
			// Wait for the watcher to act on this write.
			for n := st.Applied + st.Rejected; ; {
				select {
				case <-ch:
				case <-time.After(3 * time.Second):
					t.Error("no reload")
					return
				}
				if st, ch = f.g.reloadState(); st.Applied+st.Rejected > n {
					break
				}
			}
		}
	}()
	var wg sync.WaitGroup
	var total atomic.Int64
	errs := make(chan error, clients)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if i >= logins {
					select {
					case <-writerDone:
						return
					default:
					}
				}
				r := reqs[(c+i)%len(reqs)]
				var ans, allow, deny string
				var err error
				if (c+i)%2 == 0 {
					ans, err = imapLogin(f.imap, r.ip, r.user, "pw")
					allow, deny = imapOK, imapExplDen
				} else {
					ans, err = smtpLogin(f.smtp, r.ip, r.user, "pw")
					allow, deny = smtpOK, smtpExplDen
				}
				total.Add(1)
				if err == nil && ans != allow && ans != deny {
					err = fmt.Errorf("%s from %s: %q", r.user, r.ip, ans)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	<-writerDone
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := f.g.ReloadStatus()
	if st.Applied != 4 || st.Rejected != 2 || st.Version != 5 {
		t.Errorf("reloads %+v, want 4 applied and 2 rejected", st)
	}
	records := f.logs.records(t, "login")
	if int64(len(records)) != total.Load() {
		t.Errorf("%d logins logged, want %d", len(records), total.Load())
	}
	seen := map[uint64]bool{}
	for _, r := range records {
		seen[r.Version] = true
		action, _ := accessctl.ParseAction(r.Proto)
		d, err := compiled[isB(r.Version)].Decide(accessctl.Request{IP: netip.MustParseAddr(r.Client), Action: action, UserID: r.Login})
		if err != nil {
			t.Fatal(err)
		}
		if r.Effect != d.Effect.String() || !slices.Equal(r.MatchedRules, d.MatchedRules) {
			t.Errorf("version %d: %s %s from %s: logged %s %q, the version decides %s %q",
				r.Version, r.Proto, r.Login, r.Client, r.Effect, r.MatchedRules, d.Effect, d.MatchedRules)
		}
	}
	t.Logf("%d logins across %d rule versions; reloads %+v", len(records), len(seen), st)
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Cancelling the context says goodbye to connected clients and returns.
func TestShutdown(t *testing.T) {
	f := start(t, nil)
	ci, err := dial(f.imap, office)
	if err != nil {
		t.Fatal(err)
	}
	defer ci.c.Close()
	cs, err := dial(f.smtp, office)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.c.Close()
	ci.until("* OK")
	cs.until("220 ")
	f.cancel()
	if l, err := ci.line(); err != nil || l != "* BYE [UNAVAILABLE] server shutting down" {
		t.Errorf("IMAP: %q, %v", l, err)
	}
	if l, err := cs.line(); err != nil || l != "421 4.3.2 server shutting down" {
		t.Errorf("SMTP: %q, %v", l, err)
	}
	for range 2 {
		select {
		case err := <-f.done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("not stopped")
		}
	}
	f.done <- nil // for the cleanup
	f.done <- nil
	if _, err := net.DialTimeout("tcp", f.imap, time.Second); err == nil {
		t.Error("still accepting")
	}
}

// An idle client is told so and disconnected.
func TestIdleTimeout(t *testing.T) {
	f := start(t, func(c *Config) { c.IdleTimeout = 50 * time.Millisecond })
	c, err := dial(f.imap, office)
	if err != nil {
		t.Fatal(err)
	}
	defer c.c.Close()
	c.until("* OK")
	if l, err := c.line(); err != nil || l != "* BYE idle for too long" {
		t.Errorf("%q, %v", l, err)
	}
}

// The decision path does not allocate: the directory lookup and Evaluate with
// the connection's reused slice.
func TestDecideNoAllocs(t *testing.T) {
	f := start(t, nil)
	matched := make([]string, 0, 8)
	for _, tc := range decisionCases {
		ip := netip.MustParseAddr(tc.ip)
		var o outcome
		n := testing.AllocsPerRun(100, func() {
			o = f.g.decide(ip, accessctl.IMAP, tc.user, "pw", matched)
		})
		if n != 0 {
			t.Errorf("%s: %v allocs", tc.name, n)
		}
		if o.effect.String() != tc.want.Effect || !slices.Equal(o.matched, tc.want.MatchedRules) {
			t.Errorf("%s: %v %q", tc.name, o.effect, o.matched)
		}
	}
}

// BenchmarkDecide is one login decision: directory lookup, user state,
// password hook and Evaluate, against the example organization.
func BenchmarkDecide(b *testing.B) {
	f := start(b, nil)
	ip := netip.MustParseAddr(outside)
	matched := make([]string, 0, 8)
	var sink outcome
	b.ReportAllocs()
	for b.Loop() {
		sink = f.g.decide(ip, accessctl.IMAP, "bob@example.com", "pw", matched)
	}
	if sink.effect != policy.Deny {
		b.Fatal(sink.effect)
	}
}

// BenchmarkLoginIMAP is a whole IMAP login over loopback TCP, one connection each.
func BenchmarkLoginIMAP(b *testing.B) {
	f := start(b, func(c *Config) { c.Log = slog.New(slog.NewJSONHandler(io.Discard, nil)) })
	b.ReportAllocs()
	for b.Loop() {
		if _, err := imapLogin(f.imap, office, "bob", "pw"); err != nil {
			b.Fatal(err)
		}
	}
}
