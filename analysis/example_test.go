package analysis_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/analysis"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Audit the AWS documented example plus a rule that a DENY rule shadows, then
// diff it against a change that opens IMAP to one more network.
func Example() {
	rules := []accessctl.Rule{
		{Name: "default", Effect: policy.Allow},
		{Name: "office-only", Effect: policy.Deny, NotIpRanges: []string{"192.0.2.0/24"}, Actions: []string{"IMAP"}},
		{Name: "vpn-imap", Effect: policy.Allow, IpRanges: []string{"10.8.0.1/16"}, Actions: []string{"IMAP"}},
	}
	a, err := analysis.New(rules, analysis.Options{})
	if err != nil {
		panic(err)
	}
	rep, err := a.Audit(context.Background())
	if err != nil {
		panic(err)
	}
	for _, f := range rep.Findings {
		fmt.Println(f)
	}

	after := []accessctl.Rule{rules[0], {Name: "office-only", Effect: policy.Deny,
		NotIpRanges: []string{"192.0.2.0/24", "10.8.0.0/16"}, Actions: []string{"IMAP"}}}
	d, err := analysis.Diff(context.Background(), rules, after, analysis.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Verdict)
	for _, r := range d.Regions {
		fmt.Println(r.Change, r.Addrs, r.Actions, r.Principals)
	}
	// Output:
	// warning: Rules[2] (vpn-imap): DENY rules match every request this ALLOW rule matches, so it never decides anything (e.g. office-only, witness) [shadowed]
	// suggestion: Rules[2].IpRanges[0] (vpn-imap): 10.8.0.1/16 has host bits set; it matches as 10.8.0.0/16 (A9) [host-bits]
	// more permissive
	// newly allowed 10.8.0.0/16 [IMAP] [any other user]
}

// Explain shows every rule's conditions for one request.
func ExampleAnalyzer_Explain() {
	a, err := analysis.New([]accessctl.Rule{
		{Name: "default", Effect: policy.Allow},
		{Name: "office-only", Effect: policy.Deny, NotIpRanges: []string{"192.0.2.0/24", "10.8.0.0/16"}, Actions: []string{"IMAP"}},
	}, analysis.Options{})
	if err != nil {
		panic(err)
	}
	ex, err := a.Explain(context.Background(), accessctl.Request{
		IP: netip.MustParseAddr("10.8.4.4"), Action: accessctl.IMAP, UserID: "S-1-1-11-1111111111-2222222222-3333333333-3333"})
	if err != nil {
		panic(err)
	}
	fmt.Println(ex.Effect, ex.Reason, ex.MatchedRules)
	for _, r := range ex.Rules {
		fmt.Println(r.Name, r.Matches)
		for _, c := range r.Conditions {
			fmt.Println("  ", c.Field, c.Holds, c.Detail)
		}
	}
	// Output:
	// ALLOW explicit allow [default]
	// default true
	// office-only false
	//    NotIpRanges false 10.8.4.4 is in NotIpRanges[1] 10.8.0.0/16
	//    Actions true IMAP is Actions[0]
}

// WhoCanPrincipal lists the addresses from which a principal may use each
// action.
func ExampleAnalyzer_WhoCanPrincipal() {
	a, err := analysis.New([]accessctl.Rule{
		{Name: "default", Effect: policy.Allow},
		{Name: "office-only", Effect: policy.Deny, NotIpRanges: []string{"192.0.2.0/24"}, Actions: []string{"IMAP", "SMTP"}},
		{Name: "no-smtp-for-bob", Effect: policy.Deny, UserIds: []string{"bob-0000000001"}, Actions: []string{"SMTP"}},
	}, analysis.Options{})
	if err != nil {
		panic(err)
	}
	pa, err := a.WhoCanPrincipal(context.Background(), analysis.User, "bob-0000000001")
	if err != nil {
		panic(err)
	}
	for _, g := range pa.Grants {
		fmt.Println(g.Actions, g.Ranges)
	}
	// Output:
	// [ActiveSync AutoDiscover EWS WindowsOutlook WebMail] everywhere
	// [IMAP] 192.0.2.0/24
}

// An AddrSet renders as the shortest of "everywhere", "everywhere except …"
// and a CIDR list.
func ExampleAddrSet() {
	blocked := analysis.AddrSet{{First: 0xC6336400, Last: 0xC63364FF}} // 198.51.100.0/24
	fmt.Println(blocked)
	fmt.Println(blocked.Complement())
	fmt.Println(blocked.Complement().Complement().Contains(0xC6336407))
	fmt.Println(analysis.Everywhere)
	// Output:
	// 198.51.100.0/24
	// everywhere except 198.51.100.0/24
	// true
	// everywhere
}

// RunTests checks written expectations against the rules and measures what
// the cases cover.
func ExampleAnalyzer_RunTests() {
	a, err := analysis.New([]accessctl.Rule{
		{Name: "default", Effect: policy.Allow},
		{Name: "office-only", Effect: policy.Deny, NotIpRanges: []string{"192.0.2.0/24"}, Actions: []string{"IMAP"}},
		{Name: "block", Effect: policy.Deny, IpRanges: []string{"198.51.100.0/24"}},
	}, analysis.Options{})
	if err != nil {
		panic(err)
	}
	cases, err := analysis.DecodeTestCases([]byte(`{"Tests": [
		{"Name": "IMAP from the office", "Request": {"IpAddress": "192.0.2.7", "Action": "IMAP", "UserId": "bob-0000000001"}, "Effect": "ALLOW"},
		{"Name": "IMAP from home", "Request": {"IpAddress": "203.0.113.7", "Action": "IMAP", "UserId": "bob-0000000001"}, "Effect": "ALLOW"}]}`))
	if err != nil {
		panic(err)
	}
	rep, err := a.RunTests(context.Background(), cases)
	if err != nil {
		panic(err)
	}
	for _, r := range rep.Results {
		if r.Passed {
			fmt.Println("PASS", r.Case.Name)
		} else {
			fmt.Println("FAIL", r.Case.Name+":", r.Problem)
		}
	}
	for _, rc := range rep.Coverage.Rules {
		fmt.Println(rc.Name, rc.Covered())
	}
	// Output:
	// PASS IMAP from the office
	// FAIL IMAP from home: want ALLOW, got DENY
	// default true
	// office-only true
	// block false
}
