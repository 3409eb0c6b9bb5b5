package ruleset_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/internal/reference"
	"github.com/wmpolicy/wmpolicy/internal/ruleset"
	"github.com/wmpolicy/wmpolicy/policy"
	"pgregory.net/rapid"
)

// SEMANTICS A3 A9: the address lists hold when the address is in an IpRange
// (or there are none) and in no NotIpRange; host bits are ignored.
func TestSemanticsA3_HoldsAddr(t *testing.T) {
	s := lower(t, []ruleset.Input{
		{Name: "in-out", IpRanges: []string{"10.0.0.0/8"}, NotIpRanges: []string{"10.1.0.7/16"}},
		{Name: "out", NotIpRanges: []string{"192.0.2.0/24"}},
		{Name: "none"},
	}, ruleset.Options{})
	for _, c := range []struct {
		rule int
		addr string
		want bool
	}{
		{0, "10.0.0.0", true}, {0, "10.255.255.255", true}, {0, "9.255.255.255", false}, {0, "11.0.0.0", false},
		{0, "10.1.0.0", false}, {0, "10.1.255.255", false}, {0, "10.0.255.255", true}, {0, "10.2.0.0", true},
		{1, "192.0.2.1", false}, {1, "192.0.3.0", true}, {1, "0.0.0.0", true},
		{2, "0.0.0.0", true}, {2, "255.255.255.255", true},
	} {
		a := cidr.MustParseRange(c.addr + "/32").Addr()
		if got := s.Rules[c.rule].HoldsAddr(a); got != c.want {
			t.Errorf("%s.HoldsAddr(%s) = %v, want %v", s.Rules[c.rule].Name, c.addr, got, c.want)
		}
	}
	var zero ruleset.Rule
	if !zero.HoldsAddr(0x0a000001) {
		t.Error("the zero Rule does not hold for 10.0.0.1")
	}
	if n := testing.AllocsPerRun(100, func() { s.Rules[0].HoldsAddr(0x0a010203) }); n != 0 {
		t.Errorf("HoldsAddr allocates %v times", n)
	}
}

// SEMANTICS A3 A4 A5: Covers on hand-picked pairs — a duplicate or nested
// range changes nothing, adding to an empty positive list narrows, adding to
// a Not list narrows, a rule that matches nothing is covered by every rule.
func TestSemanticsA3_Covers(t *testing.T) {
	for _, c := range []struct {
		name   string
		a, b   ruleset.Input // Covers(a, b): a holds wherever b does
		ab, ba bool
	}{
		{"same", ruleset.Input{}, ruleset.Input{}, true, true},
		{"duplicate range", ruleset.Input{IpRanges: []string{"10.0.0.0/8"}}, ruleset.Input{IpRanges: []string{"10.0.0.0/8", "10.0.0.0/8"}}, true, true},
		{"nested range", ruleset.Input{IpRanges: []string{"10.0.0.0/8"}}, ruleset.Input{IpRanges: []string{"10.0.0.0/8", "10.7.0.0/16"}}, true, true},
		{"host bits", ruleset.Input{IpRanges: []string{"10.0.0.7/24"}}, ruleset.Input{IpRanges: []string{"10.0.0.0/24"}}, true, true},
		{"wider range", ruleset.Input{IpRanges: []string{"10.0.0.0/8", "11.0.0.0/8"}}, ruleset.Input{IpRanges: []string{"10.0.0.0/8"}}, true, false},
		{"first range", ruleset.Input{}, ruleset.Input{IpRanges: []string{"0.0.0.0/1"}}, true, false},
		{"all addresses", ruleset.Input{}, ruleset.Input{IpRanges: []string{"0.0.0.0/0"}}, true, true},
		{"not range", ruleset.Input{}, ruleset.Input{NotIpRanges: []string{"10.0.0.0/8"}}, true, false},
		{"not range inside range", ruleset.Input{IpRanges: []string{"10.0.0.0/8"}}, ruleset.Input{IpRanges: []string{"10.0.0.0/8"}, NotIpRanges: []string{"11.0.0.0/8"}}, true, true},
		{"first action", ruleset.Input{}, ruleset.Input{Actions: []string{"IMAP"}}, true, false},
		{"action excluded anyway", ruleset.Input{Actions: []string{"IMAP"}}, ruleset.Input{Actions: []string{"IMAP"}, NotActions: []string{"EWS"}}, true, true},
		{"first user", ruleset.Input{}, ruleset.Input{UserIds: []string{"user-0000000001"}}, true, false},
		{"not user", ruleset.Input{}, ruleset.Input{NotUserIds: []string{"user-0000000001"}}, true, false},
		// A4: a user never satisfies ImpersonationRoleIds, a role never
		// UserIds: with both, no request matches.
		{"users and roles", ruleset.Input{UserIds: []string{"user-0000000001"}, ImpersonationRoleIds: []string{"role-a"}}, ruleset.Input{Actions: []string{"IMAP"}, NotIpRanges: []string{"0.0.0.0/0"}}, true, true},
		{"roles, users excluded", ruleset.Input{ImpersonationRoleIds: []string{"role-a"}}, ruleset.Input{ImpersonationRoleIds: []string{"role-a"}, NotUserIds: []string{"user-0000000001"}}, true, true},
		{"nothing", ruleset.Input{Actions: []string{"IMAP"}}, ruleset.Input{Actions: []string{"IMAP"}, NotActions: []string{"IMAP"}}, true, false},
	} {
		c.a.Name, c.b.Name = "a", "b"
		s := lower(t, []ruleset.Input{c.a, c.b}, ruleset.Options{})
		if got := s.Covers(0, 1); got != c.ab {
			t.Errorf("%s: Covers(a, b) = %v, want %v", c.name, got, c.ab)
		}
		if got := s.Covers(1, 0); got != c.ba {
			t.Errorf("%s: Covers(b, a) = %v, want %v", c.name, got, c.ba)
		}
	}
}

