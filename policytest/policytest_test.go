package policytest_test

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/internal/reference"
	"github.com/wmpolicy/wmpolicy/policy"
	"github.com/wmpolicy/wmpolicy/policytest"
	"pgregory.net/rapid"
)

func wantSeen(t *testing.T, what string, seen map[string]int, want ...string) {
	t.Helper()
	for _, k := range want {
		if seen[k] == 0 {
			t.Errorf("%s: no %q in %d draws (saw %v)", what, k, draws, seen)
		}
	}
}

func inAnchors(a uint32) bool {
	for _, base := range policytest.Anchors() {
		if a-base < 1280 {
			return true
		}
	}
	return false
}

// SEMANTICS A9: Range draws only valid ranges, and /0, /31, /32, host-bit
// ranges, anchored and far-away networks all occur.
func TestSemanticsA9_RangeValidAndCovering(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := policytest.Range().Draw(t, "range")
		back, err := cidr.ParseRange(r.String())
		if err != nil || back != r {
			t.Fatalf("%v: ParseRange(String) = %v, %v", r, back, err)
		}
	})
	seen := map[string]int{}
	for i := range draws {
		r := policytest.Range().Example(i)
		seen[fmt.Sprintf("/%d", r.Bits())]++
		if r.HasHostBits() {
			seen["host bits"]++
		}
		if inAnchors(r.Addr()) {
			seen["anchored"]++
		} else {
			seen["anywhere"]++
		}
	}
	wantSeen(t, "Range", seen, "/0", "/1", "/8", "/16", "/24", "/31", "/32", "/13", "host bits", "anchored", "anywhere")
}

// RangeFamily's members relate as its doc claims: duplicates, nesting,
// supernets, adjacency on both sides and host-bit twins all occur.
func TestRangeFamilyCovers(t *testing.T) {
	seen := map[string]int{}
	for i := range draws {
		fam := policytest.RangeFamily().Example(i)
		if len(fam) < 1 || len(fam) > 8 {
			t.Fatalf("family of %d", len(fam))
		}
		seen[fmt.Sprintf("size %d", len(fam))]++
		for j, a := range fam {
			if !a.IsValid() {
				t.Fatalf("invalid member %v", a)
			}
			for _, b := range fam[:j] {
				am, bm := a.Masked(), b.Masked()
				switch {
				case a == b:
					seen["duplicate"]++
				case am == bm:
					seen["host-bit twin"]++
				case bm.Bits() < am.Bits() && bm.Contains(am.First()):
					seen["nested"]++
				case am.Bits() < bm.Bits() && am.Contains(bm.First()):
					seen["supernet"]++
				case am.Bits() == bm.Bits() && am.First() == bm.Last()+1:
					seen["adjacent after"]++
				case am.Bits() == bm.Bits() && am.Last()+1 == bm.First():
					seen["adjacent before"]++
				}
			}
		}
	}
	wantSeen(t, "RangeFamily", seen, "size 1", "size 8", "duplicate", "host-bit twin", "nested", "supernet", "adjacent after", "adjacent before")
}

// SEMANTICS A10: Addr and AddrNear draw IPv4 addresses; AddrNear hits every
// boundary address of its ranges.
func TestSemanticsA10_AddrCovers(t *testing.T) {
	seen := map[string]int{}
	for i := range draws {
		a := policytest.Addr().Example(i)
		if !a.Is4() {
			t.Fatalf("%v is not IPv4", a)
		}
		u, _ := cidr.AddrFrom(a)
		if inAnchors(u) {
			seen["anchored"]++
		} else {
			seen["anywhere"]++
		}
		switch u {
		case 0:
			seen["0.0.0.0"]++
		case 0xFFFFFFFF:
			seen["255.255.255.255"]++
		}
	}
	wantSeen(t, "Addr", seen, "anchored", "anywhere", "0.0.0.0", "255.255.255.255")

	r := cidr.MustParseRange("10.0.0.7/24")
	edges := map[uint32]string{0x0A000000: "network", 0x0A0000FF: "broadcast", 0x09FFFFFF: "network-1", 0x0A000100: "broadcast+1", 0x0A000001: "network+1", 0x0A0000FE: "broadcast-1"}
	seen = map[string]int{}
	for i := range draws {
		u, _ := cidr.AddrFrom(policytest.AddrNear(r).Example(i))
		if name, ok := edges[u]; ok {
			seen[name]++
		} else if r.Contains(u) {
			seen["inside"]++
		} else {
			t.Fatalf("AddrNear(%v) drew %s", r, cidr.AddrString(u))
		}
	}
	wantSeen(t, "AddrNear", seen, "network", "broadcast", "network-1", "broadcast+1", "network+1", "broadcast-1", "inside")
}

