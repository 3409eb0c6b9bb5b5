package userdir_test

import (
	"fmt"

	"github.com/wmpolicy/wmpolicy/internal/userdir"
)

// Find resolves an ID exactly and a name case-insensitively, and says which
// match needed folding.
func ExampleKeys_Find() {
	k := userdir.FromPairs(
		[]string{"S-1-1-11-1", "alice@example.org"},
		[]int32{0 | userdir.IDFlag | userdir.EnabledFlag, 0 | userdir.EnabledFlag},
	)
	for _, id := range []string{"S-1-1-11-1", "s-1-1-11-1", "Alice@Example.org"} {
		i, enabled, folded, ok := k.Find(id)
		fmt.Println(id, i, enabled, folded, ok)
	}
	// Output:
	// S-1-1-11-1 0 true false true
	// s-1-1-11-1 0 false false false
	// Alice@Example.org 0 true true true
}
