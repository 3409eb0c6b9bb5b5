package semantics_test

import (
	"fmt"

	"github.com/wmpolicy/wmpolicy/internal/semantics"
)

func Example() {
	doc := []byte("A1. A rule has a Name.\nA2. A request has an address.\n<!-- not-yet-proven: A2 -->\n")
	rules, pending := semantics.Rules(doc)
	fmt.Println(rules, pending)

	test := []byte("// SEMANTICS A1, A3–A5\nfunc TestSemanticsA9_HostBits(t *testing.T) {}\n")
	fmt.Println(semantics.Citations(test))
	// Output:
	// [A1 A2] [A2]
	// [A1 A3 A4 A5 A9]
}