func TestBoundaryAddrs(t *testing.T) {
	got := policytest.BoundaryAddrs(cidr.MustParseRange("10.0.0.0/24"))
	want := []uint32{0x0A000000, 0x0A0000FF, 0x09FFFFFF, 0x0A000100, 0x0A000001, 0x0A0000FE}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if n := len(policytest.BoundaryAddrs(cidr.MustParseRange("0.0.0.0/0"))); n != 4 {
		t.Errorf("/0: %d addresses, want 4 (no outside neighbours)", n)
	}
	if got := policytest.BoundaryAddrs(cidr.MustParseRange("255.255.255.255/32")); !slices.Equal(got, []uint32{0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFE}) {
		t.Errorf("/32 at the top: %v", got)
	}
}

// SEMANTICS A13 A15b: Rules draws only lists that validate and compile, and
// covers both effects, every list, descriptions and edge names.
func TestSemanticsA13_RulesValidAndCovering(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rules := policytest.Rules(policytest.DefaultRuleOptions()).Draw(t, "rules")
		if err := accessctl.ValidateRules(rules); err != nil {
			t.Fatalf("generated invalid rules: %v", err)
		}
		if _, err := accessctl.Compile(rules, accessctl.Options{}); err != nil {
			t.Fatalf("Compile: %v", err)
		}
		// With a Directory, too: every user the rules name is in it (A18).
		if _, err := accessctl.Compile(rules, accessctl.Options{Directory: policytest.Directory().Draw(t, "dir")}); err != nil {
			t.Fatalf("Compile with a directory: %v", err)
		}
	})
	seen := map[string]int{}
	for i := range draws / 4 {
		rules := policytest.Rules(policytest.DefaultRuleOptions()).Example(i)
		seen[fmt.Sprintf("%d rules", len(rules))]++
		for _, r := range rules {
			seen[r.Effect.String()]++
			if r.Description != "" {
				seen["description"]++
			}
			if len(r.Name) == accessctl.MaxNameLength {
				seen["64-character name"]++
			}
			if len(r.Name) == 1 {
				seen["1-character name"]++
			}
			for name, l := range map[string][]string{"IpRanges": r.IpRanges, "NotIpRanges": r.NotIpRanges, "Actions": r.Actions, "NotActions": r.NotActions,
				"UserIds": r.UserIds, "NotUserIds": r.NotUserIds, "ImpersonationRoleIds": r.ImpersonationRoleIds, "NotImpersonationRoleIds": r.NotImpersonationRoleIds} {
				if len(l) > 0 {
					seen[name]++
				}
			}
		}
	}
	wantSeen(t, "Rules", seen, "0 rules", "10 rules", "ALLOW", "DENY", "description", "64-character name", "1-character name",
		"IpRanges", "NotIpRanges", "Actions", "NotActions", "UserIds", "NotUserIds", "ImpersonationRoleIds", "NotImpersonationRoleIds")

	// The knobs: MinRules, pools, no principals.
	o := policytest.RuleOptions{MinRules: 2, MaxRules: 3, UserIDs: []string{"only-this-user"}, Users: true}
	for i := range 50 {
		rules := policytest.Rules(o).Example(i)
		if len(rules) < 2 || len(rules) > 3 {
			t.Fatalf("%d rules, want 2–3", len(rules))
		}
		for _, r := range rules {
			if len(r.ImpersonationRoleIds)+len(r.NotImpersonationRoleIds) > 0 {
				t.Fatalf("roles drawn with Roles false: %+v", r)
			}
			for _, u := range append(slices.Clone(r.UserIds), r.NotUserIds...) {
				if u != "only-this-user" {
					t.Fatalf("user %q outside the pool", u)
				}
			}
		}
	}
}

