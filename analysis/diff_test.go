package analysis_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/analysis"
	"github.com/wmpolicy/wmpolicy/policy"
)

func cloneRules(rs []accessctl.Rule) []accessctl.Rule {
	out := make([]accessctl.Rule, len(rs))
	for i, r := range rs {
		out[i] = r.Clone()
	}
	return out
}

func ruleNamed(rs []accessctl.Rule, name string) *accessctl.Rule {
	for i := range rs {
		if rs[i].Name == name {
			return &rs[i]
		}
	}
	panic(name)
}

// Changes to the example organization, each read as few regions, with
// witnesses replayed through accessctl and the reference.
func TestDiffExampleOrg(t *testing.T) {
	dir := loadUsers(t)
	before := loadRules(t, "../examples/org/rules.json")
	opts := analysis.Options{Directory: dir}
	type want struct {
		change analysis.Change
		addrs  string
		acts   []accessctl.Action
		prins  int
	}
	for _, tc := range []struct {
		name    string
		edit    func([]accessctl.Rule) []accessctl.Rule
		verdict analysis.Verdict
		regions []want
	}{
		{"same", func(r []accessctl.Rule) []accessctl.Rule { return r }, analysis.Equivalent, nil},
		{"reordered and host bits", func(r []accessctl.Rule) []accessctl.Rule {
			slices.Reverse(r)
			ruleNamed(r, "block-abusive-networks").IpRanges[0] = "198.51.100.7/24"
			return r
		}, analysis.Equivalent, nil},
		{"one more VPN range for IMAP/SMTP", func(r []accessctl.Rule) []accessctl.Rule {
			x := ruleNamed(r, "legacy-protocols-office-only")
			x.NotIpRanges = append(x.NotIpRanges, "10.9.0.0/16")
			return r
		}, analysis.MorePermissive, []want{{analysis.NewlyAllowed, "10.9.0.0/16", []accessctl.Action{accessctl.IMAP, accessctl.SMTP}, 1}}},
		{"block one more network", func(r []accessctl.Rule) []accessctl.Rule {
			x := ruleNamed(r, "block-abusive-networks")
			x.IpRanges = append(x.IpRanges, "100.64.0.0/10")
			return r
		}, analysis.LessPermissive, []want{
			// carol may use only WebMail; IMAP and SMTP were denied there already
			{analysis.NewlyDenied, "100.64.0.0/10", []accessctl.Action{accessctl.WebMail}, 1},
			{analysis.NewlyDenied, "100.64.0.0/10", []accessctl.Action{accessctl.ActiveSync, accessctl.AutoDiscover, accessctl.EWS, accessctl.WindowsOutlook, accessctl.WebMail}, 1},
			// roles make EWS requests only (A12): they have their own region
			{analysis.NewlyDenied, "100.64.0.0/10", []accessctl.Action{accessctl.EWS}, 1},
		}},
		{"default removed, office allowed", func(r []accessctl.Rule) []accessctl.Rule {
			r = slices.DeleteFunc(r, func(x accessctl.Rule) bool { return x.Name == "default" || x.Name == "block-abusive-networks" })
			return append(r, accessctl.Rule{Name: "office", Effect: policy.Allow, IpRanges: []string{"192.0.2.0/24", "198.51.100.0/24"}})
		}, analysis.Incomparable, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			after := tc.edit(cloneRules(before))
			res, err := analysis.Diff(context.Background(), before, after, opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tc.verdict {
				t.Fatalf("verdict %v, want %v; regions %+v", res.Verdict, tc.verdict, res.Regions)
			}
			for _, g := range res.Regions {
				b, a := replay(t, before, dir, g.Witness), replay(t, after, dir, g.Witness)
				if b.Effect == a.Effect || (a.Effect == policy.Allow) != (g.Change == analysis.NewlyAllowed) {
					t.Errorf("witness %+v of %v: before %v, after %v", g.Witness, g.Change, b.Effect, a.Effect)
				}
			}
			if tc.regions == nil {
				return
			}
			if len(res.Regions) != len(tc.regions) {
				t.Fatalf("%d regions, want %d: %+v", len(res.Regions), len(tc.regions), res.Regions)
			}
			for i, w := range tc.regions {
				g := res.Regions[i]
				if g.Change != w.change || g.Addrs.String() != w.addrs || !slices.Equal(g.Actions, w.acts) || len(g.Principals) < w.prins {
					t.Errorf("region %d: %v %v %v %v, want %+v", i, g.Change, g.Addrs, g.Actions, g.Principals, w)
				}
			}
		})
	}
}

