package apipath_test

import (
	"fmt"

	"github.com/wmpolicy/wmpolicy/internal/apipath"
)

// Join puts a field's path inside its container's.
func ExampleJoin() {
	fmt.Println(apipath.Join("Rules[2]", "IpRanges[0]"))
	fmt.Println(apipath.Join("Rules", "[2]"))
	fmt.Println(apipath.Join("", "Name"))
	// Output:
	// Rules[2].IpRanges[0]
	// Rules[2]
	// Name
}
