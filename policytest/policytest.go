// Package policytest provides rapid generators of WorkMail access-control inputs
// — ranges, addresses, rules, rule lists and requests — for property tests of
// code that uses wmpolicy, and of wmpolicy itself.
//
// Generators draw from a small universe on purpose: addresses cluster in a few
// anchor networks and principals come from a short pool, so that random requests
// hit random rules often and every branch of the semantics is exercised. Ranges
// are biased toward the edges that break code: /0, /31, /32, host bits set, and
// nested, adjacent and overlapping prefixes. Everything shrinks toward fewer
// rules, shorter lists, and lower indexes in the pools.
//
// Generators are safe for concurrent use, as rapid generators are.
package policytest

import (
	"fmt"
	"net/netip"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/policy"
	"pgregory.net/rapid"
)

// Anchors are the networks generated ranges and addresses cluster in: two
// private /16s, the three documentation /24s, and both ends of the address space.
var Anchors = []uint32{
	0x0A000000, // 10.0.0.0
	0x0A010000, // 10.1.0.0
	0xC0000200, // 192.0.2.0
	0xC6336400, // 198.51.100.0
	0xCB007100, // 203.0.113.0
	0x00000000, // 0.0.0.0
	0xFFFFFF00, // 255.255.255.0
}

// UserIDs is the pool of user IDs the generators name (each 12–256 characters).
var UserIDs = []string{
	"S-1-1-11-1111111111-2222222222-3333333333-0001",
	"S-1-1-11-1111111111-2222222222-3333333333-0002",
	"S-1-1-11-1111111111-2222222222-3333333333-0003",
	"S-1-1-11-1111111111-2222222222-3333333333-0004",
	"S-1-1-11-1111111111-2222222222-3333333333-0005",
}

// RoleIDs is the pool of impersonation role IDs the generators name.
var RoleIDs = []string{
	"0f8fad5b-d9cb-469f-a165-70867728950e",
	"7c9e6679-7425-40de-944b-e07fc1f90ae7",
	"b1c2d3e4-0000-4000-8000-000000000003",
	"role-4",
}

// Range generates a valid range. Prefix lengths are biased: /0, /1, /8, /16,
// /24, /31 and /32 appear often; about one range in four has host bits set; the
// network is an anchor, a sub-network of one, or (rarely) anywhere.
func Range() *rapid.Generator[cidr.Range] {
	return rapid.Custom(func(t *rapid.T) cidr.Range {
		bits := rapid.OneOf(
			rapid.SampledFrom([]int{32, 31, 24, 0, 16, 8, 1, 30, 28}),
			rapid.IntRange(0, 32),
		).Draw(t, "bits")
		var base uint32
		if rapid.IntRange(0, 9).Draw(t, "anywhere") == 0 {
			base = rapid.Uint32().Draw(t, "base")
		} else {
			base = rapid.SampledFrom(Anchors).Draw(t, "anchor") + rapid.Uint32Range(0, 1023).Draw(t, "offset")
		}
		r := cidr.RangeFrom(base, bits)
		if rapid.IntRange(0, 3).Draw(t, "hostbits") != 0 {
			r = r.Masked()
		}
		return r
	})
}

// RangeString generates the text of a valid range, as a rule holds it.
func RangeString() *rapid.Generator[string] {
	return rapid.Map(Range(), cidr.Range.String)
}

// Addr generates an IPv4 address: mostly inside or at the edge of the anchors
// (network, broadcast, ±1 of small blocks), sometimes anywhere.
func Addr() *rapid.Generator[netip.Addr] {
	return rapid.Custom(func(t *rapid.T) netip.Addr {
		var a uint32
		switch rapid.IntRange(0, 4).Draw(t, "kind") {
		case 0:
			a = rapid.Uint32().Draw(t, "any")
		default:
			a = rapid.SampledFrom(Anchors).Draw(t, "anchor") + rapid.Uint32Range(0, 1279).Draw(t, "offset")
		}
		return cidr.AddrToNetip(a)
	})
}

// BoundaryAddrs returns the edge addresses of r: network, broadcast and the
// addresses just outside them (where they exist).
func BoundaryAddrs(r cidr.Range) []uint32 {
	first, last := r.First(), r.Last()
	out := []uint32{first, last}
	if first > 0 {
		out = append(out, first-1)
	}
	if last < ^uint32(0) {
		out = append(out, last+1)
	}
	if first < last {
		out = append(out, first+1, last-1)
	}
	return out
}

// RuleOptions are the knobs of [Rule] and [Rules]. The zero value generates
// small lists; use [DefaultRuleOptions] for the model's maxima.
type RuleOptions struct {
	MaxRules  int // rules in a list (Rules); 0 means 10
	MaxRanges int // items in IpRanges and NotIpRanges each; 0 means 4
	Users     bool
	Roles     bool
}

