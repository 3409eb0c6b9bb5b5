package ruleset_test

import (
	"slices"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/internal/reference"
	"github.com/wmpolicy/wmpolicy/internal/ruleset"
	"github.com/wmpolicy/wmpolicy/policy"
	"pgregory.net/rapid"
)

// SEMANTICS A3 A4: each list on its own, present and absent, for a request
// of either kind — in or out of the ranges, of an action listed or not, by
// the principal listed, another of its kind, or one of the other kind (which
// is in no list).
func TestSemanticsA3_ListHolds(t *testing.T) {
	const user, role = "user-0000000001", "role-a"
	s := lower(t, []ruleset.Input{
		{Name: "none"},
		{Name: "ip", IpRanges: []string{"10.0.0.0/8"}},
		{Name: "not-ip", NotIpRanges: []string{"10.0.0.0/8"}},
		{Name: "actions", Actions: []string{"IMAP"}},
		{Name: "not-actions", NotActions: []string{"IMAP"}},
		{Name: "users", UserIds: []string{user}},
		{Name: "not-users", NotUserIds: []string{user}},
		{Name: "roles", ImpersonationRoleIds: []string{role}},
		{Name: "not-roles", NotImpersonationRoleIds: []string{role}},
	}, ruleset.Options{})
	type req struct {
		in    bool // the address is in the list's ranges
		k     ruleset.Kind
		id    string
		a     int
		label string
	}
	reqs := []req{
		{true, ruleset.User, user, imap, "in, listed user, IMAP"},
		{false, ruleset.User, "user-0000000002", ews, "out, other user, EWS"},
		{true, ruleset.Role, role, ews, "in, listed role, EWS"},
		{false, ruleset.Role, "role-b", imap, "out, other role, IMAP"},
		{false, ruleset.User, "", ews, "out, unnamed user, EWS"},
	}
	// want[list][request] for the rule that has only that list.
	want := [ruleset.NumLists][5]bool{
		ruleset.IpRanges:                {true, false, true, false, false},
		ruleset.NotIpRanges:             {false, true, false, true, true},
		ruleset.Actions:                 {true, false, false, true, false},
		ruleset.NotActions:              {false, true, true, false, true},
		ruleset.UserIds:                 {true, false, false, false, false}, // A4: no role is in UserIds
		ruleset.NotUserIds:              {false, true, true, true, true},    // … nor in NotUserIds
		ruleset.ImpersonationRoleIds:    {false, false, true, false, false}, // A4: no user is in ImpersonationRoleIds
		ruleset.NotImpersonationRoleIds: {true, true, false, true, true},    // … nor in NotImpersonationRoleIds
	}
	for l := range ruleset.NumLists {
		r := &s.Rules[1+int(l)]
		for n, q := range reqs {
			inIP, inNot := q.in && l == ruleset.IpRanges, q.in && l == ruleset.NotIpRanges
			if !r.HasList(l) {
				t.Fatalf("%s: HasList(%s) = false", r.Name, l)
			}
			if got := r.ListHolds(l, inIP, inNot, q.k, q.id, q.a); got != want[l][n] {
				t.Errorf("%s.ListHolds(%s) for %s = %v, want %v", r.Name, l, q.label, got, want[l][n])
			}
			// Every other list is absent and holds, so the rule holds exactly
			// when its one list does.
			for o := range ruleset.NumLists {
				if o != l && (r.HasList(o) || !r.ListHolds(o, inIP, inNot, q.k, q.id, q.a)) {
					t.Errorf("%s: absent %s: HasList %v, ListHolds false for %s", r.Name, o, r.HasList(o), q.label)
				}
			}
			addr := uint32(0x0b000001) // 11.0.0.1
			if q.in {
				addr = 0x0a000001
			}
			if got := r.HoldsAddr(addr) && r.Allows(q.a) && r.Holds(q.k, q.id); got != want[l][n] {
				t.Errorf("%s for %s: HoldsAddr && Allows && Holds = %v, want %v", r.Name, q.label, got, want[l][n])
			}
			// The rule without lists: none present, all hold.
			none := &s.Rules[0]
			if none.HasList(l) || !none.ListHolds(l, inIP, inNot, q.k, q.id, q.a) {
				t.Errorf("none: HasList(%s) %v, ListHolds %v", l, none.HasList(l), none.ListHolds(l, inIP, inNot, q.k, q.id, q.a))
			}
		}
	}
	// A list of entries that name nobody is present, and holds for no one.
	s = lower(t, []ruleset.Input{{Name: "gone", UserIds: []string{"user-0000000009"}}}, ruleset.Options{Lenient: true,
		Directory: mustDirectory(t, []policy.User{{ID: "S-1-1", Email: "a@example.com", Name: "a", State: "ENABLED"}})})
	if r := &s.Rules[0]; !r.HasList(ruleset.UserIds) || r.ListHolds(ruleset.UserIds, false, false, ruleset.User, "S-1-1", imap) || r.Holds(ruleset.User, "") {
		t.Errorf("unknown entries: HasList %v, holds for S-1-1 %v", r.HasList(ruleset.UserIds), r.ListHolds(ruleset.UserIds, false, false, ruleset.User, "S-1-1", imap))
	}
	for l := range ruleset.NumLists + 1 {
		var in ruleset.Input
		if got := l.String(); l < ruleset.NumLists && (len(in.Items(l)) != 0 || got == "") || l == ruleset.NumLists && got != "List(8)" {
			t.Errorf("List %d: %q", l, got)
		}
	}
}