// Regions merge: a change to one range of a rule that applies to everyone is
// one region per kind of principal, whatever other rules cut the range into:
// every user × every action, and every role × EWS (A12: a region's actions
// apply to all its principals).
func TestDiffOneRangeOneRegionPerKind(t *testing.T) {
	before := []accessctl.Rule{defaultRule,
		{Name: "fragments", Effect: policy.Allow, IpRanges: []string{"10.0.0.0/24", "10.0.1.0/25", "10.0.3.7/32"}, UserIds: []string{alice}}}
	after := append(cloneRules(before), accessctl.Rule{Name: "block", Effect: policy.Deny, IpRanges: []string{"10.0.0.0/22"}})
	res, err := analysis.Diff(context.Background(), before, after, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != analysis.LessPermissive || len(res.Regions) != 2 {
		t.Fatalf("%v %+v", res.Verdict, res.Regions)
	}
	var users, roles []analysis.Principal
	for _, p := range res.Principals {
		if p.Kind == analysis.User {
			users = append(users, p)
		} else {
			roles = append(roles, p)
		}
	}
	g := res.Regions[0]
	if g.Addrs.String() != "10.0.0.0/22" || len(g.Actions) != accessctl.NumActions || !slices.Equal(g.Principals, users) {
		t.Fatalf("region %+v, want 10.0.0.0/22 × every action × every user %v", g, users)
	}
	if g.Witness.IP != netip.MustParseAddr("10.0.0.1") || g.Witness.Action != accessctl.ActiveSync || g.Witness.UserID != alice {
		t.Errorf("witness %+v", g.Witness)
	}
	g = res.Regions[1]
	if g.Addrs.String() != "10.0.0.0/22" || !slices.Equal(g.Actions, []accessctl.Action{accessctl.EWS}) || !slices.Equal(g.Principals, roles) {
		t.Fatalf("region %+v, want 10.0.0.0/22 × EWS × every role %v", g, roles)
	}
	if g.Witness.Action != accessctl.EWS || g.Witness.ImpersonationRoleID == "" {
		t.Errorf("witness %+v", g.Witness)
	}
}

func TestDiffRegionBudget(t *testing.T) {
	var before, after []accessctl.Rule
	before = append(before, defaultRule)
	after = append(after, defaultRule)
	var ranges []string
	for i := range 100 {
		ranges = append(ranges, "10.0."+itoa(2*i)+".0/24")
	}
	after = append(after, accessctl.Rule{Name: "many", Effect: policy.Deny, IpRanges: ranges})
	res, err := analysis.Diff(context.Background(), before, after, analysis.Options{})
	// two regions sharing one set of 100 intervals: every user × every action,
	// every role × EWS; MaxRegions bounds the intervals of the distinct sets
	if err != nil || len(res.Regions) != 2 || len(res.Regions[0].Addrs) != 100 || len(res.Regions[1].Addrs) != 100 {
		t.Fatalf("%v regions, %v", len(res.Regions), err)
	}
	_, err = analysis.Diff(context.Background(), before, after, analysis.Options{MaxRegions: 50})
	var be *analysis.BudgetError
	if !errors.As(err, &be) || be.Resource != "regions" || be.Limit != 50 {
		t.Fatalf("MaxRegions 50: %v", err)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// regionProblem checks the documented shape of res.Regions and returns what is
// wrong, or "": every region has ascending actions and principals in the order
// of res.Principals; a region with a role has Actions [EWS] only (its actions
// apply to every principal, A12); regions are strictly ordered by first
// address, change, first principal, actions, address set; every address set
// is maximal (ascending, disjoint, never adjacent intervals).
func regionProblem(res *analysis.DiffResult) string {
	index := map[analysis.Principal]int{}
	for i, p := range res.Principals {
		index[p] = i
	}
	for i, g := range res.Regions {
		if len(g.Actions) == 0 || len(g.Principals) == 0 {
			return fmt.Sprintf("region %d %+v: no action or no principal", i, g)
		}
		for k := 1; k < len(g.Actions); k++ {
			if g.Actions[k] <= g.Actions[k-1] {
				return fmt.Sprintf("region %d: actions %v not strictly ascending", i, g.Actions)
			}
		}
		if len(g.Addrs) == 0 {
			return fmt.Sprintf("region %d: no address", i)
		}
		for k, r := range g.Addrs {
			if r.First > r.Last || (k > 0 && uint64(g.Addrs[k-1].Last)+1 >= uint64(r.First)) {
				return fmt.Sprintf("region %d: address set %v not maximal and ascending", i, g.Addrs)
			}
		}
		for k, p := range g.Principals {
			j, ok := index[p]
			if !ok || (k > 0 && j <= index[g.Principals[k-1]]) {
				return fmt.Sprintf("region %d: principals %v not in the order of %v", i, g.Principals, res.Principals)
			}
			if p.Kind == analysis.Role && !slices.Equal(g.Actions, []accessctl.Action{accessctl.EWS}) {
				return fmt.Sprintf("region %d: role %v with actions %v: roles make EWS requests only", i, p, g.Actions)
			}
		}
		if i == 0 {
			continue
		}
		x := res.Regions[i-1]
		if c := cmp.Or(cmp.Compare(x.Addrs[0].First, g.Addrs[0].First), cmp.Compare(x.Change, g.Change),
			cmp.Compare(index[x.Principals[0]], index[g.Principals[0]]), slices.Compare(x.Actions, g.Actions),
			slices.CompareFunc(x.Addrs, g.Addrs, func(a, b analysis.AddrRange) int {
				return cmp.Or(cmp.Compare(a.First, b.First), cmp.Compare(a.Last, b.Last))
			})); c >= 0 {
			return fmt.Sprintf("region %d (%v %v %v) not before region %d (%v %v %v)",
				i-1, x.Change, x.Addrs, x.Principals, i, g.Change, g.Addrs, g.Principals)
		}
	}
	return ""
}

// DiffResult.Regions are ordered by first address, change, first principal
// (in the order of DiffResult.Principals), then actions. Here three regions
// share first address and change: u1 newly denied IMAP on 10.0.0.0/8 and SMTP
// on 10.0.0.0/16, u2 every action on 10.0.0.0/16. Both of u1's come first,
// although one ends after u2's, IMAP before SMTP.
func TestDiffRegionsOrderedByPrincipal(t *testing.T) {
	u1, u2 := poolUsers[0].ID, poolUsers[1].ID // u1 sorts before u2
	before := []accessctl.Rule{defaultRule}
	after := []accessctl.Rule{defaultRule,
		{Name: "d1", Effect: policy.Deny, IpRanges: []string{"10.0.0.0/8"}, Actions: []string{"IMAP"}, UserIds: []string{u1}},
		{Name: "d2", Effect: policy.Deny, IpRanges: []string{"10.0.0.0/16"}, UserIds: []string{u2}},
		{Name: "d3", Effect: policy.Deny, IpRanges: []string{"10.0.0.0/16"}, Actions: []string{"SMTP"}, UserIds: []string{u1}},
	}
	res, err := analysis.Diff(context.Background(), before, after, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p := regionProblem(res); p != "" {
		t.Fatal(p)
	}
	var got []string
	for _, g := range res.Regions {
		got = append(got, fmt.Sprint(g.Addrs, " ", g.Principals, " ", g.Actions))
	}
	want := []string{"10.0.0.0/8 [user " + u1 + "] [IMAP]", "10.0.0.0/16 [user " + u1 + "] [SMTP]",
		"10.0.0.0/16 [user " + u2 + "] [ActiveSync AutoDiscover EWS IMAP SMTP WindowsOutlook WebMail]"}
	if !slices.Equal(got, want) {
		t.Errorf("regions %q, want %q", got, want)
	}
	if names := []string{res.Principals[0].ID, res.Principals[1].ID, res.Principals[2].String(), res.Principals[3].String()}; !slices.Equal(names, []string{u1, u2, "any other user", "any other role"}) {
		t.Errorf("principals %v: want named users ascending, any other user, any other role", res.Principals)
	}
}

// Diff reports every problem of both rule lists, each path naming its list:
// "Before.Rules[i]…" or "After.Rules[i]…"; problems of the options keep their
// own paths.
func TestDiffErrorPathNamesRuleSet(t *testing.T) {
	ctx := context.Background()
	good := []accessctl.Rule{defaultRule}
	bad := []accessctl.Rule{{Name: "x", Effect: policy.Allow, IpRanges: []string{"010.0.0.0/8"}}}
	paths := func(err error) []string {
		var out []string
		for _, e := range policy.Errors(err) {
			if e.Code != policy.ValidationException {
				t.Errorf("%v: code %s, want ValidationException", e, e.Code)
			}
			out = append(out, e.Path)
		}
		return out
	}
	for _, tc := range []struct {
		before, after []accessctl.Rule
		opts          analysis.Options
		want          []string
	}{
		{bad, good, analysis.Options{}, []string{"Before.Rules[0].IpRanges[0]"}},
		{good, bad, analysis.Options{}, []string{"After.Rules[0].IpRanges[0]"}},
		{bad, bad, analysis.Options{}, []string{"Before.Rules[0].IpRanges[0]", "After.Rules[0].IpRanges[0]"}},
		{bad, good, analysis.Options{Roles: []string{"ok", "not ok"}}, []string{"Roles[1]", "Before.Rules[0].IpRanges[0]"}},
	} {
		res, err := analysis.Diff(ctx, tc.before, tc.after, tc.opts)
		if got := paths(err); res != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Diff: %v paths %q, want %q (%v)", res, got, tc.want, err)
		}
	}
}

func TestWhoCanExampleOrg(t *testing.T) {
	dir := loadUsers(t)
	rules := loadRules(t, "../examples/org/rules.json")
	a, err := analysis.New(rules, analysis.Options{Directory: dir, Roles: []string{"9f1c2a64-3b7e-4d5a-8c21-0e6b7a9d4f10"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pa, err := a.WhoCanPrincipal(ctx, analysis.User, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if pa.UserID != alice || len(pa.Grants) != 1 || len(pa.Grants[0].Actions) != 7 ||
		len(pa.Grants[0].Ranges) != 2 || pa.Grants[0].Ranges[0].String() != "10.8.0.0/16" || pa.Grants[0].Ranges[1].String() != "192.0.2.0/24" {
		t.Fatalf("alice: %+v", pa)
	}
	pa, err = a.WhoCanPrincipal(ctx, analysis.User, "dave@example.com") // named by no rule
	if err != nil || !pa.Principal.Other() || pa.Principal.Witness != "S-1-1-11-1234567890-1234567890-1234567890-1004" {
		t.Fatalf("dave: %+v %v", pa, err)
	}
	if _, err := a.WhoCanPrincipal(ctx, analysis.User, "mallory"); policy.CodeOf(err) != policy.EntityNotFoundException {
		t.Errorf("unknown user: %v", err)
	}
	if _, err := a.WhoCanPrincipal(ctx, analysis.Role, "no-such-role"); policy.CodeOf(err) != policy.ResourceNotFoundException {
		t.Errorf("unknown role: %v", err)
	}
	ra, err := a.WhoCanRequest(ctx, accessctl.IMAP, netip.MustParseAddr("10.8.1.1"))
	if err != nil {
		t.Fatal(err)
	}
	var allowed, denied []string
	for _, p := range ra.Allowed {
		allowed = append(allowed, p.String())
	}
	for _, p := range ra.Denied {
		denied = append(denied, p.String())
	}
	if !slices.Equal(allowed, []string{"user " + alice, "any other user"}) || !slices.Equal(denied, []string{"user S-1-1-11-1234567890-1234567890-1234567890-1003"}) {
		t.Errorf("IMAP from 10.8.1.1: allowed %v, denied %v", allowed, denied)
	}
	if _, err := a.WhoCanRequest(ctx, 0, netip.MustParseAddr("10.8.1.1")); policy.CodeOf(err) != policy.InvalidParameterException {
		t.Errorf("invalid action: %v", err)
	}
}

// SEMANTICS A4: a principal the request does not carry is in no list, so
// "DENY NotUserIds=[admin]" denies impersonation roles too (fail closed), and
// a role never satisfies UserIds.
func TestSemanticsA4_WhoCanFailsClosed(t *testing.T) {
	rules := []accessctl.Rule{defaultRule,
		{Name: "admin-only", Effect: policy.Deny, NotUserIds: []string{alice}},
		{Name: "bob-role", Effect: policy.Allow, UserIds: []string{bob}, ImpersonationRoleIds: []string{"role-a"}}}
	a, err := analysis.New(rules, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ra, err := a.WhoCanRequest(context.Background(), accessctl.EWS, netip.MustParseAddr("192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	var allowed, denied []string
	for _, p := range ra.Allowed {
		allowed = append(allowed, p.String())
	}
	for _, p := range ra.Denied {
		denied = append(denied, p.String())
	}
	if !slices.Equal(allowed, []string{"user " + alice}) ||
		!slices.Equal(denied, []string{"user " + bob, "any other user", "role role-a", "any other role"}) {
		t.Errorf("allowed %v, denied %v", allowed, denied)
	}
	rep, err := a.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if fs := only(rep, analysis.NeverMatches); len(fs) != 1 || fs[0].Rule != "bob-role" {
		t.Errorf("findings %v, want bob-role never matching", rep.Findings)
	}
	pa, err := a.WhoCanPrincipal(context.Background(), analysis.Role, "role-a")
	if err != nil || len(pa.Grants) != 0 {
		t.Errorf("role-a may %+v, %v; want nothing", pa, err)
	}
}

// Issue 20: a change that applies "everywhere except X" is one region per
// group of principals, not one per interval: here a rule that denies IMAP
// and SMTP outside the office and the VPN reads as one region of every
// user, rendered "everywhere except 10.8.0.0/16, 192.0.2.0/24".
func TestDiffEverywhereExceptIsOneRegion(t *testing.T) {
	before := []accessctl.Rule{defaultRule}
	after := []accessctl.Rule{defaultRule,
		{Name: "office", Effect: policy.Deny, NotIpRanges: []string{"192.0.2.0/24", "10.8.0.0/16"}, Actions: []string{"IMAP", "SMTP"}},
		{Name: "blocked", Effect: policy.Deny, IpRanges: []string{"198.51.100.0/24"}}}
	res, err := analysis.Diff(context.Background(), before, after, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range res.Regions {
		got = append(got, fmt.Sprint(g.Addrs, " | ", g.Actions, " | ", len(g.Principals)))
	}
	want := []string{
		"everywhere except 10.8.0.0/16, 192.0.2.0/24 | [IMAP SMTP] | 1",
		"198.51.100.0/24 | [ActiveSync AutoDiscover EWS WindowsOutlook WebMail] | 1",
		"198.51.100.0/24 | [EWS] | 1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("regions\n got %q\nwant %q", got, want)
	}
	if p := regionProblem(res); p != "" {
		t.Error(p)
	}
	for _, g := range res.Regions {
		if !g.Addrs.Contains(addrOf(g.Witness)) {
			t.Errorf("witness %v outside %v", g.Witness, g.Addrs)
		}
	}
}
