package kind_test

import (
	"fmt"

	"github.com/wmpolicy/wmpolicy/internal/kind"
)

// A users listing given where rules are wanted is named as that mix-up.
func ExampleMixup() {
	data := []byte(`{"Users": [{"Id": "S-1-1-11-1"}]}`)
	fmt.Println(kind.Sniff(data))
	fmt.Println(kind.Mixup(data, kind.ListAccessControlRules))
	// Output:
	// aws workmail list-users output
	// this is aws workmail list-users output, not aws workmail list-access-control-rules output: was the file given to the wrong flag?
}