// SEMANTICS A3 A4 A5 A9 A18: on random rules, Holds, Allows and HoldsAddr
// are the AND of ListHolds over the lists the rule has; and each list's
// ListHolds answers as internal/reference does for the rule reduced to that
// list, as does the whole rule's match — with a directory, for users named by
// ID, email or user name.
func TestSemanticsA3_ListHoldsAgreesWithReference(t *testing.T) {
	ranges := []string{"10.0.0.0/8", "10.0.0.0/16", "10.0.0.7/24", "10.1.0.0/16", "0.0.0.0/0", "10.0.0.255/32", "11.0.0.0/8"}
	dirUsers := []policy.User{
		{ID: "S-1-1-11-0001", Email: "ana@example.com", Name: "ana-the-user", State: "ENABLED"},
		{ID: "S-1-1-11-0002", Email: "bob@example.com", Name: "bob-the-user", State: "ENABLED"},
	}
	dir := mustDirectory(t, dirUsers)
	roles := []string{"role-a", "role-b"}
	list := func(items []string) *rapid.Generator[[]string] {
		return rapid.OneOf(rapid.Just([]string(nil)), rapid.SliceOfN(rapid.SampledFrom(items), 1, 3))
	}
	addrs := []uint32{0, 0x0a000000, 0x0a00ffff, 0x0a010000, 0x0affffff, 0x0b000000, 0x09ffffff, 0x0a0000ff, 0x0a000100}
	rapid.Check(t, func(t *rapid.T) {
		var d policy.Directory
		users := []string{"user-0000000001", "user-0000000002"}
		requestUsers := append(slices.Clone(users), "user-0000000009")
		if rapid.Bool().Draw(t, "dir?") {
			d, users = dir, nil
			for _, u := range dirUsers {
				users = append(users, u.ID, u.Email, u.Name)
			}
			requestUsers = users
		}
		rule := accessctl.Rule{Name: "r", Effect: policy.Allow,
			IpRanges: list(ranges).Draw(t, "IpRanges"), NotIpRanges: list(ranges).Draw(t, "NotIpRanges"),
			Actions: list(ruleset.ActionNames[1:]).Draw(t, "Actions"), NotActions: list(ruleset.ActionNames[1:]).Draw(t, "NotActions"),
			UserIds: list(users).Draw(t, "UserIds"), NotUserIds: list(users).Draw(t, "NotUserIds"),
			ImpersonationRoleIds: list(roles).Draw(t, "RoleIds"), NotImpersonationRoleIds: list(roles).Draw(t, "NotRoleIds"),
		}
		s, err := ruleset.Lower([]ruleset.Input{ruleset.Input(rule)}, ruleset.Options{Directory: d})
		if err != nil {
			t.Fatal(err)
		}
		r := &s.Rules[0]
		for l := range ruleset.NumLists {
			if got, want := r.HasList(l), len((*ruleset.Input)(&rule).Items(l)) > 0; got != want {
				t.Fatalf("HasList(%s) = %v, want %v", l, got, want)
			}
		}
		addr := rapid.OneOf(rapid.SampledFrom(addrs), rapid.Uint32()).Draw(t, "addr")
		contains := func(g cidr.Range) bool { return g.Contains(addr) }
		inIP, inNot := slices.ContainsFunc(r.IP(), contains), slices.ContainsFunc(r.NotIP(), contains)
		act := rapid.IntRange(1, ruleset.NumActions).Draw(t, "action")
		k := ruleset.Kind(rapid.IntRange(0, 1).Draw(t, "kind"))
		req := accessctl.Request{IP: cidr.AddrToNetip(addr), Action: accessctl.Action(act)}
		id := ""
		if k == ruleset.User {
			req.UserID = rapid.SampledFrom(requestUsers).Draw(t, "user")
			id = req.UserID
			if d != nil {
				u, _ := d.Lookup(id)
				id = u.ID // A18: Holds takes the resolved ID
			}
		} else {
			req.ImpersonationRoleID = rapid.SampledFrom(append(slices.Clone(roles), "role-z")).Draw(t, "role")
			id = req.ImpersonationRoleID
		}
		holds := func(l ruleset.List) bool { return r.ListHolds(l, inIP, inNot, k, id, act) }
		and := func(ls ...ruleset.List) bool {
			for _, l := range ls {
				if r.HasList(l) && !holds(l) {
					return false
				}
			}
			return true
		}
		if got, want := r.HoldsAddr(addr), and(ruleset.IpRanges, ruleset.NotIpRanges); got != want {
			t.Fatalf("HoldsAddr = %v, ListHolds %v", got, want)
		}
		if got, want := r.Allows(act), and(ruleset.Actions, ruleset.NotActions); got != want {
			t.Fatalf("Allows = %v, ListHolds %v", got, want)
		}
		if got, want := r.Holds(k, id), and(ruleset.UserIds, ruleset.NotUserIds, ruleset.ImpersonationRoleIds, ruleset.NotImpersonationRoleIds); got != want {
			t.Fatalf("Holds = %v, ListHolds %v", got, want)
		}
		if k == ruleset.Role && act != ews {
			return // A12: the reference refuses such requests
		}
		matches := func(rule accessctl.Rule) bool {
			res, err := reference.Evaluate([]accessctl.Rule{rule}, req, d)
			if err != nil {
				t.Fatalf("%+v: %v", req, err)
			}
			return len(res.Matching) == 1
		}
		all := true
		for l := range ruleset.NumLists {
			all = all && holds(l)
			if got, want := holds(l), matches(only(rule, l)); got != want {
				t.Fatalf("ListHolds(%s) = %v, the reference says %v for %+v", l, got, want, req)
			}
		}
		if want := matches(rule); all != want {
			t.Fatalf("the AND of ListHolds is %v, the reference says %v for %+v", all, want, req)
		}
	})
}

