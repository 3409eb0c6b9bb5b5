package analysis_test

// Brute force on small universes: random rule sets whose ranges lie inside
// 192.0.2.0/24 (now and then 0.0.0.0/0 or 192.0.0.0/16), over 3 named users
// and 3 named roles. Every answer of Diff, Audit and WhoCan is compared, both
// ways, with exhaustive evaluation by internal/reference of every address of
// the /24 (plus addresses outside it, one per segment the ranges can cut) ×
// every action × every principal (each pool user and role plus one no rule
// names), and every witness is replayed through accessctl and the reference.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/analysis"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/internal/reference"
	"github.com/wmpolicy/wmpolicy/policy"
	"github.com/wmpolicy/wmpolicy/policytest"
	"pgregory.net/rapid"
)

const base = 0xC0000200 // 192.0.2.0

// pool users: 0..2 may be named by rules, 3 never is.
var poolUsers = []policy.User{
	{ID: "S-1-1-11-0000000000-0000000000-0000000000-0001", Email: "u1@example.com", Name: "pool-user-0001", State: "ENABLED"},
	{ID: "S-1-1-11-0000000000-0000000000-0000000000-0002", Email: "u2@example.com", Name: "pool-user-0002", State: "ENABLED"},
	{ID: "S-1-1-11-0000000000-0000000000-0000000000-0003", Email: "u3@example.com", Name: "pool-user-0003", State: "ENABLED"},
	{ID: "S-1-1-11-0000000000-0000000000-0000000000-0004", Email: "u4@example.com", Name: "pool-user-0004", State: "ENABLED"},
}

// pool roles: 0..2 may be named, 3 never is.
var poolRoles = []string{"role-a", "role-b", "role-c", "role-unnamed"}

// smallRange draws a range inside the /24, rarely a wider one.
func smallRange() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		switch rapid.IntRange(0, 15).Draw(t, "wide") {
		case 0:
			return "0.0.0.0/0"
		case 1:
			return "192.0.0.0/16"
		}
		bits := rapid.IntRange(24, 32).Draw(t, "bits")
		r := cidr.RangeFrom(base+rapid.Uint32Range(0, 255).Draw(t, "off"), bits)
		if rapid.IntRange(0, 3).Draw(t, "host") != 0 {
			r = r.Masked()
		}
		return r.String()
	})
}

// smallRules draws up to maxRules rules from the project's generator kit
// (policytest.Rules), kept inside the small universe: ranges from smallRange,
// users from pool users 0..2 (with a directory also named by email or user
// name, A18), roles from pool roles 0..2, one rule in five without
// conditions. Rules are renamed r0, r7, r4, … so
// that names stay short, distinct and sort after the "pad-" rules of
// TestWideRuleSets.
func smallRules(maxRules int, dir bool) *rapid.Generator[[]accessctl.Rule] {
	var users []string
	for _, u := range poolUsers[:3] {
		users = append(users, u.ID)
		if dir {
			users = append(users, u.Email, u.Name)
		}
	}
	o := policytest.RuleOptions{
		MaxRules: maxRules, MaxRanges: 3, MaxActions: 3, MaxPrincipals: 2,
		Users: true, Roles: true, UserIDs: users, RoleIDs: poolRoles[:3],
		Ranges: smallRange(),
	}
	gen := policytest.Rules(o)
	return rapid.Custom(func(t *rapid.T) []accessctl.Rule {
		rules := gen.Draw(t, "rules")
		for i := range rules {
			rules[i].Name = fmt.Sprintf("r%d", (i*7)%10)
			// One rule in five has no condition at all (like "default"), which
			// the kit draws rarely: the shape behind most shadowing and
			// redundancy.
			if rapid.IntRange(0, 4).Draw(t, "plain") == 0 {
				rules[i] = accessctl.Rule{Name: rules[i].Name, Effect: rules[i].Effect}
			}
		}
		return rules
	})
}

// universe is every request of the small universe.
type universe struct {
	reqs []accessctl.Request
	dir  policy.Directory
}

