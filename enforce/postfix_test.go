package enforce

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func newPostfix(t testing.TB, opts PostfixOptions) *PostfixPolicy {
	t.Helper()
	src, _, _ := exampleSource(t, nil)
	p, err := NewPostfixPolicy(&Decider{Source: src, Log: discardLog()}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// servePostfix serves p on a loopback listener until the test ends and
// returns its address; cancel stops serving (shutdown).
func servePostfix(t testing.TB, p *PostfixPolicy) (addr string, cancel func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); p.ServeConn(ctx, c) }()
		}
	}()
	t.Cleanup(func() { cancel(); ln.Close(); wg.Wait() })
	return ln.Addr().String(), cancel
}

func postfixRequestText(attrs ...string) string {
	return "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n" + strings.Join(attrs, "\n") + "\n\n"
}

// readAnswer reads one answer (lines up to the empty line), or returns the
// error (io.EOF when the server closed without answering).
func readAnswer(br *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return b.String(), err
		}
		if line == "\n" {
			return b.String(), nil
		}
		b.WriteString(line)
	}
}

const (
	dunno  = "action=DUNNO\n"
	reject = "action=REJECT 5.7.1 Access denied by policy\n"
)

// TestSemanticsE5_Postfix: many requests on one connection; a SASL user is
// decided as SMTP from client_address, ALLOW is DUNNO (never OK), DENY is
// REJECT 5.7.1; MX traffic (no sasl_username) is DUNNO without a rule check;
// unknown and disabled users are rejected like a DENY (E2).
func TestSemanticsE5_Postfix(t *testing.T) {
	addr, _ := servePostfix(t, newPostfix(t, PostfixOptions{}))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for _, tc := range []struct {
		name  string
		attrs []string
		want  string
	}{
		{"SASL user from the office", []string{"sasl_method=PLAIN", "sasl_username=bob", "client_address=192.0.2.9"}, dunno},
		{"SASL user from elsewhere", []string{"sasl_method=PLAIN", "sasl_username=bob", "client_address=127.0.0.1"}, reject},
		{"SASL email from the VPN", []string{"sasl_username=bob@example.com", "client_address=10.8.1.2"}, dunno},
		{"MX traffic from an abusive network", []string{"sasl_username=", "client_address=198.51.100.7", "sender=a@b.example"}, dunno},
		{"MX traffic, no sasl attribute", []string{"client_address=198.51.100.7"}, dunno},
		{"E2 unknown SASL user", []string{"sasl_username=mallory", "client_address=192.0.2.9"}, reject},
		{"E2 disabled SASL user", []string{"sasl_username=dave", "client_address=192.0.2.9"}, reject},
		{"E2 IPv6 client", []string{"sasl_username=bob", "client_address=2001:db8::9"}, reject},
		{"unknown client address", []string{"sasl_username=bob", "client_address=unknown"}, reject},
		{"unknown attributes and empty values", []string{"ccert_subject=", "x-future=1=2", "sasl_username=bob", "client_address=192.0.2.9"}, dunno},
	} {
		if _, err := io.WriteString(c, postfixRequestText(tc.attrs...)); err != nil {
			t.Fatal(err)
		}
		got, err := readAnswer(br)
		if err != nil || got != tc.want {
			t.Errorf("%s: answer %q (%v), want %q", tc.name, got, err, tc.want)
		}
	}
	// Two requests in one write (pipelined) get two answers in order.
	io.WriteString(c, postfixRequestText("sasl_username=bob", "client_address=127.0.0.1")+postfixRequestText("sasl_username=bob", "client_address=192.0.2.1"))
	if a1, _ := readAnswer(br); a1 != reject {
		t.Errorf("pipelined 1: %q", a1)
	}
	if a2, _ := readAnswer(br); a2 != dunno {
		t.Errorf("pipelined 2: %q", a2)
	}
}

