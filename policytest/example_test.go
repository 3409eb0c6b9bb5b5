package policytest_test

import (
	"fmt"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policytest"
)

// Generators draw inside rapid.Check in a property test (see this package's
// tests); Example draws one value outside a test. Every drawn rule list is valid
// and compiles, and every drawn request is answered without error.
func Example() {
	for seed := range 3 {
		rules := policytest.Rules(policytest.DefaultRuleOptions).Example(seed)
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
