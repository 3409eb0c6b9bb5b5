package enforce

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/org"
	"github.com/wmpolicy/wmpolicy/policy"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// upstreamSeen is what the EWS server behind the proxy received.
type upstreamSeen struct {
	method, path, host string
	header             http.Header
	body               []byte
	contentLength      int64
}

// ewsFixture is the example organization in an in-memory store: the users of
// examples/org, the archiver role (READ_ONLY; every user but alice; from
// 10.20.0.0/16 only) and the migrator role (FULL_ACCESS; every user), and an
// EWS proxy in front of a recording upstream.
type ewsFixture struct {
	store              *org.Store
	clock              *testClock
	orgID              string
	archiver, migrator string
	tokArchiver        string
	tokMigrator        string
	tokForeign         string // a token of another organization's role
	proxy              *EWSProxy
	upstream           *httptest.Server

	mu   sync.Mutex
	seen []upstreamSeen
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func newEWSFixture(t testing.TB, limit int) *ewsFixture {
	t.Helper()
	f := &ewsFixture{clock: &testClock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}}
	s, err := org.Open(org.Options{Clock: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f.store = s
	f.orgID = must(s.CreateOrganization(context.Background(), org.CreateOrganizationInput{Alias: "example"})).OrganizationId
	var users org.ImportUsersInput
	data, err := os.ReadFile(exampleUsers)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &users); err != nil {
		t.Fatal(err)
	}
	users.OrganizationId = f.orgID
	must(s.ImportUsers(context.Background(), users))
	f.archiver = must(s.CreateImpersonationRole(context.Background(), org.CreateImpersonationRoleInput{
		OrganizationId: f.orgID, Name: "archiver", Type: impersonation.ReadOnly,
		Rules: []impersonation.Rule{
			{ImpersonationRuleId: "allow-all-users", Effect: policy.Allow},
			{ImpersonationRuleId: "deny-admin", Effect: policy.Deny, TargetUsers: []string{"alice@example.com"}},
		},
	})).ImpersonationRoleId
	f.migrator = must(s.CreateImpersonationRole(context.Background(), org.CreateImpersonationRoleInput{
		OrganizationId: f.orgID, Name: "migrator", Type: impersonation.FullAccess,
		Rules: []impersonation.Rule{{ImpersonationRuleId: "all", Effect: policy.Allow}},
	})).ImpersonationRoleId
	must(s.PutAccessControlRule(context.Background(), org.PutAccessControlRuleInput{
		OrganizationId: f.orgID, Name: "archiver-from-datacenter", Effect: policy.Deny,
		NotIpRanges: []string{"10.20.0.0/16"}, ImpersonationRoleIds: []string{f.archiver},
	}))
	must(s.PutAccessControlRule(context.Background(), org.PutAccessControlRuleInput{
		OrganizationId: f.orgID, Name: "contractors-webmail-only", Effect: policy.Deny,
		NotActions: []string{"WebMail"}, UserIds: []string{"carol.contractor@example.com"},
	}))
	f.tokArchiver = must(s.AssumeImpersonationRole(context.Background(), org.AssumeImpersonationRoleInput{OrganizationId: f.orgID, ImpersonationRoleId: f.archiver})).Token
	f.tokMigrator = must(s.AssumeImpersonationRole(context.Background(), org.AssumeImpersonationRoleInput{OrganizationId: f.orgID, ImpersonationRoleId: f.migrator})).Token
	other := must(s.CreateOrganization(context.Background(), org.CreateOrganizationInput{Alias: "other"})).OrganizationId
	otherRole := must(s.CreateImpersonationRole(context.Background(), org.CreateImpersonationRoleInput{
		OrganizationId: other, Name: "migrator", Type: impersonation.FullAccess,
		Rules: []impersonation.Rule{{ImpersonationRuleId: "all", Effect: policy.Allow}},
	})).ImpersonationRoleId
	f.tokForeign = must(s.AssumeImpersonationRole(context.Background(), org.AssumeImpersonationRoleInput{OrganizationId: other, ImpersonationRoleId: otherRole})).Token

	f.upstream = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.seen = append(f.seen, upstreamSeen{r.Method, r.URL.RequestURI(), r.Host, r.Header.Clone(), b, r.ContentLength})
		f.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		io.WriteString(w, "<ok/>")
	}))
	t.Cleanup(f.upstream.Close)
	src, err := NewOrgSource(s, f.orgID)
	if err != nil {
		t.Fatal(err)
	}
	dec := &Decider{Source: src, Log: quietLog()}
	f.proxy, err = NewEWSProxy(EWSProxyOptions{
		Upstream:      must(url.Parse(f.upstream.URL)),
		Authorizers:   NewEWSAuthorizers(src, StoreEWSAuthorizer(s, f.orgID), quietLog()),
		HTTP:          &HTTPAuthz{Decider: dec},
		MaxSOAPHeader: limit,
		Log:           quietLog(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// do sends one request through the proxy from client (an IPv4 address) and
// returns the status and what the upstream saw (nil when it saw nothing).
func (f *ewsFixture) do(t testing.TB, client, path, auth string, body io.Reader, contentLength int64) (int, *upstreamSeen) {
	t.Helper()
	f.mu.Lock()
	n := len(f.seen)
	f.mu.Unlock()
	r := httptest.NewRequest("POST", path, body)
	r.ContentLength = contentLength
	r.Header.Set("Content-Type", "text/xml; charset=utf-8")
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	r.RemoteAddr = client + ":50000"
	w := httptest.NewRecorder()
	f.proxy.ServeHTTP(w, r)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) > n {
		s := f.seen[len(f.seen)-1]
		return w.Code, &s
	}
	return w.Code, nil
}

func (f *ewsFixture) post(t testing.TB, client, auth string, doc []byte) (int, *upstreamSeen) {
	return f.do(t, client, "/EWS/Exchange.asmx", auth, bytes.NewReader(doc), int64(len(doc)))
}

func bearer(tok string) string { return "Bearer " + tok }

// SEMANTICS E8, B9: impersonated requests with real SOAP bodies and tokens
// from AssumeImpersonationRole.
func TestSemanticsE8_EWSProxy(t *testing.T) {
	f := newEWSFixture(t, 0)
	find, get, create, send := readEWS(t, "finditem.xml"), readEWS(t, "getitem.xml"), readEWS(t, "createitem.xml"), readEWS(t, "senditem.xml")
	asAlice := func(b []byte) []byte {
		return bytes.ReplaceAll(b, []byte("bob@example.com"), []byte("alice@example.com"))
	}
	for _, tc := range []struct {
		name, client, tok string
		doc               []byte
		want              int
	}{
		{"archiver FindItem bob from the data center", "10.20.1.1", f.tokArchiver, find, 200},
		{"archiver GetItem bob", "10.20.1.1", f.tokArchiver, get, 200},
		{"archiver CreateItem: READ_ONLY writes", "10.20.1.1", f.tokArchiver, create, 403},
		{"archiver SendItem: READ_ONLY writes", "10.20.1.1", f.tokArchiver, send, 403},
		{"archiver from outside the data center (access control)", "127.0.1.5", f.tokArchiver, find, 403},
		{"archiver FindItem alice (role denies)", "10.20.1.1", f.tokArchiver, asAlice(find), 403},
		{"archiver FindItem dave (disabled)", "10.20.1.1", f.tokArchiver, bytes.ReplaceAll(find, []byte("bob@"), []byte("dave@")), 403},
		{"archiver FindItem unknown", "10.20.1.1", f.tokArchiver, bytes.ReplaceAll(find, []byte("bob@"), []byte("nobody@")), 403},
		{"migrator CreateItem", "127.0.1.5", f.tokMigrator, create, 200},
		{"migrator SendItem by SID", "127.0.1.5", f.tokMigrator, send, 200},
		{"migrator FindItem alice", "127.0.1.5", f.tokMigrator, asAlice(find), 200},
		{"foreign token", "127.0.1.5", f.tokForeign, find, 401},
		{"forged token", "127.0.1.5", forge(f.tokMigrator), find, 401},
		{"not a token", "127.0.1.5", "abc", find, 401},
		{"IPv6 client", "2001:db8::1", f.tokMigrator, find, 403},
	} {
		client := tc.client
		if strings.Contains(client, ":") {
			client = "[" + client + "]"
		}
		code, seen := f.post(t, client, bearer(tc.tok), tc.doc)
		if code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, code, tc.want)
		}
		if (seen != nil) != (tc.want == 200) {
			t.Errorf("%s: upstream saw the request: %v", tc.name, seen != nil)
		}
		if seen != nil && !bytes.Equal(seen.body, tc.doc) {
			t.Errorf("%s: upstream body differs from the client's", tc.name)
		}
	}

	// The expired token: the clock moves past the 900 seconds.
	f.clock.Advance(impersonation.TokenExpiresIn * time.Second)
	if code, _ := f.post(t, "127.0.1.5", bearer(f.tokMigrator), create); code != 401 {
		t.Errorf("expired token: status %d, want 401", code)
	}
}

