package accessctl_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/internal/reference"
	"github.com/wmpolicy/wmpolicy/policy"
	"github.com/wmpolicy/wmpolicy/policytest"
	"pgregory.net/rapid"
)

// checkAgainstReference compares every evaluation path of the compiled policy
// with the reference evaluator for one request (decidePolicy), and adds two
// checks: Evaluate into a slice with room to spare keeps a prefix and
// appends the same names, and Decide's UserID is the directory's.
func checkAgainstReference(t checker, p *accessctl.Policy, rules []accessctl.Rule, dir policy.Directory, req accessctl.Request) {
	t.Helper()
	o := decidePolicy(t, p, rules, dir, req)
	if o.Err != nil {
		return
	}
	// With room in matched (the branch-free paths append only then), after a
	// prefix that must survive.
	buf := append(make([]string, 0, 1+p.Len()), "prefix")
	eff, names, err := p.Evaluate(req, buf)
	if err != nil || eff != o.Effect || names[0] != "prefix" || !slices.Equal(names[1:], o.Matched) {
		t.Fatalf("Evaluate(%+v) into a roomy slice = %v %q, %v; Decide %v %q", req, eff, names, err, o.Effect, o.Matched)
	}
	if dir != nil && req.UserID != "" {
		if u, _ := dir.Lookup(req.UserID); o.UserID != u.ID {
			t.Fatalf("Decide(%+v).UserID = %q, directory resolves to %q", req, o.UserID, u.ID)
		}
	}
}

// Property: the compiled evaluator equals the reference (effect, matched list and
// its order, reason, all matching rules) on random rule sets up to the model's
// maxima of rules.
func TestPropCompiledEqualsReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rules := policytest.Rules(policytest.DefaultRuleOptions()).Draw(t, "rules")
		p, err := accessctl.Compile(rules, accessctl.Options{})
		if err != nil {
			t.Fatalf("Compile: %v", err)
		}
		for i := range 20 {
			req := policytest.RequestFor(rules).Draw(t, "req"+string(rune('a'+i)))
			checkAgainstReference(t, p, rules, nil, req)
		}
	})
}

// Property: Policy.Rules and Policy.Rule give back the rules as compiled,
// sorted by name, exactly: range lists written out again from their parsed
// form (host bits and all), nil and empty lists kept apart, and the copies
// are the caller's to change.
func TestPropRulesRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rules := policytest.Rules(policytest.DefaultRuleOptions()).Draw(t, "rules")
		for i := range rules {
			if rules[i].IpRanges == nil && rapid.Bool().Draw(t, "emptyIn") {
				rules[i].IpRanges = []string{}
			}
			if rules[i].NotIpRanges == nil && rapid.Bool().Draw(t, "emptyNot") {
				rules[i].NotIpRanges = []string{}
			}
		}
		want := slices.Clone(rules)
		slices.SortFunc(want, func(a, b accessctl.Rule) int { return strings.Compare(a.Name, b.Name) })
		p, err := accessctl.Compile(rules, accessctl.Options{})
		if err != nil {
			t.Fatalf("Compile: %v", err)
		}
		got := p.Rules()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("Rules() differs from the compiled rules (-want +got):\n%s", diff)
		}
		for _, r := range want {
			one, ok := p.Rule(r.Name)
			if !ok || !cmp.Equal(r, one) {
				t.Fatalf("Rule(%q) = %+v, %v; want %+v", r.Name, one, ok, r)
			}
		}
		for i := range got {
			if len(got[i].IpRanges) > 0 {
				got[i].IpRanges[0] = "changed"
			}
		}
		if diff := cmp.Diff(want, p.Rules()); diff != "" {
			t.Fatalf("changing a copy changed the policy:\n%s", diff)
		}
	})
}

// Property: the same, far beyond AWS's limits: up to 200 rules (several bitset
// words). TestLargeRuleSetEqualsReference covers 1,000.
func TestPropCompiledEqualsReferenceManyRules(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rules := policytest.Rules(policytest.RuleOptions{MaxRules: 200, MaxRanges: 3, Users: true, Roles: true}).Draw(t, "rules")
		p, err := accessctl.Compile(rules, accessctl.Options{})
		if err != nil {
			t.Fatalf("Compile: %v", err)
		}
		for i := range 10 {
			checkAgainstReference(t, p, rules, nil, policytest.RequestFor(rules).Draw(t, "req"+string(rune('a'+i))))
		}
	})
}

