package enforce

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
)

// The example organization (testdata/org, a copy of examples/org): alice is an administrator
// (office or VPN only: 192.0.2.0/24, 10.8.0.0/16), bob a user, carol a
// contractor (WebMail only), dave disabled; 198.51.100.0/24 is blocked.
const (
	exampleRules = "testdata/org/rules.json"
	exampleUsers = "testdata/org/users.json"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func exampleFileSource(t testing.TB) *FileSource {
	t.Helper()
	src, err := NewFileSource(FileSourceOptions{RulesFile: exampleRules, UsersFile: exampleUsers, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func basic(user string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":secret"))
}

type authzCase struct {
	name    string
	peer    string            // RemoteAddr
	target  string            // request URI
	headers map[string]string // request headers
	want    int
}

func runAuthz(t *testing.T, h http.Handler, tc authzCase) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("GET", tc.target, nil)
	r.RemoteAddr = tc.peer
	if r.RemoteAddr == "" {
		r.RemoteAddr = "127.0.1.5:40000"
	}
	for k, v := range tc.headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != tc.want {
		t.Errorf("%s: status %d, want %d", tc.name, w.Code, tc.want)
	}
	return w
}

// SEMANTICS E7: the path selects the action, the user comes from Basic
// credentials, 2xx allows, 403 denies, 401 when there is no user.
func TestSemanticsE7_HTTPAuthz(t *testing.T) {
	h := &HTTPAuthz{Decider: &Decider{Source: exampleFileSource(t), Log: quietLog()}}
	for _, tc := range []authzCase{
		{name: "bob EWS", target: "/EWS/Exchange.asmx", headers: map[string]string{"Authorization": basic("bob")}, want: 200},
		{name: "bob ActiveSync", target: "/Microsoft-Server-ActiveSync?Cmd=Sync&User=bob", headers: map[string]string{"Authorization": basic("bob@example.com")}, want: 200},
		{name: "carol OWA", target: "/owa/", headers: map[string]string{"Authorization": basic("carol")}, want: 200},
		{name: "carol OWA upper case", target: "/OWA/auth/logon.aspx", headers: map[string]string{"Authorization": basic("carol")}, want: 200},
		{name: "carol EWS", target: "/EWS/Exchange.asmx", headers: map[string]string{"Authorization": basic("carol")}, want: 403},
		{name: "carol ews lower case", target: "/ews/exchange.asmx", headers: map[string]string{"Authorization": basic("carol")}, want: 403},
		{name: "carol EWS without slash", target: "/EWS", headers: map[string]string{"Authorization": basic("carol")}, want: 403},
		{name: "carol ActiveSync", target: "/Microsoft-Server-ActiveSync", headers: map[string]string{"Authorization": basic("carol")}, want: 403},
		{name: "carol AutoDiscover", target: "/autodiscover/autodiscover.xml", headers: map[string]string{"Authorization": basic("carol")}, want: 403},
		{name: "carol Autodiscover capitalised", target: "/Autodiscover/Autodiscover.xml", headers: map[string]string{"Authorization": basic("carol")}, want: 403},
		{name: "carol MAPI", target: "/mapi/emsmdb/?MailboxId=x", headers: map[string]string{"Authorization": basic("carol")}, want: 403},
		{name: "carol RPC", target: "/rpc/rpcproxy.dll", headers: map[string]string{"Authorization": basic("carol")}, want: 403},
		{name: "carol OAB", target: "/oab/x/oab.xml", headers: map[string]string{"Authorization": basic("carol")}, want: 403},
		// The path is cleaned as the server behind will route it.
		{name: "carol dot-dot to EWS", target: "/owa/../EWS/Exchange.asmx", headers: map[string]string{"Authorization": basic("carol")}, want: 403},
		{name: "carol escaped dot-dot to EWS", target: "/owa/..%2fEWS/Exchange.asmx", headers: map[string]string{"Authorization": basic("carol")}, want: 403},
		{name: "carol backslash to EWS", target: "/owa/..%5cEWS/Exchange.asmx", headers: map[string]string{"Authorization": basic("carol")}, want: 403},
		{name: "carol double slash", target: "//EWS/Exchange.asmx", headers: map[string]string{"Authorization": basic("carol")}, want: 403},
		{name: "bad escape", target: "/", headers: map[string]string{"X-Original-URI": "/owa/%zz", "Authorization": basic("bob")}, want: 403},
		// E2 through the Decider.
		{name: "alice outside the office", target: "/owa/", headers: map[string]string{"Authorization": basic("alice")}, want: 403},
		{name: "alice in the office", peer: "192.0.2.7:1234", target: "/owa/", headers: map[string]string{"Authorization": basic("alice")}, want: 200},
		{name: "dave disabled", target: "/owa/", headers: map[string]string{"Authorization": basic("dave")}, want: 403},
		{name: "unknown user", target: "/owa/", headers: map[string]string{"Authorization": basic("mallory")}, want: 403},
		{name: "blocked network", peer: "198.51.100.9:1234", target: "/owa/", headers: map[string]string{"Authorization": basic("bob")}, want: 403},
		{name: "IPv6 client", peer: "[2001:db8::1]:1234", target: "/owa/", headers: map[string]string{"Authorization": basic("bob")}, want: 403},
		{name: "IPv4-mapped client", peer: "[::ffff:127.0.1.5]:1234", target: "/owa/", headers: map[string]string{"Authorization": basic("bob")}, want: 200},
		// 401: no user.
		{name: "no credentials", target: "/owa/", want: 401},
		{name: "NTLM", target: "/EWS/Exchange.asmx", headers: map[string]string{"Authorization": "NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw=="}, want: 401},
		{name: "Basic without user", target: "/owa/", headers: map[string]string{"Authorization": basic("")}, want: 401},
		{name: "Basic not base64", target: "/owa/", headers: map[string]string{"Authorization": "Basic !!!"}, want: 401},
		// A12: an impersonation token anywhere but EWS.
		{name: "Bearer on OWA", target: "/owa/", headers: map[string]string{"Authorization": "Bearer abc"}, want: 403},
		{name: "Bearer on ActiveSync", target: "/Microsoft-Server-ActiveSync", headers: map[string]string{"Authorization": "Bearer abc"}, want: 403},
		// Not deferred: an authorization endpoint cannot see the SOAP body.
		{name: "Bearer on EWS", target: "/EWS/Exchange.asmx", headers: map[string]string{"Authorization": "Bearer abc"}, want: 403},
	} {
		runAuthz(t, h, tc)
	}

	w := runAuthz(t, h, authzCase{name: "401 header", target: "/owa/", want: 401})
	if got := w.Header().Get("WWW-Authenticate"); got != `Basic realm="wmpolicy", charset="UTF-8"` {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	w = runAuthz(t, h, authzCase{name: "user header", target: "/owa/", headers: map[string]string{"Authorization": basic("bob")}, want: 200})
	if got := w.Header().Get("X-Wmpolicy-User"); got != "S-1-1-11-1234567890-1234567890-1234567890-1002" {
		t.Errorf("X-Wmpolicy-User = %q", got)
	}
}

// SEMANTICS E7, nginx: the original URI and method arrive in X-Original-URI
// and X-Original-Method (the subrequest itself is a GET of the auth location).
func TestSemanticsE7_NginxOriginalURI(t *testing.T) {
	h := &HTTPAuthz{Decider: &Decider{Source: exampleFileSource(t), Log: quietLog()}}
	for _, tc := range []authzCase{
		{name: "carol EWS via nginx", target: "/", headers: map[string]string{"X-Original-URI": "/EWS/Exchange.asmx", "X-Original-Method": "POST", "Authorization": basic("carol")}, want: 403},
		{name: "carol OWA via nginx", target: "/", headers: map[string]string{"X-Original-URI": "/owa/?ae=Folder", "X-Original-Method": "GET", "Authorization": basic("carol")}, want: 200},
		{name: "absolute URI", target: "/", headers: map[string]string{"X-Original-URI": "https://mail.example.com/EWS/Exchange.asmx", "Authorization": basic("carol")}, want: 403},
	} {
		runAuthz(t, h, tc)
	}
}

// SEMANTICS E7: the client is the peer unless the peer is a trusted proxy;
// then it is the rightmost X-Forwarded-For address that is not itself trusted.
func TestSemanticsE7_TrustedProxies(t *testing.T) {
	proxies, err := ParseTrustedProxies("127.0.0.1, 10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	h := &HTTPAuthz{Decider: &Decider{Source: exampleFileSource(t), Log: quietLog()}, Proxies: proxies}
	alice := basic("alice")
	for _, tc := range []authzCase{
		{name: "trusted proxy, office client", peer: "127.0.0.1:5000", target: "/owa/", headers: map[string]string{"Authorization": alice, "X-Forwarded-For": "192.0.2.7"}, want: 200},
		{name: "untrusted peer's XFF ignored", peer: "127.0.1.9:5000", target: "/owa/", headers: map[string]string{"Authorization": alice, "X-Forwarded-For": "192.0.2.7"}, want: 403},
		{name: "client-written entry to the left ignored", peer: "127.0.0.1:5000", target: "/owa/", headers: map[string]string{"Authorization": alice, "X-Forwarded-For": "192.0.2.7, 127.0.1.9"}, want: 403},
		{name: "trusted hops skipped", peer: "127.0.0.1:5000", target: "/owa/", headers: map[string]string{"Authorization": alice, "X-Forwarded-For": "127.0.1.9, 192.0.2.7, 10.1.1.1"}, want: 200},
		{name: "no XFF from trusted proxy", peer: "127.0.0.1:5000", target: "/owa/", headers: map[string]string{"Authorization": basic("bob")}, want: 403},
		{name: "only trusted in XFF", peer: "127.0.0.1:5000", target: "/owa/", headers: map[string]string{"Authorization": basic("bob"), "X-Forwarded-For": "10.0.0.1"}, want: 403},
		{name: "garbage XFF", peer: "127.0.0.1:5000", target: "/owa/", headers: map[string]string{"Authorization": basic("bob"), "X-Forwarded-For": "not-an-address"}, want: 403},
		{name: "XFF with port", peer: "127.0.0.1:5000", target: "/owa/", headers: map[string]string{"Authorization": alice, "X-Forwarded-For": "192.0.2.7:4711"}, want: 200},
	} {
		runAuthz(t, h, tc)
	}
}

// SEMANTICS E7: a header set by a trusted upstream names the user.
func TestSemanticsE7_UserHeader(t *testing.T) {
	h := &HTTPAuthz{Decider: &Decider{Source: exampleFileSource(t), Log: quietLog()}, UserHeader: "X-Remote-User"}
	runAuthz(t, h, authzCase{name: "header carol EWS", target: "/EWS/Exchange.asmx", headers: map[string]string{"X-Remote-User": "carol"}, want: 403})
	runAuthz(t, h, authzCase{name: "header bob EWS", target: "/EWS/Exchange.asmx", headers: map[string]string{"X-Remote-User": "bob"}, want: 200})
	runAuthz(t, h, authzCase{name: "header wins over Basic", target: "/EWS/Exchange.asmx", headers: map[string]string{"X-Remote-User": "carol", "Authorization": basic("bob")}, want: 403})
	runAuthz(t, h, authzCase{name: "Basic without header", target: "/EWS/Exchange.asmx", headers: map[string]string{"Authorization": basic("bob")}, want: 200})
}

// SEMANTICS E8, A12: with an EWS proxy behind, a Bearer request on an EWS path
// is deferred to it; on any other path it is still denied.
func TestSemanticsE8_DeferEWSBearer(t *testing.T) {
	h := &HTTPAuthz{Decider: &Decider{Source: exampleFileSource(t), Log: quietLog()}, DeferEWSBearer: true}
	w := runAuthz(t, h, authzCase{name: "deferred", target: "/EWS/Exchange.asmx", headers: map[string]string{"Authorization": "Bearer abc"}, want: 200})
	if w.Header().Get("X-Wmpolicy-Deferred") != "ews-impersonation" {
		t.Errorf("no X-Wmpolicy-Deferred header: %v", w.Header())
	}
	runAuthz(t, h, authzCase{name: "A12 OWA", target: "/owa/", headers: map[string]string{"Authorization": "Bearer abc"}, want: 403})
}

// SEMANTICS E3: no rules, no decider: denied.
func TestSemanticsE3_HTTPAuthzFailsClosed(t *testing.T) {
	runAuthz(t, &HTTPAuthz{}, authzCase{name: "zero HTTPAuthz", target: "/owa/", headers: map[string]string{"Authorization": basic("bob")}, want: 403})
	runAuthz(t, &HTTPAuthz{Decider: &Decider{Source: nilSource{}, Log: quietLog()}},
		authzCase{name: "no snapshot", target: "/owa/", headers: map[string]string{"Authorization": basic("bob")}, want: 403})
}

func TestPathActions(t *testing.T) {
	def := DefaultPathActions()
	for path, want := range map[string]accessctl.Action{
		"/EWS/Exchange.asmx":                   accessctl.EWS,
		"/ews":                                 accessctl.EWS,
		"/EWSX":                                accessctl.WebMail,
		"/Microsoft-Server-ActiveSync":         accessctl.ActiveSync,
		"/microsoft-server-activesync/x":       accessctl.ActiveSync,
		"/Microsoft-Server-ActiveSyncX":        accessctl.WebMail,
		"/autodiscover/autodiscover.xml":       accessctl.AutoDiscover,
		"/AutoDiscover/AutoDiscover.svc":       accessctl.AutoDiscover,
		"/mapi/emsmdb":                         accessctl.WindowsOutlook,
		"/rpc/rpcproxy.dll":                    accessctl.WindowsOutlook,
		"/OAB/abc/oab.xml":                     accessctl.WindowsOutlook,
		"/owa/":                                accessctl.WebMail,
		"/":                                    accessctl.WebMail,
		"/SOGo/so/bob/Mail/view":               accessctl.WebMail,
		"/Microsoft-Server-ActiveSync/default": accessctl.ActiveSync,
	} {
		if got := def.Action(path); got != want {
			t.Errorf("Action(%q) = %v, want %v", path, got, want)
		}
	}
	if got := def.String(); got != "/ews=EWS,/microsoft-server-activesync=ActiveSync,/autodiscover=AutoDiscover,/mapi=WindowsOutlook,/rpc=WindowsOutlook,/oab=WindowsOutlook,*=WebMail" {
		t.Errorf("String() = %q", got)
	}
	p, err := ParsePathActions("/SOGo/=WebMail,/EWS=EWS")
	if err != nil {
		t.Fatal(err)
	}
	if p.Action("/other") != 0 || p.Action("/sogo/x") != accessctl.WebMail {
		t.Errorf("a table without *= must map unmatched paths to no action")
	}
	for _, bad := range []string{"", "/EWS/", "/EWS/=Ews", "EWS=EWS", "/=EWS", "/a/=EWS,/A=IMAP", "*=EWS,*=IMAP",
		"/a%2f=EWS", "/a/../b=EWS", "/a//b=EWS", "/a b=EWS"} {
		if _, err := ParsePathActions(bad); err == nil {
			t.Errorf("ParsePathActions(%q) accepted", bad)
		}
	}
}

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{
		"/EWS/Exchange.asmx":          "/EWS/Exchange.asmx",
		"/EWS/Exchange.asmx?x=/../..": "/EWS/Exchange.asmx",
		"/owa/../EWS/x":               "/EWS/x",
		"/owa/..%2FEWS/x":             "/EWS/x",
		"/owa/..%5cEWS/x":             "/EWS/x",
		"/owa\\..\\EWS":               "/EWS",
		"/../../EWS":                  "/EWS",
		"//EWS//x":                    "/EWS/x",
		"/./EWS":                      "/EWS",
		"/EWS/":                       "/EWS",
		"http://h/EWS/x":              "/EWS/x",
		"https://h":                   "/",
		"/a#frag/../b":                "/a",
	} {
		got, err := CleanPath(in)
		if err != nil || got != want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "EWS/x", "*", "/a%zz", "/a%00b", "/a\x01", "h/t://x/y", string(make([]byte, maxURILen+1))} {
		if got, err := CleanPath(bad); !errors.Is(err, ErrBadPath) {
			t.Errorf("CleanPath(%q) = %q, %v; want ErrBadPath", bad, got, err)
		}
	}
}

func TestClientAddr(t *testing.T) {
	tp, err := ParseTrustedProxies("127.0.0.1,::1,10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	if tp.String() != "127.0.0.1/32,::1/128,10.0.0.0/8" {
		t.Errorf("String() = %q", tp.String())
	}
	for _, tc := range []struct {
		peer string
		xff  []string
		want string
		err  error
	}{
		{"127.0.1.2:1", []string{"192.0.2.1"}, "127.0.1.2", nil},
		{"127.0.0.1:1", []string{"192.0.2.1"}, "192.0.2.1", nil},
		{"[::1]:1", []string{"192.0.2.1"}, "192.0.2.1", nil},
		{"[::ffff:127.0.0.1]:1", []string{"192.0.2.1"}, "192.0.2.1", nil},
		{"127.0.0.1:1", []string{"198.51.100.1, 192.0.2.1", "10.0.0.2"}, "192.0.2.1", nil},
		{"127.0.0.1:1", []string{"::ffff:192.0.2.1"}, "192.0.2.1", nil},
		{"127.0.0.1:1", []string{"2001:db8::1"}, "2001:db8::1", nil},
		{"127.0.0.1:1", []string{"[2001:db8::1]:80"}, "2001:db8::1", nil},
		{"127.0.0.1:1", []string{"garbage, 192.0.2.1"}, "192.0.2.1", nil}, // never read left of the client
		{"127.0.0.1:1", []string{"192.0.2.1, garbage"}, "", ErrBadForwardedFor},
		{"127.0.0.1:1", []string{"fe80::1%eth0"}, "", ErrBadForwardedFor},
		{"127.0.0.1:1", nil, "", ErrNoClient},
		{"127.0.0.1:1", []string{" , 10.0.0.9"}, "", ErrNoClient},
		{"127.0.0.1:1", []string{string(make([]byte, maxForwardedFor+1))}, "", ErrBadForwardedFor},
		{"bad", nil, "", ErrBadPeer},
	} {
		got, err := tp.ClientAddr(tc.peer, tc.xff)
		if !errors.Is(err, tc.err) || (err == nil && got != netip.MustParseAddr(tc.want)) {
			t.Errorf("ClientAddr(%q, %q) = %v, %v; want %s, %v", tc.peer, tc.xff, got, err, tc.want, tc.err)
		}
	}
	var none TrustedProxies
	if got, _ := none.ClientAddr("127.0.0.1:1", []string{"192.0.2.1"}); got != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("zero TrustedProxies believed X-Forwarded-For")
	}
	for _, bad := range []string{"x", "10.0.0.0/33", "::ffff:10.0.0.1", "fe80::1%eth0"} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("ParseTrustedProxies(%q) accepted", bad)
		}
	}
}