func newUniverse(withDir bool) *universe {
	u := &universe{}
	if withDir {
		d, err := policy.NewDirectory(poolUsers)
		if err != nil {
			panic(err)
		}
		u.dir = d
	}
	var addrs []uint32
	for i := uint32(0); i < 256; i++ {
		addrs = append(addrs, base+i)
	}
	// outside the /24: one address in each segment 0.0.0.0/0 and 192.0.0.0/16 cut
	addrs = append(addrs, 0, 0xC0000000, base-1, base+256, 0xC000FFFF, 0xC0010000, 0xFFFFFFFF)
	for _, a := range addrs {
		ip := cidr.AddrToNetip(a)
		for _, pu := range poolUsers {
			for _, act := range accessctl.Actions() {
				u.reqs = append(u.reqs, accessctl.Request{IP: ip, Action: act, UserID: pu.ID})
			}
		}
		for _, r := range poolRoles {
			u.reqs = append(u.reqs, accessctl.Request{IP: ip, Action: accessctl.EWS, ImpersonationRoleID: r})
		}
	}
	return u
}

var universes = map[bool]*universe{false: newUniverse(false), true: newUniverse(true)}

// truth evaluates every request of u with the reference.
func (u *universe) truth(t interface{ Fatalf(string, ...any) }, rules []accessctl.Rule) []reference.Result {
	out := make([]reference.Result, len(u.reqs))
	for i, r := range u.reqs {
		res, err := reference.Evaluate(rules, r, u.dir)
		if err != nil {
			t.Fatalf("reference %v: %v", r, err)
		}
		out[i] = res
	}
	return out
}

func (u *universe) opts() analysis.Options {
	if u.dir != nil {
		return analysis.Options{Directory: u.dir, Roles: poolRoles}
	}
	return analysis.Options{}
}

// classOf returns the index in ps of the class of r's principal.
func classOf(ps []analysis.Principal, r accessctl.Request) int {
	kind, id := analysis.User, r.UserID
	if r.ImpersonationRoleID != "" {
		kind, id = analysis.Role, r.ImpersonationRoleID
	}
	other := -1
	for i, p := range ps {
		if p.Kind != kind {
			continue
		}
		if p.ID == id {
			return i
		}
		if p.ID == "" {
			other = i
		}
	}
	return other
}

func addrOf(r accessctl.Request) uint32 {
	a, _ := cidr.AddrFrom(r.IP)
	return a
}

// replay evaluates a witness through accessctl (Decide) and the reference and
// checks that they agree; it returns the decision.
// fataler is testing.TB or *rapid.T.
type fataler interface {
	Fatalf(format string, args ...any)
}

func replay(t fataler, rules []accessctl.Rule, dir policy.Directory, r accessctl.Request) reference.Result {
	var opts accessctl.Options
	if dir != nil {
		opts.Directory = dir
	}
	p, err := accessctl.Compile(rules, opts)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	d, err := p.Decide(r)
	if err != nil {
		t.Fatalf("witness %+v: accessctl: %v", r, err)
	}
	ref, err := reference.Evaluate(rules, r, dir)
	if err != nil {
		t.Fatalf("witness %+v: reference: %v", r, err)
	}
	if d.Effect != ref.Effect || !slices.Equal(d.MatchedRules, ref.MatchedRules) {
		t.Fatalf("witness %+v: accessctl %v %v, reference %v %v", r, d.Effect, d.MatchedRules, ref.Effect, ref.MatchedRules)
	}
	return ref
}

