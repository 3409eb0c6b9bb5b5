package policytest_test

import (
	"fmt"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/policy"
	"github.com/wmpolicy/wmpolicy/policytest"
	"pgregory.net/rapid"
)

// Generators draw inside rapid.Check in a property test (see this package's
// tests); Example draws one value outside a test. Every drawn rule list is valid
// and compiles, and every drawn request is answered without error.
func Example() {
	for seed := range 3 {
		rules := policytest.Rules(policytest.DefaultRuleOptions()).Example(seed)
		p, err := accessctl.Compile(rules, accessctl.Options{})
		if err != nil {
			fmt.Println(err)
			continue
		}
		_, err = p.Effect(policytest.RequestFor(rules).Example(seed))
		fmt.Println("compiled, answered:", err == nil)
	}
	// Output:
	// compiled, answered: true
	// compiled, answered: true
	// compiled, answered: true
}

// gate is "your code": a login check in front of the library.
func gate(rules []accessctl.Rule, req accessctl.Request) (policy.Effect, error) {
	p, err := accessctl.Compile(rules, accessctl.Options{})
	if err != nil {
		return policy.Deny, err
	}
	return p.Effect(req)
}

// A property is a func(*rapid.T). In a test file:
//
//	func TestGate(t *testing.T) { rapid.Check(t, policytest.Agrees(nil, gate)) }
//	func FuzzGate(f *testing.F) { policytest.Fuzz(f, policytest.Agrees(nil, gate)) }
//
// Here it runs on one fixed draw, outside a test.
func ExampleAgrees() {
	prop := policytest.Agrees(nil, gate)
	ok := rapid.Custom(func(t *rapid.T) bool { prop(t); return true }).Example(1)
	fmt.Println("gate agrees with the library:", ok)
	// Output: gate agrees with the library: true
}

// Invalid inputs carry the error the library must give them.
func ExampleInvalidRange() {
	for _, seed := range []int{4, 5, 10, 11, 13, 14} {
		bad := policytest.InvalidRange().Example(seed)
		_, err := cidr.ParseRange(bad.Value)
		fmt.Printf("%q (%s): rejected as claimed: %v\n", bad.Value, bad.Class, bad.Match(err) == nil)
	}
	// Output:
	// "0x0a.0.0.0/8" (syntax): rejected as claimed: true
	// "255.255.255.0/42" (mask out of range): rejected as claimed: true
	// "255.255.255.000/031" (too long): rejected as claimed: true
	// "0.0.0.0/" (mask required): rejected as claimed: true
	// "10.0.2.244/30\t" (whitespace): rejected as claimed: true
	// "0.00.0.0/2" (leading zero): rejected as claimed: true
}

// Match checks that an error names the claimed code and path.
func ExampleInvalid_Match() {
	bad := policytest.InvalidRules().Example(3)
	fmt.Println(bad)
	fmt.Println("ValidateRules rejects it there:", bad.Match(accessctl.ValidateRules(bad.Value)) == nil)
	fmt.Println("accepting it is caught:", bad.Match(nil) != nil)
	// Output:
	// A11 action empty: InvalidParameterException at "Rules[1].Actions[0]"
	// ValidateRules rejects it there: true
	// accepting it is caught: true
}

// A mutation says what it changed and which way decisions may move.
func ExampleMutate() {
	rules := []accessctl.Rule{
		{Name: "office", Effect: policy.Allow, IpRanges: []string{"192.0.2.0/24"}},
		{Name: "no-imap", Effect: policy.Deny, Actions: []string{"IMAP"}},
	}
	for _, seed := range []int{0, 3, 7, 8, 14} {
		m := policytest.Mutate(rules, policytest.DefaultRuleOptions()).Example(seed)
		fmt.Println(m)
	}
	// Output:
	// add DENY rule "rule-1" (restricts)
	// remove DENY rule "no-imap" (grants)
	// edit "office": effect becomes DENY (restricts)
	// edit "office": replaced by a DENY rule (mixed)
	// edit "office": add "EWS" to Actions (restricts)
}