// Seeded, not rapid: 1,000 rules with up to 20 ranges per list, 2,000 requests.
func TestLargeRuleSetEqualsReference(t *testing.T) {
	if testing.Short() {
		t.Skip("large differential test")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rules := genRules(rng, 1000, shape{ranges: 20, notOneIn: 3}, 10)
	p, err := accessctl.Compile(rules, accessctl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reqs := genRequests(rng, rules, 300, 10)
	for _, req := range reqs {
		checkAgainstReference(t, p, rules, nil, req)
	}
}

// Seeded: 5,000 rules, wider than the stack buffer of the one-pass evaluation
// (maxStackWords words), so that the two-pass path is checked too.
func TestVeryWideRuleSetEqualsReference(t *testing.T) {
	if testing.Short() {
		t.Skip("large differential test")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	rules := genRules(rng, 5000, shape{ranges: 2, notOneIn: 3}, 10)
	p, err := accessctl.Compile(rules, accessctl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if w := p.Stats().BitsetWords; w <= 64 {
		t.Fatalf("only %d words: not wider than the stack buffer", w)
	}
	for _, req := range genRequests(rng, rules, 100, 10) {
		checkAgainstReference(t, p, rules, nil, req)
	}
}

// Property (A6): deny overrides — the effect is DENY exactly when some matching
// rule is DENY or nothing matches; the model's maxima of ranges (1024) included.
func TestPropDenyOverridesDefaultDeny(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := policytest.DefaultRuleOptions()
		if rapid.IntRange(0, 9).Draw(t, "big?") == 0 {
			o.MaxRanges = 1024
			o.MaxRules = 3
		}
		rules := policytest.Rules(o).Draw(t, "rules")
		p, err := accessctl.Compile(rules, accessctl.Options{})
		if err != nil {
			t.Fatal(err)
		}
		req := policytest.RequestFor(rules).Draw(t, "req")
		d, err := p.Decide(req)
		if err != nil {
			t.Fatal(err)
		}
		anyDeny := slices.ContainsFunc(d.Matching, func(m accessctl.Match) bool { return m.Effect == policy.Deny })
		wantDeny := anyDeny || len(d.Matching) == 0
		if (d.Effect == policy.Deny) != wantDeny {
			t.Fatalf("effect %v with matching %+v", d.Effect, d.Matching)
		}
		checkAgainstReference(t, p, rules, nil, req)
	})
}

// Property (A6): rule order never changes any answer.
func TestPropOrderIndependent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rules := policytest.Rules(policytest.DefaultRuleOptions()).Draw(t, "rules")
		perm := rapid.Permutation(rules).Draw(t, "perm")
		p1, err1 := accessctl.Compile(rules, accessctl.Options{})
		p2, err2 := accessctl.Compile(perm, accessctl.Options{})
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		for i := range 10 {
			req := policytest.RequestFor(rules).Draw(t, "req"+string(rune('a'+i)))
			d1, _ := p1.Decide(req)
			d2, _ := p2.Decide(req)
			if diff := cmp.Diff(d1, d2); diff != "" {
				t.Fatalf("order changed the decision (-orig +perm):\n%s", diff)
			}
		}
	})
}

// Property: adding an ALLOW rule never removes access; adding a DENY rule never
// grants it.
func TestPropMonotone(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rules := policytest.Rules(policytest.DefaultRuleOptions()).Draw(t, "rules")
		extra := policytest.Rule("zz-added-rule", policytest.DefaultRuleOptions()).Draw(t, "extra")
		before, err := accessctl.Compile(rules, accessctl.Options{})
		if err != nil {
			t.Fatal(err)
		}
		after, err := accessctl.Compile(append(slices.Clone(rules), extra), accessctl.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			req := policytest.RequestFor(append(slices.Clone(rules), extra)).Draw(t, "req"+string(rune('a'+i)))
			e1, err1 := before.Effect(req)
			e2, err2 := after.Effect(req)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if extra.Effect == policy.Allow && e1 == policy.Allow && e2 != policy.Allow {
				t.Fatalf("adding ALLOW rule %+v removed access for %+v", extra, req)
			}
			if extra.Effect == policy.Deny && e1 == policy.Deny && e2 != policy.Deny {
				t.Fatalf("adding DENY rule %+v granted access for %+v", extra, req)
			}
		}
	})
}