func checkDiff(t *rapid.T, u *universe, before, after []accessctl.Rule) {
	res, err := analysis.Diff(context.Background(), before, after, u.opts())
	if err != nil {
		t.Fatalf("Diff: %v", err)
	}
	tb, ta := u.truth(t, before), u.truth(t, after)
	var na, nd bool
	for q, r := range u.reqs {
		var want analysis.Change
		if tb[q].Effect != ta[q].Effect {
			want = analysis.NewlyDenied
			if ta[q].Effect == policy.Allow {
				want = analysis.NewlyAllowed
				na = true
			} else {
				nd = true
			}
		}
		c := classOf(res.Principals, r)
		if c < 0 {
			t.Fatalf("request %+v: no principal class in %v", r, res.Principals)
		}
		a := addrOf(r)
		var got analysis.Change
		n := 0
		for _, g := range res.Regions {
			if g.Addrs.Contains(a) && slices.Contains(g.Actions, r.Action) && slices.Contains(g.Principals, res.Principals[c]) {
				got = g.Change
				n++
			}
		}
		if n > 1 {
			t.Fatalf("request %+v in %d regions", r, n)
		}
		if got != want {
			t.Fatalf("request %+v: diff says %q, exhaustive evaluation %q (before %v, after %v)\nregions: %+v", r, got, want, tb[q].Effect, ta[q].Effect, res.Regions)
		}
	}
	want := analysis.Equivalent
	switch {
	case na && nd:
		want = analysis.Incomparable
	case na:
		want = analysis.MorePermissive
	case nd:
		want = analysis.LessPermissive
	}
	if res.Verdict != want {
		t.Fatalf("verdict %v, want %v", res.Verdict, want)
	}
	if p := regionProblem(res); p != "" {
		t.Fatalf("%s\nregions: %+v", p, res.Regions)
	}
	for _, g := range res.Regions {
		w := g.Witness
		if !g.Addrs.Contains(addrOf(w)) || !slices.Contains(g.Actions, w.Action) {
			t.Fatalf("witness %+v not in its region %v %v", w, g.Addrs, g.Actions)
		}
		if c := classOf(res.Principals, w); c < 0 || !slices.Contains(g.Principals, res.Principals[c]) {
			t.Fatalf("witness %+v: its principal is not among the region's %v", w, g.Principals)
		}
		b, a := replay(t, before, u.dir, w), replay(t, after, u.dir, w)
		if (g.Change == analysis.NewlyAllowed) != (b.Effect == policy.Deny && a.Effect == policy.Allow) ||
			(g.Change == analysis.NewlyDenied) != (b.Effect == policy.Allow && a.Effect == policy.Deny) {
			t.Fatalf("witness %+v of %v region: before %v, after %v", w, g.Change, b.Effect, a.Effect)
		}
	}
}

func checkAudit(t *rapid.T, u *universe, rules []accessctl.Rule) {
	an, err := analysis.New(rules, u.opts())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rep, err := an.Audit(context.Background())
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	truth := u.truth(t, rules)
	found := map[string]analysis.Kind{} // rule name → never/shadowed/redundant
	lock := map[string]bool{}
	for _, f := range rep.Findings {
		switch f.Kind {
		case analysis.NeverMatches, analysis.Shadowed, analysis.Redundant:
			if _, dup := found[f.Rule]; dup {
				t.Fatalf("two semantic findings for %s", f.Rule)
			}
			found[f.Rule] = f.Kind
		case analysis.OrganizationLockedOut:
			lock[""] = true
		case analysis.ActionLockedOut:
			lock[f.Message] = true
		}
	}
	for _, r := range rules {
		matches, decides := false, false
		for _, res := range truth {
			if slices.Contains(res.Matching, r.Name) {
				matches = true
				decides = decides || res.Effect == r.Effect
			}
		}
		var want analysis.Kind
		switch {
		case !matches:
			want = analysis.NeverMatches
		case r.Effect == policy.Allow && !decides:
			want = analysis.Shadowed
		default:
			// issue 20: a conditional ALLOW rule is judged as if the
			// unconditional ALLOW rules (like "default") were absent
			base, baseTruth := rules, truth
			if r.Effect == policy.Allow && !unconditional(r) {
				base = slices.DeleteFunc(slices.Clone(rules), func(x accessctl.Rule) bool {
					return x.Effect == policy.Allow && unconditional(x)
				})
				baseTruth = u.truth(t, base)
			}
			without := slices.DeleteFunc(slices.Clone(base), func(x accessctl.Rule) bool { return x.Name == r.Name })
			tw := u.truth(t, without)
			same := true
			for q := range baseTruth {
				same = same && baseTruth[q].Effect == tw[q].Effect
			}
			if same {
				want = analysis.Redundant
			}
		}
		if found[r.Name] != want {
			t.Fatalf("rule %s: audit says %q, exhaustive evaluation %q\nfindings: %v", r.Name, found[r.Name], want, rep.Findings)
		}
	}
	anyAllow := false
	var actAllow [accessctl.NumActions + 1]bool
	for q, res := range truth {
		if res.Effect == policy.Allow {
			anyAllow = true
			actAllow[u.reqs[q].Action] = true
		}
	}
	if lock[""] == anyAllow {
		t.Fatalf("organization lock-out reported %v, but something allowed: %v", lock[""], anyAllow)
	}
	if anyAllow {
		for _, act := range accessctl.Actions() {
			if lock[fmt.Sprintf("no user or role may use %s from any address", act)] == actAllow[act] {
				t.Fatalf("action %s lock-out reported wrongly (allowed somewhere: %v)", act, actAllow[act])
			}
		}
	}
	if anyAllow && u.dir != nil {
		for _, pu := range poolUsers {
			allowed := false
			for q, res := range truth {
				allowed = allowed || (u.reqs[q].UserID == pu.ID && res.Effect == policy.Allow)
			}
			reported := slices.ContainsFunc(only(rep, analysis.UserLockedOut), func(f analysis.Finding) bool {
				return strings.Contains(f.Message, pu.ID)
			})
			if reported == allowed {
				t.Fatalf("user %s: lock-out reported %v, allowed somewhere %v", pu.ID, reported, allowed)
			}
		}
	}
	checkWitnesses(t, rules, u.dir, rep)
}

