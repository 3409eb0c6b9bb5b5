package awsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/org"
)

const (
	testKeyID     = "WMPTESTKEY0000000001"
	testSecret    = "test-secret-0123456789abcdefghijklmnop"
	testROKeyID   = "WMPTESTKEYREADONLY01"
	testOrgKeyID  = "WMPTESTKEYONEORG0001"
	testOtherOrg  = "m-00000000000000000000000000000001"
	testRegion    = "us-east-1"
	testNow       = "2026-12-07T03:00:00Z"
	testNoAuthKey = ""
)

// testEnv is a store behind a Handler behind an httptest server, and a
// client that signs with a key of its credentials.
type testEnv struct {
	t     testing.TB
	store *org.Store
	h     *Handler
	srv   *httptest.Server
	now   time.Time
	org   string // an organization created by the env
}

func newTestEnv(t testing.TB, orgKeyOrg func(*org.Store) string) *testEnv {
	t.Helper()
	s, err := org.Open(org.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	out, err := s.CreateOrganization(context.Background(), org.CreateOrganizationInput{Alias: "corp", Domains: []org.Domain{{DomainName: "corp.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	now, _ := time.Parse(time.RFC3339, testNow)
	creds, err := ParseCredentials([]byte(`{"Keys": [
		{"AccessKeyId": "` + testKeyID + `", "SecretAccessKey": "` + testSecret + `"},
		{"AccessKeyId": "` + testROKeyID + `", "SecretAccessKey": "` + testSecret + `", "ReadOnly": true},
		{"AccessKeyId": "` + testOrgKeyID + `", "SecretAccessKey": "` + testSecret + `", "Organizations": ["` + out.OrganizationId + `"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, store: s, now: now, org: out.OrganizationId}
	e.h, err = NewHandler(Options{Store: s, Credentials: creds, Clock: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(e.srv.Close)
	return e
}

// request builds a signed request of operation op with body.
func (e *testEnv) request(keyID, secret, op string, body []byte) *http.Request {
	r, err := http.NewRequest(http.MethodPost, e.srv.URL+"/", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	r.Header.Set("Content-Type", ContentType)
	r.Header.Set("X-Amz-Target", TargetPrefix+op)
	if keyID != "" {
		SignRequest(r, body, keyID, secret, testRegion, e.now)
	}
	return r
}

// do sends r and returns the status, the error code ("" on success) and the body.
func (e *testEnv) do(r *http.Request) (int, string, []byte) {
	e.t.Helper()
	resp, err := e.srv.Client().Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 {
		return 200, "", b
	}
	var eb struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(b, &eb); err != nil {
		e.t.Fatalf("error body %q: %v", b, err)
	}
	return resp.StatusCode, eb.Type, b
}

// call sends a request of op with in (marshalled) signed with the main key
// and decodes the answer into out (when not nil).
func (e *testEnv) call(op string, in, out any) (int, string) {
	e.t.Helper()
	body, err := json.Marshal(in)
	if err != nil {
		e.t.Fatal(err)
	}
	st, code, b := e.do(e.request(testKeyID, testSecret, op, body))
	if st == 200 && out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s answer %s: %v", op, b, err)
		}
	}
	return st, code
}

// revision is the env organization's revision: a refused request must leave it.
func (e *testEnv) revision() uint64 { return e.store.Snapshot(e.org).Revision() }