// SEMANTICS A13: MaxRuleOptions reach the model's maxima (1024 ranges, 10
// actions, 10 principals per list) and stay valid.
func TestSemanticsA13_RulesReachMaxima(t *testing.T) {
	longest := map[string]int{}
	for i := range 300 {
		r := policytest.Rule("r", policytest.MaxRuleOptions()).Example(i)
		if err := accessctl.ValidateRule(&r); err != nil {
			t.Fatal(err)
		}
		for name, n := range map[string]int{"ranges": max(len(r.IpRanges), len(r.NotIpRanges)), "actions": max(len(r.Actions), len(r.NotActions)),
			"users": max(len(r.UserIds), len(r.NotUserIds)), "roles": max(len(r.ImpersonationRoleIds), len(r.NotImpersonationRoleIds))} {
			longest[name] = max(longest[name], n)
		}
	}
	for name, want := range map[string]int{"ranges": accessctl.MaxIPRanges, "actions": accessctl.MaxActions, "users": accessctl.MaxUserIDs, "roles": accessctl.MaxRoleIDs} {
		if longest[name] != want {
			t.Errorf("longest %s list %d in 300 draws, want %d", name, longest[name], want)
		}
	}
}

// SEMANTICS A3 A6: RequestFor draws valid requests that hit and miss the
// rules: some match a rule, some match none, some sit on range edges; user and
// role requests both occur.
func TestSemanticsA6_RequestForHitsAndMisses(t *testing.T) {
	seen := map[string]int{}
	for i := range draws / 4 {
		rules := policytest.Rules(policytest.DefaultRuleOptions()).Example(i)
		p, err := accessctl.Compile(rules, accessctl.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for j := range 4 {
			req := policytest.RequestFor(rules).Example(i*4 + j)
			d, err := p.Decide(req)
			if err != nil {
				t.Fatalf("generated invalid request %+v: %v", req, err)
			}
			seen[d.Reason.String()]++
			if req.ImpersonationRoleID != "" {
				seen["role"]++
			} else {
				seen["user"]++
			}
			if req.UserID == policytest.UnknownUserID || req.ImpersonationRoleID == policytest.UnknownRoleID {
				seen["unknown principal"]++
			}
			u, _ := cidr.AddrFrom(req.IP)
			for _, r := range rules {
				for _, s := range append(slices.Clone(r.IpRanges), r.NotIpRanges...) {
					rg := cidr.MustParseRange(s)
					if u == rg.First() || u == rg.Last() {
						seen["on an edge"]++
					} else if !rg.Contains(u) && (u == rg.First()-1 || u == rg.Last()+1) {
						seen["just outside"]++
					}
				}
			}
		}
	}
	wantSeen(t, "RequestFor", seen, "explicit allow", "explicit deny", "implicit deny", "role", "user", "unknown principal", "on an edge", "just outside")
}

// SEMANTICS A18 B2: Directory holds every pool user; every name UserName
// draws resolves to a user; TargetUser also draws unknown names.
func TestSemanticsB2_DirectoryAndNamesCover(t *testing.T) {
	seen := map[string]int{}
	for i := range draws / 4 {
		dir := policytest.Directory().Example(i)
		for _, id := range policytest.UserIDs() {
			if _, ok := dir.Lookup(id); !ok {
				t.Fatalf("pool user %s missing", id)
			}
		}
		for _, u := range dir.Users() {
			if u.Email == "" {
				seen["no email"]++
			}
			if len(u.Aliases) > 0 {
				seen["alias"]++
			}
			if len(u.ID) == 36 {
				seen["GUID"]++
			}
			seen["state "+u.State]++
			for _, n := range policytest.Names(u) {
				if got, ok := dir.Lookup(n); !ok || got.ID != u.ID {
					t.Fatalf("name %q of %s resolves to %v %v", n, u.ID, got.ID, ok)
				}
				if len(n) < accessctl.MinUserIDLength || impersonation.CheckTargetUser(n) != "" {
					t.Fatalf("name %q is not usable in rules and roles", n)
				}
			}
		}
		for j := range 8 {
			name := policytest.TargetUser(dir).Example(i*8 + j)
			if msg := impersonation.CheckTargetUser(name); msg != "" {
				t.Fatalf("target %q: %s", name, msg)
			}
			u, ok := dir.Lookup(name)
			switch {
			case !ok:
				seen["unknown target"]++
			case name == u.ID:
				seen["by ID"]++
			case name == u.Email || name == u.Name:
				seen["by name as written"]++
			default:
				seen["by name in another case"]++
			}
		}
	}
	wantSeen(t, "Directory", seen, "no email", "alias", "GUID", "state ENABLED", "state DISABLED", "state DELETED", "state ",
		"unknown target", "by ID", "by name as written", "by name in another case")
}

// SEMANTICS B1: Role draws only valid roles that compile (with and without a
// directory), covering both types, no rules, ten rules and every list shape.
func TestSemanticsB1_RoleValidAndCovering(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		dir := policytest.Directory().Draw(t, "dir")
		role := policytest.Role(policytest.RoleOptions{Targets: policytest.UserName(dir)}).Draw(t, "role")
		if err := impersonation.ValidateRole(role); err != nil {
			t.Fatalf("invalid role: %v", err)
		}
		if _, err := impersonation.Compile(role, dir); err != nil {
			t.Fatalf("Compile: %v", err)
		}
		plain := policytest.Role(policytest.RoleOptions{}).Draw(t, "plain")
		if _, err := impersonation.Compile(plain, nil); err != nil {
			t.Fatalf("Compile: %v", err)
		}
	})
	seen := map[string]int{}
	for i := range draws / 2 {
		role := policytest.Role(policytest.RoleOptions{}).Example(i)
		seen[role.Type.String()]++
		seen[fmt.Sprintf("%d rules", len(role.Rules))]++
		for _, r := range role.Rules {
			seen[r.Effect.String()]++
			if r.TargetUsers != nil {
				seen["TargetUsers"]++
			}
			if r.NotTargetUsers != nil {
				seen["NotTargetUsers"]++
			}
			if r.TargetUsers == nil && r.NotTargetUsers == nil {
				seen["no lists"]++
			}
			if len(r.TargetUsers) == impersonation.MaxTargetUsers {
				seen["10 targets"]++
			}
			if len(r.ImpersonationRuleId) == impersonation.MaxIDLength {
				seen["64-character rule ID"]++
			}
		}
	}
	wantSeen(t, "Role", seen, "FULL_ACCESS", "READ_ONLY", "0 rules", "10 rules", "ALLOW", "DENY", "TargetUsers", "NotTargetUsers", "no lists",
		"10 targets", "64-character rule ID")
	if r := policytest.Role(policytest.RoleOptions{MaxRules: -1}).Example(1); len(r.Rules) != 0 {
		t.Errorf("MaxRules -1: %d rules", len(r.Rules))
	}
}