// unconditional reports whether r has no list: it matches every request.
func unconditional(r accessctl.Rule) bool {
	return len(r.IpRanges)+len(r.NotIpRanges)+len(r.Actions)+len(r.NotActions)+len(r.UserIds)+
		len(r.NotUserIds)+len(r.ImpersonationRoleIds)+len(r.NotImpersonationRoleIds) == 0
}

// checkWitnesses replays every witness of the report through accessctl and
// the reference, and checks that it shows what its finding claims.
func checkWitnesses(t fataler, rules []accessctl.Rule, dir policy.Directory, rep *analysis.Report) {
	for _, f := range rep.Findings {
		if f.Witness == nil {
			continue
		}
		res := replay(t, rules, dir, *f.Witness)
		if !slices.Contains(res.Matching, f.Rule) {
			t.Fatalf("%v: witness does not match the rule: %+v", f, res)
		}
		switch f.Kind {
		case analysis.Shadowed:
			if res.Effect != policy.Deny || res.Reason != accessctl.ExplicitDeny {
				t.Fatalf("%v: witness is %v", f, res.Effect)
			}
		case analysis.Redundant:
			k := slices.IndexFunc(rules, func(r accessctl.Rule) bool { return r.Name == f.Rule })
			without := slices.Delete(slices.Clone(rules), k, k+1)
			if w := replay(t, without, dir, *f.Witness); w.Effect != res.Effect {
				t.Fatalf("%v: witness effect %v with the rule, %v without", f, res.Effect, w.Effect)
			}
		default:
			t.Fatalf("%v: unexpected witness", f)
		}
	}
}

