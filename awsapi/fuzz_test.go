package awsapi

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/org"
)

// FuzzRequestDecoder sends arbitrary bodies to every operation (and to
// unknown targets): the handler never panics and never answers 5xx, every
// answer is JSON, and a refused request changes nothing (SEMANTICS F2, D1).
func FuzzRequestDecoder(f *testing.F) {
	s, err := org.Open(org.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	out, err := s.CreateOrganization(context.Background(), org.CreateOrganizationInput{Alias: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	id := out.OrganizationId
	h, err := NewHandler(Options{Store: s, InsecureNoAuth: true})
	if err != nil {
		f.Fatal(err)
	}
	targets := append(Operations(), "CreateGroup", "Nope", "")
	for i, seed := range []string{
		`{"OrganizationId":"` + id + `","Name":"r","Effect":"DENY","Description":"x","Actions":["IMAP"]}`,
		`{"OrganizationId":"` + id + `","IpAddress":"1.2.3.4","Action":"IMAP","UserId":"u"}`,
		`{"OrganizationId":"` + id + `","Name":"alice","DisplayName":"A"}`,
		`{"OrganizationId":"` + id + `","EntityId":"alice","Alias":"a@fuzz.awsapps.com"}`,
		`{"MaxResults":1}`, `{}`, `{"OrganizationId":1}`, "\xff", `{"a":{"b":[[[[]]]]}}`, `[`,
	} {
		f.Add(uint8(i), []byte(seed))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		target := targets[int(which)%len(targets)]
		before := s.Snapshot(id).Revision()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		r.RemoteAddr = "127.0.0.1:1"
		r.Header.Set("Content-Type", ContentType)
		r.Header.Set("X-Amz-Target", TargetPrefix+target)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %q: %d %s", target, body, w.Code, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %q: answer is not JSON: %q", target, body, w.Body)
		}
		if w.Code != 200 {
			if snap := s.Snapshot(id); snap != nil && snap.Revision() != before {
				t.Fatalf("%s %q: refused (%d) but changed the organization", target, body, w.Code)
			}
		}
	})
}

// FuzzParseAuthorization: the Authorization parser never panics, and what
// it accepts it accepts again when written back in canonical form, with the
// same parts.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=WMPTESTKEY0000000001/20261207/us-east-1/workmail/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + strings.Repeat("ab", 32))
	f.Add("AWS4-HMAC-SHA256 Signature=" + strings.Repeat("0", 64) + ",Credential=K/20200101/r/s/aws4_request,SignedHeaders=host")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e")
	f.Add("Basic dXNlcjpwYXNz")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			if err.code != "IncompleteSignatureException" {
				t.Fatalf("%q: code %s", h, err.code)
			}
			return
		}
		again := sigAlgorithm + " Credential=" + a.accessKeyID + "/" + a.date + "/" + a.region + "/" + a.service + "/" + sigTerminator +
			", SignedHeaders=" + a.signedRaw + ", Signature=" + hex.EncodeToString(a.signature[:])
		b, err := parseAuthorization(again)
		if err != nil {
			t.Fatalf("%q accepted, its canonical form %q refused: %v", h, again, err)
		}
		if b.accessKeyID != a.accessKeyID || b.date != a.date || b.region != a.region || b.service != a.service ||
			b.signedRaw != a.signedRaw || b.signature != a.signature || b.signsHost != a.signsHost || b.signsDate != a.signsDate {
			t.Fatalf("%q: parts differ after a round trip: %+v %+v", h, a, b)
		}
	})
}
