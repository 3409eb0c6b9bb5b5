package awsapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/wmpolicy/wmpolicy/awsapi"
	"github.com/wmpolicy/wmpolicy/org"
)

// Mount the WorkMail API over a store. Here authentication is off (loopback
// clients only); a real deployment loads a credentials file with
// awsapi.LoadCredentials and points `aws workmail --endpoint-url` or an SDK
// at the listener.
func Example() {
	store, err := org.Open(org.Options{}) // in memory
	if err != nil {
		panic(err)
	}
	defer store.Close()
	h, err := awsapi.NewHandler(awsapi.Options{Store: store, InsecureNoAuth: true})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h) // listens on 127.0.0.1
	defer srv.Close()

	call := func(op, body string) {
		req, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", awsapi.ContentType)
		req.Header.Set("X-Amz-Target", awsapi.TargetPrefix+op)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, string(b))
	}
	call("ListOrganizations", `{}`)
	call("DescribeOrganization", `{"OrganizationId": "m-00000000000000000000000000000000"}`)
	call("CreateGroup", `{}`)
	// Output:
	// 200 {"OrganizationSummaries":[]}
	// 400 {"__type":"OrganizationNotFoundException","message":"OrganizationId: organization m-00000000000000000000000000000000 not found"}
	// 400 {"__type":"UnsupportedOperationException","message":"wmpolicy does not implement CreateGroup"}
}