// forge changes one character in the middle of a token.
func forge(tok string) string {
	b := []byte(tok)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// SEMANTICS E8: what reaches the upstream is exactly what the client sent,
// streamed (a large body, with and without a Content-Length), with the
// client's headers.
func TestSemanticsE8_EWSProxyForwardsUntouched(t *testing.T) {
	f := newEWSFixture(t, 4096)
	create := readEWS(t, "createitem.xml")
	// A CreateItem with a 3 MiB attachment-sized body.
	big := bytes.Replace(create, []byte("Focus on your backhand this week."), bytes.Repeat([]byte("0123456789abcdef"), 3<<16), 1)
	for _, cl := range []int64{int64(len(big)), -1} {
		code, seen := f.do(t, "127.0.1.5", "/EWS/Exchange.asmx?x=1", bearer(f.tokMigrator), bytes.NewReader(big), cl)
		if code != 200 || seen == nil {
			t.Fatalf("Content-Length %d: status %d", cl, code)
		}
		if sha256.Sum256(seen.body) != sha256.Sum256(big) {
			t.Errorf("Content-Length %d: the upstream got %d bytes that differ from the client's %d", cl, len(seen.body), len(big))
		}
		if seen.path != "/EWS/Exchange.asmx?x=1" || seen.method != "POST" || seen.host != "example.com" {
			t.Errorf("upstream saw %s %s Host %s", seen.method, seen.path, seen.host)
		}
		if cl >= 0 && seen.contentLength != cl {
			t.Errorf("upstream Content-Length %d, want %d", seen.contentLength, cl)
		}
		if seen.header.Get("Authorization") != bearer(f.tokMigrator) || seen.header.Get("Content-Type") != "text/xml; charset=utf-8" {
			t.Errorf("upstream headers changed: %v", seen.header)
		}
		if seen.header.Get("X-Forwarded-For") != "127.0.1.5" {
			t.Errorf("upstream X-Forwarded-For = %q", seen.header.Get("X-Forwarded-For"))
		}
	}
}

// countingReader counts what is read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// endless repeats its text forever.
type endless struct {
	s   string
	off int
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.s[e.off%len(e.s)]
		e.off++
	}
	return len(p), nil
}