// SEMANTICS A3 A4 A5 A9: Covers(i, j) against brute force over every
// elementary address interval, action and principal class. Where Covers says
// yes, internal/reference (which shares no code with the lowering) finds no
// valid request rule j matches and rule i does not; where it says no, some
// request — of any action, for either kind — holds for j and not for i.
func TestSemanticsA3_CoversAgreesWithReference(t *testing.T) {
	ranges := []string{"10.0.0.0/8", "10.0.0.0/16", "10.0.0.7/24", "10.1.0.0/16", "0.0.0.0/0", "10.0.0.255/32", "11.0.0.0/8", "128.0.0.0/1"}
	users := []string{"user-0000000001", "user-0000000002"}
	roles := []string{"role-a", "role-b"}
	list := func(items []string) *rapid.Generator[[]string] {
		return rapid.OneOf(rapid.Just([]string(nil)), rapid.SliceOfN(rapid.SampledFrom(items), 1, 3))
	}
	rule := rapid.Custom(func(t *rapid.T) accessctl.Rule {
		return accessctl.Rule{
			Effect:   policy.Allow,
			IpRanges: list(ranges).Draw(t, "IpRanges"), NotIpRanges: list(ranges).Draw(t, "NotIpRanges"),
			Actions: list(ruleset.ActionNames[1:]).Draw(t, "Actions"), NotActions: list(ruleset.ActionNames[1:]).Draw(t, "NotActions"),
			UserIds: list(users).Draw(t, "UserIds"), NotUserIds: list(users).Draw(t, "NotUserIds"),
			ImpersonationRoleIds: list(roles).Draw(t, "RoleIds"), NotImpersonationRoleIds: list(roles).Draw(t, "NotRoleIds"),
		}
	})
	// Every elementary interval of the ranges starts at one of these.
	var addrs []uint32
	for _, s := range ranges {
		r := cidr.MustParseRange(s)
		addrs = append(addrs, r.First(), r.Last()+1) // 255.255.255.255 + 1 wraps to 0
	}
	slices.Sort(addrs)
	addrs = slices.Compact(addrs)
	rapid.Check(t, func(t *rapid.T) {
		two := []accessctl.Rule{rule.Draw(t, "i"), {}}
		if rapid.Bool().Draw(t, "edit?") {
			// j is i with one item added to or removed from one list, as
			// policytest.Mutate edits rules: the pairs Covers tells apart.
			two[1] = two[0].Clone()
			r := &two[1]
			lists := []struct {
				l     *[]string
				items []string
			}{{&r.IpRanges, ranges}, {&r.NotIpRanges, ranges}, {&r.Actions, ruleset.ActionNames[1:]}, {&r.NotActions, ruleset.ActionNames[1:]},
				{&r.UserIds, users}, {&r.NotUserIds, users}, {&r.ImpersonationRoleIds, roles}, {&r.NotImpersonationRoleIds, roles}}
			e := lists[rapid.IntRange(0, len(lists)-1).Draw(t, "list")]
			if len(*e.l) == 0 || rapid.Bool().Draw(t, "add?") {
				*e.l = append(*e.l, rapid.SampledFrom(e.items).Draw(t, "item"))
			} else {
				k := rapid.IntRange(0, len(*e.l)-1).Draw(t, "item")
				*e.l = slices.Delete(*e.l, k, k+1)
			}
		} else {
			two[1] = rule.Draw(t, "j")
		}
		two[0].Name, two[1].Name = "i", "j"
		in := make([]ruleset.Input, 2)
		for n, r := range two {
			in[n] = ruleset.Input(r)
		}
		s, err := ruleset.Lower(in, ruleset.Options{})
		if err != nil {
			t.Fatal(err)
		}
		covers := s.Covers(0, 1)
		witness := ""
		for _, a := range addrs {
			for k, ids := range [2][]string{append(users, "user-0000000009"), append(roles, "role-z")} {
				for _, id := range ids {
					for act := 1; act <= ruleset.NumActions; act++ {
						holds := func(r *ruleset.Rule) bool {
							return r.HoldsAddr(a) && r.Allows(act) && r.Holds(ruleset.Kind(k), id)
						}
						if holds(&s.Rules[1]) && !holds(&s.Rules[0]) {
							witness = fmt.Sprintf("%s kind %d %q action %d", cidr.AddrString(a), k, id, act)
						}
						if k == 1 && ruleset.ActionNames[act] != "EWS" {
							continue // A2: roles ask only for EWS
						}
						req := accessctl.Request{IP: cidr.AddrToNetip(a), Action: accessctl.Action(act)}
						if k == 0 {
							req.UserID = id
						} else {
							req.ImpersonationRoleID = id
						}
						res, err := reference.Evaluate(two, req, nil)
						if err != nil {
							t.Fatalf("%+v: %v", req, err)
						}
						if covers && slices.Contains(res.Matching, "j") && !slices.Contains(res.Matching, "i") {
							t.Fatalf("Covers(i, j), yet the reference matches j and not i for %+v", req)
						}
					}
				}
			}
		}
		if !covers && witness == "" {
			t.Fatalf("not Covers(i, j), yet no request holds for j and not for i")
		}
	})
}

