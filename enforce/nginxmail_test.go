package enforce

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
)

var (
	imapBackend = netip.MustParseAddrPort("127.0.0.1:1143")
	smtpBackend = netip.MustParseAddrPort("127.0.0.1:1025")
)

func newNginxMail(t testing.TB, opts NginxMailOptions) *NginxMail {
	t.Helper()
	src, _, _ := exampleSource(t, nil)
	h, err := NewNginxMail(&Decider{Source: src, Log: discardLog()}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// nginxAsk sends an auth_http request as nginx does (GET, HTTP/1.0 headers)
// and returns the response headers.
func nginxAsk(h http.Handler, header map[string]string) (int, http.Header) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Result().Header
}

func nginxLogin(method, user, protocol, ip string) map[string]string {
	return map[string]string{"Auth-Method": method, "Auth-User": user, "Auth-Pass": "secret", "Auth-Protocol": protocol,
		"Auth-Login-Attempt": "1", "Client-IP": ip, "Client-Host": "[UNAVAILABLE]"}
}

// TestSemanticsE6_NginxMail: allowed logins get Auth-Status OK with the
// protocol's backend; denied ones the refusal, SMTP with 535 5.7.8 and never
// Auth-Wait; Auth-Method none (inbound MX) is allowed without a rule check;
// POP3 has no default action (E2).
func TestSemanticsE6_NginxMail(t *testing.T) {
	h := newNginxMail(t, NginxMailOptions{IMAPBackend: imapBackend, SMTPBackend: smtpBackend, POP3Backend: imapBackend})
	type want struct {
		status, server, port, errorCode string
	}
	ok := func(ap netip.AddrPort) want { return want{"OK", ap.Addr().String(), "1143", ""} }
	okSMTP := want{"OK", "127.0.0.1", "1025", ""}
	denied := want{DenyMessage, "", "", ""}
	deniedSMTP := want{DenyMessage, "", "", "535 5.7.8"}
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   want
	}{
		{"imap from the office", nginxLogin("plain", "bob", "imap", "192.0.2.5"), ok(imapBackend)},
		{"imap from elsewhere", nginxLogin("plain", "bob", "imap", "127.0.2.5"), denied},
		{"smtp from the office", nginxLogin("login", "bob@example.com", "smtp", "192.0.2.5"), okSMTP},
		{"smtp from elsewhere", nginxLogin("plain", "bob", "smtp", "127.0.2.5"), deniedSMTP},
		{"inbound MX from an abusive network", nginxLogin("none", "", "smtp", "198.51.100.7"), okSMTP},
		{"E2 pop3 without a mapping", nginxLogin("plain", "bob", "pop3", "192.0.2.5"), denied},
		{"E2 unknown user", nginxLogin("plain", "mallory", "imap", "192.0.2.5"), denied},
		{"E2 disabled user", nginxLogin("plain", "dave", "imap", "192.0.2.5"), denied},
		{"E2 IPv6 client", nginxLogin("plain", "bob", "imap", "2001:db8::5"), denied},
		{"URL-encoded login", nginxLogin("plain", "bob%40example.com", "imap", "192.0.2.5"), ok(imapBackend)},
		{"login that does not decode", nginxLogin("plain", "bob%zz", "imap", "192.0.2.5"), denied},
		{"no Client-IP", map[string]string{"Auth-Method": "plain", "Auth-User": "bob", "Auth-Protocol": "imap"}, denied},
		{"unknown protocol", nginxLogin("plain", "bob", "sieve", "192.0.2.5"), denied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, hdr := nginxAsk(h, tc.header)
			got := want{hdr.Get("Auth-Status"), hdr.Get("Auth-Server"), hdr.Get("Auth-Port"), hdr.Get("Auth-Error-Code")}
			if code != 200 || got != tc.want || hdr.Get("Auth-Wait") != "" {
				t.Errorf("%v → %d %+v (Auth-Wait %q), want 200 %+v", tc.header, code, got, hdr.Get("Auth-Wait"), tc.want)
			}
		})
	}

	pop3 := newNginxMail(t, NginxMailOptions{POP3: accessctl.IMAP, POP3Backend: netip.MustParseAddrPort("127.0.0.1:1110")})
	if _, hdr := nginxAsk(pop3, nginxLogin("plain", "bob", "pop3", "192.0.2.5")); hdr.Get("Auth-Status") != "OK" || hdr.Get("Auth-Port") != "1110" {
		t.Errorf("pop3 mapped to IMAP: %v", hdr)
	}
	// An allowed login of a protocol without a backend: a temporary refusal.
	if _, hdr := nginxAsk(pop3, nginxLogin("plain", "bob", "imap", "192.0.2.5")); hdr.Get("Auth-Status") == "OK" {
		t.Errorf("imap without a backend: %v", hdr)
	}
	if _, hdr := nginxAsk(pop3, nginxLogin("plain", "bob", "smtp", "192.0.2.5")); hdr.Get("Auth-Status") == "OK" || hdr.Get("Auth-Error-Code") != "451 4.3.0" {
		t.Errorf("smtp without a backend: %v", hdr)
	}
}