// DefaultRuleOptions generate up to 10 rules with up to 4 ranges per list, naming
// users and roles.
var DefaultRuleOptions = RuleOptions{MaxRules: 10, MaxRanges: 4, Users: true, Roles: true}

func (o RuleOptions) norm() RuleOptions {
	if o.MaxRules <= 0 {
		o.MaxRules = 10
	}
	if o.MaxRanges <= 0 {
		o.MaxRanges = 4
	}
	return o
}

// listOf draws a list that is empty about half the time.
func listOf[T any](t *rapid.T, label string, g *rapid.Generator[T], max int) []T {
	if rapid.Bool().Draw(t, label+"?") {
		return nil
	}
	return rapid.SliceOfN(g, 1, max).Draw(t, label)
}

// Rule generates one valid rule named name. Each of its eight lists is empty
// about half the time; actions, users and roles come from small pools, so that
// lists of different rules overlap.
func Rule(name string, o RuleOptions) *rapid.Generator[accessctl.Rule] {
	o = o.norm()
	return rapid.Custom(func(t *rapid.T) accessctl.Rule {
		r := accessctl.Rule{
			Name:   name,
			Effect: rapid.SampledFrom([]policy.Effect{policy.Allow, policy.Deny}).Draw(t, "effect"),
		}
		r.IpRanges = listOf(t, "IpRanges", RangeString(), o.MaxRanges)
		r.NotIpRanges = listOf(t, "NotIpRanges", RangeString(), o.MaxRanges)
		actions := rapid.SampledFrom(actionNames())
		r.Actions = listOf(t, "Actions", actions, 3)
		r.NotActions = listOf(t, "NotActions", actions, 3)
		if o.Users {
			users := rapid.SampledFrom(UserIDs)
			r.UserIds = listOf(t, "UserIds", users, 3)
			r.NotUserIds = listOf(t, "NotUserIds", users, 3)
		}
		if o.Roles {
			roles := rapid.SampledFrom(RoleIDs)
			r.ImpersonationRoleIds = listOf(t, "ImpersonationRoleIds", roles, 2)
			r.NotImpersonationRoleIds = listOf(t, "NotImpersonationRoleIds", roles, 2)
		}
		return r
	})
}

func actionNames() []string {
	var out []string
	for _, a := range accessctl.Actions() {
		out = append(out, a.String())
	}
	return out
}

// Rules generates a valid rule list of 0 to o.MaxRules rules with distinct
// names, in random order (names are not sorted, so order-dependence shows).
func Rules(o RuleOptions) *rapid.Generator[[]accessctl.Rule] {
	o = o.norm()
	return rapid.Custom(func(t *rapid.T) []accessctl.Rule {
		n := rapid.IntRange(0, o.MaxRules).Draw(t, "n")
		ids := rapid.SliceOfNDistinct(rapid.IntRange(0, 4*o.MaxRules+10), n, n, rapid.ID[int]).Draw(t, "names")
		rules := make([]accessctl.Rule, n)
		for i, id := range ids {
			rules[i] = Rule(fmt.Sprintf("rule-%d", id), o).Draw(t, fmt.Sprintf("rule%d", i))
		}
		return rules
	})
}

// Request generates a valid request: a user request, or (about one in four) an
// EWS request of an impersonation role; principals come from [UserIDs] and
// [RoleIDs] plus one of each that no rule names.
func Request() *rapid.Generator[accessctl.Request] {
	return rapid.Custom(func(t *rapid.T) accessctl.Request {
		r := accessctl.Request{IP: Addr().Draw(t, "ip")}
		if rapid.IntRange(0, 3).Draw(t, "role?") == 0 {
			r.Action = accessctl.EWS
			r.ImpersonationRoleID = rapid.SampledFrom(append(RoleIDs[:len(RoleIDs):len(RoleIDs)], "unnamed-role")).Draw(t, "role")
			return r
		}
		r.Action = rapid.SampledFrom(accessctl.Actions()).Draw(t, "action")
		r.UserID = rapid.SampledFrom(append(UserIDs[:len(UserIDs):len(UserIDs)], "S-1-1-11-9999999999-unnamed")).Draw(t, "user")
		return r
	})
}

// RequestFor generates a request that is likely to hit the given rules: its
// address is a boundary address of one of their ranges when they have any.
func RequestFor(rules []accessctl.Rule) *rapid.Generator[accessctl.Request] {
	var edges []uint32
	for _, r := range rules {
		for _, list := range [][]string{r.IpRanges, r.NotIpRanges} {
			for _, s := range list {
				if rg, err := cidr.ParseRange(s); err == nil {
					edges = append(edges, BoundaryAddrs(rg)...)
				}
			}
		}
	}
	return rapid.Custom(func(t *rapid.T) accessctl.Request {
		r := Request().Draw(t, "request")
		if len(edges) > 0 && rapid.Bool().Draw(t, "edge?") {
			r.IP = cidr.AddrToNetip(rapid.SampledFrom(edges).Draw(t, "edge"))
		}
		return r
	})
}