// SEMANTICS A3 A9: HoldsAddr answers as internal/reference does for a rule
// of address lists only.
func TestSemanticsA3_HoldsAddrAgreesWithReference(t *testing.T) {
	ranges := []string{"10.0.0.0/8", "10.0.0.0/16", "10.0.0.7/24", "10.1.0.0/16", "0.0.0.0/0", "10.0.0.255/32", "11.0.0.0/8"}
	rapid.Check(t, func(t *rapid.T) {
		r := accessctl.Rule{Name: "r", Effect: policy.Allow,
			IpRanges:    rapid.SliceOfN(rapid.SampledFrom(ranges), 0, 3).Draw(t, "IpRanges"),
			NotIpRanges: rapid.SliceOfN(rapid.SampledFrom(ranges), 0, 3).Draw(t, "NotIpRanges")}
		s, err := ruleset.Lower([]ruleset.Input{{Name: r.Name, IpRanges: r.IpRanges, NotIpRanges: r.NotIpRanges}}, ruleset.Options{})
		if err != nil {
			t.Fatal(err)
		}
		a := rapid.OneOf(rapid.SampledFrom([]uint32{0, 0x0a000000, 0x0a00ffff, 0x0a010000, 0x0affffff, 0x0b000000, 0x09ffffff, 0x0a0000ff, 0x0a000100}), rapid.Uint32()).Draw(t, "addr")
		res, err := reference.Evaluate([]accessctl.Rule{r}, accessctl.Request{IP: cidr.AddrToNetip(a), Action: accessctl.IMAP, UserID: "user-0000000001"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.Rules[0].HoldsAddr(a), len(res.Matching) == 1; got != want {
			t.Fatalf("HoldsAddr(%s) = %v, the reference says %v", cidr.AddrString(a), got, want)
		}
	})
}

// Which way an edit moves a rule: adding a range nested in one already
// listed changes nothing; adding the first action narrows the rule.
func ExampleSet_Covers() {
	s, err := ruleset.Lower([]ruleset.Input{
		{Name: "before", IpRanges: []string{"10.0.0.0/8"}},
		{Name: "nested range added", IpRanges: []string{"10.0.0.0/8", "10.1.0.0/16"}},
		{Name: "first action added", IpRanges: []string{"10.0.0.0/8"}, Actions: []string{"IMAP"}},
	}, ruleset.Options{})
	if err != nil {
		panic(err)
	}
	for _, after := range []int{1, 2} {
		fmt.Printf("%s: wider %v, narrower %v\n", s.Rules[after].Name, s.Covers(after, 0), s.Covers(0, after))
	}
	// Output:
	// nested range added: wider true, narrower true
	// first action added: wider false, narrower true
}