func checkWhoCan(t *rapid.T, u *universe, rules []accessctl.Rule) {
	an, err := analysis.New(rules, u.opts())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	truth := u.truth(t, rules)
	type key struct {
		p   string
		act accessctl.Action
		a   uint32
	}
	claimed := map[key]bool{}
	ask := func(kind analysis.PrincipalKind, id string) {
		pa, err := an.WhoCanPrincipal(context.Background(), kind, id)
		if err != nil {
			t.Fatalf("WhoCanPrincipal(%s): %v", id, err)
		}
		for _, g := range pa.Grants {
			for _, act := range g.Actions {
				for i, r := range g.Ranges {
					if r.First > r.Last || (i > 0 && g.Ranges[i-1].Last+1 >= r.First) {
						t.Fatalf("%s: ranges not maximal and ascending: %v", id, g.Ranges)
					}
				}
				for q, r := range u.reqs {
					if r.Action == act && (r.UserID == id || r.ImpersonationRoleID == id) {
						a := addrOf(r)
						in := slices.ContainsFunc(g.Ranges, func(x analysis.AddrRange) bool { return a >= x.First && a <= x.Last })
						if in {
							claimed[key{id, act, a}] = true
							if truth[q].Effect != policy.Allow {
								t.Fatalf("who-can %s: claims %v from %v allowed; reference: %v", id, act, r.IP, truth[q].Effect)
							}
						}
					}
				}
			}
		}
	}
	for _, pu := range poolUsers {
		ask(analysis.User, pu.ID)
	}
	for _, r := range poolRoles {
		ask(analysis.Role, r)
	}
	for q, r := range u.reqs {
		id := r.UserID + r.ImpersonationRoleID
		if truth[q].Effect == policy.Allow && !claimed[key{id, r.Action, addrOf(r)}] {
			t.Fatalf("who-can %s misses %v from %v (reference: ALLOW)", id, r.Action, r.IP)
		}
	}
	// a few (action, address) questions
	for i := 0; i < 4; i++ {
		q := rapid.IntRange(0, len(u.reqs)-1).Draw(t, "q")
		act, ip := u.reqs[q].Action, u.reqs[q].IP
		ra, err := an.WhoCanRequest(context.Background(), act, ip)
		if err != nil {
			t.Fatalf("WhoCanRequest: %v", err)
		}
		all := append(slices.Clone(ra.Allowed), ra.Denied...)
		for q2, r := range u.reqs {
			if r.Action != act || r.IP != ip {
				continue
			}
			c := classOf(all, r)
			if c < 0 {
				t.Fatalf("WhoCanRequest %v %v: no class for %+v in %v", act, ip, r, all)
			}
			if (c < len(ra.Allowed)) != (truth[q2].Effect == policy.Allow) {
				t.Fatalf("WhoCanRequest %v %v: %v allowed=%v, reference %v", act, ip, all[c], c < len(ra.Allowed), truth[q2].Effect)
			}
		}
	}
}

// checkExplain compares Explain with accessctl and the reference on a sample
// of requests.
func checkExplain(t *rapid.T, u *universe, rules []accessctl.Rule) {
	an, err := analysis.New(rules, u.opts())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for i := 0; i < 16; i++ {
		r := u.reqs[rapid.IntRange(0, len(u.reqs)-1).Draw(t, "req")]
		ex, err := an.Explain(context.Background(), r)
		if err != nil {
			t.Fatalf("Explain: %v", err)
		}
		ref := replay(t, rules, u.dir, r)
		var matching []string
		for _, tr := range ex.Rules {
			if tr.Matches {
				matching = append(matching, tr.Name)
			}
		}
		if ex.Effect != ref.Effect || ex.Reason != ref.Reason || !slices.Equal(ex.MatchedRules, ref.MatchedRules) || !slices.Equal(matching, ref.Matching) {
			t.Fatalf("Explain %+v: %v %v %v %v; reference %+v", r, ex.Effect, ex.Reason, ex.MatchedRules, matching, ref)
		}
	}
}

func TestBruteForceDiff(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		u := universes[rapid.Bool().Draw(t, "dir")]
		before := smallRules(4, u.dir != nil).Draw(t, "before")
		var after []accessctl.Rule
		if rapid.Bool().Draw(t, "edit") && len(before) > 0 {
			// a small edit: one rule replaced, so that regions are few and meaningful
			after = slices.Clone(before)
			k := rapid.IntRange(0, len(after)-1).Draw(t, "k")
			r := smallRules(1, u.dir != nil).Filter(func(rs []accessctl.Rule) bool { return len(rs) == 1 }).Draw(t, "edit")[0]
			r.Name = after[k].Name
			after[k] = r
		} else {
			after = smallRules(4, u.dir != nil).Draw(t, "after")
		}
		checkDiff(t, u, before, after)
	})
}

func TestBruteForceAudit(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		u := universes[rapid.Bool().Draw(t, "dir")]
		checkAudit(t, u, smallRules(4, u.dir != nil).Draw(t, "rules"))
	})
}

func TestBruteForceWhoCanAndExplain(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		u := universes[rapid.Bool().Draw(t, "dir")]
		rules := smallRules(5, u.dir != nil).Draw(t, "rules")
		checkWhoCan(t, u, rules)
		checkExplain(t, u, rules)
	})
}