// TestNginxMailSecret: with a secret header configured, a request without it
// or with another value is refused; options are validated.
func TestNginxMailSecret(t *testing.T) {
	h := newNginxMail(t, NginxMailOptions{IMAPBackend: imapBackend, SecretHeader: "X-Auth-Key", Secret: "k3y"})
	login := nginxLogin("plain", "bob", "imap", "192.0.2.5")
	if _, hdr := nginxAsk(h, login); hdr.Get("Auth-Status") != DenyMessage {
		t.Errorf("without the secret: %v", hdr)
	}
	login["X-Auth-Key"] = "k3y-"
	if _, hdr := nginxAsk(h, login); hdr.Get("Auth-Status") != DenyMessage {
		t.Errorf("wrong secret: %v", hdr)
	}
	login["X-Auth-Key"] = "k3y"
	if _, hdr := nginxAsk(h, login); hdr.Get("Auth-Status") != "OK" {
		t.Errorf("right secret: %v", hdr)
	}
	src, _, _ := exampleSource(t, nil)
	for _, opts := range []NginxMailOptions{
		{SecretHeader: "X-Auth-Key"},
		{POP3: 42},
		{IMAPBackend: netip.MustParseAddrPort("127.0.0.1:0")},
		{IMAPBackend: netip.MustParseAddrPort("[fe80::1%eth0]:143")},
	} {
		if _, err := NewNginxMail(&Decider{Source: src}, opts); err == nil {
			t.Errorf("NewNginxMail(%+v): nil error", opts)
		}
	}
	for _, s := range []string{"", "localhost:143", "127.0.0.1", "127.0.0.1:0", "[fe80::1%eth0]:143"} {
		if _, err := ParseBackend(s); err == nil {
			t.Errorf("ParseBackend(%q): nil error", s)
		}
	}
	if ap, err := ParseBackend("[::1]:143"); err != nil || ap.Port() != 143 {
		t.Errorf("ParseBackend([::1]:143) = %v, %v", ap, err)
	}
}

// FuzzNginxMailHeaders: any header values get one of the protocol's answers:
// OK with a backend only for Auth-Method none or a login from the office,
// otherwise the refusal; never Auth-Wait, never a panic.
func FuzzNginxMailHeaders(f *testing.F) {
	// Seeds: nginx 1.22's request for IMAP LOGIN, SMTP AUTH PLAIN, inbound
	// SMTP without AUTH, an escaped login.
	f.Add("plain", "bob", "imap", "192.0.2.42")
	f.Add("plain", "bob%40example.com", "smtp", "127.0.2.5")
	f.Add("none", "", "smtp", "198.51.100.1")
	f.Add("cram-md5", "%", "pop3", "::ffff:192.0.2.1")
	h := newNginxMail(f, NginxMailOptions{IMAPBackend: imapBackend, SMTPBackend: smtpBackend, POP3Backend: imapBackend})
	f.Fuzz(func(t *testing.T, method, user, protocol, ip string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header["Auth-Method"] = []string{method}
		req.Header["Auth-User"] = []string{user}
		req.Header["Auth-Protocol"] = []string{protocol}
		req.Header["Client-Ip"] = []string{ip}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		hdr := rec.Result().Header
		status := hdr.Get("Auth-Status")
		if rec.Code != 200 || status == "" || hdr.Get("Auth-Wait") != "" {
			t.Fatalf("%q %q %q %q → %d %v", method, user, protocol, ip, rec.Code, hdr)
		}
		if status == "OK" && !strings.EqualFold(method, "none") {
			addr, err := netip.ParseAddr(ip)
			if err != nil || !(netip.MustParsePrefix("192.0.2.0/24").Contains(addr.Unmap()) || netip.MustParsePrefix("10.8.0.0/16").Contains(addr.Unmap())) {
				t.Fatalf("%q %q %q %q allowed from outside the office", method, user, protocol, ip)
			}
		}
	})
}