// SEMANTICS A6 A14: every mutation keeps the list valid, changes exactly what
// it says, and its Direction is right: the reference evaluator's effects move
// only the way it allows. All kinds and directions occur.
func TestSemanticsA6_MutateDirections(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rules := policytest.Rules(policytest.DefaultRuleOptions()).Draw(t, "rules")
		orig := slices.Clone(rules)
		m := policytest.Mutate(rules, policytest.DefaultRuleOptions()).Draw(t, "mutation")
		if err := accessctl.ValidateRules(m.After); err != nil {
			t.Fatalf("%s: invalid result: %v", m, err)
		}
		switch m.Kind {
		case policytest.AddRule:
			if len(m.After) != len(rules)+1 {
				t.Fatalf("%s: %d rules after", m, len(m.After))
			}
		case policytest.RemoveRule:
			if len(m.After) != len(rules)-1 || slices.ContainsFunc(m.After, func(r accessctl.Rule) bool { return r.Name == m.Name }) {
				t.Fatalf("%s: not removed", m)
			}
		case policytest.EditRule:
			if len(m.After) != len(rules) {
				t.Fatalf("%s: %d rules after", m, len(m.After))
			}
		}
		for i := range rules {
			if rules[i].Name != orig[i].Name || len(rules[i].IpRanges) != len(orig[i].IpRanges) {
				t.Fatalf("Before modified")
			}
		}
		both := append(slices.Clone(m.Before), m.After...)
		for i := range 10 {
			req := policytest.RequestFor(both).Draw(t, fmt.Sprintf("req%d", i))
			before, err1 := reference.Evaluate(m.Before, req, nil)
			after, err2 := reference.Evaluate(m.After, req, nil)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if !m.Direction.Allows(before.Effect, after.Effect) {
				t.Fatalf("%s: %+v went %v → %v", m, req, before.Effect, after.Effect)
			}
		}
	})
	seen := map[string]int{}
	for i := range draws {
		rules := policytest.Rules(policytest.DefaultRuleOptions()).Example(i)
		m := policytest.Mutate(rules, policytest.DefaultRuleOptions()).Example(i)
		seen[m.Kind.String()]++
		seen[m.Direction.String()]++
	}
	wantSeen(t, "Mutate", seen, "add", "remove", "edit", "grants", "restricts", "neutral", "mixed")
}

