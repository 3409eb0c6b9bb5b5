package enforce_test

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http/httptest"

	"github.com/wmpolicy/wmpolicy/enforce"
)

// An nginx auth_request subrequest for carol, a contractor whose rules allow
// WebMail only: EWS is refused, OWA allowed, and without credentials the
// answer is 401.
func ExampleHTTPAuthz() {
	src, err := enforce.NewFileSource(enforce.FileSourceOptions{
		RulesFile: "testdata/org/rules.json", UsersFile: "testdata/org/users.json",
		Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	authz := &enforce.HTTPAuthz{Decider: &enforce.Decider{Source: src, Log: slog.New(slog.DiscardHandler)}}
	ask := func(uri, user string) int {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "192.0.2.10:50000"
		r.Header.Set("X-Original-URI", uri)
		if user != "" {
			r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":password")))
		}
		w := httptest.NewRecorder()
		authz.ServeHTTP(w, r)
		return w.Code
	}
	fmt.Println(ask("/EWS/Exchange.asmx", "carol"))
	fmt.Println(ask("/owa/?ae=Folder", "carol"))
	fmt.Println(ask("/owa/", ""))
	// Output:
	// 403
	// 200
	// 401
}

// The mailbox and operation of an impersonated EWS request.
func ExampleParseEWSRequest() {
	body := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
	    xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"
	    xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
	  <soap:Header>
	    <t:ExchangeImpersonation><t:ConnectingSID>
	      <t:PrimarySmtpAddress>bob@example.com</t:PrimarySmtpAddress>
	    </t:ConnectingSID></t:ExchangeImpersonation>
	  </soap:Header>
	  <soap:Body><m:CreateItem/></soap:Body>
	</soap:Envelope>`
	req, err := enforce.ParseEWSRequest([]byte(body), true)
	fmt.Println(req.TargetKind, req.Target, req.Operation, err)
	fmt.Println("read-only:", enforce.EWSReadOnly(req.Operation))
	// Output:
	// PrimarySmtpAddress bob@example.com CreateItem <nil>
	// read-only: false
}
