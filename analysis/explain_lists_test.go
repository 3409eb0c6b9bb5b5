package analysis_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/analysis"
	"github.com/wmpolicy/wmpolicy/internal/reference"
	"github.com/wmpolicy/wmpolicy/internal/ruleset"
	"pgregory.net/rapid"
)

// SEMANTICS A3 A4 A18: Explain's conditions are the lowering's, list by list.
// Every non-empty list of every rule has one Condition, in API order, and
// nothing else does; Matches is their AND. Each Condition's Holds agrees
// with the item Explain found (the consistency guard between its index
// search and internal/ruleset: a positive list holds exactly when an item
// names the request, a Not list exactly when none does, and a principal the
// request does not carry is named by no item), and with internal/reference
// for the rule reduced to that one list.
func TestSemanticsA3_ExplainConditionsAreTheLowering(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		u := universes[rapid.Bool().Draw(t, "dir")]
		rules := smallRules(5, u.dir != nil).Draw(t, "rules")
		an, err := analysis.New(rules, u.opts())
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		for range 8 {
			req := u.reqs[rapid.IntRange(0, len(u.reqs)-1).Draw(t, "req")]
			ex, err := an.Explain(context.Background(), req)
			if err != nil {
				t.Fatalf("Explain %+v: %v", req, err)
			}
			for _, tr := range ex.Rules {
				r := rules[tr.Index]
				var lists []ruleset.List
				for l := range ruleset.NumLists {
					if len((*ruleset.Input)(&r).Items(l)) > 0 {
						lists = append(lists, l)
					}
				}
				if len(tr.Conditions) != len(lists) {
					t.Fatalf("%s: %d conditions for %d lists", tr.Name, len(tr.Conditions), len(lists))
				}
				all := true
				for i, cd := range tr.Conditions {
					l := lists[i]
					if cd.Field != l.String() {
						t.Fatalf("%s: condition %d is %s, want %s", tr.Name, i, cd.Field, l)
					}
					all = all && cd.Holds
					not := strings.HasPrefix(cd.Field, "Not")
					if cd.Holds != ((cd.Index >= 0) != not) {
						t.Fatalf("%s %s for %+v: Holds %v, yet item %d (%s)", tr.Name, cd.Field, req, cd.Holds, cd.Index, cd.Detail)
					}
					res, err := reference.Evaluate([]accessctl.Rule{onlyList(r, l)}, req, u.dir)
					if err != nil {
						t.Fatalf("reference %+v: %v", req, err)
					}
					if want := len(res.Matching) == 1; cd.Holds != want {
						t.Fatalf("%s %s for %+v: Holds %v, the reference says %v (%s)", tr.Name, cd.Field, req, cd.Holds, want, cd.Detail)
					}
				}
				if tr.Matches != all {
					t.Fatalf("%s: Matches %v, conditions %v", tr.Name, tr.Matches, tr.Conditions)
				}
			}
		}
	})
}

// onlyList returns r with list l alone.
func onlyList(r accessctl.Rule, l ruleset.List) accessctl.Rule {
	out := accessctl.Rule{Name: r.Name, Effect: r.Effect}
	lists := [ruleset.NumLists]*[]string{&out.IpRanges, &out.NotIpRanges, &out.Actions, &out.NotActions,
		&out.UserIds, &out.NotUserIds, &out.ImpersonationRoleIds, &out.NotImpersonationRoleIds}
	*lists[l] = (*ruleset.Input)(&r).Items(l)
	return out
}