func TestDirectionAllows(t *testing.T) {
	A, D := policy.Allow, policy.Deny
	for _, c := range []struct {
		d        policytest.Direction
		from, to policy.Effect
		allowed  bool
	}{
		{policytest.Grants, D, A, true}, {policytest.Grants, A, D, false},
		{policytest.Restricts, A, D, true}, {policytest.Restricts, D, A, false},
		{policytest.Neutral, A, D, false}, {policytest.Neutral, D, A, false}, {policytest.Neutral, A, A, true},
		{policytest.Mixed, A, D, true}, {policytest.Mixed, D, A, true},
	} {
		if got := c.d.Allows(c.from, c.to); got != c.allowed {
			t.Errorf("%v.Allows(%v, %v) = %v", c.d, c.from, c.to, got)
		}
	}
}

// netipAddr is used by the checker tests.
var _ = netip.Addr{}

// SEMANTICS A13: RuleName and Description draw valid values and their edge
// cases: one and 64 characters, names differing only in case, "default";
// empty, 255-character and U+00FF descriptions.
func TestSemanticsA13_NamesAndDescriptionsCover(t *testing.T) {
	seen := map[string]int{}
	for i := range draws {
		name := policytest.RuleName().Example(i)
		desc := policytest.Description().Example(i)
		r := accessctl.Rule{Name: name, Effect: policy.Allow, Description: desc}
		if err := accessctl.ValidateRule(&r); err != nil {
			t.Fatalf("%q / %q: %v", name, desc, err)
		}
		switch {
		case len(name) == 1:
			seen["1-character name"]++
		case len(name) == accessctl.MaxNameLength:
			seen["64-character name"]++
		case name == "default":
			seen["default"]++
		case name == "Rule-1" || name == "RULE-1":
			seen["case variant"]++
		}
		n := len([]rune(desc))
		switch {
		case n == 0:
			seen["empty description"]++
		case n == accessctl.MaxDescription:
			seen["255-character description"]++
		}
		for _, c := range desc {
			if c == 0xFF {
				seen["U+00FF"]++
			}
			if c > 0x7F && c < 0xFF {
				seen["Latin-1"]++
			}
		}
	}
	wantSeen(t, "RuleName/Description", seen, "1-character name", "64-character name", "default", "case variant",
		"empty description", "255-character description", "U+00FF", "Latin-1")
}