// Property (A6): no rules → DENY, for every valid request.
func TestPropNoRulesDenies(t *testing.T) {
	for _, p := range []*accessctl.Policy{nil, mustCompile(t, nil)} {
		rapid.Check(t, func(t *rapid.T) {
			req := policytest.Request().Draw(t, "req")
			eff, names, err := p.Evaluate(req, nil)
			if err != nil || eff != policy.Deny || len(names) != 0 {
				t.Fatalf("no rules: %v %q %v", eff, names, err)
			}
		})
	}
}

// Property (A18): with a directory, naming a user by ID, email in any case, or
// user name always gives the same answer, in rules and in requests.
func TestPropDirectoryNamingIsIrrelevant(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		dir := policytest.Directory().Draw(t, "dir")
		users := dir.Users()
		rules := policytest.Rules(policytest.DefaultRuleOptions()).Draw(t, "rules")
		// Rename every user reference in the rules at random.
		renamed := make([]accessctl.Rule, len(rules))
		for i, r := range rules {
			r = r.Clone()
			for _, list := range [][]string{r.UserIds, r.NotUserIds} {
				for j, id := range list {
					list[j] = anyName(t, users, id)
				}
			}
			renamed[i] = r
		}
		p1, err := accessctl.Compile(rules, accessctl.Options{Directory: dir})
		if err != nil {
			t.Fatal(err)
		}
		p2, err := accessctl.Compile(renamed, accessctl.Options{Directory: dir})
		if err != nil {
			t.Fatal(err)
		}
		req := policytest.RequestFor(rules).Draw(t, "req")
		if req.UserID != "" && !slices.ContainsFunc(users, func(u policy.User) bool { return u.ID == req.UserID }) {
			req.UserID = policytest.UserIDs()[0]
		}
		want, err := reference.Evaluate(rules, req, dir)
		if err != nil {
			t.Fatal(err)
		}
		if req.UserID != "" {
			req.UserID = anyName(t, users, req.UserID)
		}
		for _, p := range []*accessctl.Policy{p1, p2} {
			eff, names, err := p.Evaluate(req, []string{})
			if err != nil || eff != want.Effect || !slices.Equal(names, want.MatchedRules) {
				t.Fatalf("naming changed the answer: got %v %q %v, want %v %q", eff, names, err, want.Effect, want.MatchedRules)
			}
		}
	})
}

// anyName names the user with ID id by any of its names (policytest.NameOf),
// or returns id when no user has it.
func anyName(t *rapid.T, users []policy.User, id string) string {
	for _, u := range users {
		if u.ID == id {
			return policytest.NameOf(u).Draw(t, "name")
		}
	}
	return id
}

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// exampleDirectory holds every user of policytest.UserIDs().
func exampleDirectory(t testing.TB) *policy.MemDirectory {
	var users []policy.User
	for i, id := range policytest.UserIDs() {
		users = append(users, policy.User{
			ID:      id,
			Email:   "user" + string(rune('a'+i)) + "@example.com",
			Aliases: []string{"alias" + string(rune('a'+i)) + "@example.org"},
			Name:    "username-" + string(rune('a'+i)) + "-long",
			State:   "ENABLED",
		})
	}
	d, err := policy.NewDirectory(users)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustCompile(t testing.TB, rules []accessctl.Rule) *accessctl.Policy {
	t.Helper()
	p, err := accessctl.Compile(rules, accessctl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Fuzz target: evaluate-vs-reference, driven by rapid so that the fuzzer's bytes
// choose rule sets and requests. policytest.Fuzz seeds it with inputs long
// enough for whole draws (rapid skips an input that runs out of bytes).
func FuzzEvaluateVsReference(f *testing.F) {
	policytest.Fuzz(f, func(t *rapid.T) {
		rules := policytest.Rules(policytest.DefaultRuleOptions()).Draw(t, "rules")
		p, err := accessctl.Compile(rules, accessctl.Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkAgainstReference(t, p, rules, nil, policytest.RequestFor(rules).Draw(t, "req"))
	})
}
