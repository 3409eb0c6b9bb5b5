package accessctl_test

import (
	"fmt"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Stats counts the distinct rule sets of address classes and
// principal×action entries, whether the policy interns them (more than 32
// rules) or its tables hold the sets themselves (at most 32).
func TestStatsBitsets(t *testing.T) {
	rules := []accessctl.Rule{
		{Name: "a", Effect: policy.Allow, IpRanges: []string{"10.0.0.0/8"}, Actions: []string{"IMAP"}},
		{Name: "b", Effect: policy.Deny, UserIds: []string{"S-1-1-11-1111111111"}},
	}
	// Addresses: {a b} in 10/8, {b} elsewhere. Principal×action: the user
	// {a b} for IMAP and {b} otherwise; any other user or role {a} for IMAP
	// and {} otherwise.
	s := mustCompile(t, rules).Stats()
	if s.Bitsets != 4 || s.Rules != 2 || s.Ranges != 1 || s.Intervals != 3 || s.Principals != 3 {
		t.Errorf("narrow: %+v, want 4 bitsets, 2 rules, 1 range, 3 intervals, 3 principals", s)
	}
	// 38 more DENY rules, on 11.0.0.0/32 and for a second user, make the
	// policy wide enough to intern its sets.
	for i := range 38 {
		rules = append(rules, accessctl.Rule{Name: fmt.Sprintf("z%02d", i), Effect: policy.Deny,
			IpRanges: []string{"11.0.0.0/32"}, UserIds: []string{"S-1-1-11-2222222222"}})
	}
	s = mustCompile(t, rules).Stats()
	// Address classes: {a b}, {b}, {b z…} (four intervals: before 10/8,
	// 10/8, 11.0.0.0, after it). Principal×action: the first user {a b} for
	// IMAP, {b} otherwise; the second {a z…}, {z…}; any other user or role
	// {a}, {}. Seven distinct sets.
	if s.Bitsets != 7 || s.Rules != 40 || s.Intervals != 4 || s.Principals != 4 {
		t.Errorf("wide: %+v, want 7 bitsets, 40 rules, 4 intervals, 4 principals", s)
	}
}
