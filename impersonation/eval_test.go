package impersonation_test

// The conformance corpus (testdata/role-*.json) and the rapid properties of
// the evaluator against internal/reference.
//
// A conformance case is one file:
//
//	{
//	  "name":       the file name without ".json",
//	  "reason":     "SEMANTICS B…: why the answers are what they are",
//	  "role":       exactly `aws workmail get-impersonation-role` output,
//	  "users":      optional `aws workmail list-users` output (turns on B2's resolution),
//	  "roleErrors": optional ["<AWS code> <path>", …]: the role must be refused with
//	                exactly these errors (DecodeRole, then Compile); no requests then,
//	  "requests":   [{"request": a GetImpersonationRoleEffect request,
//	                  "want": {"Type": …, "Effect": …, "MatchedRules": […]} (compact, in this key order)
//	                  or "wantError": "<AWS code>"}]
//	}
//
// Every request runs through GetImpersonationRoleEffect (the wire path) and,
// when the wire request passes its checks, through Evaluate, Effect, Decide
// and reference.EvaluateImpersonation (decideAll); each answer is marshalled
// and compared byte for byte with "want", or its AWS code with "wantError".

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/internal/reference"
	"github.com/wmpolicy/wmpolicy/internal/wirecase"
	"github.com/wmpolicy/wmpolicy/policy"
	"github.com/wmpolicy/wmpolicy/policytest"
	"pgregory.net/rapid"
)

type conformanceCase struct {
	Name       string              `json:"name"`
	Reason     string              `json:"reason"`
	Role       json.RawMessage     `json:"role"`
	Users      json.RawMessage     `json:"users,omitempty"`
	RoleErrors []string            `json:"roleErrors,omitempty"`
	Requests   []conformanceRecord `json:"requests"`
}

type conformanceRecord = wirecase.Record

// SEMANTICS B1 B2 B3 B4 D1 D2 D3
func TestConformance(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "role-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("found %d conformance cases, want at least 10", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var c conformanceCase
			if err := policy.DecodeStrict(data, &c); err != nil { // a typo in a case file must not drop an expectation
				t.Fatalf("%s: %v", file, err)
			}
			if c.Name != name {
				t.Errorf("name %q, want the file name %q", c.Name, name)
			}
			if !strings.HasPrefix(c.Reason, "SEMANTICS B") && !strings.HasPrefix(c.Reason, "SEMANTICS D") {
				t.Errorf("reason %q does not start with the SEMANTICS rule", c.Reason)
			}
			if (len(c.Requests) == 0) == (len(c.RoleErrors) == 0) {
				t.Fatal("a case has either requests or roleErrors")
			}
			runConformanceCase(t, c)
		})
	}
}

func runConformanceCase(t *testing.T, c conformanceCase) {
	var dir *policy.MemDirectory
	if len(c.Users) > 0 {
		var err error
		if dir, err = policy.DecodeUsers(c.Users); err != nil {
			t.Fatalf("users: %v", err)
		}
	}
	role, err := impersonation.DecodeRole(c.Role)
	var ev *impersonation.Evaluator
	if err == nil {
		ev, err = impersonation.Compile(role, dirOrNil(dir))
	}
	if len(c.RoleErrors) > 0 {
		if got := errorPaths(err); !slices.Equal(got, c.RoleErrors) {
			t.Fatalf("role errors\n %q\nwant\n %q\n%v", got, c.RoleErrors, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("role: %v", err)
	}
	for i, rec := range c.Requests {
		var in impersonation.GetImpersonationRoleEffectInput
		if err := policy.DecodeStrict(rec.Request, &in); err != nil {
			t.Fatalf("requests[%d].request: %v", i, err)
		}
		answer := wirecase.For(t, i, rec).Answer

		out, err := ev.GetImpersonationRoleEffect(in)
		answer("GetImpersonationRoleEffect", out, err)
		if in.Check() != nil || (in.ImpersonationRoleId != "" && in.ImpersonationRoleId != ev.ID()) {
			continue // refused before evaluation: the wire path is the only one
		}
		o := decideAll(t, ev, role, dirOrNil(dir), in.TargetUser)
		answer("Evaluate/Decide/reference", impersonation.GetImpersonationRoleEffectOutput{Type: o.Type, Effect: o.Effect, MatchedRules: o.Matched}, o.Err)
	}
}

// ---------------------------------------------------------------------------
// rapid properties

// universe is a random directory (policytest.Directory) and its users.
type universe struct {
	users []policy.User
	dir   *policy.MemDirectory
}

func drawUniverse(t *rapid.T) universe {
	dir := policytest.Directory().Draw(t, "directory")
	return universe{dir.Users(), dir}
}

// forms returns every way of naming u: ID (exact), then email, aliases and
// user name, each as written and in upper case.
func forms(u policy.User) []string { return policytest.Names(u) }

// drawName names a user of the universe by one of its forms, the case of
// emails and names drawn at random.
func (w universe) drawName(t *rapid.T, label string) string {
	return policytest.UserName(w.dir).Draw(t, label)
}

// drawTarget names a user, or (one time in eight) nobody.
func (w universe) drawTarget(t *rapid.T, label string) string {
	return policytest.TargetUser(w.dir).Draw(t, label)
}

// drawRole draws a valid role of 0–maxRules rules whose lists hold entries
// drawn from targets.
func drawRole(t *rapid.T, maxRules int, targets *rapid.Generator[string]) impersonation.Role {
	if maxRules == 0 {
		maxRules = -1 // none: RoleOptions reads 0 as the maximum
	}
	return policytest.Role(policytest.RoleOptions{MaxRules: maxRules, Targets: targets}).Draw(t, "role")
}

// Property: the compiled evaluator answers exactly as the reference does —
// type, effect, reason, MatchedRules and their order, every matching rule, the
// resolved user, and the error code — with and without a directory; every
// path (Evaluate, Effect, Decide, the wire) agrees (decideAll).
//
// SEMANTICS B2 B3 B4
func TestSemanticsB4_PropEvaluatorEqualsReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := drawUniverse(t)
		useDir := rapid.IntRange(0, 3).Draw(t, "dir?") > 0
		var dir policy.Directory
		entry := policytest.UserName(w.dir)
		if useDir {
			dir = w.dir
		} else {
			// Exact strings: entries and targets from a small pool, so that
			// they meet, including pairs that differ only in case.
			entry = rapid.SampledFrom(policytest.TargetPool())
		}
		role := drawRole(t, impersonation.MaxRules, entry)
		ev, err := impersonation.Compile(role, dir)
		if err != nil {
			t.Fatalf("Compile: %v", err)
		}
		for i := range 12 {
			var target string
			if useDir {
				target = w.drawTarget(t, fmt.Sprintf("target%d", i))
			} else {
				target = entry.Draw(t, fmt.Sprintf("target%d", i))
			}
			decideAll(t, ev, role, dir, target)
		}
	})
}