// TestSemanticsE5_PostfixMalformed: a malformed or oversized request closes
// the connection without an answer; the server keeps serving others.
func TestSemanticsE5_PostfixMalformed(t *testing.T) {
	addr, _ := servePostfix(t, newPostfix(t, PostfixOptions{MaxLine: 256, MaxRequest: 1024}))
	for _, tc := range []struct{ name, text string }{
		{"line without =", "request=smtpd_access_policy\nsasl_username bob\n\n"},
		{"empty name", "request=smtpd_access_policy\n=bob\n\n"},
		{"no request attribute", "sasl_username=bob\nclient_address=192.0.2.1\n\n"},
		{"another request kind", "request=junk\nsasl_username=bob\n\n"},
		{"line too long", "request=smtpd_access_policy\nsasl_username=" + strings.Repeat("b", 300) + "\n\n"},
		{"request too long", "request=smtpd_access_policy\n" + strings.Repeat("x=yyyyyyyyyyyyyyyyyyyyyyyyyyy\n", 50) + "\n"},
		{"empty request", "\n"},
		// SEMANTICS E5: an attribute the decision reads, given twice, is
		// malformed (the last would win: carol's login would be MX traffic).
		{"sasl_username twice", "request=smtpd_access_policy\nsasl_username=carol\nclient_address=192.0.2.1\nsasl_username=\n\n"},
		{"client_address twice", "request=smtpd_access_policy\nsasl_username=bob\nclient_address=198.51.100.1\nclient_address=192.0.2.1\n\n"},
		{"request twice", "request=smtpd_access_policy\nrequest=smtpd_access_policy\nsasl_username=bob\n\n"},
		{"closed mid-request", "request=smtpd_access_policy\nsasl_username=bob"},
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, tc.text)
		if tc.name == "closed mid-request" {
			c.(*net.TCPConn).CloseWrite()
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := readAnswer(bufio.NewReader(c))
		if !errors.Is(err, io.EOF) && !isReset(err) || got != "" {
			t.Errorf("%s: got %q (%v), want the connection closed without an answer", tc.name, got, err)
		}
		c.Close()
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, postfixRequestText("sasl_username=bob", "client_address=192.0.2.1"))
	if got, err := readAnswer(bufio.NewReader(c)); got != dunno {
		t.Errorf("after malformed requests: %q (%v)", got, err)
	}
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

// TestPostfixIdleAndShutdown: an idle connection is closed after
// IdleTimeout; at shutdown an idle connection is closed at once, and a
// request in flight is answered first.
func TestPostfixIdleAndShutdown(t *testing.T) {
	addr, _ := servePostfix(t, newPostfix(t, PostfixOptions{IdleTimeout: 50 * time.Millisecond}))
	c, _ := net.Dial("tcp", addr)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("idle connection: %v, want EOF", err)
	}
	c.Close()

	addr, shutdown := servePostfix(t, newPostfix(t, PostfixOptions{}))
	idle, _ := net.Dial("tcp", addr)
	defer idle.Close()
	busy, _ := net.Dial("tcp", addr)
	defer busy.Close()
	io.WriteString(idle, postfixRequestText("sasl_username=bob", "client_address=192.0.2.1"))
	readAnswer(bufio.NewReader(idle)) // served: now idle
	io.WriteString(busy, "request=smtpd_access_policy\nsasl_username=bob\n")
	time.Sleep(50 * time.Millisecond) // the busy request is in flight
	shutdown()
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("idle connection at shutdown: %v, want EOF", err)
	}
	io.WriteString(busy, "client_address=192.0.2.1\n\n")
	busy.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(busy)
	if got, err := readAnswer(br); got != dunno {
		t.Errorf("request in flight at shutdown: %q (%v), want it answered", got, err)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("after the request in flight: %v, want EOF", err)
	}
}

// memConn is a net.Conn reading from a fixed input and recording what is
// written; deadlines are ignored.
type memConn struct {
	r *strings.Reader
	w strings.Builder
}

func (c *memConn) Read(b []byte) (int, error)         { return c.r.Read(b) }
func (c *memConn) Write(b []byte) (int, error)        { return c.w.Write(b) }
func (c *memConn) Close() error                       { return nil }
func (c *memConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (c *memConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (c *memConn) SetDeadline(time.Time) error        { return nil }
func (c *memConn) SetReadDeadline(time.Time) error    { return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { return nil }

// FuzzPostfixRequest: any bytes on a connection get only whole answers
// (DUNNO or REJECT), at most one per empty line, never a panic; a REJECT only
// when the input names a sasl_username.
func FuzzPostfixRequest(f *testing.F) {
	// Seeds: a real RCPT-stage request with SASL, MX traffic then SASL on one
	// connection, a malformed line, empty lines.
	f.Add("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=127.0.1.5\nclient_name=localhost\nhelo_name=x\nsender=a@b\nrecipient=c@d\nsasl_method=PLAIN\nsasl_username=bob\nsasl_sender=\nsize=0\n\n")
	f.Add("request=smtpd_access_policy\nclient_address=198.51.100.1\n\nrequest=smtpd_access_policy\nsasl_username=bob\nclient_address=192.0.2.1\n\n")
	f.Add("request=smtpd_access_policy\nbroken\n\n")
	f.Add("\n\n\n")
	p := newPostfix(f, PostfixOptions{MaxLine: 128, MaxRequest: 512})
	f.Fuzz(func(t *testing.T, in string) {
		c := &memConn{r: strings.NewReader(in)}
		p.ServeConn(context.Background(), c)
		out := c.w.String()
		answers := 0
		for out != "" {
			switch {
			case strings.HasPrefix(out, dunno+"\n"):
				out = out[len(dunno)+1:]
			case strings.HasPrefix(out, reject+"\n"):
				if !strings.Contains(in, "sasl_username=") {
					t.Fatalf("%q: REJECT without a sasl_username", in)
				}
				out = out[len(reject)+1:]
			default:
				t.Fatalf("%q: unexpected output %q", in, out)
			}
			answers++
		}
		if answers > strings.Count(in, "\n\n") {
			t.Fatalf("%q: %d answers for fewer requests", in, answers)
		}
	})
}

// TestPostfixRequestAllocs: a connection's allocations do not grow with its
// requests when they repeat the login and client (one SMTP session's
// recipients): the per-request work is allocation-free.
func TestPostfixRequestAllocs(t *testing.T) {
	p := newPostfix(t, PostfixOptions{})
	p.d.Log = slog.New(slog.DiscardHandler)
	one := postfixRequestText("sasl_username=bob@example.com", "client_address=203.0.113.7", "recipient=x@example.org")
	perConn := func(n int) float64 {
		in := strings.Repeat(one, n)
		return testing.AllocsPerRun(20, func() {
			c := &memConn{r: strings.NewReader(in)}
			c.w.Grow(len(reject) * 2 * n)
			p.ServeConn(context.Background(), c)
		})
	}
	if a1, a100 := perConn(1), perConn(100); a100 != a1 {
		t.Errorf("allocations per connection: %v for 1 request, %v for 100", a1, a100)
	}
}
