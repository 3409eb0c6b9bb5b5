package analysis_test

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/analysis"
	"github.com/wmpolicy/wmpolicy/policy"
	"pgregory.net/rapid"
)

// pad puts 66 renamed copies of the rules (or, for no rules, of a rule that
// never matches) in front of them: the effect of every request stays the
// same, and the original rules move to bits 66 and up, so that the
// multi-word (more than 64 rules) paths are checked against the one-word
// paths, which the brute-force tests check against the reference.
func pad(rules []accessctl.Rule) []accessctl.Rule {
	src := rules
	if len(src) == 0 {
		src = []accessctl.Rule{{Name: "x", Effect: policy.Deny, Actions: []string{"IMAP"}, NotActions: []string{"IMAP"}}}
	}
	var out []accessctl.Rule
	for i := range 66 {
		r := src[i%len(src)].Clone()
		r.Name = fmt.Sprintf("pad-%02d", i)
		out = append(out, r)
	}
	return append(out, rules...)
}

var addrEq = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func TestWideRuleSets(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		u := universes[rapid.Bool().Draw(t, "dir")]
		before := smallRules(4, u.dir != nil).Draw(t, "before")
		after := smallRules(4, u.dir != nil).Draw(t, "after")
		ctx := context.Background()
		narrow, err := analysis.Diff(ctx, before, after, u.opts())
		if err != nil {
			t.Fatal(err)
		}
		wide, err := analysis.Diff(ctx, pad(before), pad(after), u.opts())
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(narrow, wide, addrEq); d != "" {
			t.Fatalf("diff of padded rule sets differs (-narrow +wide):\n%s", d)
		}
		an, err := analysis.New(before, u.opts())
		if err != nil {
			t.Fatal(err)
		}
		aw, err := analysis.New(pad(before), u.opts())
		if err != nil {
			t.Fatal(err)
		}
		rn, _ := an.Audit(ctx)
		rw, err := aw.Audit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pick := func(rep *analysis.Report) []string {
			var out []string
			for _, f := range rep.Findings {
				switch {
				case f.Kind == analysis.NeverMatches || f.Kind == analysis.Shadowed:
					if !slices.ContainsFunc(before, func(r accessctl.Rule) bool { return r.Name == f.Rule }) {
						continue
					}
				case f.Kind != analysis.OrganizationLockedOut && f.Kind != analysis.ActionLockedOut && f.Kind != analysis.UserLockedOut:
					continue
				}
				if f.Kind == analysis.Shadowed {
					f.Message = "" // it names a DENY rule, which may be a copy
				}
				out = append(out, string(f.Kind)+" "+f.Rule+" "+f.Message)
			}
			slices.Sort(out)
			return out
		}
		if d := cmp.Diff(pick(rn), pick(rw)); d != "" {
			t.Fatalf("audit of the padded rule set differs (-narrow +wide):\n%s", d)
		}
		checkWitnesses(t, pad(before), u.dir, rw)
		for _, id := range []string{poolUsers[0].ID, poolUsers[3].ID} {
			pn, err := an.WhoCanPrincipal(ctx, analysis.User, id)
			if err != nil {
				t.Fatal(err)
			}
			pw, err := aw.WhoCanPrincipal(ctx, analysis.User, id)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(pn, pw, addrEq); d != "" {
				t.Fatalf("who-can %s differs (-narrow +wide):\n%s", id, d)
			}
		}
		r := u.reqs[rapid.IntRange(0, len(u.reqs)-1).Draw(t, "req")]
		en, _ := an.Explain(ctx, r)
		ew, err := aw.Explain(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if en.Effect != ew.Effect || en.Reason != ew.Reason {
			t.Fatalf("explain %+v: %v %v narrow, %v %v wide", r, en.Effect, en.Reason, ew.Effect, ew.Reason)
		}
	})
}