// SEMANTICS A3 A4: RequestMatching's requests match their rule, unless the
// rule can match nothing.
func TestSemanticsA3_RequestMatchingHits(t *testing.T) {
	hits, total := 0, 0
	for i := range draws / 2 {
		r := policytest.Rule("target", policytest.DefaultRuleOptions()).Example(i)
		if !satisfiable(r) {
			continue
		}
		p, err := accessctl.Compile([]accessctl.Rule{r}, accessctl.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for j := range 4 {
			req := policytest.RequestMatching(r).Example(i*4 + j)
			d, err := p.Decide(req)
			if err != nil {
				t.Fatalf("invalid request %+v: %v", req, err)
			}
			total++
			if len(d.Matching) == 1 {
				hits++
			}
		}
	}
	// Ranges inside NotIpRanges (0.0.0.0/0 is a common one) still make some
	// rules hard or impossible to hit.
	if hits*4 < total*3 {
		t.Errorf("only %d of %d aimed requests matched their rule", hits, total)
	}
	t.Logf("%d of %d aimed requests matched", hits, total)
}

// SEMANTICS A3 A9: an address aimed inside a range at either end of the
// address space stays inside it (just inside the network or broadcast
// address of a /32 is that address, not a wrap-around to the other end).
func TestSemanticsA3_RequestMatchingEndRanges(t *testing.T) {
	for _, s := range []string{"255.255.255.255/32", "0.0.0.0/32", "255.255.255.254/31", "0.0.0.0/31"} {
		rg := cidr.MustParseRange(s)
		g := policytest.RequestMatching(accessctl.Rule{Name: "end", Effect: policy.Allow, IpRanges: []string{s}})
		for i := range draws / 4 {
			ip := g.Example(i).IP
			if a, err := cidr.AddrFrom(ip); err != nil || !rg.Contains(a) {
				t.Fatalf("%s: aimed at %v", s, ip)
			}
		}
	}
}

// SEMANTICS A3 A4 A5: RequestMatching reads its rule through the lowering
// (internal/ruleset); internal/reference, which shares no code with it,
// confirms every aim. The address is inside the rule's IpRanges; and
// whenever some request matches the rule's action and principal lists — a
// brute force over every principal the rule names, an unknown one of each
// kind, and every valid action (roles ask only for EWS, A2) — the drawn
// request does. (NotIpRanges are avoided only when a few tries allow:
// TestSemanticsA3_RequestMatchingHits counts how often.)
func TestSemanticsA4_RequestMatchingAgreesWithReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := policytest.Rule("target", policytest.DefaultRuleOptions()).Draw(t, "rule")
		req := policytest.RequestMatching(r).Draw(t, "request")
		matches := func(rule accessctl.Rule, req accessctl.Request) bool {
			res, err := reference.Evaluate([]accessctl.Rule{rule}, req, nil)
			if err != nil {
				t.Fatalf("invalid request %+v: %v", req, err)
			}
			return len(res.Matching) == 1
		}
		if !matches(accessctl.Rule{Name: "ip", Effect: policy.Allow, IpRanges: r.IpRanges}, req) {
			t.Fatalf("address %v outside IpRanges %q", req.IP, r.IpRanges)
		}
		rest := r.Clone()
		rest.IpRanges, rest.NotIpRanges = nil, nil
		if matches(rest, req) {
			return
		}
		for _, u := range slices.Concat(r.UserIds, r.NotUserIds, []string{policytest.UnknownUserID}) {
			for _, a := range accessctl.Actions() {
				if other := (accessctl.Request{IP: req.IP, Action: a, UserID: u}); matches(rest, other) {
					t.Fatalf("%+v misses the rule's lists, which %+v matches", req, other)
				}
			}
		}
		for _, id := range slices.Concat(r.ImpersonationRoleIds, r.NotImpersonationRoleIds, []string{policytest.UnknownRoleID}) {
			if other := (accessctl.Request{IP: req.IP, Action: accessctl.EWS, ImpersonationRoleID: id}); matches(rest, other) {
				t.Fatalf("%+v misses the rule's lists, which %+v matches", req, other)
			}
		}
	})
}

// satisfiable is false for rules that obviously match no request: both user
// and role lists (A4), a role list whose actions exclude EWS, a positive list
// inside its Not twin.
func satisfiable(r accessctl.Rule) bool {
	if len(r.UserIds) > 0 && len(r.ImpersonationRoleIds) > 0 {
		return false
	}
	inside := func(list, not []string) bool {
		return len(list) > 0 && !slices.ContainsFunc(list, func(s string) bool { return !slices.Contains(not, s) })
	}
	if inside(r.UserIds, r.NotUserIds) || inside(r.ImpersonationRoleIds, r.NotImpersonationRoleIds) || inside(r.Actions, r.NotActions) {
		return false
	}
	if len(r.ImpersonationRoleIds) > 0 && (len(r.Actions) > 0 && !slices.Contains(r.Actions, "EWS") || slices.Contains(r.NotActions, "EWS")) {
		return false
	}
	return true
}