// Property: deny overrides. The effect is DENY exactly when a matching rule is
// DENY or nothing matches; MatchedRules are the matching rules of the winning
// effect in the role's order; the type is the role's.
//
// SEMANTICS B4
func TestSemanticsB4_PropDenyOverrides(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := drawUniverse(t)
		role := drawRole(t, impersonation.MaxRules, policytest.UserName(w.dir))
		ev, err := impersonation.Compile(role, w.dir)
		if err != nil {
			t.Fatalf("Compile: %v", err)
		}
		target := w.drawName(t, "target")
		d, err := ev.Decide(target)
		if err != nil {
			return // a user who is not ENABLED: B2, checked elsewhere
		}
		anyDeny := slices.ContainsFunc(d.Matching, func(m impersonation.Match) bool { return m.Effect == policy.Deny })
		if wantDeny := anyDeny || len(d.Matching) == 0; (d.Effect == policy.Deny) != wantDeny {
			t.Fatalf("effect %v with matching %+v", d.Effect, d.Matching)
		}
		var want []impersonation.MatchedRule
		for _, r := range role.Rules { // role order
			for _, m := range d.Matching {
				if m.ImpersonationRuleId == r.ImpersonationRuleId && m.Effect == d.Effect {
					want = append(want, impersonation.MatchedRule{ImpersonationRuleId: r.ImpersonationRuleId, Name: r.Name})
				}
			}
		}
		if len(d.Matching) == 0 {
			want = nil
		}
		if !slices.Equal(d.MatchedRules, want) && !(len(want) == 0 && len(d.MatchedRules) == 0) {
			t.Fatalf("MatchedRules %v, want %v", d.MatchedRules, want)
		}
		if d.Type != role.Type {
			t.Fatalf("type %v, role's %v", d.Type, role.Type)
		}
		// Rule order changes only the order of MatchedRules.
		perm := rapid.Permutation(role.Rules).Draw(t, "perm")
		shuffled := role
		shuffled.Rules = perm
		d2, err := compileRole(t, shuffled, w.dir).Decide(target)
		if err != nil || d2.Effect != d.Effect || d2.Reason != d.Reason || len(d2.MatchedRules) != len(d.MatchedRules) {
			t.Fatalf("permuted rules: %+v %v, was %+v", d2, err, d)
		}
		for _, m := range d2.MatchedRules {
			if !slices.Contains(d.MatchedRules, m) {
				t.Fatalf("permuted rules matched %v, was %v", d2.MatchedRules, d.MatchedRules)
			}
		}
	})
}

