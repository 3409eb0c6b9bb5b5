package enforce

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
)

func newDovecot(t testing.TB, opts DovecotOptions) *DovecotPolicy {
	t.Helper()
	src, _, _ := exampleSource(t, nil)
	h, err := NewDovecotPolicy(&Decider{Source: src, Log: discardLog()}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// dovecotDo posts body to the handler as Dovecot would and returns the HTTP
// status and body.
func dovecotDo(h http.Handler, command, body string, header http.Header) (int, string) {
	req := httptest.NewRequest(http.MethodPost, "/?command="+command, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	data, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(data)
}

const (
	accept = `{"status":0}`
	refuse = `{"status":-1,"msg":"Access denied by policy"}`
)

// TestSemanticsE4_Dovecot: the request JSON Dovecot 2.3 sends with its
// default auth_policy_request_attributes, decided per protocol; report
// commands are acknowledged; unknown, disabled and denied users get the same
// refusal (E2).
func TestSemanticsE4_Dovecot(t *testing.T) {
	h := newDovecot(t, DovecotOptions{})
	pop3 := newDovecot(t, DovecotOptions{POP3: accessctl.IMAP})
	body := func(login, remote, protocol string) string {
		return `{"device_id":"","login":"` + login + `","protocol":"` + protocol + `","pwhash":"8a3f1c2d4e5b","remote":"` + remote + `","session_id":"x/OtwAJi4Jt/AAAB"}`
	}
	for _, tc := range []struct {
		name    string
		h       http.Handler
		command string
		body    string
		want    string
	}{
		{"imap from the office", h, "allow", body("bob", "192.0.2.5", "imap"), accept},
		{"imap from elsewhere", h, "allow", body("bob", "127.0.0.1", "imap"), refuse},
		{"submission from the office", h, "allow", body("bob@example.com", "192.0.2.5", "submission"), accept},
		{"smtp (Postfix SASL) from elsewhere", h, "allow", body("bob", "203.0.113.1", "smtp"), refuse},
		{"E2 pop3 has no default mapping", h, "allow", body("bob", "192.0.2.5", "pop3"), refuse},
		{"pop3 mapped to IMAP", pop3, "allow", body("bob", "192.0.2.5", "pop3"), accept},
		{"E2 sieve has no action", h, "allow", body("bob", "192.0.2.5", "sieve"), refuse},
		{"E2 unknown user", h, "allow", body("mallory", "192.0.2.5", "imap"), refuse},
		{"E2 disabled user", h, "allow", body("dave", "192.0.2.5", "imap"), refuse},
		{"E2 IPv6 client", h, "allow", body("bob", "2001:db8::5", "imap"), refuse},
		{"no remote", h, "allow", body("bob", "", "imap"), refuse},
		{"report is acknowledged", h, "report", `{"login":"mallory","remote":"203.0.113.1","protocol":"imap","success":false,"policy_reject":true}`, accept},
		{"nested attributes are ignored", h, "allow", `{"login":"bob","remote":"192.0.2.5","protocol":"imap","tls":{"cipher":"x"}}`, accept},
		{"escapes are decoded", h, "allow", `{"login":"b\u006fb","remote":"192.0.2.5","protocol":"imap"}`, accept},
		{"other attributes may repeat", h, "allow", `{"login":"bob","remote":"192.0.2.5","protocol":"imap","x":"1","x":2}`, accept},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, got := dovecotDo(tc.h, tc.command, tc.body, nil)
			if code != 200 || got != tc.want {
				t.Errorf("%s → %d %s, want 200 %s", tc.body, code, got, tc.want)
			}
		})
	}
}

// TestDovecotMalformed: every malformed or oversized request is refused with
// status -1 (so that Dovecot refuses whatever auth_policy_reject_on_fail
// says), and the handler keeps serving.
func TestDovecotMalformed(t *testing.T) {
	h := newDovecot(t, DovecotOptions{MaxBody: 1024})
	for _, tc := range []struct{ name, command, body string }{
		{"empty body", "allow", ""},
		{"not JSON", "allow", "login=bob"},
		{"a JSON array", "allow", `[{"login":"bob"}]`},
		{"null", "allow", `null`},
		{"login not a string", "allow", `{"login":1,"remote":"192.0.2.5","protocol":"imap"}`},
		{"trailing garbage", "allow", `{"login":"bob","remote":"192.0.2.5","protocol":"imap"} {}`},
		{"truncated", "allow", `{"login":"bob","remote":"192.0.2.5","protocol":"im`},
		{"oversized", "allow", `{"login":"bob","remote":"192.0.2.5","protocol":"imap","pad":"` + strings.Repeat("x", 2000) + `"}`},
		{"login twice", "allow", `{"login":"mallory","remote":"192.0.2.5","protocol":"imap","login":"bob"}`},
		{"login and Login", "allow", `{"Login":"mallory","remote":"192.0.2.5","protocol":"imap","login":"bob"}`},
		{"remote twice", "allow", `{"login":"bob","remote":"203.0.113.1","protocol":"imap","remote":"192.0.2.5"}`},
		{"protocol twice", "allow", `{"login":"bob","remote":"192.0.2.5","protocol":"pop3","PROTOCOL":"imap"}`},
		{"no command", "", `{"login":"bob","remote":"192.0.2.5","protocol":"imap"}`},
		{"unknown command", "deny", `{"login":"bob","remote":"192.0.2.5","protocol":"imap"}`},
	} {
		code, got := dovecotDo(h, tc.command, tc.body, nil)
		if code != 200 || got != refuse {
			t.Errorf("%s: %d %s, want 200 %s", tc.name, code, got, refuse)
		}
	}
	if code, got := dovecotDo(h, "allow", `{"login":"bob","remote":"192.0.2.5","protocol":"imap"}`, nil); got != accept {
		t.Errorf("after malformed requests: %d %s", code, got)
	}
	req := httptest.NewRequest(http.MethodGet, "/?command=allow", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", rec.Code)
	}
}

// TestSemanticsE4_DovecotAPIHeader: with an API header configured, a request
// without it or with a wrong value is refused; the right value is decided.
func TestSemanticsE4_DovecotAPIHeader(t *testing.T) {
	h := newDovecot(t, DovecotOptions{APIHeader: "X-API-Key", APIKey: "s3cret"})
	ok := `{"login":"bob","remote":"192.0.2.5","protocol":"imap"}`
	for _, tc := range []struct {
		name   string
		header http.Header
		want   string
	}{
		{"missing", nil, refuse},
		{"wrong", http.Header{"X-Api-Key": {"s3cret!"}}, refuse},
		{"prefix", http.Header{"X-Api-Key": {"s3cre"}}, refuse},
		{"twice", http.Header{"X-Api-Key": {"s3cret", "s3cret"}}, refuse},
		{"right", http.Header{"X-Api-Key": {"s3cret"}}, accept},
		{"right, with the space Dovecot leaves after the colon", http.Header{"X-Api-Key": {" s3cret"}}, accept},
	} {
		if _, got := dovecotDo(h, "allow", ok, tc.header); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	for _, opts := range []DovecotOptions{{APIHeader: "X-API-Key"}, {APIKey: "k"}, {APIHeader: "Bad Header", APIKey: "k"}, {POP3: 99}} {
		src, _, _ := exampleSource(t, nil)
		if _, err := NewDovecotPolicy(&Decider{Source: src}, opts); err == nil {
			t.Errorf("NewDovecotPolicy(%+v): nil error", opts)
		}
	}
	if _, err := NewDovecotPolicy(&Decider{}, DovecotOptions{}); err == nil {
		t.Error("NewDovecotPolicy without a source: nil error")
	}
}

// FuzzDovecotRequest: any body and command is answered with exactly one of
// the two protocol answers, never a panic.
func FuzzDovecotRequest(f *testing.F) {
	// Seeds: Dovecot 2.3's default attributes, a report, nested keys, junk.
	f.Add("allow", `{"device_id":"","login":"bob","protocol":"imap","pwhash":"8a3f","remote":"192.0.2.5","session_id":"abc"}`)
	f.Add("report", `{"login":"bob","remote":"192.0.2.5","protocol":"imap","success":true,"policy_reject":false}`)
	f.Add("allow", `{"login":"b\u00f6b","remote":"::ffff:192.0.2.5","protocol":"IMAP","tls":{"cipher":"x"}}`)
	f.Add("allow", `{"login":"bob","login":1}`)
	f.Add("allow", "\x00{")
	f.Add("allow", `{"login":"b\u006fb","LOGIN":"x","remote":"192.0.2.5","protocol":"imap"}`)
	f.Add("allow", "{\"login\":\"b\xffb\",\"remote\":\"192.0.2.5\",\"protocol\":\"imap\"}")
	h := newDovecot(f, DovecotOptions{MaxBody: 4096})
	f.Fuzz(func(t *testing.T, command, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		q := req.URL.Query()
		q.Set("command", command)
		req.URL.RawQuery = q.Encode()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Body.String()
		if rec.Code != 200 || (got != accept && got != refuse) {
			t.Fatalf("%q %q → %d %q", command, body, rec.Code, got)
		}
		// Where the body decodes, it holds what encoding/json reads from it.
		var r dovecotRequest
		if r.decode([]byte(body)) == nil {
			var plain struct{ Login, Remote, Protocol string }
			if err := json.Unmarshal([]byte(body), &plain); err != nil {
				t.Fatalf("%q decodes, but not with encoding/json: %v", body, err)
			}
			if got := (struct{ Login, Remote, Protocol string }{r.Login.s, r.Remote.s, r.Protocol.s}); got != plain {
				t.Fatalf("%q decodes to %+v, encoding/json reads %+v", body, got, plain)
			}
		}
		if got == accept && command == "allow" {
			// Every accepted login is from the office or the VPN: the example
			// organization allows no IMAP or SMTP login from elsewhere.
			ip, err := netip.ParseAddr(r.Remote.s)
			if err != nil || !(netip.MustParsePrefix("192.0.2.0/24").Contains(ip.Unmap()) || netip.MustParsePrefix("10.8.0.0/16").Contains(ip.Unmap())) {
				t.Fatalf("%q accepted from outside the office", body)
			}
		}
	})
}
