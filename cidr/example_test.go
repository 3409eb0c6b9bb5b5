package cidr_test

import (
	"errors"
	"fmt"

	"github.com/wmpolicy/wmpolicy/cidr"
)

func Example() {
	var ranges []cidr.Range
	for _, s := range []string{"10.0.0.0/8", "10.1.2.3/16", "192.0.2.0/24"} {
		r, err := cidr.ParseRange(s)
		if err != nil {
			panic(err)
		}
		ranges = append(ranges, r)
	}
	fmt.Println(ranges[1], "host bits:", ranges[1].HasHostBits(), "network:", ranges[1].Masked())

	tab := cidr.Build(ranges) // range i has ID i
	for _, s := range []string{"10.1.200.7", "10.2.0.1", "192.0.2.1", "198.51.100.1"} {
		a, err := cidr.ParseAddr(s)
		if err != nil {
			panic(err)
		}
		fmt.Println(s, "class", tab.Class(a), "in ranges", tab.Lookup(a))
	}

	_, err := cidr.ParseRange("010.0.0.0/8")
	fmt.Println(err)
	var pe *cidr.ParseError
	if errors.As(err, &pe) && pe.Kind == cidr.KindLeadingZero {
		fmt.Println("kind:", pe.Kind)
	}
	// Output:
	// 10.1.2.3/16 host bits: true network: 10.1.0.0/16
	// 10.1.200.7 class 2 in ranges [0 1]
	// 10.2.0.1 class 1 in ranges [0]
	// 192.0.2.1 class 3 in ranges [2]
	// 198.51.100.1 class 0 in ranges []
	// cidr: "010.0.0.0/8": leading zero in octet 1
	// kind: leading zero
}

// BuildMap labels each address with a value computed from the ranges that
// contain it: here, how many of them do.
func ExampleBuildMap() {
	ranges := []cidr.Range{
		cidr.MustParseRange("10.0.0.0/8"),
		cidr.MustParseRange("10.1.0.0/16"),
		cidr.MustParseRange("192.0.2.0/24"),
	}
	depth := cidr.BuildMap(ranges, func(members []int32) uint32 { return uint32(len(members)) })
	for _, s := range []string{"10.1.2.3", "10.2.0.1", "192.0.2.1", "198.51.100.1"} {
		a, _ := cidr.ParseAddr(s)
		fmt.Println(s, depth.Get(a))
	}
	fmt.Println(depth.NumIntervals(), "intervals")
	// Output:
	// 10.1.2.3 2
	// 10.2.0.1 1
	// 192.0.2.1 1
	// 198.51.100.1 0
	// 7 intervals
}