// SEMANTICS E8: an oversized, malformed, entity-laden or header-less body, and
// a token off EWS (A12), are refused, without reading past the limit.
func TestSemanticsE8_EWSProxyRefusals(t *testing.T) {
	const limit = 2048
	f := newEWSFixture(t, limit)
	tok := bearer(f.tokMigrator)
	for _, tc := range []struct {
		name string
		path string
		doc  string
		want int
	}{
		{"header past the limit", "/EWS/Exchange.asmx", envOpen + `<s:Header><t:Pad>` + strings.Repeat("x", limit) + `</t:Pad>` + imp + `</s:Header>` + body + envClose, 403},
		{"malformed XML", "/EWS/Exchange.asmx", envOpen + `<s:Header>` + imp + `</s:Body>`, 403},
		{"entity expansion", "/EWS/Exchange.asmx", `<!DOCTYPE x [<!ENTITY a "bob@example.com">]>` + envOpen + `<s:Header><t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>&a;</t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></s:Header>` + body + envClose, 403},
		{"missing header", "/EWS/Exchange.asmx", envOpen + body + envClose, 403},
		{"empty body", "/EWS/Exchange.asmx", "", 403},
		{"Bearer on OWA (A12)", "/owa/", envOpen + `<s:Header>` + imp + `</s:Header>` + body + envClose, 403},
		{"Bearer on ActiveSync (A12)", "/Microsoft-Server-ActiveSync", envOpen + `<s:Header>` + imp + `</s:Header>` + body + envClose, 403},
		{"dot-dot off EWS (A12)", "/EWS/../owa/", envOpen + `<s:Header>` + imp + `</s:Header>` + body + envClose, 403},
		{"control: allowed", "/EWS/Exchange.asmx", envOpen + `<s:Header>` + imp + `</s:Header>` + body + envClose, 200},
	} {
		code, seen := f.do(t, "127.0.1.5", tc.path, tok, strings.NewReader(tc.doc), int64(len(tc.doc)))
		if code != tc.want || (seen != nil) != (tc.want == 200) {
			t.Errorf("%s: status %d (upstream called: %v), want %d", tc.name, code, seen != nil, tc.want)
		}
	}
	// An endless body: refused after reading at most the limit.
	cr := &countingReader{r: io.MultiReader(strings.NewReader(envOpen+`<s:Header>`), &endless{s: "<t:Pad/>"})}
	code, seen := f.do(t, "127.0.1.5", "/EWS/Exchange.asmx", tok, cr, -1)
	if code != 403 || seen != nil || cr.n > limit {
		t.Errorf("endless body: status %d, upstream %v, %d bytes read (limit %d)", code, seen != nil, cr.n, limit)
	}
}

