package awsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/org"
)

// TestModelOperations checks the handler's tables against the service model
// (testdata/, a copy of the botocore model): every operation of the model is
// known, every implemented one is in the model, and each implemented
// operation's Go request shape has exactly the model's members (D2: a model
// member is never refused as unknown, anything else always is).
func TestModelOperations(t *testing.T) {
	data, err := os.ReadFile("testdata/workmail-2017-10-01.service-2.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Operations map[string]struct {
			Input struct{ Shape string } `json:"input"`
		} `json:"operations"`
		Shapes map[string]struct {
			Members map[string]json.RawMessage `json:"members"`
		} `json:"shapes"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for name := range m.Operations {
		want = append(want, name)
	}
	for name := range modelOperations {
		got = append(got, name)
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("modelOperations differs from the model: %s", diff)
	}
	for name, op := range operations {
		mo, ok := m.Operations[name]
		if !ok {
			t.Errorf("%s is not an operation of the model", name)
			continue
		}
		var members, fields []string
		for k := range m.Shapes[mo.Input.Shape].Members {
			members = append(members, k)
		}
		fields = jsonFields(op.in)
		sort.Strings(members)
		sort.Strings(fields)
		if diff := cmp.Diff(members, fields); diff != "" {
			t.Errorf("%s: request shape differs from the model's %s: %s", name, mo.Input.Shape, diff)
		}
	}
	if len(Operations()) != 24 {
		t.Errorf("%d operations, want 24: %v", len(Operations()), Operations())
	}
}

// jsonFields returns the JSON member names of a struct type (embedded
// structs promoted).
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

// SEMANTICS F1, F4, F5: every implemented operation over HTTP with a signed
// request, in the model's shapes.
func TestSemanticsF1_Flow(t *testing.T) {
	e := newTestEnv(t, nil)
	var co org.CreateOrganizationOutput
	if st, code := e.call("CreateOrganization", map[string]any{"Alias": "flow", "ClientToken": "tok-1"}, &co); st != 200 {
		t.Fatalf("CreateOrganization: %d %s", st, code)
	}
	var again org.CreateOrganizationOutput
	e.call("CreateOrganization", map[string]any{"Alias": "flow", "ClientToken": "tok-1"}, &again)
	if again.OrganizationId != co.OrganizationId {
		t.Fatalf("ClientToken replay: %s, want %s", again.OrganizationId, co.OrganizationId)
	}
	id := co.OrganizationId
	var desc map[string]any
	e.call("DescribeOrganization", map[string]any{"OrganizationId": id}, &desc)
	if desc["State"] != "Active" || desc["DefaultMailDomain"] != "flow.awsapps.com" {
		t.Fatalf("DescribeOrganization: %v", desc)
	}
	var lo org.ListOrganizationsOutput
	e.call("ListOrganizations", map[string]any{"MaxResults": 1}, &lo)
	if len(lo.OrganizationSummaries) != 1 || lo.NextToken == "" {
		t.Fatalf("ListOrganizations page: %+v", lo)
	}
	var cu org.CreateUserOutput
	if st, code := e.call("CreateUser", map[string]any{"OrganizationId": id, "Name": "alice", "DisplayName": "Alice", "Password": "pw-Secret-1"}, &cu); st != 200 {
		t.Fatalf("CreateUser: %d %s", st, code)
	}
	if st, code := e.call("RegisterToWorkMail", map[string]any{"OrganizationId": id, "EntityId": cu.UserId, "Email": "alice@flow.awsapps.com"}, nil); st != 200 {
		t.Fatalf("RegisterToWorkMail: %d %s", st, code)
	}
	var du map[string]any
	e.call("DescribeUser", map[string]any{"OrganizationId": id, "UserId": "alice"}, &du)
	if du["State"] != "ENABLED" || du["Email"] != "alice@flow.awsapps.com" {
		t.Fatalf("DescribeUser: %v", du)
	}
	// SEMANTICS F5: an alias, listed, naming alice in GetAccessControlEffect.
	if st, code := e.call("CreateAlias", map[string]any{"OrganizationId": id, "EntityId": "alice", "Alias": "ali@flow.awsapps.com"}, nil); st != 200 {
		t.Fatalf("CreateAlias: %d %s", st, code)
	}
	var la map[string]any
	e.call("ListAliases", map[string]any{"OrganizationId": id, "EntityId": cu.UserId, "MaxResults": 10}, &la)
	if !reflect.DeepEqual(la, map[string]any{"Aliases": []any{"ali@flow.awsapps.com"}}) {
		t.Fatalf("ListAliases: %v", la)
	}
	var lu map[string]any
	e.call("ListUsers", map[string]any{"OrganizationId": id}, &lu)
	if users := lu["Users"].([]any); len(users) != 1 {
		t.Fatalf("ListUsers: %v", lu)
	}
	if st, code := e.call("PutAccessControlRule", map[string]any{"OrganizationId": id, "Name": "no-imap", "Effect": "DENY", "Description": "d",
		"Actions": []string{"IMAP"}, "UserIds": []string{"alice@flow.awsapps.com"}}, nil); st != 200 {
		t.Fatalf("PutAccessControlRule: %d %s", st, code)
	}
	var eff accessctl.GetAccessControlEffectOutput
	e.call("GetAccessControlEffect", map[string]any{"OrganizationId": id, "IpAddress": "127.0.0.1", "Action": "IMAP", "UserId": "ali@flow.awsapps.com"}, &eff)
	if eff.Effect.String() != "DENY" || !reflect.DeepEqual(eff.MatchedRules, []string{"no-imap"}) {
		t.Fatalf("GetAccessControlEffect: %+v", eff)
	}
	var rules map[string][]map[string]any
	e.call("ListAccessControlRules", map[string]any{"OrganizationId": id}, &rules)
	if len(rules["Rules"]) != 2 {
		t.Fatalf("ListAccessControlRules: %v", rules)
	}
	var role org.CreateImpersonationRoleOutput
	roleIn := map[string]any{"OrganizationId": id, "Name": "r", "Type": "READ_ONLY", "ClientToken": "role-tok",
		"Rules": []map[string]any{{"ImpersonationRuleId": "r1", "Effect": "ALLOW", "TargetUsers": []string{"alice"}}}}
	if st, code := e.call("CreateImpersonationRole", roleIn, &role); st != 200 {
		t.Fatalf("CreateImpersonationRole: %d %s", st, code)
	}
	var role2 org.CreateImpersonationRoleOutput
	e.call("CreateImpersonationRole", roleIn, &role2)
	if role2 != role {
		t.Fatalf("role ClientToken replay: %v %v", role2, role)
	}
	rid := role.ImpersonationRoleId
	var gr map[string]any
	e.call("GetImpersonationRole", map[string]any{"OrganizationId": id, "ImpersonationRoleId": rid}, &gr)
	if gr["Name"] != "r" || gr["Type"] != "READ_ONLY" {
		t.Fatalf("GetImpersonationRole: %v", gr)
	}
	if st, code := e.call("UpdateImpersonationRole", map[string]any{"OrganizationId": id, "ImpersonationRoleId": rid, "Name": "r2", "Type": "FULL_ACCESS",
		"Rules": []map[string]any{{"ImpersonationRuleId": "r1", "Effect": "ALLOW"}}}, nil); st != 200 {
		t.Fatalf("UpdateImpersonationRole: %d %s", st, code)
	}
	var lr map[string]any
	e.call("ListImpersonationRoles", map[string]any{"OrganizationId": id}, &lr)
	if roles := lr["Roles"].([]any); len(roles) != 1 {
		t.Fatalf("ListImpersonationRoles: %v", lr)
	}
	var ge map[string]any
	e.call("GetImpersonationRoleEffect", map[string]any{"OrganizationId": id, "ImpersonationRoleId": rid, "TargetUser": "alice"}, &ge)
	if ge["Effect"] != "ALLOW" || ge["Type"] != "FULL_ACCESS" {
		t.Fatalf("GetImpersonationRoleEffect: %v", ge)
	}
	var tok map[string]any
	e.call("AssumeImpersonationRole", map[string]any{"OrganizationId": id, "ImpersonationRoleId": rid}, &tok)
	if tok["ExpiresIn"] != float64(900) || tok["Token"] == "" {
		t.Fatalf("AssumeImpersonationRole: %v", tok)
	}
	for _, c := range []struct {
		op   string
		in   map[string]any
		code string
	}{
		{"DeleteUser", map[string]any{"OrganizationId": id, "UserId": "alice"}, "EntityStateException"},
		{"CreateAlias", map[string]any{"OrganizationId": id, "EntityId": "alice", "Alias": "x@elsewhere.example"}, "MailDomainNotFoundException"},
		{"DeleteAlias", map[string]any{"OrganizationId": id, "EntityId": "alice", "Alias": "ali@flow.awsapps.com"}, ""},
		{"DeregisterFromWorkMail", map[string]any{"OrganizationId": id, "EntityId": "alice"}, ""},
		{"DeleteAccessControlRule", map[string]any{"OrganizationId": id, "Name": "no-imap"}, ""},
		{"DeleteUser", map[string]any{"OrganizationId": id, "UserId": "alice"}, ""},
		{"DeleteImpersonationRole", map[string]any{"OrganizationId": id, "ImpersonationRoleId": rid}, ""},
		{"DeleteOrganization", map[string]any{"OrganizationId": id, "DeleteDirectory": true}, ""},
		{"DescribeOrganization", map[string]any{"OrganizationId": id}, "OrganizationNotFoundException"},
	} {
		st, code := e.call(c.op, c.in, nil)
		if code != c.code || (c.code == "") != (st == 200) {
			t.Fatalf("%s: %d %s, want %q", c.op, st, code, c.code)
		}
	}
}

// SEMANTICS F3: valid signatures pass; every refusal of the issue is
// answered with its code and changes nothing.
func TestSemanticsF3_Signatures(t *testing.T) {
	e := newTestEnv(t, nil)
	put := func() []byte {
		b, _ := json.Marshal(map[string]any{"OrganizationId": e.org, "Name": "r", "Effect": "DENY", "Description": "x"})
		return b
	}
	body := put()
	cases := []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"changed body", func() *http.Request {
			r := e.request(testKeyID, testSecret, "PutAccessControlRule", body)
			changed := bytes.Replace(body, []byte(`"DENY"`), []byte(`"ALLOW"`), 1)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(changed)), int64(len(changed))
			return r
		}, 403, "InvalidSignatureException"},
		{"changed header", func() *http.Request {
			r := e.request(testKeyID, testSecret, "PutAccessControlRule", body)
			r.Header.Set("X-Amz-Target", TargetPrefix+"DeleteAccessControlRule")
			return r
		}, 403, "InvalidSignatureException"},
		{"changed query", func() *http.Request {
			r := e.request(testKeyID, testSecret, "PutAccessControlRule", body)
			r.URL.RawQuery = "x=1"
			return r
		}, 403, "InvalidSignatureException"},
		{"date outside the window", func() *http.Request {
			old := e.now
			e.now = e.now.Add(-16 * time.Minute)
			defer func() { e.now = old }()
			return e.request(testKeyID, testSecret, "PutAccessControlRule", body)
		}, 403, "InvalidSignatureException"},
		{"date in the future", func() *http.Request {
			old := e.now
			e.now = e.now.Add(16 * time.Minute)
			defer func() { e.now = old }()
			return e.request(testKeyID, testSecret, "PutAccessControlRule", body)
		}, 403, "InvalidSignatureException"},
		{"wrong secret", func() *http.Request {
			return e.request(testKeyID, testSecret+"x", "PutAccessControlRule", body)
		}, 403, "InvalidSignatureException"},
		{"unknown key", func() *http.Request {
			return e.request("WMPUNKNOWNKEY0000001", testSecret, "PutAccessControlRule", body)
		}, 403, "UnrecognizedClientException"},
		{"missing Authorization", func() *http.Request {
			return e.request("", "", "PutAccessControlRule", body)
		}, 403, "MissingAuthenticationTokenException"},
		{"malformed Authorization", func() *http.Request {
			r := e.request(testKeyID, testSecret, "PutAccessControlRule", body)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders", "Signed", 1))
			return r
		}, 403, "IncompleteSignatureException"},
		{"host not signed", func() *http.Request {
			r := e.request(testKeyID, testSecret, "PutAccessControlRule", body)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";host;", ";", 1))
			return r
		}, 403, "InvalidSignatureException"},
		{"x-amz-target not signed", func() *http.Request {
			// Signed correctly, but over every header but X-Amz-Target: the
			// operation could be swapped for another of the same input shape.
			r := e.request("", "", "PutAccessControlRule", body)
			r.Header.Del("X-Amz-Target")
			SignRequest(r, body, testKeyID, testSecret, testRegion, e.now)
			r.Header.Set("X-Amz-Target", TargetPrefix+"PutAccessControlRule")
			return r
		}, 403, "InvalidSignatureException"},
		{"another region", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/", bytes.NewReader(body))
			r.Header.Set("Content-Type", ContentType)
			r.Header.Set("X-Amz-Target", TargetPrefix+"PutAccessControlRule")
			SignRequest(r, body, testKeyID, testSecret, "eu-west-1", e.now)
			return r
		}, 403, "InvalidSignatureException"},
		{"read-only key writing", func() *http.Request {
			return e.request(testROKeyID, testSecret, "PutAccessControlRule", body)
		}, 403, "AccessDeniedException"},
		{"organization outside the grant", func() *http.Request {
			b, _ := json.Marshal(map[string]any{"OrganizationId": testOtherOrg, "Name": "r", "Effect": "DENY", "Description": "x"})
			return e.request(testOrgKeyID, testSecret, "PutAccessControlRule", b)
		}, 403, "AccessDeniedException"},
		{"limited key creating an organization", func() *http.Request {
			return e.request(testOrgKeyID, testSecret, "CreateOrganization", []byte(`{"Alias":"other"}`))
		}, 403, "AccessDeniedException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rev := e.revision()
			st, code, b := e.do(c.req())
			if st != c.status || code != c.code {
				t.Fatalf("%d %s (%s), want %d %s", st, code, b, c.status, c.code)
			}
			if strings.Contains(string(b), testSecret) {
				t.Fatalf("the answer holds the secret: %s", b)
			}
			if e.revision() != rev {
				t.Fatal("a refused request changed the organization")
			}
			var lo org.ListOrganizationsOutput
			e.call("ListOrganizations", map[string]any{}, &lo)
			if len(lo.OrganizationSummaries) != 1 {
				t.Fatalf("organizations: %+v", lo)
			}
		})
	}
	// Valid signatures pass: the main key, the read-only key reading, the
	// limited key on its organization, a date 14 minutes off.
	for _, k := range []string{testKeyID, testOrgKeyID} {
		if st, code, b := e.do(e.request(k, testSecret, "PutAccessControlRule", body)); st != 200 {
			t.Fatalf("%s: %d %s %s", k, st, code, b)
		}
	}
	lb, _ := json.Marshal(map[string]any{"OrganizationId": e.org})
	if st, code, _ := e.do(e.request(testROKeyID, testSecret, "ListAccessControlRules", lb)); st != 200 {
		t.Fatalf("read-only key reading: %d %s", st, code)
	}
	e.now = e.now.Add(14 * time.Minute)
	r := e.request(testKeyID, testSecret, "ListAccessControlRules", lb)
	e.now = e.now.Add(-14 * time.Minute)
	if st, code, _ := e.do(r); st != 200 {
		t.Fatalf("14 minutes off: %d %s", st, code)
	}
	// A limited key lists only its organizations.
	var lo org.ListOrganizationsOutput
	other, _ := e.store.CreateOrganization(context.Background(), org.CreateOrganizationInput{Alias: "zz"})
	st, _, b := e.do(e.request(testOrgKeyID, testSecret, "ListOrganizations", []byte(`{}`)))
	json.Unmarshal(b, &lo)
	if st != 200 || len(lo.OrganizationSummaries) != 1 || lo.OrganizationSummaries[0].OrganizationId != e.org {
		t.Fatalf("limited ListOrganizations: %d %+v (other %s)", st, lo, other.OrganizationId)
	}
}

// The signing primitives against the worked example of AWS's SigV4
// documentation (GET Object, examplebucket, 20130524): its canonical request
// and signature.
func TestSigV4DocumentationExample(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "http://examplebucket.s3.amazonaws.com/test.txt", nil)
	r.Header.Set("Range", "bytes=0-9")
	r.Header.Set("X-Amz-Content-Sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	r.Header.Set("X-Amz-Date", "20130524T000000Z")
	signed := []string{"host", "range", "x-amz-content-sha256", "x-amz-date"}
	cb, err := canonicalRequest(nil, r, strings.Join(signed, ";"), []byte("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
	if err != nil {
		t.Fatal(err)
	}
	canon := string(cb)
	want := "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n" +
		"x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:20130524T000000Z\n\n" +
		"host;range;x-amz-content-sha256;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if canon != want {
		t.Fatalf("canonical request:\n%s\nwant\n%s", canon, want)
	}
	sts := stringToSign("20130524T000000Z", "20130524/us-east-1/s3/aws4_request", canon)
	if !strings.HasSuffix(sts, "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972") {
		t.Fatalf("string to sign %q", sts)
	}
	sk := signingKey("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", "s3")
	sig := hmacSHA256(sk[:], sts)
	if got := hexString(sig); got != "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41" {
		t.Fatalf("signature %s", got)
	}
}

func hexString(b []byte) string {
	const d = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, d[c>>4], d[c&15])
	}
	return string(out)
}

// countingReader counts the bytes read from it.
type countingReader struct {
	n, limit int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n >= c.limit {
		return 0, io.EOF
	}
	if int64(len(p)) > c.limit-c.n {
		p = p[:c.limit-c.n]
	}
	for i := range p {
		p[i] = ' '
	}
	c.n += int64(len(p))
	return len(p), nil
}

// SEMANTICS F2, D2: bad input is answered with its code, changes nothing,
// and the server keeps serving.
func TestSemanticsF2_BadInput(t *testing.T) {
	e := newTestEnv(t, nil)
	valid := `{"OrganizationId":"` + e.org + `","Name":"r","Effect":"DENY","Description":"x"}`
	cases := []struct {
		name, op, body string
		status         int
		code           string
	}{
		{"truncated JSON", "PutAccessControlRule", valid[:len(valid)-5], 400, "SerializationException"},
		{"not JSON", "PutAccessControlRule", "Name=r", 400, "SerializationException"},
		{"empty body", "ListOrganizations", "", 400, "SerializationException"},
		{"wrong type", "PutAccessControlRule", strings.Replace(valid, `"DENY"`, `["DENY"]`, 1), 400, "ValidationException"},
		{"unknown field", "PutAccessControlRule", strings.Replace(valid, `"Name"`, `"NotIpRange":["1.0.0.0/8"],"Name"`, 1), 400, "ValidationException"},
		{"wrong case", "PutAccessControlRule", strings.Replace(valid, `"Name"`, `"name"`, 1), 400, "ValidationException"},
		{"duplicate key", "PutAccessControlRule", strings.Replace(valid, `"Name":"r"`, `"Name":"r","Name":"s"`, 1), 400, "ValidationException"},
		{"invalid UTF-8", "PutAccessControlRule", strings.Replace(valid, `"x"`, "\"\xff\"", 1), 400, "ValidationException"},
		{"unknown target", "DropEverything", "{}", 400, "UnknownOperationException"},
		{"unsupported operation", "CreateGroup", `{"OrganizationId":"` + e.org + `","Name":"g"}`, 400, "UnsupportedOperationException"},
		{"invalid rule", "PutAccessControlRule", strings.Replace(valid, `"x"}`, `"x","Actions":["Imap"]}`, 1), 400, "InvalidParameterException"},
		{"malformed organization", "DescribeOrganization", `{"OrganizationId":"m-1"}`, 400, "ValidationException"},
		{"unknown organization", "DescribeOrganization", `{"OrganizationId":"` + testOtherOrg + `"}`, 400, "OrganizationNotFoundException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rev := e.revision()
			st, code, b := e.do(e.request(testKeyID, testSecret, c.op, []byte(c.body)))
			if st != c.status || code != c.code {
				t.Fatalf("%d %s (%s), want %d %s", st, code, b, c.status, c.code)
			}
			if e.revision() != rev {
				t.Fatal("a refused request changed the organization")
			}
		})
	}
	t.Run("wrong content type", func(t *testing.T) {
		r := e.request(testKeyID, testSecret, "ListOrganizations", []byte("{}"))
		r.Header.Set("Content-Type", "text/plain")
		SignRequest(r, []byte("{}"), testKeyID, testSecret, testRegion, e.now)
		if st, code, _ := e.do(r); st != 400 || code != "SerializationException" {
			t.Fatalf("%d %s", st, code)
		}
	})
	t.Run("GET", func(t *testing.T) {
		r, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/", nil)
		if st, code, _ := e.do(r); st != 405 || code != "UnknownOperationException" {
			t.Fatalf("%d %s", st, code)
		}
	})
	t.Run("10 MB body is not read whole", func(t *testing.T) {
		// Announced: refused from Content-Length, nothing read.
		body := &countingReader{limit: 10 << 20}
		r := httptest.NewRequest(http.MethodPost, "/", body)
		r.ContentLength = body.limit
		r.Header.Set("X-Amz-Target", TargetPrefix+"ListOrganizations")
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		if w.Code != 413 || body.n != 0 {
			t.Fatalf("%d, %d bytes read", w.Code, body.n)
		}
		// Chunked (no length): read up to the limit and one byte more.
		body = &countingReader{limit: 10 << 20}
		r = httptest.NewRequest(http.MethodPost, "/", body)
		r.ContentLength = -1
		w = httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		if w.Code != 413 || body.n > MaxBodyBytes+32<<10 {
			t.Fatalf("%d, %d bytes read", w.Code, body.n)
		}
		// Over the network, too.
		big := bytes.Repeat([]byte(" "), 10<<20)
		resp, err := e.srv.Client().Do(e.request(testKeyID, testSecret, "ListOrganizations", big))
		if err == nil {
			if resp.StatusCode != 413 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			resp.Body.Close()
		}
	})
	// The server keeps serving.
	if st, code, b := e.do(e.request(testKeyID, testSecret, "PutAccessControlRule", []byte(valid))); st != 200 {
		t.Fatalf("after bad input: %d %s %s", st, code, b)
	}
}

// SEMANTICS F3: with authentication off, only loopback peers are served.
func TestSemanticsF3_NoAuthLoopbackOnly(t *testing.T) {
	s, err := org.Open(org.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h, err := NewHandler(Options{Store: s, InsecureNoAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		peer   string
		status int
	}{{"127.0.0.1:5000", 200}, {"[::1]:5000", 200}, {"192.0.2.1:5000", 403}} {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
		r.RemoteAddr = c.peer
		r.Header.Set("Content-Type", ContentType)
		r.Header.Set("X-Amz-Target", TargetPrefix+"ListOrganizations")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.status {
			t.Fatalf("%s: %d %s", c.peer, w.Code, w.Body)
		}
	}
	if _, err := NewHandler(Options{Store: s}); err == nil {
		t.Fatal("NewHandler without credentials and without InsecureNoAuth succeeded")
	}
}

// SEMANTICS F3: the credentials file: mode 0600 enforced, strict, every
// problem reported, no secret in an error.
func TestSemanticsF3_CredentialsFile(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/creds.json"
	k, err := GenerateCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := GenerateCredentials(path); err != ErrCredentialsExist {
		t.Fatalf("second GenerateCredentials: %v", err)
	}
	c, err := LoadCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Key(k.AccessKeyId); !ok || got.SecretAccessKey != k.SecretAccessKey || got.Organizations != nil || len(k.AccessKeyId) != 20 {
		t.Fatalf("loaded %+v, generated %+v", got, k)
	}
	os.Chmod(path, 0o640)
	if _, err := LoadCredentials(path); err == nil || !strings.Contains(err.Error(), "0640") {
		t.Fatalf("mode 0640: %v", err)
	}
	for _, bad := range []string{
		`{"Keys": []}`,
		`{"Keys": [{"AccessKeyId": "short", "SecretAccessKey": "0123456789abcdefXYZ"}]}`,
		`{"Keys": [{"AccessKeyId": "WMPTESTKEY0000000001", "SecretAccessKey": "tiny"}]}`,
		`{"Keys": [{"AccessKeyId": "WMPTESTKEY0000000001", "SecretAccessKey": "0123456789abcdefXYZ", "Organizations": []}]}`,
		`{"Keys": [{"AccessKeyId": "WMPTESTKEY0000000001", "SecretAccessKey": "0123456789abcdefXYZ", "Organizations": ["corp"]}]}`,
		`{"Keys": [{"AccessKeyId": "WMPTESTKEY0000000001", "SecretAccessKey": "0123456789abcdefXYZ", "Readonly": true}]}`,
		`{"Keys": [{"AccessKeyId": "WMPTESTKEY0000000001", "SecretAccessKey": "0123456789abcdefXYZ"},
		           {"AccessKeyId": "WMPTESTKEY0000000001", "SecretAccessKey": "0123456789abcdefXYZ"}]}`,
	} {
		_, err := ParseCredentials([]byte(bad))
		if err == nil {
			t.Fatalf("accepted %s", bad)
		}
		if strings.Contains(err.Error(), "0123456789abcdefXYZ") {
			t.Fatalf("the error quotes the secret: %v", err)
		}
	}
}

// One log line per request: operation, organization, key ID, outcome,
// latency; never the secret, the signature or the body (SEMANTICS F3).
func TestLogLine(t *testing.T) {
	e := newTestEnv(t, nil)
	var buf bytes.Buffer
	e.h.log = slog.New(slog.NewJSONHandler(&buf, nil))
	body := []byte(`{"OrganizationId":"` + e.org + `","Name":"alice","DisplayName":"A","Password":"Hunter2-pw"}`)
	r := e.request(testKeyID, testSecret, "CreateUser", body)
	sig := r.Header.Get("Authorization")
	sig = sig[strings.LastIndex(sig, "=")+1:]
	if st, code, _ := e.do(r); st != 200 {
		t.Fatal(st, code)
	}
	e.do(e.request(testKeyID, testSecret+"x", "CreateUser", body))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %s", len(lines), buf.String())
	}
	var l struct {
		Operation, Organization, Key, Outcome string
		Latency                               int64
	}
	if err := json.Unmarshal([]byte(lines[0]), &l); err != nil {
		t.Fatal(err)
	}
	if l.Operation != "CreateUser" || l.Organization != e.org || l.Key != testKeyID || l.Outcome != "OK" {
		t.Fatalf("log line %s", lines[0])
	}
	if !strings.Contains(lines[1], `"outcome":"InvalidSignatureException"`) {
		t.Fatalf("log line %s", lines[1])
	}
	for _, secret := range []string{testSecret, sig, "Hunter2-pw"} {
		if strings.Contains(buf.String(), secret) {
			t.Fatalf("the log holds %q: %s", secret, buf.String())
		}
	}
}