// Property: a role without rules denies every user, with no MatchedRules, and
// keeps its type.
//
// SEMANTICS B4
func TestSemanticsB4_PropNoRulesDeny(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := drawUniverse(t)
		role := drawRole(t, 0, policytest.UserName(w.dir))
		if rapid.Bool().Draw(t, "empty not nil") {
			role.Rules = []impersonation.Rule{}
		}
		for _, dir := range []policy.Directory{w.dir, nil} {
			ev, err := impersonation.Compile(role, dir)
			if err != nil {
				t.Fatal(err)
			}
			target := w.drawName(t, "target")
			o := decideAll(t, ev, role, dir, target)
			if o.Err != nil {
				if dir == nil || policy.CodeOf(o.Err) != policy.EntityStateException {
					t.Fatalf("%q: %v", target, o.Err)
				}
				continue
			}
			if o.Effect != policy.Deny || o.Reason != impersonation.ImplicitDeny || len(o.Matched) != 0 || o.Type != role.Type {
				t.Fatalf("%q: %v", target, o)
			}
		}
	})
}

// Property: naming a user by ID, email or alias (any case) or user name (any
// case) always gives the same answer, in rules and as the target; so no
// NotTargetUsers entry can be bypassed by naming its user another way.
//
// SEMANTICS B2 B3
func TestSemanticsB2_PropNamingFormsAgree(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := drawUniverse(t)
		role := drawRole(t, impersonation.MaxRules, policytest.UserName(w.dir))
		ev, err := impersonation.Compile(role, w.dir)
		if err != nil {
			t.Fatalf("Compile: %v", err)
		}
		for _, u := range w.users {
			var first *agreed
			for _, f := range forms(u) {
				o := decideAll(t, ev, role, w.dir, f)
				if first == nil {
					first = &o
					continue
				}
				if policy.CodeOf(o.Err) != policy.CodeOf(first.Err) || o.Effect != first.Effect || !slices.Equal(o.Matched, first.Matched) || o.UserID != first.UserID {
					t.Fatalf("user %s: %q answers %v, %q answers %v", u.ID, f, o, u.ID, *first)
				}
				if o.Err != nil {
					if u.State == "ENABLED" {
						t.Fatalf("enabled user %q refused: %v", f, o.Err)
					}
					continue
				}
				// No bypass: a rule whose NotTargetUsers names u in any form
				// never matches u, whatever form names the target.
				for _, r := range role.Rules {
					named := slices.ContainsFunc(r.NotTargetUsers, func(e string) bool {
						v, ok := w.dir.Lookup(e)
						return ok && v.ID == u.ID
					})
					if named && slices.ContainsFunc(o.Matching, func(m impersonation.Match) bool { return m.ImpersonationRuleId == r.ImpersonationRuleId }) {
						t.Fatalf("target %q matched rule %s whose NotTargetUsers %q name the user", f, r.ImpersonationRuleId, r.NotTargetUsers)
					}
				}
			}
		}
	})
}

// The reference on its own: a role read as the CLI prints it, answered as B4 says.
//
// SEMANTICS B4
func TestSemanticsB4_ReferenceExample(t *testing.T) {
	role := mkRole(impersonation.ReadOnly, allowAll("all"), impersonation.Rule{ImpersonationRuleId: "no-bob", Name: "Not Bob", Effect: policy.Deny, TargetUsers: []string{bob}})
	res, err := reference.EvaluateImpersonation(role, bob, nil)
	if err != nil || res.Effect != policy.Deny || res.Reason != impersonation.ExplicitDeny ||
		!slices.Equal(res.MatchedRules, []impersonation.MatchedRule{{ImpersonationRuleId: "no-bob", Name: "Not Bob"}}) || res.Type != impersonation.ReadOnly {
		t.Errorf("reference: %+v %v", res, err)
	}
}

// One Evaluator answers any number of goroutines at once (run with -race).
//
// SEMANTICS B4
func TestEvaluatorConcurrentUse(t *testing.T) {
	dir := semDirectory(t)
	role := mkRole(impersonation.ReadOnly, allowAll("all"),
		impersonation.Rule{ImpersonationRuleId: "no-alice", Effect: policy.Deny, TargetUsers: []string{aliceMail}})
	ev := compileRole(t, role, dir)
	targets := []string{alice, aliceName, bob, bobMail, dave, carol, "nobody"}
	want := make([]agreed, len(targets))
	for i, target := range targets {
		want[i] = decideAll(t, ev, role, dir, target)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			matched := make([]impersonation.MatchedRule, 0, impersonation.MaxRules)
			for i := range 2000 {
				k := (g + i) % len(targets)
				_, eff, m, err := ev.Evaluate(targets[k], matched[:0])
				matched = m
				if policy.CodeOf(err) != policy.CodeOf(want[k].Err) || (err == nil && (eff != want[k].Effect || !slices.Equal(m, want[k].Matched))) {
					t.Errorf("goroutine %d, %q: %v %v %v, want %v", g, targets[k], eff, m, err, want[k])
					return
				}
			}
		}()
	}
	wg.Wait()
}
