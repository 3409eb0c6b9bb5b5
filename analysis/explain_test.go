package analysis_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/analysis"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Explain agrees with the conformance corpus of accessctl (SEMANTICS A3–A12,
// A18): the same effect and MatchedRules for every valid request, the same
// AWS error code for every invalid one.
func TestSemanticsA6_ExplainConformance(t *testing.T) {
	files, err := filepath.Glob("../accessctl/testdata/conformance/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("conformance corpus: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var c struct {
				Rules    json.RawMessage `json:"rules"`
				Users    json.RawMessage `json:"users"`
				Requests []struct {
					Request   accessctl.GetAccessControlEffectInput `json:"request"`
					Want      json.RawMessage                       `json:"want"`
					WantError string                                `json:"wantError"`
				} `json:"requests"`
			}
			if err := json.Unmarshal(data, &c); err != nil {
				t.Fatal(err)
			}
			rules, err := accessctl.DecodeRules(c.Rules)
			if err != nil {
				t.Fatal(err)
			}
			var opts analysis.Options
			if len(c.Users) > 0 {
				if opts.Directory, err = policy.DecodeUsers(c.Users); err != nil {
					t.Fatal(err)
				}
			}
			a, err := analysis.New(rules, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range c.Requests {
				req, err := rec.Request.Request()
				if err != nil {
					continue // a wire-shape error: not Explain's to find
				}
				ex, err := a.Explain(context.Background(), req)
				if rec.WantError != "" {
					if string(policy.CodeOf(err)) != rec.WantError {
						t.Errorf("%+v: error %v, want %s", rec.Request, err, rec.WantError)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%+v: %v", rec.Request, err)
				}
				got, _ := json.Marshal(accessctl.GetAccessControlEffectOutput{Effect: ex.Effect, MatchedRules: ex.MatchedRules})
				var want bytes.Buffer
				json.Compact(&want, rec.Want)
				if !bytes.Equal(got, want.Bytes()) {
					t.Errorf("%+v: explain %s, want %s", rec.Request, got, want.Bytes())
				}
			}
		})
	}
}

