package ruleset

import (
	"slices"

	"github.com/wmpolicy/wmpolicy/cidr"
)

// Queries on the lowering for code that reasons about rules rather than
// evaluating requests in bulk (policytest aims requests at a rule and tells
// which way an edit moves it): they read a rule's meaning from the same
// lowered fields as [Set.Column], so no caller repeats SEMANTICS A3 and A4.

// HoldsAddr reports whether the rule's address conditions hold for the IPv4
// address a (SEMANTICS A3, A9): a is inside one of its IpRanges, or it has
// none, and inside none of its NotIpRanges; a range with host bits set
// matches as its masked network. The zero Rule holds for every address.
// Cost: O(ranges of the rule); it does not allocate.
func (r *Rule) HoldsAddr(a uint32) bool {
	in := func(g cidr.Range) bool { return g.Contains(a) }
	return r.addrHolds(slices.ContainsFunc(r.IP(), in), slices.ContainsFunc(r.NotIP(), in))
}

// addrHolds is A3 for the address lists, as [Rule.ListHolds] says: inIP,
// whether the address is in one of the rule's IpRanges; inNot, in one of its
// NotIpRanges.
func (r *Rule) addrHolds(inIP, inNot bool) bool {
	return r.holdsIpRanges(inIP) && r.holdsNotIpRanges(inNot)
}

// Covers reports whether rule i's conditions hold for every request rule j's
// hold for (rules numbered as in s.Rules), so that replacing rule j by rule i
// can only widen it, and Covers(i, j) && Covers(j, i) means the two rules
// match the same requests. A rule whose conditions hold for no request is
// covered by every rule.
//
// The requests considered are every IPv4 address, action 1…NumActions and
// principal of either kind, including role requests of actions other than
// EWS, which A2 refuses: where Covers reports true, no request, valid or
// not, holds for j and not for i; where it reports false, the requests that
// hold for j and not for i may all be role requests of such actions, or
// requests of "any other" user or role when every user or role is named (the
// Set cannot know that no other exists).
//
// A rule's requests are its addresses (HoldsAddr) times its (principal,
// action) pairs (Holds and Allows), so Covers compares each factor: the
// address space cut at both rules' range boundaries with one
// [cidr.BuildMap], and every action for each principal either rule names
// and for "any other" of each kind. Cost: O(R log R) for the R ranges of
// the two rules, plus O(NumActions) per principal the Set names. It panics
// if i or j is out of range, as indexing s.Rules does.
func (s *Set) Covers(i, j int) bool {
	ri, rj := &s.Rules[i], &s.Rules[j]
	// Principal and action.
	anyJ, subset := false, true
	pairs := func(k Kind, id string) {
		hi, hj := ri.Holds(k, id), rj.Holds(k, id)
		for a := 1; a <= NumActions; a++ {
			inI, inJ := hi && ri.Allows(a), hj && rj.Allows(a)
			anyJ = anyJ || inJ
			subset = subset && (inI || !inJ)
		}
	}
	for k := range Kind(2) {
		for _, id := range s.Named(k) {
			pairs(k, id)
		}
		pairs(k, "") // any principal no rule names
	}
	if !anyJ {
		return true
	}
	// Addresses: label each elementary interval of both rules' ranges with
	// bit 0 when i's address conditions hold there, bit 1 when j's do.
	ranges := slices.Concat(ri.Ranges, rj.Ranges)
	m := cidr.BuildMap(ranges, func(members []int32) uint32 {
		var in [2][2]bool // [rule i, rule j][IpRanges, NotIpRanges]
		for _, n := range members {
			w, r := 0, ri
			if int(n) >= len(ri.Ranges) {
				w, r, n = 1, rj, n-int32(len(ri.Ranges))
			}
			list := 0 // IpRanges, then NotIpRanges (Rule.Ranges)
			if int(n) >= r.In {
				list = 1
			}
			in[w][list] = true
		}
		var label uint32
		if ri.addrHolds(in[0][0], in[0][1]) {
			label |= 1
		}
		if rj.addrHolds(in[1][0], in[1][1]) {
			label |= 2
		}
		return label
	})
	addrJ := false
	for iv := range m.Intervals() {
		if iv.Class&2 != 0 {
			addrJ = true
			subset = subset && iv.Class&1 != 0
		}
	}
	return !addrJ || subset
}
