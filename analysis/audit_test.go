package analysis_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/analysis"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

var defaultRule = accessctl.Rule{Name: "default", Effect: policy.Allow, Description: "Default WorkMail Rule"}

func audit(t *testing.T, rules []accessctl.Rule, opts analysis.Options) *analysis.Report {
	t.Helper()
	a, err := analysis.New(rules, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rep, err := a.Audit(context.Background())
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	return rep
}

// only returns the findings of kind k.
func only(rep *analysis.Report, k analysis.Kind) []analysis.Finding {
	var out []analysis.Finding
	for _, f := range rep.Findings {
		if f.Kind == k {
			out = append(out, f)
		}
	}
	return out
}

const (
	alice = "S-1-1-11-1234567890-1234567890-1234567890-1001"
	bob   = "S-1-1-11-1234567890-1234567890-1234567890-1002"
)

func TestSemanticsA3_AuditNeverMatches(t *testing.T) {
	for _, tc := range []struct {
		name, path, msg string
		rule            accessctl.Rule
	}{
		{"SEMANTICS A3 IpRanges inside NotIpRanges", "Rules[1].IpRanges", "also in NotIpRanges",
			accessctl.Rule{IpRanges: []string{"192.0.2.0/25", "192.0.2.128/26"}, NotIpRanges: []string{"192.0.2.0/24"}}},
		{"NotIpRanges cover everything", "Rules[1].NotIpRanges", "cover every address",
			accessctl.Rule{NotIpRanges: []string{"0.0.0.0/1", "128.0.0.0/1"}}},
		{"Actions within NotActions", "Rules[1].NotActions", "also in NotActions",
			accessctl.Rule{Actions: []string{"IMAP"}, NotActions: []string{"SMTP", "IMAP"}}},
		{"NotActions lists all", "Rules[1].NotActions", "every action",
			accessctl.Rule{NotActions: []string{"ActiveSync", "AutoDiscover", "EWS", "IMAP", "SMTP", "WindowsOutlook", "WebMail"}}},
		{"SEMANTICS A4 UserIds and ImpersonationRoleIds", "Rules[1].ImpersonationRoleIds", "both UserIds and ImpersonationRoleIds",
			accessctl.Rule{UserIds: []string{alice}, ImpersonationRoleIds: []string{"role-a"}}},
		{"SEMANTICS A12 roles without EWS", "Rules[1].ImpersonationRoleIds", "exclude EWS",
			accessctl.Rule{ImpersonationRoleIds: []string{"role-a"}, Actions: []string{"IMAP", "SMTP"}}},
		{"UserIds within NotUserIds", "Rules[1].UserIds", "also in NotUserIds",
			accessctl.Rule{UserIds: []string{alice}, NotUserIds: []string{bob, alice}}},
		{"roles within NotImpersonationRoleIds", "Rules[1].ImpersonationRoleIds", "also in NotImpersonationRoleIds",
			accessctl.Rule{ImpersonationRoleIds: []string{"role-a"}, NotImpersonationRoleIds: []string{"role-a"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.rule
			r.Name, r.Effect = "never", policy.Deny
			rules := []accessctl.Rule{defaultRule, r}
			rep := audit(t, rules, analysis.Options{})
			fs := only(rep, analysis.NeverMatches)
			if len(fs) != 1 || fs[0].Rule != "never" || fs[0].Path != tc.path || !strings.Contains(fs[0].Message, tc.msg) || fs[0].Severity != analysis.Error {
				t.Fatalf("never-matches findings %v, want one at %s saying %q", fs, tc.path, tc.msg)
			}
			if len(rep.Findings) != 1 {
				t.Errorf("other findings: %v", rep.Findings)
			}
			if rep.Max() != analysis.Error || rep.Count(analysis.Error) != 1 {
				t.Errorf("Max %v, Count %d", rep.Max(), rep.Count(analysis.Error))
			}
		})
	}
}

func TestAuditShadowed(t *testing.T) {
	rules := []accessctl.Rule{
		defaultRule,
		{Name: "office-only", Effect: policy.Deny, NotIpRanges: []string{"192.0.2.0/24"}},
		{Name: "vpn", Effect: policy.Allow, IpRanges: []string{"10.8.0.0/16"}},
	}
	rep := audit(t, rules, analysis.Options{})
	fs := only(rep, analysis.Shadowed)
	if len(fs) != 1 || fs[0].Rule != "vpn" || fs[0].Path != "Rules[2]" || fs[0].Severity != analysis.Warning || fs[0].Witness == nil {
		t.Fatalf("shadowed: %v", rep.Findings)
	}
	if !strings.Contains(fs[0].Message, "office-only") {
		t.Errorf("message does not name the DENY rule: %s", fs[0].Message)
	}
	if len(rep.Findings) != 1 {
		t.Errorf("findings %v, want only the shadowed rule", rep.Findings)
	}
	checkWitnesses(t, rules, nil, rep)
}

func TestAuditRedundant(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rules []accessctl.Rule
		want  []string
	}{
		{"twin DENY rules", []accessctl.Rule{defaultRule,
			{Name: "d1", Effect: policy.Deny, Actions: []string{"IMAP"}},
			{Name: "d2", Effect: policy.Deny, Actions: []string{"IMAP"}}}, []string{"d1", "d2"}},
		// issue 20: the default rule also allowing is no reason to remove an
		// ALLOW rule that says something on its own
		{"ALLOW beside default", []accessctl.Rule{defaultRule,
			{Name: "office", Effect: policy.Allow, IpRanges: []string{"192.0.2.0/24"}}}, nil},
		{"ALLOW inside a conditional ALLOW", []accessctl.Rule{defaultRule,
			{Name: "office", Effect: policy.Allow, IpRanges: []string{"192.0.2.0/24"}},
			{Name: "wide", Effect: policy.Allow, IpRanges: []string{"192.0.0.0/16"}}}, []string{"office"}},
		{"ALLOW inside an ALLOW, no default", []accessctl.Rule{
			{Name: "office", Effect: policy.Allow, IpRanges: []string{"192.0.2.0/24"}},
			{Name: "wide", Effect: policy.Allow, IpRanges: []string{"192.0.0.0/16"}}}, []string{"office"}},
		{"two unconditional ALLOW rules", []accessctl.Rule{defaultRule,
			{Name: "default2", Effect: policy.Allow},
			{Name: "office", Effect: policy.Allow, IpRanges: []string{"192.0.2.0/24"}}}, []string{"default", "default2"}},
		{"DENY where nothing is allowed", []accessctl.Rule{
			{Name: "office", Effect: policy.Allow, IpRanges: []string{"192.0.2.0/24"}},
			{Name: "rest", Effect: policy.Deny, NotIpRanges: []string{"192.0.2.0/24"}}}, []string{"rest"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := audit(t, tc.rules, analysis.Options{})
			var got []string
			for _, f := range only(rep, analysis.Redundant) {
				if f.Severity != analysis.Suggestion || f.Witness == nil {
					t.Errorf("%v", f)
				}
				got = append(got, f.Rule)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("redundant %v, want %v (findings %v)", got, tc.want, rep.Findings)
			}
			checkWitnesses(t, tc.rules, nil, rep)
		})
	}
}

// SEMANTICS A6: an organization with no rules blocks all access.
func TestSemanticsA6_AuditLockOuts(t *testing.T) {
	for _, rules := range [][]accessctl.Rule{nil, {{Name: "all", Effect: policy.Deny}}} {
		rep := audit(t, rules, analysis.Options{})
		if fs := only(rep, analysis.OrganizationLockedOut); len(fs) != 1 || fs[0].Severity != analysis.Error {
			t.Errorf("%v: findings %v, want the organization locked out", rules, rep.Findings)
		}
		if len(only(rep, analysis.ActionLockedOut)) != 0 {
			t.Errorf("per-action lock-outs beside the organization's: %v", rep.Findings)
		}
	}
	rep := audit(t, []accessctl.Rule{defaultRule, {Name: "no-smtp", Effect: policy.Deny, Actions: []string{"SMTP"}}}, analysis.Options{})
	if fs := only(rep, analysis.ActionLockedOut); len(fs) != 1 || !strings.Contains(fs[0].Message, "SMTP") || fs[0].Severity != analysis.Warning {
		t.Errorf("findings %v, want SMTP locked out", rep.Findings)
	}
	// EWS stays open through roles only: not locked out.
	rep = audit(t, []accessctl.Rule{defaultRule, {Name: "no-user-ews", Effect: policy.Deny, Actions: []string{"EWS"}, NotImpersonationRoleIds: []string{"x"}, NotUserIds: []string{alice}}}, analysis.Options{})
	if fs := only(rep, analysis.ActionLockedOut); len(fs) != 0 {
		t.Errorf("findings %v", rep.Findings)
	}
}

func TestSemanticsA18_AuditUserLockedOut(t *testing.T) {
	dir := loadUsers(t)
	rules := []accessctl.Rule{defaultRule,
		{Name: "no-alice", Effect: policy.Deny, UserIds: []string{"alice@example.com"}},
		{Name: "no-dave", Effect: policy.Deny, UserIds: []string{"dave@example.com"}}}
	rep := audit(t, rules, analysis.Options{Directory: dir})
	fs := only(rep, analysis.UserLockedOut)
	if len(fs) != 1 || !strings.Contains(fs[0].Message, alice) || !strings.Contains(fs[0].Message, "alice") {
		t.Fatalf("findings %v, want alice locked out (dave is disabled: not reported)", rep.Findings)
	}
}

// SEMANTICS A9: host bits are valid and match as the network; audit suggests
// writing the network, and points out duplicate and nested ranges.
func TestSemanticsA9_AuditRanges(t *testing.T) {
	rules := []accessctl.Rule{defaultRule, {Name: "r", Effect: policy.Deny,
		IpRanges:    []string{"10.0.0.1/8", "10.1.0.0/16", "10.0.0.0/8", "192.0.2.0/24", "10.1.2.0/24"},
		NotIpRanges: []string{"10.1.2.3/32", "10.1.2.3/32"}}}
	rep := audit(t, rules, analysis.Options{})
	var got []string
	for _, f := range rep.Findings {
		got = append(got, string(f.Kind)+" "+f.Path)
	}
	want := []string{
		"host-bits Rules[1].IpRanges[0]",
		"nested-range Rules[1].IpRanges[1]",
		"duplicate-range Rules[1].IpRanges[2]",
		"nested-range Rules[1].IpRanges[4]",
		"duplicate-range Rules[1].NotIpRanges[1]",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("findings\n%v\nwant\n%v\n(%v)", strings.Join(got, "\n"), strings.Join(want, "\n"), rep.Findings)
	}
	for _, f := range rep.Findings {
		if f.Severity != analysis.Suggestion {
			t.Errorf("%v: want a suggestion", f)
		}
	}
}

// SEMANTICS A18: with a directory, an unknown user names nobody; with the
// organization's roles, so does an unknown role. Audit reports both as errors
// (accessctl.Compile refuses them).
func TestSemanticsA18_AuditUnknownUserAndRole(t *testing.T) {
	dir := loadUsers(t)
	rules := []accessctl.Rule{defaultRule,
		{Name: "gone", Effect: policy.Deny, UserIds: []string{"mallory@example.com"}},
		{Name: "role-gone", Effect: policy.Deny, NotIpRanges: []string{"10.0.0.0/8"}, ImpersonationRoleIds: []string{"role-a", "role-deleted"}},
		{Name: "not-gone", Effect: policy.Deny, Actions: []string{"IMAP"}, NotUserIds: []string{"nobody@example.com", "bob@example.com"}}}
	rep := audit(t, rules, analysis.Options{Directory: dir, Roles: []string{"role-a"}})
	var got []string
	for _, f := range rep.Findings {
		if f.Severity == analysis.Error {
			got = append(got, string(f.Kind)+" "+f.Path)
		}
	}
	want := []string{
		"never-matches Rules[1].UserIds",
		"unknown-user Rules[1].UserIds[0]",
		"unknown-role Rules[2].ImpersonationRoleIds[1]",
		"unknown-user Rules[3].NotUserIds[0]",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("errors\n%v\nwant\n%v", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := accessctl.Compile(rules, accessctl.Options{Directory: dir}); policy.CodeOf(err) != policy.EntityNotFoundException {
		t.Errorf("accessctl.Compile: %v, want EntityNotFoundException", err)
	}
}

// SEMANTICS A14: more than ten rules is valid for evaluation; audit warns for
// each rule past the limit.
func TestSemanticsA14_AuditRuleLimit(t *testing.T) {
	var rules []accessctl.Rule
	for i := range 12 {
		rules = append(rules, accessctl.Rule{Name: "r" + string(rune('a'+i)), Effect: policy.Allow, Actions: []string{accessctl.Actions()[i%7].String()}})
	}
	rep := audit(t, rules, analysis.Options{})
	fs := only(rep, analysis.RuleLimit)
	if len(fs) != 2 || fs[0].Path != "Rules[10]" || fs[1].Path != "Rules[11]" || fs[0].Severity != analysis.Warning {
		t.Fatalf("rule-limit findings %v", fs)
	}
}

func loadUsers(t *testing.T) *policy.MemDirectory {
	t.Helper()
	data, err := os.ReadFile("../examples/org/users.json")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := policy.DecodeUsers(data)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func loadRules(t *testing.T, file string) []accessctl.Rule {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := accessctl.DecodeRules(data)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

// The AWS documented example and the shipped example organization are clean.
func TestAuditDocumentedAndExampleOrg(t *testing.T) {
	data, err := os.ReadFile("../accessctl/testdata/conformance/aws-documented-example.json")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Rules accessctl.ListAccessControlRulesOutput `json:"rules"`
	}
	if err := jsonUnmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	if rep := audit(t, c.Rules.Rules, analysis.Options{}); len(rep.Findings) != 0 {
		t.Errorf("AWS documented example: %v", rep.Findings)
	}
	rules := loadRules(t, "../examples/org/rules.json")
	roleData, err := os.ReadFile("../examples/org/roles.json")
	if err != nil {
		t.Fatal(err)
	}
	roles, err := impersonation.DecodeRoleList(roleData)
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []analysis.Options{{}, {Directory: loadUsers(t), Roles: []string{roles.Roles[0].ImpersonationRoleId}}} {
		if rep := audit(t, rules, opts); len(rep.Findings) != 0 {
			t.Errorf("examples/org: %v", rep.Findings)
		}
	}
	// A careless edit of the example: an ALLOW for the VPN that another
	// ALLOW rule already allows (the default rule allowing it too is no
	// reason to report either, issue 20), and IMAP blocked from the VPN too.
	rules = append(rules,
		accessctl.Rule{Name: "vpn-allow", Effect: policy.Allow, IpRanges: []string{"10.8.0.0/16"}},
		accessctl.Rule{Name: "vpn-and-office", Effect: policy.Allow, IpRanges: []string{"10.8.0.0/16", "192.0.2.0/24"}},
		accessctl.Rule{Name: "imap-never", Effect: policy.Deny, Actions: []string{"IMAP"}, NotIpRanges: []string{"10.8.0.0/16", "0.0.0.0/0"}})
	dir := loadUsers(t)
	rep := audit(t, rules, analysis.Options{Directory: dir})
	var got []string
	for _, f := range rep.Findings {
		got = append(got, string(f.Kind)+" "+f.Rule)
	}
	want := []string{"never-matches imap-never", "redundant vpn-allow", "nested-range imap-never"}
	if !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v", rep.Findings, want)
	}
	checkWitnesses(t, rules, dir, rep)
}

func TestAuditBudgetAndContext(t *testing.T) {
	rules := loadRules(t, "../examples/org/rules.json")
	a, err := analysis.New(rules, analysis.Options{MaxCells: 100})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Audit(context.Background())
	var be *analysis.BudgetError
	if !errors.As(err, &be) || be.Resource != "cells" || be.Limit != 100 || be.Need <= 100 {
		t.Fatalf("Audit with a budget of 100 cells: %v", err)
	}
	if _, err := a.WhoCanPrincipal(context.Background(), analysis.User, bob); !errors.As(err, &be) {
		t.Fatalf("WhoCanPrincipal: %v", err)
	}
	if _, err := analysis.Diff(context.Background(), rules, rules, analysis.Options{MaxCells: 100}); !errors.As(err, &be) {
		t.Fatalf("Diff: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a, _ = analysis.New(rules, analysis.Options{})
	if _, err := a.Audit(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Audit with a cancelled context: %v", err)
	}
	if _, err := analysis.Diff(ctx, rules, rules, analysis.Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Diff with a cancelled context: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	_, err := analysis.New([]accessctl.Rule{{Name: "x", Effect: policy.Allow, IpRanges: []string{"010.0.0.0/8"}}}, analysis.Options{})
	if policy.CodeOf(err) != policy.ValidationException || !strings.Contains(err.Error(), "Rules[0].IpRanges[0]") {
		t.Errorf("invalid range: %v", err)
	}
	_, err = analysis.New(nil, analysis.Options{Directory: lookupOnly{}})
	if policy.CodeOf(err) != policy.InvalidParameterException {
		t.Errorf("directory without Users: %v", err)
	}
}

// Options.Roles entries must be valid role IDs (the rule accessctl applies to
// ImpersonationRoleIds entries, A13): otherwise New and Diff return a
// ValidationException per bad entry, at "Roles[i]". Duplicates count once.
// With valid roles, every diff witness (including "any other role"'s)
// replays through accessctl.
func TestNewRolesOptionValidated(t *testing.T) {
	long := strings.Repeat("r", accessctl.MaxRoleIDLength+1)
	_, err := analysis.New([]accessctl.Rule{defaultRule}, analysis.Options{Roles: []string{"ok", "", "no spaces", "ok", long, "é"}})
	var got []string
	for _, e := range policy.Errors(err) {
		if e.Code != policy.ValidationException {
			t.Errorf("%v: want ValidationException", e)
		}
		got = append(got, e.Path)
	}
	if want := []string{"Roles[1]", "Roles[2]", "Roles[4]", "Roles[5]"}; !slices.Equal(got, want) {
		t.Errorf("New: paths %q, want %q (%v)", got, want, err)
	}
	a, err := analysis.New([]accessctl.Rule{defaultRule}, analysis.Options{Roles: []string{"r-1", "r-1", "R_2"}})
	if err != nil {
		t.Fatalf("valid roles with a duplicate: %v", err)
	}
	if pa, err := a.WhoCanPrincipal(context.Background(), analysis.Role, "R_2"); err != nil || len(pa.Grants) != 1 {
		t.Errorf("R_2: %+v, %v", pa, err)
	}

	dir, err := policy.NewDirectory(poolUsers)
	if err != nil {
		t.Fatal(err)
	}
	all := []string{poolUsers[0].ID, poolUsers[1].ID, poolUsers[2].ID, poolUsers[3].ID}
	before := []accessctl.Rule{defaultRule}
	after := []accessctl.Rule{defaultRule, {Name: "no-roles", Effect: policy.Deny, NotUserIds: all}} // matches role requests only (A4)
	if _, err := analysis.Diff(context.Background(), before, after, analysis.Options{Directory: dir, Roles: []string{""}}); policy.CodeOf(err) != policy.ValidationException || policy.Errors(err)[0].Path != "Roles[0]" {
		t.Errorf("Diff with Roles [\"\"]: %v", err)
	}
	res, err := analysis.Diff(context.Background(), before, after, analysis.Options{Directory: dir, Roles: []string{"role-x"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Regions) != 1 || res.Regions[0].Witness.ImpersonationRoleID != "role-x" {
		t.Fatalf("regions %+v, want one of any other role (role-x)", res.Regions)
	}
	p, err := accessctl.Compile(after, accessctl.Options{Directory: dir, Roles: accessctl.RoleIDs{"role-x": {}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range res.Regions {
		if d, err := p.Decide(g.Witness); err != nil || d.Effect != policy.Deny {
			t.Errorf("region %v %v: witness %+v: %+v, %v", g.Change, g.Principals, g.Witness, d, err)
		}
	}
}

type lookupOnly struct{}

func (lookupOnly) Lookup(string) (policy.User, bool) { return policy.User{}, false }

func TestSeverity(t *testing.T) {
	for _, s := range []analysis.Severity{analysis.Suggestion, analysis.Warning, analysis.Error} {
		got, err := analysis.ParseSeverity(s.String())
		if err != nil || got != s {
			t.Errorf("ParseSeverity(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := analysis.ParseSeverity("Error"); policy.CodeOf(err) != policy.InvalidParameterException {
		t.Errorf("ParseSeverity(Error): %v", err)
	}
}

// New copies Options.Roles: an Analyzer answers the same after the caller
// reuses its slice, also while other goroutines use the Analyzer (run with
// -race).
func TestAnalyzerConcurrentKeepsCallersRoles(t *testing.T) {
	roles := []string{"r1", "r2"}
	rules := []accessctl.Rule{defaultRule, {Name: "d", Effect: policy.Deny, ImpersonationRoleIds: []string{"r1"}}}
	a, err := analysis.New(rules, analysis.Options{Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	check := func() error {
		pa, err := a.WhoCanPrincipal(ctx, analysis.Role, "r2")
		if err != nil || len(pa.Grants) != 1 || pa.Principal.Witness != "r2" {
			return fmt.Errorf("r2 (any other role): %+v, %v; want EWS from every address", pa, err)
		}
		ra, err := a.WhoCanRequest(ctx, accessctl.EWS, netip.MustParseAddr("192.0.2.1"))
		if err != nil || len(ra.Allowed) != 2 || ra.Allowed[1].String() != "any other role" {
			return fmt.Errorf("who may use EWS: %+v, %v; want any other user and any other role", ra, err)
		}
		return nil
	}
	if err := check(); err != nil {
		t.Fatalf("before reuse: %v", err)
	}
	done := make(chan error, 4)
	for range 4 {
		go func() { done <- check() }()
	}
	roles[1] = "r1" // the caller reuses its slice while the Analyzer is in use
	roles[0] = "x"
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if err := check(); err != nil {
		t.Errorf("after the caller reused its Roles slice: %v", err)
	}
}

// An Analyzer is safe for concurrent use (run with -race).
func TestAnalyzerConcurrent(t *testing.T) {
	a, err := analysis.New(loadRules(t, "../examples/org/rules.json"), analysis.Options{Directory: loadUsers(t)})
	if err != nil {
		t.Fatal(err)
	}
	want, err := a.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 8)
	for range 8 {
		go func() {
			rep, err := a.Audit(context.Background())
			if err == nil && len(rep.Findings) != len(want.Findings) {
				err = errors.New("audit differs")
			}
			if err == nil {
				_, err = a.WhoCanPrincipal(context.Background(), analysis.User, "bob")
			}
			if err == nil {
				_, err = a.Explain(context.Background(), accessctl.Request{IP: netip.MustParseAddr("10.8.0.1"), Action: accessctl.IMAP, UserID: "carol"})
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
