package accessctl_test

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policytest"
	"pgregory.net/rapid"
)

// When every rule of a policy wider than one word has IpRanges, Evaluate and
// Effect walk the address's hit list alone (scanHits); these tests pin that
// path to the reference. Seeded: 1,000 rules, each with 20 IpRanges, one in
// three with NotIpRanges as well.
func TestAllRulesWithIpRangesEqualsReference(t *testing.T) {
	if testing.Short() {
		t.Skip("large differential test")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	rules := genRules(rng, 1000, shape{ranges: 20, inEvery: true, notOneIn: 3}, 10)
	p, err := accessctl.Compile(rules, accessctl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range genRequests(rng, rules, 500, 10) {
		checkAgainstReference(t, p, rules, nil, req)
	}
}

// Property: the same on random rule sets of 65–200 rules that all have
// IpRanges, NotIpRanges overlapping them, users and roles.
func TestPropAllRulesWithIpRangesEqualsReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rules := policytest.Rules(policytest.RuleOptions{MaxRules: 200, MaxRanges: 3, Users: true, Roles: true}).
			Filter(func(r []accessctl.Rule) bool { return len(r) > 64 }).Draw(t, "rules")
		for i := range rules {
			if len(rules[i].IpRanges) == 0 {
				rules[i].IpRanges = []string{policytest.RangeString().Draw(t, "range")}
			}
		}
		p, err := accessctl.Compile(rules, accessctl.Options{})
		if err != nil {
			t.Fatalf("Compile: %v", err)
		}
		for i := range 10 {
			checkAgainstReference(t, p, rules, nil, policytest.RequestFor(rules).Draw(t, "req"+string(rune('a'+i))))
		}
	})
}

// Hit lists longer than the one-pass buffer (maxPassHits) take the two-pass
// walk: 300 rules whose IpRanges all hold 10.0.0.0/8, so that an address there
// hits every rule, and one in two holding 10.1.0.0/16 too.
func TestLongHitListsEqualReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	rules := genRules(rng, 300, shape{ranges: 3, inEvery: true, notOneIn: 4}, 10)
	for i := range rules {
		rules[i].IpRanges = append(rules[i].IpRanges, "10.0.0.0/8")
		if i%2 == 0 {
			rules[i].IpRanges = append(rules[i].IpRanges, "10.1.0.0/16")
		}
	}
	p, err := accessctl.Compile(rules, accessctl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reqs := genRequests(rng, rules, 300, 10)
	for i := range reqs {
		if i%3 != 0 {
			reqs[i].IP = netip.AddrFrom4([4]byte{10, byte(i % 3), byte(i), byte(i * 7)})
		}
	}
	for _, req := range reqs {
		checkAgainstReference(t, p, rules, nil, req)
	}
}

// Policies on either side of each layout boundary agree with the reference:
// up to 32 rules the address labels are the rule sets themselves, up to 64
// one word, beyond that hit lists or word walks.
func TestLayoutBoundariesEqualReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{0, 1, 31, 32, 33, 63, 64, 65} {
		for _, sh := range []shape{{ranges: 4, notOneIn: 3}, {ranges: 4, inEvery: true, notOneIn: 3}} {
			rules := genRules(rng, n, sh, 10)
			p, err := accessctl.Compile(rules, accessctl.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, req := range genRequests(rng, rules, 200, 10) {
				checkAgainstReference(t, p, rules, nil, req)
			}
		}
	}
}
