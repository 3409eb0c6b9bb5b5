package ruleset_test

import (
	"errors"
	"testing"

	"github.com/wmpolicy/wmpolicy/internal/ruleset"
	"github.com/wmpolicy/wmpolicy/policy"
	"pgregory.net/rapid"
)

const (
	imap = 4
	ews  = 3
)

func lower(t *testing.T, rules []ruleset.Input, opts ruleset.Options) *ruleset.Set {
	t.Helper()
	s, err := ruleset.Lower(rules, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// SEMANTICS A3: every non-empty list holds; Actions and NotActions both set
// (A5) must both hold.
func TestSemanticsA3_ListsHold(t *testing.T) {
	s := lower(t, []ruleset.Input{{
		Name: "r", Actions: []string{"IMAP", "EWS"}, NotActions: []string{"EWS"},
		UserIds: []string{"user-0000000001"}, NotUserIds: []string{"user-0000000002"},
		IpRanges: []string{"10.0.0.0/8"}, NotIpRanges: []string{"10.1.0.0/16"},
	}}, ruleset.Options{})
	r := &s.Rules[0]
	for a := 1; a <= ruleset.NumActions; a++ {
		if got, want := r.Allows(a), a == imap; got != want {
			t.Errorf("Allows(%s) = %v, want %v", ruleset.ActionNames[a], got, want)
		}
	}
	for id, want := range map[string]bool{"user-0000000001": true, "user-0000000002": false, "": false, "other-user-1": false} {
		if got := r.Holds(ruleset.User, id); got != want {
			t.Errorf("Holds(user %q) = %v, want %v", id, got, want)
		}
	}
	if got := len(r.IP()) + len(r.NotIP()); got != 2 || r.IP()[0].String() != "10.0.0.0/8" || r.NotIP()[0].String() != "10.1.0.0/16" {
		t.Errorf("ranges: %v / %v", r.IP(), r.NotIP())
	}
	if s.Tags[0] != 0 || s.Tags[1] != 1 {
		t.Errorf("tags %v, want [0 1]", s.Tags)
	}
}

// SEMANTICS A4: a principal the request does not carry is in no list.
func TestSemanticsA4_AbsentPrincipalInNoList(t *testing.T) {
	s := lower(t, []ruleset.Input{
		{Name: "roles", ImpersonationRoleIds: []string{"role-a"}},
		{Name: "not-roles", NotImpersonationRoleIds: []string{"role-a"}},
		{Name: "users", UserIds: []string{"user-0000000001"}},
		{Name: "not-users", NotUserIds: []string{"user-0000000001"}},
	}, ruleset.Options{})
	for _, c := range []struct {
		rule int
		k    ruleset.Kind
		id   string
		want bool
	}{
		{0, ruleset.User, "user-0000000001", false}, // a user never satisfies ImpersonationRoleIds
		{1, ruleset.User, "user-0000000001", true},  // … and always NotImpersonationRoleIds
		{2, ruleset.Role, "role-a", false},          // a role never satisfies UserIds
		{3, ruleset.Role, "role-a", true},           // … and always NotUserIds
		{0, ruleset.Role, "role-a", true},
		{1, ruleset.Role, "role-a", false},
		{1, ruleset.Role, "", true},
	} {
		if got := s.Rules[c.rule].Holds(c.k, c.id); got != c.want {
			t.Errorf("%s.Holds(%d, %q) = %v, want %v", s.Rules[c.rule].Name, c.k, c.id, got, c.want)
		}
	}
}

// SEMANTICS A18: with a directory, user entries resolve to IDs, so one user
// named two ways is one principal; an unknown entry is EntityNotFoundException
// (or, lenient, recorded and naming nobody); an unknown role is
// ResourceNotFoundException.
func TestSemanticsA18_ResolvedOnce(t *testing.T) {
	dir, err := policy.NewDirectory([]policy.User{{ID: "S-1-1-11-1", Email: "ana@example.com", Name: "ana", State: "ENABLED"}})
	if err != nil {
		t.Fatal(err)
	}
	rules := []ruleset.Input{{Name: "r", UserIds: []string{"ana@example.com"}, NotUserIds: []string{"ana"}}}
	s := lower(t, rules, ruleset.Options{Directory: dir})
	if got := s.Named(ruleset.User); len(got) != 1 || got[0] != "S-1-1-11-1" {
		t.Errorf("named users %q, want [S-1-1-11-1]", got)
	}
	if s.Rules[0].Holds(ruleset.User, "S-1-1-11-1") {
		t.Error("the NotUserIds entry naming the same user by another name does not hold")
	}

	rules = []ruleset.Input{{Name: "a"}, {Name: "b", UserIds: []string{"nobody@example.com"}, ImpersonationRoleIds: []string{"role-x"}}}
	_, err = ruleset.Lower(rules, ruleset.Options{Directory: dir, KnownRole: func(string) bool { return false }})
	var errs policy.ErrorList
	if !errors.As(err, &errs) || len(errs) != 2 ||
		errs[0].Code != policy.ResourceNotFoundException || errs[0].Path != "Rules[1].ImpersonationRoleIds[0]" ||
		errs[1].Code != policy.EntityNotFoundException || errs[1].Path != "Rules[1].UserIds[0]" {
		t.Fatalf("Lower = %v", err)
	}
	s = lower(t, rules, ruleset.Options{Directory: dir, KnownRole: func(string) bool { return false }, Lenient: true})
	r := &s.Rules[1]
	if len(r.Unknown) != 2 || r.Holds(ruleset.User, "S-1-1-11-1") || r.Holds(ruleset.Role, "role-x") || r.UserList[0] != "" {
		t.Errorf("lenient: %+v", r)
	}
}

// ByName numbers rules in name order; bit k of Deny and NoIn is rule k.
func TestByName(t *testing.T) {
	s := lower(t, []ruleset.Input{
		{Name: "c", Effect: policy.Deny, IpRanges: []string{"10.0.0.0/8"}},
		{Name: "a"},
		{Name: "b", Effect: policy.Deny, NotIpRanges: []string{"10.0.0.0/8"}},
	}, ruleset.Options{ByName: true})
	var names []string
	for _, r := range s.Rules {
		names = append(names, r.Name)
	}
	if len(names) != 3 || names[0] != "a" || names[1] != "b" || names[2] != "c" || s.Rules[2].Index != 0 {
		t.Fatalf("order %q", names)
	}
	if s.Deny[0] != 0b110 || s.NoIn[0] != 0b011 {
		t.Errorf("deny %b noIn %b", s.Deny[0], s.NoIn[0])
	}
	if s.Tags[0] != 2<<1 || s.Tags[1] != 1<<1|1 {
		t.Errorf("tags %v", s.Tags)
	}
}

// Column is, bit for bit, the rules whose Allows and Holds say yes (the
// shortcut through "any other" and the naming rules changes nothing), and
// Columns writes the same columns.
func TestColumnIsAllowsAndHolds(t *testing.T) {
	users := []string{"user-0000000001", "user-0000000002", "user-0000000003"}
	roles := []string{"role-a", "role-b"}
	list := func(ids []string) *rapid.Generator[[]string] {
		return rapid.SliceOfNDistinct(rapid.SampledFrom(ids), 0, 2, rapid.ID[string])
	}
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 130).Draw(t, "n")
		rules := make([]ruleset.Input, n)
		for i := range rules {
			rules[i] = ruleset.Input{
				Name:                    rapid.StringMatching(`[a-z]{1,3}`).Draw(t, "name") + string(rune('A'+i%26)) + string(rune('A'+i/26)),
				Actions:                 list(ruleset.ActionNames[1:]).Draw(t, "actions"),
				NotActions:              list(ruleset.ActionNames[1:]).Draw(t, "notActions"),
				UserIds:                 list(users).Draw(t, "users"),
				NotUserIds:              list(users).Draw(t, "notUsers"),
				ImpersonationRoleIds:    list(roles).Draw(t, "roles"),
				NotImpersonationRoleIds: list(roles).Draw(t, "notRoles"),
			}
		}
		s, err := ruleset.Lower(rules, ruleset.Options{ByName: rapid.Bool().Draw(t, "byName")})
		if err != nil {
			t.Fatal(err)
		}
		bits, buf := make([]uint64, s.Words), make([]uint64, s.Words)
		for k, ids := range [2][]string{append(users, "", "user-9999999999"), append(roles, "", "role-z")} {
			for _, id := range ids {
				s.Columns(ruleset.Kind(k), id, buf, func(a int, col []uint64) {
					s.Column(bits, ruleset.Kind(k), id, a)
					for j := range bits {
						if bits[j] != col[j] {
							t.Fatalf("Columns(%d, %q) action %d word %d = %x, Column %x", k, id, a, j, col[j], bits[j])
						}
					}
				})
				for a := 1; a <= ruleset.NumActions; a++ {
					s.Column(bits, ruleset.Kind(k), id, a)
					for n := range s.Rules {
						want := s.Rules[n].Allows(a) && s.Rules[n].Holds(ruleset.Kind(k), id)
						if got := bits[n/64]&(1<<(n%64)) != 0; got != want {
							t.Fatalf("Column(%d, %q, %d) rule %d = %v, want %v", k, id, a, n, got, want)
						}
					}
				}
			}
		}
	})
}

func TestInterner(t *testing.T) {
	for _, w := range []int{1, 3} {
		in := ruleset.NewInterner(w)
		a := make([]uint64, w)
		a[0] = 5
		o1 := in.Intern(a)
		a[0] = 6 // Intern copied
		o2 := in.Intern(a)
		a[0] = 5
		if o3 := in.Intern(a); o3 != o1 || o2 == o1 || in.Len() != 2 || in.Sets()[o1] != 5 || in.Sets()[o2] != 6 {
			t.Errorf("w=%d: offsets %d %d %d, %d sets %v", w, o1, o2, o3, in.Len(), in.Sets())
		}
	}
}