// SEMANTICS E7 through the proxy: requests without a token are decided as the
// authorization endpoint decides them.
func TestSemanticsE7_EWSProxyWithoutToken(t *testing.T) {
	f := newEWSFixture(t, 0)
	find := readEWS(t, "finditem.xml")
	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"bob Basic", basic("bob"), 200},
		{"carol Basic (WebMail only)", basic("carol"), 403},
		{"dave disabled", basic("dave"), 403},
		{"no credentials", "", 401},
	} {
		code, seen := f.post(t, "127.0.1.5", tc.auth, find)
		if code != tc.want || (seen != nil) != (tc.want == 200) {
			t.Errorf("%s: status %d (upstream called: %v), want %d", tc.name, code, seen != nil, tc.want)
		}
		if seen != nil && !bytes.Equal(seen.body, find) {
			t.Errorf("%s: body changed", tc.name)
		}
	}
}

// SEMANTICS B9 with a changing store: the authorizer follows the snapshot
// (a new DENY rule, a deleted role) at the next request.
func TestSemanticsB9_EWSProxyFollowsStore(t *testing.T) {
	f := newEWSFixture(t, 0)
	find := readEWS(t, "finditem.xml")
	if code, _ := f.post(t, "127.0.1.5", bearer(f.tokMigrator), find); code != 200 {
		t.Fatalf("before: status %d", code)
	}
	must(f.store.PutAccessControlRule(context.Background(), org.PutAccessControlRuleInput{
		OrganizationId: f.orgID, Name: "no-migration", Effect: policy.Deny, ImpersonationRoleIds: []string{f.migrator},
	}))
	if code, _ := f.post(t, "127.0.1.5", bearer(f.tokMigrator), find); code != 403 {
		t.Errorf("after a DENY rule: status %d, want 403", code)
	}
	must(f.store.DeleteImpersonationRole(context.Background(), org.DeleteImpersonationRoleInput{OrganizationId: f.orgID, ImpersonationRoleId: f.migrator}))
	if code, _ := f.post(t, "127.0.1.5", bearer(f.tokMigrator), find); code != 401 {
		t.Errorf("after deleting the role: status %d, want 401", code)
	}
}