// The request path's pieces do not allocate: a clean path, its action, the
// client address behind a trusted proxy.
func TestHTTPParsingAllocs(t *testing.T) {
	tp, _ := ParseTrustedProxies("127.0.0.1")
	def := DefaultPathActions()
	xff := []string{"192.0.2.1, 10.1.1.1"}
	var sink accessctl.Action
	n := testing.AllocsPerRun(100, func() {
		p, _ := CleanPath("/EWS/Exchange.asmx?x=1")
		sink += def.Action(p)
		a, _ := tp.ClientAddr("127.0.0.1:4000", xff)
		if !a.IsValid() {
			panic("no address")
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per request, want 0", n)
	}
	_ = sink
}

// The whole authorization request, with a discarding logger, allocates two
// values: the Basic user's string and the X-Wmpolicy-User header's slice.
func TestHTTPAuthzAllocs(t *testing.T) {
	if httpRaceEnabled {
		t.Skip("allocation counts differ under the race detector (sync.Pool drops values)")
	}
	proxies, _ := ParseTrustedProxies("127.0.0.1")
	h := &HTTPAuthz{Decider: &Decider{Source: exampleFileSource(t), Log: slog.New(slog.DiscardHandler)}, Proxies: proxies}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header["X-Original-Uri"] = []string{"/EWS/Exchange.asmx"}
	r.Header["Authorization"] = []string{basic("bob")}
	r.Header["X-Forwarded-For"] = []string{"127.0.1.5"}
	r.RemoteAddr = "127.0.0.1:5000"
	w := &nopWriter{h: http.Header{}}
	n := testing.AllocsPerRun(200, func() {
		clear(w.h)
		h.ServeHTTP(w, r)
	})
	if w.code != 200 {
		t.Fatalf("status %d", w.code)
	}
	if n > 2 {
		t.Errorf("%v allocations per request, want at most 2", n)
	}
}

// SEMANTICS E7, E3: an explicit front. Behind nginx a missing X-Original-URI
// is refused; behind Envoy a client's X-Original-URI cannot choose the action.
func TestSemanticsE7_Front(t *testing.T) {
	src := exampleFileSource(t)
	nginx := &HTTPAuthz{Decider: &Decider{Source: src, Log: quietLog()}, Front: FrontNginx}
	envoy := &HTTPAuthz{Decider: &Decider{Source: src, Log: quietLog()}, Front: FrontEnvoy}
	carol := basic("carol")
	runAuthz(t, nginx, authzCase{name: "nginx without X-Original-URI", target: "/", headers: map[string]string{"Authorization": basic("bob")}, want: 403})
	runAuthz(t, nginx, authzCase{name: "nginx with X-Original-URI", target: "/", headers: map[string]string{"Authorization": carol, "X-Original-URI": "/owa/"}, want: 200})
	runAuthz(t, envoy, authzCase{name: "envoy ignores X-Original-URI", target: "/EWS/Exchange.asmx", headers: map[string]string{"Authorization": carol, "X-Original-URI": "/owa/"}, want: 403})
	runAuthz(t, envoy, authzCase{name: "envoy path", target: "/owa/", headers: map[string]string{"Authorization": carol}, want: 200})
	for _, s := range []string{"auto", "nginx", "envoy"} {
		if f, err := ParseFront(s); err != nil || f.String() != s {
			t.Errorf("ParseFront(%q) = %v, %v", s, f, err)
		}
	}
	if _, err := ParseFront("Nginx"); err == nil {
		t.Errorf("ParseFront accepted Nginx")
	}
}

// TestLogBoundsClientStrings: a refused URI or method, and a login or
// protocol from nginx's Auth-User and Auth-Protocol, may be as long as the
// server's header limit allows; a log record holds at most maxLogged bytes
// of each and says how long it was.
func TestLogBoundsClientStrings(t *testing.T) {
	var buf logBuffer
	h := &HTTPAuthz{Decider: &Decider{Source: exampleFileSource(t), Log: jsonLog(&buf)}}
	long := "/owa/" + strings.Repeat("é", 50_000)
	runAuthz(t, h, authzCase{name: "long URI", target: "/", headers: map[string]string{
		"X-Original-URI": long, "X-Original-Method": strings.Repeat("G", 100_000), "Authorization": basic("carol")}, want: 403})
	var rec struct{ Path, Method, Reason string }
	if err := json.Unmarshal([]byte(buf.String()), &rec); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	want := long[:maxLogged-1] + "…(100005 bytes)" // é is 2 bytes: the cut moves back to a rune start
	if rec.Reason != "malformed path" || rec.Path != want {
		t.Errorf("logged path %q (%d bytes), reason %q; want %d bytes ending %q", rec.Path, len(rec.Path), rec.Reason, len(want), want[len(want)-20:])
	}
	if want := strings.Repeat("G", maxLogged) + "…(100000 bytes)"; rec.Method != want {
		t.Errorf("logged method of %d bytes, want %d", len(rec.Method), len(want))
	}

	buf = logBuffer{}
	src, _, _ := exampleSource(t, nil)
	nm, err := NewNginxMail(&Decider{Source: src, Log: jsonLog(&buf)}, NginxMailOptions{IMAPBackend: imapBackend})
	if err != nil {
		t.Fatal(err)
	}
	nginxAsk(nm, nginxLogin("plain", strings.Repeat("u", 100_000), "imap"+strings.Repeat("p", 100_000), "192.0.2.5"))
	var dec struct{ Msg, Login, Protocol, Effect string }
	if err := json.Unmarshal([]byte(buf.String()), &dec); err != nil {
		t.Fatalf("log of %d bytes: %v", len(buf.String()), err)
	}
	if dec.Msg != "decision" || dec.Effect != "DENY" || len(dec.Login) > maxLogged+20 || len(dec.Protocol) > maxLogged+20 {
		t.Errorf("decision %q %s: login of %d bytes, protocol of %d", dec.Msg, dec.Effect, len(dec.Login), len(dec.Protocol))
	}

	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"/EWS/", "/EWS/"},
		{strings.Repeat("x", maxLogged), strings.Repeat("x", maxLogged)},
		// Not UTF-8: the cut moves back at most three bytes.
		{strings.Repeat("\x80", 600), strings.Repeat("\x80", maxLogged-3) + "…(600 bytes)"},
	} {
		if got := logged(tc.in); got != tc.want {
			t.Errorf("logged(%d bytes) = %q, want %q", len(tc.in), got, tc.want)
		}
	}
}
