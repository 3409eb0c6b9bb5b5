package analysis_test

import (
	"context"
	"errors"
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
			{analysis.NewlyDenied, "100.64.0.0/10", []accessctl.Action{accessctl.ActiveSync, accessctl.AutoDiscover, accessctl.EWS, accessctl.WindowsOutlook, accessctl.WebMail}, 2},
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
// one region, whatever other rules cut the range into.
func TestDiffOneRangeOneRegion(t *testing.T) {
	before := []accessctl.Rule{defaultRule,
		{Name: "fragments", Effect: policy.Allow, IpRanges: []string{"10.0.0.0/24", "10.0.1.0/25", "10.0.3.7/32"}, UserIds: []string{alice}}}
	after := append(cloneRules(before), accessctl.Rule{Name: "block", Effect: policy.Deny, IpRanges: []string{"10.0.0.0/22"}})
	res, err := analysis.Diff(context.Background(), before, after, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != analysis.LessPermissive || len(res.Regions) != 1 {
		t.Fatalf("%v %+v", res.Verdict, res.Regions)
	}
	g := res.Regions[0]
	if g.Addrs.String() != "10.0.0.0/22" || len(g.Actions) != accessctl.NumActions || len(g.Principals) != len(res.Principals) {
		t.Fatalf("region %+v, want 10.0.0.0/22 × every action × every principal %v", g, res.Principals)
	}
	if g.Witness.IP != netip.MustParseAddr("10.0.0.0") || g.Witness.Action != accessctl.ActiveSync || g.Witness.UserID != alice {
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
	if err != nil || len(res.Regions) != 100 { // one per range: every user and role, every action
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