// only returns r with list l alone.
func only(r accessctl.Rule, l ruleset.List) accessctl.Rule {
	out := accessctl.Rule{Name: r.Name, Effect: r.Effect}
	lists := [ruleset.NumLists]*[]string{&out.IpRanges, &out.NotIpRanges, &out.Actions, &out.NotActions,
		&out.UserIds, &out.NotUserIds, &out.ImpersonationRoleIds, &out.NotImpersonationRoleIds}
	*lists[l] = (*ruleset.Input)(&r).Items(l)
	return out
}

func mustDirectory(t testing.TB, users []policy.User) *policy.MemDirectory {
	t.Helper()
	d, err := policy.NewDirectory(users)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// SEMANTICS A3: the zero Rule has no list, so it sets no condition: every
// list holds, and Allows (derived from the lists) allows every action.
// Found in review: Allows read a mask the zero Rule leaves at 0.
func TestSemanticsA3_ZeroRuleSetsNoCondition(t *testing.T) {
	var z ruleset.Rule
	for a := 1; a <= ruleset.NumActions; a++ {
		for l := range ruleset.NumLists {
			if !z.ListHolds(l, false, false, ruleset.User, "", a) {
				t.Errorf("zero Rule: %s does not hold for action %d", l, a)
			}
		}
		if !z.Allows(a) {
			t.Errorf("zero Rule: Allows(%d) = false", a)
		}
	}
	if !z.Holds(ruleset.User, "") || !z.Holds(ruleset.Role, "") || !z.HoldsAddr(0) {
		t.Error("zero Rule: a principal or address condition does not hold")
	}
}
