package accessctl_test

import (
	"fmt"
	"net/netip"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// The AWS documented example: the default ALLOW rule and a DENY rule for one
// user. The DENY wins, and only it is listed (SEMANTICS A6, A7).
func Example() {
	rules, err := accessctl.DecodeRules([]byte(`{"Rules": [
		{"Name": "default", "Effect": "ALLOW", "Description": "Default WorkMail Rule", "DateCreated": 0.0, "DateModified": 0.0},
		{"Name": "myRule", "Effect": "DENY", "Description": "my rule",
		 "UserIds": ["S-1-1-11-1111111111-2222222222-3333333333-3333"],
		 "DateCreated": 1581635628.0, "DateModified": 1581635628.0}
	]}`))
	if err != nil {
		panic(err)
	}
	p, err := accessctl.Compile(rules, accessctl.Options{})
	if err != nil {
		panic(err)
	}
	out, err := p.GetAccessControlEffect(accessctl.GetAccessControlEffectInput{
		IpAddress: "192.0.2.0",
		Action:    "WindowsOutlook",
		UserId:    "S-1-1-11-1111111111-2222222222-3333333333-3333",
	})
	fmt.Println(out.Effect, out.MatchedRules, err)
	// Output: DENY [myRule] <nil>
}

// The fast path: a reused slice receives the names of the deciding rules.
func ExamplePolicy_Evaluate() {
	p, err := accessctl.Compile([]accessctl.Rule{
		{Name: "default", Effect: policy.Allow},
		{Name: "imap-office-only", Effect: policy.Deny, Actions: []string{"IMAP"}, NotIpRanges: []string{"192.0.2.0/24"}},
	}, accessctl.Options{})
	if err != nil {
		panic(err)
	}
	matched := make([]string, 0, 4)
	for _, ip := range []string{"192.0.2.7", "198.51.100.7"} {
		req := accessctl.Request{IP: netip.MustParseAddr(ip), Action: accessctl.IMAP, UserID: "S-1-5-21-0000000001"}
		var eff fmt.Stringer
		eff, matched, err = p.Evaluate(req, matched[:0])
		fmt.Println(ip, eff, matched, err)
	}
	// Output:
	// 192.0.2.7 ALLOW [default] <nil>
	// 198.51.100.7 DENY [imap-office-only] <nil>
}

// Decide gives the whole story: every matching rule and why the effect won.
func ExamplePolicy_Decide() {
	p, _ := accessctl.Compile([]accessctl.Rule{
		{Name: "default", Effect: policy.Allow},
		{Name: "block-net", Effect: policy.Deny, IpRanges: []string{"198.51.100.0/24"}},
	}, accessctl.Options{})
	d, _ := p.Decide(accessctl.Request{IP: netip.MustParseAddr("198.51.100.9"), Action: accessctl.EWS, UserID: "S-1-5-21-0000000001"})
	fmt.Println(d.Effect, d.Reason, d.MatchedRules)
	for _, m := range d.Matching {
		fmt.Println(" ", m.Effect, m.Name)
	}
	// Output:
	// DENY explicit deny [block-net]
	//   DENY block-net
	//   ALLOW default
}

// One Decision reused for many requests: DecideTo overwrites it and reuses its
// slices, so a loop allocates nothing once they have room for the rules.
func ExamplePolicy_DecideTo() {
	p, _ := accessctl.Compile([]accessctl.Rule{
		{Name: "default", Effect: policy.Allow},
		{Name: "block-net", Effect: policy.Deny, IpRanges: []string{"198.51.100.0/24"}},
	}, accessctl.Options{})
	d := accessctl.Decision{MatchedRules: make([]string, 0, p.Len())}
	for _, ip := range []string{"198.51.100.9", "192.0.2.1"} {
		req := accessctl.Request{IP: netip.MustParseAddr(ip), Action: accessctl.IMAP, UserID: "S-1-5-21-0000000001"}
		if err := p.DecideTo(&d, req); err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(ip, d.Effect, d.Reason, d.MatchedRules, len(d.Matching))
	}
	// Output:
	// 198.51.100.9 DENY explicit deny [block-net] 2
	// 192.0.2.1 ALLOW explicit allow [default] 1
}
