// Package compare runs the same WorkMail access-control workloads through
// wmpolicy and three other designs — a straightforward net/netip scan, a
// longest-prefix-match table of rule bitsets on github.com/gaissmai/bart, and
// Cedar policies on github.com/cedar-policy/cedar-go — checks that they agree
// on every request, and benchmarks them (compare_test.go). It is a module of
// its own so that the library's dependencies stay lean.
//
// The engines share nothing but the rules and requests: each compiles the
// rules its own way, and every request is parsed into each engine's own form
// before any timing.
package compare

import (
	"fmt"
	"math/rand/v2"
	"net/netip"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Workload is a named rule list and the requests to evaluate against it.
type Workload struct {
	Name  string
	Rules []accessctl.Rule
	Reqs  []accessctl.Request
}

// Answer is what every engine must agree on: the effect and the deciding
// rules' names (SEMANTICS A6, A7), ascending.
type Answer struct {
	Deny  bool
	Names []string
}

func (a Answer) String() string {
	eff := "ALLOW"
	if a.Deny {
		eff = "DENY"
	}
	return fmt.Sprintf("%s %q", eff, a.Names)
}

// Equal reports whether a and b are the same answer.
func (a Answer) Equal(b Answer) bool {
	if a.Deny != b.Deny || len(a.Names) != len(b.Names) {
		return false
	}
	for i := range a.Names {
		if a.Names[i] != b.Names[i] {
			return false
		}
	}
	return true
}

// NumRequests is the number of requests of each workload.
const NumRequests = 1024

func userID(i int) string { return fmt.Sprintf("S-1-1-11-1234567890-1234567890-1234567890-%04d", i) }
func roleID(i int) string { return fmt.Sprintf("role-%04d-impersonation", i) }

// shape says which range lists the rules of a workload carry.
type shape struct {
	rules, ranges int
	inEvery       bool // every rule has IpRanges (else 7 in 10)
	notOneIn      int  // one rule in notOneIn has NotIpRanges too
}

// Workloads returns the S, M and L workloads, generated deterministically:
// S, 15 rules with up to 10 ranges per list; M, 20 rules of 1,024 IpRanges
// (one in four with 1,024 NotIpRanges too); L, 1,000 rules of 100 IpRanges
// (one in five with 100 NotIpRanges). Every list keeps WorkMail's limits
// (A13); 10 users, 5 roles, one rule in three DENY.
func Workloads() []Workload {
	return []Workload{
		gen("S", shape{rules: 15, ranges: 10, notOneIn: 2}, 1),
		gen("M", shape{rules: 20, ranges: 1024, inEvery: true, notOneIn: 4}, 2),
		gen("L", shape{rules: 1000, ranges: 100, inEvery: true, notOneIn: 5}, 3),
	}
}

func gen(name string, sh shape, seed uint64) Workload {
	rng := rand.New(rand.NewPCG(seed, 19))
	const users, roles = 10, 5
	actions := accessctl.Actions()
	rangeStr := func() string {
		bits := 8 + rng.IntN(25)
		if rng.IntN(4) != 0 {
			bits = 16 + rng.IntN(13)
		}
		return cidr.RangeFrom(rng.Uint32(), bits).Masked().String()
	}
	w := Workload{Name: name}
	for i := range sh.rules {
		r := accessctl.Rule{Name: fmt.Sprintf("rule-%04d", i), Effect: policy.Allow}
		if rng.IntN(3) == 0 {
			r.Effect = policy.Deny
		}
		if sh.inEvery || rng.IntN(10) < 7 {
			for range 1 + rng.IntN(sh.ranges) {
				r.IpRanges = append(r.IpRanges, rangeStr())
			}
			if sh.inEvery {
				for len(r.IpRanges) < sh.ranges {
					r.IpRanges = append(r.IpRanges, rangeStr())
				}
			}
		}
		if rng.IntN(sh.notOneIn) == 0 {
			for range sh.ranges {
				r.NotIpRanges = append(r.NotIpRanges, rangeStr())
			}
		}
		if rng.IntN(2) == 0 {
			for _, k := range rng.Perm(len(actions))[:1+rng.IntN(3)] {
				r.Actions = append(r.Actions, actions[k].String())
			}
		}
		if rng.IntN(4) == 0 {
			r.NotActions = []string{actions[rng.IntN(len(actions))].String()}
		}
		switch rng.IntN(10) {
		case 0, 1, 2:
			for _, k := range rng.Perm(users)[:1+rng.IntN(3)] {
				r.UserIds = append(r.UserIds, userID(k))
			}
		case 3:
			r.ImpersonationRoleIds = []string{roleID(rng.IntN(roles))}
		}
		if rng.IntN(5) == 0 {
			r.NotUserIds = []string{userID(rng.IntN(users))}
		}
		if rng.IntN(10) == 0 {
			r.NotImpersonationRoleIds = []string{roleID(rng.IntN(roles))}
		}
		w.Rules = append(w.Rules, r)
	}
	rng.Shuffle(len(w.Rules), func(i, j int) { w.Rules[i], w.Rules[j] = w.Rules[j], w.Rules[i] })
	var all []cidr.Range
	for _, r := range w.Rules {
		for _, s := range append(append([]string{}, r.IpRanges...), r.NotIpRanges...) {
			all = append(all, cidr.MustParseRange(s))
		}
	}
	for i := range NumRequests {
		a := rng.Uint32()
		if len(all) > 0 && i%2 == 0 {
			rg := all[rng.IntN(len(all))]
			a = rg.First() + uint32(rng.Uint64N(uint64(rg.Last()-rg.First())+1))
		}
		req := accessctl.Request{IP: cidr.AddrToNetip(a), Action: actions[rng.IntN(len(actions))]}
		if i%10 == 9 {
			req.Action = accessctl.EWS
			req.ImpersonationRoleID = roleID(rng.IntN(roles + 1))
		} else {
			req.UserID = userID(rng.IntN(users + 2))
		}
		w.Reqs = append(w.Reqs, req)
	}
	return w
}

// addr4 is the request's address as netip.Addr (IPv4).
func addr4(r *accessctl.Request) netip.Addr { return r.IP.Unmap() }
