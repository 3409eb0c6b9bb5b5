package strictjson_test

import (
	"fmt"

	"github.com/wmpolicy/wmpolicy/internal/strictjson"
)

// Decode reports every problem with its path, and leaves the destination
// untouched when there is one.
func ExampleDecode() {
	type rule struct {
		Name        string   `json:"Name"`
		NotIpRanges []string `json:"NotIpRanges"`
	}
	r := rule{Name: "kept"}
	for _, p := range strictjson.Decode([]byte(`{"Name": 7, "NotIpRange": ["10.0.0.0/8"]}`), &r, nil) {
		fmt.Printf("%s: %s\n", p.Path, p.Message)
	}
	fmt.Println(r.Name)
	// Output:
	// Name: want string, got number
	// NotIpRange: unknown field "NotIpRange" (did you mean "NotIpRanges"?)
	// kept
}
