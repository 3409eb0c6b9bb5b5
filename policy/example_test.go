package policy_test

import (
	"errors"
	"fmt"

	"github.com/wmpolicy/wmpolicy/policy"
)

// A directory built from `aws workmail list-users` output resolves users by ID,
// email (any case) or user name.
func ExampleDecodeUsers() {
	dir, err := policy.DecodeUsers([]byte(`{"Users": [
		{"Id": "S-1-1-11-1111111111-2222222222-3333333333-3333", "Email": "exampleUser1@site.awsapps.com",
		 "Name": "exampleUser1", "State": "ENABLED", "UserRole": "USER", "EnabledDate": 1532459261.827}
	]}`))
	if err != nil {
		panic(err)
	}
	for _, id := range []string{"EXAMPLEUSER1@site.awsapps.com", "exampleuser1", "nobody"} {
		u, ok := dir.Lookup(id)
		fmt.Println(id, "→", u.ID, ok)
	}
	// Output:
	// EXAMPLEUSER1@site.awsapps.com → S-1-1-11-1111111111-2222222222-3333333333-3333 true
	// exampleuser1 → S-1-1-11-1111111111-2222222222-3333333333-3333 true
	// nobody →  false
}

// Errors carry an AWS code and a field path, and match their code's sentinel.
func ExampleError() {
	var rule struct {
		Name        string
		NotIpRanges []string
	}
	err := policy.DecodeStrict([]byte(`{"Name": "r", "NotIpRange": ["10.0.0.0/8"]}`), &rule)
	fmt.Println(errors.Is(err, policy.ErrValidation))
	for _, e := range policy.Errors(err) {
		fmt.Println(e.Code, e.Path)
	}
	// Output:
	// true
	// ValidationException NotIpRange
}
