// Package httpe2e tests the HTTP enforcement points against a real nginx:
// 'wmpolicy serve --http-authz --ews-proxy' behind deploy/nginx-http.conf,
// included verbatim, in front of a recording mail backend (SEMANTICS E7,
// E8, E3).
package httpe2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/internal/realserver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	realserver.Cleanup()
	os.Exit(code)
}

// The example organization's users; the rules (../testdata/rules.json) are
// examples/org's over loopback ranges:
//
//	alice  DENY outside 127.0.1.0/24 and 127.0.8.0/24
//	carol  WebMail only
//	the archiver role: EWS only from 127.0.20.0/24 (and, READ_ONLY, not alice)
//	127.0.66.0/24 blocked
const (
	demoOrg    = "m-d281d0a2fd824be5b6cd3d3ce909fd27"
	archiverID = "9f1c2a64-3b7e-4d5a-8c21-0e6b7a9d4f10"
)

// backend is the mail server behind nginx: it records what reaches it.
type backend struct {
	mu   sync.Mutex
	seen []seen
}

type seen struct {
	path string
	body []byte
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.seen = append(b.seen, seen{r.URL.RequestURI(), body})
	b.mu.Unlock()
	io.WriteString(w, "backend\n")
}

func (b *backend) last() (seen, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.seen) == 0 {
		return seen{}, 0
	}
	return b.seen[len(b.seen)-1], len(b.seen)
}

