package ruleset_test

import (
	"fmt"

	"github.com/wmpolicy/wmpolicy/internal/ruleset"
	"github.com/wmpolicy/wmpolicy/policy"
)

// A rule denying IMAP outside the office to everyone but one user, lowered:
// the ranges tagged with their rule and list, and the principal × action
// column of a named user and of "any other user".
func Example() {
	s, err := ruleset.Lower([]ruleset.Input{
		{Name: "default"},
		{Name: "imap-office-only", Effect: policy.Deny, Actions: []string{"IMAP"},
			NotIpRanges: []string{"192.0.2.0/24"}, NotUserIds: []string{"S-1-1-11-admin"}},
	}, ruleset.Options{
		ByName: true,
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("range %s: rule %d, NotIpRanges %v\n", s.Ranges[0], s.Tags[0]>>1, s.Tags[0]&1 == 1)
	bits := make([]uint64, s.Words)
	for _, id := range []string{"S-1-1-11-admin", ""} {
		s.Column(bits, ruleset.User, id, 4) // IMAP
		fmt.Printf("user %q, IMAP: rules %02b\n", id, bits[0])
	}
	// Output:
	// range 192.0.2.0/24: rule 1, NotIpRanges true
	// user "S-1-1-11-admin", IMAP: rules 01
	// user "", IMAP: rules 11
}