// SEMANTICS A2 A12: Request draws valid requests of every action, user and
// role requests (roles only with EWS), named and unknown principals.
func TestSemanticsA12_RequestCovers(t *testing.T) {
	p, err := accessctl.Compile(nil, accessctl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for i := range draws {
		req := policytest.Request().Example(i)
		if _, err := p.Effect(req); err != nil {
			t.Fatalf("invalid request %+v: %v", req, err)
		}
		seen[req.Action.String()]++
		switch {
		case req.ImpersonationRoleID == policytest.UnknownRoleID:
			seen["unknown role"]++
		case req.ImpersonationRoleID != "":
			seen["role"]++
		case req.UserID == policytest.UnknownUserID:
			seen["unknown user"]++
		default:
			seen["user"]++
		}
		if s := policytest.RangeString().Example(i); cidr.MustParseRange(s).String() != s {
			t.Fatalf("RangeString %q does not round-trip", s)
		}
	}
	wantSeen(t, "Request", seen, "ActiveSync", "AutoDiscover", "EWS", "IMAP", "SMTP", "WindowsOutlook", "WebMail",
		"role", "unknown role", "user", "unknown user")
}

// Without a directory, TargetUser draws from TargetPool; UserName of an empty
// directory fails the test that draws from it rather than panicking.
func TestTargetUserWithoutDirectory(t *testing.T) {
	near := 0
	for i := range 200 {
		s := policytest.TargetUser(nil).Example(i)
		if slices.Contains(policytest.TargetPool(), s) {
			continue
		}
		if !slices.ContainsFunc(policytest.TargetPool(), func(p string) bool { return oneApart(p, s) }) {
			t.Fatalf("TargetUser(nil) drew %q, neither in TargetPool nor a near miss of an entry", s)
		}
		near++
	}
	if near == 0 {
		t.Error("TargetUser(nil) drew no near misses in 200 draws")
	}
	if !fails(func(t *rapid.T) { rapid.Bool().Draw(t, "first"); policytest.UserName(nil).Draw(t, "name") }, 1) {
		t.Fatal("UserName(nil) drew a name")
	}
}

// With RuleOptions.Ranges set, Rule and Rules draw every range from it, and
// the rules stay valid.
func TestRuleOptionsRanges(t *testing.T) {
	only := []string{"192.0.2.0/24", "192.0.2.7/32", "192.0.2.128/25"}
	o := policytest.RuleOptions{MaxRanges: 5, Ranges: rapid.SampledFrom(only)}
	rapid.Check(t, func(t *rapid.T) {
		rules := policytest.Rules(o).Draw(t, "rules")
		rules = append(rules, policytest.Rule("single", o).Draw(t, "rule"))
		if err := accessctl.ValidateRules(rules); err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			for _, s := range append(slices.Clone(r.IpRanges), r.NotIpRanges...) {
				if !slices.Contains(only, s) {
					t.Fatalf("rule %s: range %q not from RuleOptions.Ranges", r.Name, s)
				}
			}
		}
	})
}

// oneApart reports whether a and b have the same length and differ in exactly
// one byte.
func oneApart(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	d := 0
	for i := range len(a) {
		if a[i] != b[i] {
			d++
		}
	}
	return d == 1
}

// NearMiss changes exactly one character, at any position, to one of
// [a-zA-Z0-9-], and mostly by a single bit; requests and targets carry near
// misses of the pools' identifiers.
func TestNearMiss(t *testing.T) {
	const idChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
	positions := map[int]bool{}
	oneBit := 0
	rapid.Check(t, func(t *rapid.T) {
		id := rapid.SampledFrom(append(slices.Clone(policytest.UserIDs()), policytest.RoleIDs()...)).Draw(t, "id")
		s := policytest.NearMiss(id).Draw(t, "near")
		if !oneApart(id, s) {
			t.Fatalf("NearMiss(%q) = %q", id, s)
		}
		for i := range len(id) {
			if id[i] != s[i] {
				positions[i] = true
				if !strings.ContainsRune(idChars, rune(s[i])) {
					t.Fatalf("NearMiss(%q) = %q: %q is not an ID character", id, s, s[i])
				}
				if x := id[i] ^ s[i]; x&(x-1) == 0 {
					oneBit++
				}
			}
		}
	})
	if len(positions) < 20 || oneBit == 0 {
		t.Errorf("near misses changed %d distinct positions, %d by one bit", len(positions), oneBit)
	}
	sawNear := false
	for i := range 400 {
		r := policytest.Request().Example(i)
		id := r.UserID + r.ImpersonationRoleID
		if !slices.Contains(policytest.UserIDs(), id) && !slices.Contains(policytest.RoleIDs(), id) &&
			id != policytest.UnknownUserID && id != policytest.UnknownRoleID {
			sawNear = true
		}
	}
	if !sawNear {
		t.Error("Request drew no near-miss principal in 400 draws")
	}
	if !panics(func() { policytest.NearMiss("") }) {
		t.Error("NearMiss(\"\") did not panic")
	}
}

func panics(f func()) (did bool) {
	defer func() { did = recover() != nil }()
	f()
	return false
}
