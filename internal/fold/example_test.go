package fold_test

import (
	"fmt"

	"github.com/wmpolicy/wmpolicy/internal/fold"
)

// ASCIILower folds an identifier into a caller's buffer, and says whether
// that changed anything and whether a Unicode fold is needed instead.
func ExampleASCIILower() {
	var buf [64]byte
	for _, s := range []string{"Alice.Smith@Example.COM", "bob@example.org", "Zoë@example.org"} {
		changed, ascii := fold.ASCIILower(buf[:], s)
		if !ascii {
			fmt.Printf("%s: not ASCII, fold with Unicode rules\n", s)
			continue
		}
		fmt.Printf("%s: %s (changed %v)\n", s, buf[:len(s)], changed)
	}
	// Output:
	// Alice.Smith@Example.COM: alice.smith@example.com (changed true)
	// bob@example.org: bob@example.org (changed false)
	// Zoë@example.org: not ASCII, fold with Unicode rules
}
