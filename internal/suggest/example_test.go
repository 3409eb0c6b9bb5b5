package suggest_test

import (
	"fmt"

	"github.com/wmpolicy/wmpolicy/internal/suggest"
)

// Closest names the field a typo'd JSON key meant, or nothing when no field is
// close.
func ExampleClosest() {
	fields := []string{"IpRanges", "NotIpRanges", "Actions", "NotActions"}
	fmt.Printf("%q\n", suggest.Closest("NotIpRange", fields))
	fmt.Printf("%q\n", suggest.Closest("actions", fields))
	fmt.Printf("%q\n", suggest.Closest("Effect", fields))
	// Output:
	// "NotIpRanges"
	// "Actions"
	// ""
}
