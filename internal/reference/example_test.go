package reference_test

import (
	"fmt"
	"net/netip"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/internal/reference"
	"github.com/wmpolicy/wmpolicy/policy"
)

func Example() {
	rules := []accessctl.Rule{
		{Name: "default", Effect: policy.Allow},
		{Name: "myRule", Effect: policy.Deny, UserIds: []string{"S-1-1-11-1111111111-2222222222-3333333333-3333"}},
	}
	res, err := reference.Evaluate(rules, accessctl.Request{
		IP: netip.MustParseAddr("192.0.2.0"), Action: accessctl.WindowsOutlook,
		UserID: "S-1-1-11-1111111111-2222222222-3333333333-3333",
	}, nil)
	fmt.Println(res.Effect, res.Reason, res.MatchedRules, err)
	// Output: DENY explicit deny [myRule] <nil>
}
