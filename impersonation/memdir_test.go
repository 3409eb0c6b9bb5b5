package impersonation_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
	"pgregory.net/rapid"
)

// opaqueDir hides a *policy.MemDirectory behind the Directory interface, so
// that the Evaluator takes its general path (Lookup, then the ID table).
type opaqueDir struct{ d *policy.MemDirectory }

func (o opaqueDir) Lookup(id string) (policy.User, bool) { return o.d.Lookup(id) }

// With a *policy.MemDirectory the Evaluator answers named users from its own
// table of their identifiers and asks the directory only about everyone else.
// That shortcut gives exactly the general path's answers and errors: for
// every user, every way of naming them (ID in any case, email, alias and user
// name in any case, names with non-ASCII letters whose folding is ASCII), and
// users who are named by a rule but not ENABLED.
func TestSemanticsB2_MemDirectoryShortcutAgrees(t *testing.T) {
	users := []policy.User{
		{ID: "S-1-1-11-aaaa", Email: "alice@example.org", Name: "alice", Aliases: []string{"Ali@Example.org"}, State: "ENABLED"},
		{ID: "S-1-1-11-BBBB", Email: "bob@example.org", Name: "Bob", State: "ENABLED"},
		{ID: "S-1-1-11-cccc", Email: "carol@example.org", Name: "carol", State: "DISABLED"},
		{ID: "S-1-1-11-dddd", Email: "dave@example.org", Name: "dave", Aliases: []string{"\u212Aate@example.org"}, State: "ENABLED"}, // Kelvin sign folds to "k"
		{ID: "S-1-1-11-eeee", Email: "eve@example.org", Name: "eve", State: "DELETED"},
		{ID: "S-1-1-11-ffff", Email: "Frank@Example.org", Name: "frank", State: "ENABLED"},
		{ID: "u-gggg", Email: "jörg@example.org", Name: "jörg", State: "ENABLED"},
		{ID: "u-hhhh", State: "ENABLED"},
	}
	dir, err := policy.NewDirectory(users)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range users {
		for _, n := range userIdents(u) {
			names = append(names, n, strings.ToUpper(n), strings.ToLower(n), strings.ToTitle(n))
		}
	}
	names = append(names, "kate@example.org", "KATE@EXAMPLE.ORG", "nobody@example.org", "s-1-1-11-bbbb", strings.Repeat("x", 300))
	rapid.Check(t, func(t *rapid.T) {
		role := impersonation.Role{ImpersonationRoleId: "r", Name: "r", Type: impersonation.FullAccess}
		nrules := rapid.IntRange(0, 4).Draw(t, "rules")
		for i := range nrules {
			rule := impersonation.Rule{ImpersonationRuleId: "rule-" + string(rune('a'+i)), Name: "n" + string(rune('a'+i)),
				Effect: rapid.SampledFrom([]policy.Effect{policy.Allow, policy.Deny}).Draw(t, "effect")}
			pick := func(label string) []string {
				if !rapid.Bool().Draw(t, label+"?") {
					return nil
				}
				var l []string
				for _, k := range rapid.SliceOfNDistinct(rapid.IntRange(0, len(users)-1), 1, 3, rapid.ID[int]).Draw(t, label) {
					u := users[k]
					l = append(l, rapid.SampledFrom(userIdents(u)).Draw(t, label+"-form"))
				}
				return l
			}
			rule.TargetUsers = pick("targets")
			rule.NotTargetUsers = pick("not-targets")
			role.Rules = append(role.Rules, rule)
		}
		fast, err1 := impersonation.Compile(role, dir)
		slow, err2 := impersonation.Compile(role, opaqueDir{dir})
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("compile: %v vs %v", err1, err2)
		}
		if err1 != nil {
			return
		}
		for _, target := range names {
			d1, e1 := fast.Decide(target)
			d2, e2 := slow.Decide(target)
			if policy.CodeOf(e1) != policy.CodeOf(e2) {
				t.Fatalf("%q: error %v vs %v", target, e1, e2)
			}
			if diff := cmp.Diff(d2, d1); diff != "" {
				t.Fatalf("%q: decision differs (-general +shortcut):\n%s", target, diff)
			}
			typ1, eff1, m1, _ := fast.Evaluate(target, nil)
			typ2, eff2, m2, _ := slow.Evaluate(target, nil)
			if typ1 != typ2 || eff1 != eff2 || !cmp.Equal(m1, m2) {
				t.Fatalf("%q: Evaluate %v %v %v vs %v %v %v", target, typ1, eff1, m1, typ2, eff2, m2)
			}
		}
	})
}