func TestExplainConditions(t *testing.T) {
	rules := []accessctl.Rule{
		defaultRule,
		{Name: "office", Effect: policy.Deny, IpRanges: []string{"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24"}, NotIpRanges: []string{"192.0.2.0/24", "10.1.2.0/25"},
			Actions: []string{"IMAP", "SMTP"}, NotUserIds: []string{alice}},
		{Name: "roles", Effect: policy.Deny, ImpersonationRoleIds: []string{"role-a"}},
	}
	a, err := analysis.New(rules, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := a.Explain(context.Background(), accessctl.Request{IP: netip.MustParseAddr("10.1.2.200"), Action: accessctl.SMTP, UserID: bob})
	if err != nil {
		t.Fatal(err)
	}
	if ex.Effect != policy.Deny || ex.Reason != policy.ExplicitDeny || !slices.Equal(ex.MatchedRules, []string{"office"}) {
		t.Fatalf("decision %v %v %v", ex.Effect, ex.Reason, ex.MatchedRules)
	}
	var names []string
	for _, tr := range ex.Rules {
		names = append(names, tr.Name)
	}
	if !slices.Equal(names, []string{"default", "office", "roles"}) {
		t.Fatalf("rules %v, want ascending names", names)
	}
	office := ex.Rules[1]
	if !office.Matches || !office.Decisive || office.Index != 1 || len(office.Conditions) != 4 {
		t.Fatalf("office: %+v", office)
	}
	want := []analysis.Condition{
		{Field: "IpRanges", Holds: true, Index: 0, Item: "10.0.0.0/8", Detail: "10.1.2.200 is in IpRanges[0] 10.0.0.0/8"},
		{Field: "NotIpRanges", Holds: true, Index: -1, Detail: "10.1.2.200 is in none of the 2 NotIpRanges items"},
		{Field: "Actions", Holds: true, Index: 1, Item: "SMTP", Detail: "SMTP is Actions[1]"},
		{Field: "NotUserIds", Holds: true, Index: -1, Detail: "user " + bob + " is not in NotUserIds"},
	}
	if !slices.Equal(office.Conditions, want) {
		t.Fatalf("conditions\n%+v\nwant\n%+v", office.Conditions, want)
	}
	if ex.Rules[0].Matches != true || ex.Rules[0].Decisive || len(ex.Rules[0].Conditions) != 0 {
		t.Errorf("default: %+v", ex.Rules[0])
	}
	if r := ex.Rules[2]; r.Matches || r.Conditions[0].Holds || !strings.Contains(r.Conditions[0].Detail, "(A4)") {
		t.Errorf("roles: %+v", r)
	}
	// NotIpRanges holding the address fails, naming the item
	ex, _ = a.Explain(context.Background(), accessctl.Request{IP: netip.MustParseAddr("10.1.2.5"), Action: accessctl.IMAP, UserID: bob})
	if c := ex.Rules[1].Conditions[1]; c.Holds || c.Index != 1 || c.Item != "10.1.2.0/25" {
		t.Errorf("NotIpRanges: %+v", c)
	}
	if ex.Effect != policy.Allow || ex.Reason != policy.ExplicitAllow {
		t.Errorf("decision %v %v", ex.Effect, ex.Reason)
	}
}

// SEMANTICS A10–A12: invalid requests give accessctl's errors.
func TestSemanticsA12_ExplainInvalidRequests(t *testing.T) {
	a, err := analysis.New([]accessctl.Rule{defaultRule}, analysis.Options{Directory: loadUsers(t)})
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("192.0.2.1")
	for _, tc := range []struct {
		req  accessctl.Request
		code policy.Code
	}{
		{accessctl.Request{IP: ip, Action: accessctl.IMAP, ImpersonationRoleID: "r"}, policy.InvalidParameterException},
		{accessctl.Request{IP: ip, Action: accessctl.EWS}, policy.InvalidParameterException},
		{accessctl.Request{IP: netip.MustParseAddr("2001:db8::1"), Action: accessctl.EWS, UserID: "bob"}, policy.InvalidParameterException},
		{accessctl.Request{IP: ip, UserID: "bob"}, policy.InvalidParameterException},
		{accessctl.Request{IP: ip, Action: accessctl.EWS, UserID: "mallory"}, policy.EntityNotFoundException},
	} {
		if _, err := a.Explain(context.Background(), tc.req); policy.CodeOf(err) != tc.code {
			t.Errorf("%+v: %v, want %s", tc.req, err, tc.code)
		}
	}
	ex, err := a.Explain(context.Background(), accessctl.Request{IP: netip.MustParseAddr("::ffff:192.0.2.1"), Action: accessctl.EWS, UserID: "BOB"})
	if err != nil || ex.UserID != bob || ex.Effect != policy.Allow {
		t.Errorf("mapped address, user name in another case: %+v, %v", ex, err)
	}
}

// With Options.Roles, Explain refuses a request of a role the organization
// does not have with ResourceNotFoundException, as WhoCanPrincipal does;
// without Roles any role ID may appear in a request.
func TestExplainUnlistedRoleNotFound(t *testing.T) {
	ctx := context.Background()
	rules := []accessctl.Rule{defaultRule, {Name: "d", Effect: policy.Deny, ImpersonationRoleIds: []string{"gone"}}}
	req := func(role string) accessctl.Request {
		return accessctl.Request{IP: netip.MustParseAddr("192.0.2.1"), Action: accessctl.EWS, ImpersonationRoleID: role}
	}
	a, err := analysis.New(rules, analysis.Options{Roles: []string{"r1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"r2", "gone"} {
		_, err := a.Explain(ctx, req(role))
		if policy.CodeOf(err) != policy.ResourceNotFoundException || policy.Errors(err)[0].Path != "ImpersonationRoleId" {
			t.Errorf("Explain of unlisted role %s: %v", role, err)
		}
		if _, err2 := a.WhoCanPrincipal(ctx, analysis.Role, role); policy.CodeOf(err2) != policy.CodeOf(err) {
			t.Errorf("WhoCanPrincipal of unlisted role %s: %v; Explain: %v", role, err2, err)
		}
	}
	if ex, err := a.Explain(ctx, req("r1")); err != nil || ex.Effect != policy.Allow {
		t.Errorf("listed role r1: %+v, %v", ex, err)
	}
	// the request is checked first: a role request for IMAP is invalid (A12)
	if _, err := a.Explain(ctx, accessctl.Request{IP: netip.MustParseAddr("192.0.2.1"), Action: accessctl.IMAP, ImpersonationRoleID: "r2"}); policy.CodeOf(err) != policy.InvalidParameterException {
		t.Errorf("IMAP as unlisted role: %v", err)
	}
	a, err = analysis.New(rules, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ex, err := a.Explain(ctx, req("gone")); err != nil || ex.Effect != policy.Deny || !slices.Equal(ex.MatchedRules, []string{"d"}) {
		t.Errorf("without Roles, role gone: %+v, %v", ex, err)
	}
}

func TestAddrRangeCIDRs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(r analysis.AddrRange) {
		cs := r.CIDRs()
		next := uint64(r.First)
		for i, c := range cs {
			if uint64(c.First()) != next || c.HasHostBits() {
				t.Fatalf("%v: CIDR %d %v does not start at %v", r, i, c, cidr.AddrString(uint32(next)))
			}
			next = uint64(c.Last()) + 1
			if i > 0 && cs[i-1].Bits() == c.Bits() && cs[i-1].First()>>(32-c.Bits()+1) == c.First()>>(32-c.Bits()+1) && c.Bits() > 0 {
				t.Fatalf("%v: %v and %v could merge", r, cs[i-1], c)
			}
		}
		if next != uint64(r.Last)+1 {
			t.Fatalf("%v: CIDRs %v end at %v", r, cs, next-1)
		}
	}
	check(analysis.AddrRange{0, ^uint32(0)})
	check(analysis.AddrRange{0, 0})
	check(analysis.AddrRange{^uint32(0), ^uint32(0)})
	check(analysis.AddrRange{1, ^uint32(0) - 1})
	for range 2000 {
		a, b := rng.Uint32(), rng.Uint32()
		if rng.IntN(2) == 0 {
			b = a + rng.Uint32N(1000)
			if b < a {
				b = ^uint32(0)
			}
		}
		check(analysis.AddrRange{min(a, b), max(a, b)})
	}
	if s := (analysis.AddrRange{0, ^uint32(0)}).String(); s != "0.0.0.0/0" {
		t.Errorf("String %q", s)
	}
	if s := (analysis.AddrRange{0xC0000205, 0xC0000211}).String(); s != "192.0.2.5-192.0.2.17" {
		t.Errorf("String %q", s)
	}
}