// from returns a client whose connections come from the loopback address ip.
func from(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

type request struct {
	name, from, path string
	user             string // Basic user; "" for none
	bearer           string
	body             []byte
	header           map[string]string
	auths            []string // Authorization headers added after user's and bearer's
	want             int
}

func do(t *testing.T, base string, r request) (*http.Response, []byte) {
	t.Helper()
	method := "GET"
	var body io.Reader
	if r.body != nil {
		method, body = "POST", bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, base+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.user != "" {
		req.SetBasicAuth(r.user, "secret")
	}
	if r.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	for _, a := range r.auths {
		req.Header.Add("Authorization", a)
	}
	resp, err := from(r.from).Do(req)
	if err != nil {
		t.Fatalf("%s: %v", r.name, err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != r.want {
		t.Errorf("%s: %s %s from %s: status %d, want %d", r.name, method, r.path, r.from, resp.StatusCode, r.want)
	}
	return resp, got
}

// TestNginxHTTP: requests from 127.0.x.y through nginx with
// deploy/nginx-http.conf are allowed or refused by the example organization's
// rules (E7), impersonated EWS requests by B9 (E8), and with wmpolicy stopped
// nginx refuses everything (E3).
func TestNginxHTTP(t *testing.T) {
	realserver.Require(t, "nginx")
	root := realserver.RepoRoot(t)
	testdata := filepath.Join(root, "enforce", "e2e", "testdata")

	be := &backend{}
	beSrv := httptest.NewServer(be)
	t.Cleanup(beSrv.Close)

	// The demo key, private to this test (wmpolicy warns about a key file
	// others may read).
	keyFile := filepath.Join(t.TempDir(), "key.json")
	keyData, err := os.ReadFile(filepath.Join(root, "enforce", "testdata", "ews", "demo-key.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyData, 0o600); err != nil {
		t.Fatal(err)
	}

	wm := realserver.StartWmpolicy(t,
		"--rules", filepath.Join(testdata, "rules.json"), "--users", filepath.Join(testdata, "users.json"),
		"--http-authz", "127.0.0.1:0", "--http-front", "nginx", "--trusted-proxies", "127.0.0.1", "--http-defer-ews-bearer=true",
		"--ews-proxy", "127.0.0.1:0", "--ews-upstream", beSrv.URL,
		"--ews-org", demoOrg, "--ews-keys", keyFile, "--ews-role", filepath.Join(root, "enforce", "testdata", "ews", "role.json"))

	addr := realserver.FreeAddr(t)
	conf := filepath.Join(root, "deploy", "nginx-http.conf")
	realserver.StartNginx(t, realserver.NginxConfig{
		HTTP: fmt.Sprintf(`
  upstream wmpolicy_authz { server %s; }
  upstream wmpolicy_ews   { server %s; }
  upstream mail_backend   { server %s; }
  server {
    listen %s;
    include %s;
    location / { proxy_pass http://mail_backend; }
  }`, wm.Addr("http-authz"), wm.Addr("ews-proxy"), strings.TrimPrefix(beSrv.URL, "http://"), addr, conf),
		Wait: []string{addr},
	})
	base := "http://" + addr

	office, home, datacenter, blocked := "127.0.1.5", "127.0.2.5", "127.0.20.5", "127.0.66.7"
	paths := []string{"/EWS/Exchange.asmx", "/Microsoft-Server-ActiveSync?Cmd=Sync", "/autodiscover/autodiscover.xml", "/mapi/emsmdb/?MailboxId=bob@example.com", "/owa/"}
	var cases []request
	for _, p := range paths {
		cases = append(cases,
			request{name: "bob", from: home, path: p, user: "bob", want: 200},
			request{name: "alice in the office", from: office, path: p, user: "alice@example.com", want: 200},
			request{name: "alice at home", from: home, path: p, user: "alice", want: 403},
			request{name: "bob from a blocked network", from: blocked, path: p, user: "bob", want: 403},
			request{name: "dave disabled", from: office, path: p, user: "dave", want: 403},
			request{name: "unknown user", from: office, path: p, user: "mallory", want: 403},
			request{name: "no credentials", from: office, path: p, want: 401},
		)
		carol := 403
		if p == "/owa/" {
			carol = 200
		}
		cases = append(cases, request{name: "carol (WebMail only)", from: office, path: p, user: "carol", want: carol})
	}
	cases = append(cases,
		request{name: "carol via dot-dot to EWS", from: office, path: "/owa/..%2fEWS/Exchange.asmx", user: "carol", want: 403},
		request{name: "carol to lower-case ews", from: office, path: "/ews/exchange.asmx", user: "carol", want: 403},
		request{name: "alice at home spoofing X-Forwarded-For", from: home, path: "/owa/", user: "alice", header: map[string]string{"X-Forwarded-For": office}, want: 403},
		request{name: "Bearer on OWA (A12)", from: office, path: "/owa/", bearer: "abc", want: 403},
	)
	for _, r := range cases {
		_, n0 := be.last()
		resp, _ := do(t, base, r)
		_, n1 := be.last()
		if (n1 > n0) != (r.want == 200) {
			t.Errorf("%s %s: backend reached: %v", r.name, r.path, n1 > n0)
		}
		if r.want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("%s: 401 without WWW-Authenticate: Basic (%q)", r.name, resp.Header.Get("WWW-Authenticate"))
		}
	}

	// EWS impersonation (E8, B9) through nginx's EWS location and the proxy.
	tok := archiverToken(t, keyData)
	find := readEWS(t, root, "finditem.xml")
	create := readEWS(t, root, "createitem.xml")
	for _, r := range []request{
		{name: "archiver FindItem bob from the data center", from: datacenter, path: "/EWS/Exchange.asmx", bearer: tok, body: find, want: 200},
		{name: "archiver FindItem via lower-case path", from: datacenter, path: "/ews/exchange.asmx", bearer: tok, body: find, want: 200},
		{name: "archiver from the office (access control)", from: office, path: "/EWS/Exchange.asmx", bearer: tok, body: find, want: 403},
		{name: "archiver FindItem alice (role)", from: datacenter, path: "/EWS/Exchange.asmx", bearer: tok, body: bytes.ReplaceAll(find, []byte("bob@"), []byte("alice@")), want: 403},
		{name: "archiver CreateItem (READ_ONLY)", from: datacenter, path: "/EWS/Exchange.asmx", bearer: tok, body: create, want: 403},
		{name: "forged token", from: datacenter, path: "/EWS/Exchange.asmx", bearer: tok[:len(tok)-2] + "AA", body: find, want: 401},
		// SEMANTICS E8: nginx's EWS location does not read '\' as '/', so
		// this request would go to the mail server past the EWS proxy;
		// wmpolicy must not defer it.
		{name: "archiver CreateItem via backslashes (READ_ONLY)", from: datacenter, path: "/owa%5C..%5CEWS%5CExchange.asmx", bearer: tok, body: create, want: 403},
		// SEMANTICS E7, E8: Basic credentials of a user the rules allow,
		// then a Bearer token: nginx refuses the duplicate header itself.
		{name: "bob's Basic, then the archiver's token", from: datacenter, path: "/EWS/Exchange.asmx", user: "bob", auths: []string{"Bearer " + tok}, body: create, want: 400},
	} {
		_, n0 := be.last()
		do(t, base, r)
		last, n1 := be.last()
		if (n1 > n0) != (r.want == 200) {
			t.Errorf("%s: backend reached: %v", r.name, n1 > n0)
		}
		if r.want == 200 && !bytes.Equal(last.body, r.body) {
			t.Errorf("%s: the backend got %d bytes that differ from the client's %d", r.name, len(last.body), len(r.body))
		}
	}

	// E3: wmpolicy stopped, nginx refuses (500), nothing reaches the backend.
	wm.Stop()
	_, n0 := be.last()
	for _, p := range paths {
		do(t, base, request{name: "wmpolicy stopped", from: office, path: p, user: "bob", want: 500})
	}
	do(t, base, request{name: "wmpolicy stopped, impersonated", from: datacenter, path: "/EWS/Exchange.asmx", bearer: tok, body: find, want: 500})
	if _, n1 := be.last(); n1 != n0 {
		t.Errorf("with wmpolicy stopped, %d requests reached the backend", n1-n0)
	}
}

func readEWS(t *testing.T, root, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "enforce", "testdata", "ews", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// archiverToken is what AssumeImpersonationRole answers for the archiver
// role, signed with the demo key.
func archiverToken(t *testing.T, keyData []byte) string {
	t.Helper()
	var kf struct{ Keys []struct{ Id, Secret string } }
	if err := json.Unmarshal(keyData, &kf); err != nil {
		t.Fatal(err)
	}
	secret, err := base64.StdEncoding.DecodeString(kf.Keys[0].Secret)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := impersonation.NewKeyRing(impersonation.Key{ID: kf.Keys[0].Id, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	is, err := impersonation.NewIssuer(ring, impersonation.IssuerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := is.AssumeImpersonationRole(demoOrg, archiverID)
	if err != nil {
		t.Fatal(err)
	}
	return out.Token
}
