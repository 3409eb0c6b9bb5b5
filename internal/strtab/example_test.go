package strtab_test

import (
	"fmt"

	"github.com/wmpolicy/wmpolicy/internal/strtab"
)

// A table is built once and then read, with Get, or on a hot path with
// Lookup and Get only for the keys Lookup leaves.
func Example() {
	t := strtab.New(map[string]int32{
		"S-1-1-11-1111111111-2222222222-3333333333-0001": 1,
		"role-1": 2,
		"a-user-name-longer-than-sixty-four-bytes@a-rather-long-domain.example": 3,
	})
	fmt.Println(t.Get("S-1-1-11-1111111111-2222222222-3333333333-0001"))
	fmt.Println(t.Get("S-1-1-11-1111111111-2222222222-3333333333-0002"))

	for _, k := range []string{"S-1-1-11-1111111111-2222222222-3333333333-0001", "role-1",
		"a-user-name-longer-than-sixty-four-bytes@a-rather-long-domain.example"} {
		v, r := t.Lookup(k)
		if r == strtab.Slow { // a key longer than 64 bytes
			var ok bool
			v, ok = t.Get(k)
			fmt.Println("slow path:", v, ok)
			continue
		}
		fmt.Println("lookup:", v, r == strtab.Hit)
	}
	// Output:
	// 1 true
	// 0 false
	// lookup: 1 true
	// lookup: 2 true
	// slow path: 3 true
}