// SEMANTICS E3: without authorizers every impersonated request is denied.
func TestSemanticsE3_EWSProxyWithoutAuthorizers(t *testing.T) {
	f := newEWSFixture(t, 0)
	p, err := NewEWSProxy(EWSProxyOptions{Upstream: must(url.Parse(f.upstream.URL)), HTTP: &HTTPAuthz{}, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	f.proxy = p
	if code, seen := f.post(t, "127.0.1.5", bearer(f.tokMigrator), readEWS(t, "finditem.xml")); code != 401 || seen != nil {
		t.Errorf("status %d, upstream %v; want 401 and nothing forwarded", code, seen != nil)
	}
	for _, bad := range []EWSProxyOptions{
		{HTTP: &HTTPAuthz{}},
		{Upstream: must(url.Parse("ftp://x/")), HTTP: &HTTPAuthz{}},
		{Upstream: must(url.Parse(f.upstream.URL))},
		{Upstream: must(url.Parse(f.upstream.URL)), HTTP: &HTTPAuthz{}, MaxSOAPHeader: MaxMaxSOAPHeader + 1},
	} {
		if _, err := NewEWSProxy(bad); err == nil {
			t.Errorf("NewEWSProxy(%+v) accepted", bad)
		}
	}
}

// SEMANTICS B9 from files: roles and keys given to FileEWSAuthorizer decide
// with the FileSource's rules and directory.
func TestSemanticsB9_FileEWSAuthorizer(t *testing.T) {
	src := exampleFileSource(t)
	role := must(impersonation.DecodeRole(must(os.ReadFile("testdata/ews/role.json"))))
	keyData := must(os.ReadFile("testdata/ews/demo-key.json"))
	var kf struct{ Keys []struct{ Id, Secret string } }
	if err := json.Unmarshal(keyData, &kf); err != nil {
		t.Fatal(err)
	}
	secret := must(base64Decode(kf.Keys[0].Secret))
	ring := must(impersonation.NewKeyRing(impersonation.Key{ID: kf.Keys[0].Id, Secret: secret}))
	const orgID = "m-d281d0a2fd824be5b6cd3d3ce909fd27"
	now := time.Now()
	issuer := must(impersonation.NewIssuer(ring, impersonation.IssuerOptions{Clock: func() time.Time { return now }}))
	tok := must(issuer.AssumeImpersonationRole(orgID, role.ImpersonationRoleId)).Token
	auths := NewEWSAuthorizers(src, FileEWSAuthorizer(orgID, []impersonation.Role{role}, ring, func() time.Time { return now }), quietLog())
	a := auths.Authorizer()
	if a == nil || auths.Authorizer() != a {
		t.Fatal("no authorizer, or not cached")
	}
	for _, tc := range []struct {
		client, target string
		allowed        bool
	}{
		{"10.20.1.1", "bob@example.com", true},
		{"10.20.1.1", "alice@example.com", false},
		{"127.0.1.5", "bob@example.com", false},
	} {
		d := a.Authorize(tok, mustAddr(tc.client), tc.target)
		if d.Allowed != tc.allowed || d.Type != impersonation.ReadOnly {
			t.Errorf("%s → %s: allowed %v (failed %v), want %v", tc.client, tc.target, d.Allowed, d.Failed, tc.allowed)
		}
	}
}

func base64Decode(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
