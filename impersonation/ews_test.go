package impersonation_test

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
	"github.com/wmpolicy/wmpolicy/policytest"
	"pgregory.net/rapid"
)

const (
	ewsOrg      = "m-0123456789abcdef0123456789abcdef"
	ewsOtherOrg = "m-fedcba9876543210fedcba9876543210"
	ewsRoleID   = "archiver-role"
	ewsRole2    = "helpdesk-role"
)

var ewsNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

type ewsFixture struct {
	issuer *impersonation.Issuer
	ring   *impersonation.KeyRing
	dir    *policy.MemDirectory
	roles  []*impersonation.Evaluator
	ac     *accessctl.Policy
}

func newEWSFixture(t testing.TB) *ewsFixture {
	t.Helper()
	ring, err := impersonation.NewKeyRing(impersonation.Key{ID: "k1", Secret: bytes.Repeat([]byte{1, 2, 3, 4}, 8)})
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := impersonation.NewIssuer(ring, impersonation.IssuerOptions{Clock: func() time.Time { return ewsNow }})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := policy.NewDirectory([]policy.User{
		{ID: "S-1-user-0000000001", Email: "alice@example.com", Name: "alice", State: "ENABLED"},
		{ID: "S-1-user-0000000002", Email: "bob@example.com", Name: "bob", State: "ENABLED"},
		{ID: "S-1-user-0000000003", Email: "ceo@example.com", Name: "ceo", State: "ENABLED"},
		{ID: "S-1-user-0000000004", Email: "gone@example.com", Name: "gone", State: "DISABLED"},
	})
	if err != nil {
		t.Fatal(err)
	}
	archiver, err := impersonation.Compile(impersonation.Role{
		ImpersonationRoleId: ewsRoleID, Name: "archiver", Type: impersonation.ReadOnly,
		Rules: []impersonation.Rule{
			{ImpersonationRuleId: "all", Name: "everyone", Effect: policy.Allow},
			{ImpersonationRuleId: "not-ceo", Name: "not the CEO", Effect: policy.Deny, TargetUsers: []string{"ceo@example.com"}},
		},
	}, dir)
	if err != nil {
		t.Fatal(err)
	}
	helpdesk, err := impersonation.Compile(impersonation.Role{
		ImpersonationRoleId: ewsRole2, Name: "helpdesk", Type: impersonation.FullAccess,
		Rules: []impersonation.Rule{{ImpersonationRuleId: "bob", Effect: policy.Allow, TargetUsers: []string{"bob"}}},
	}, dir)
	if err != nil {
		t.Fatal(err)
	}
	ac, err := accessctl.Compile([]accessctl.Rule{
		{Name: "default", Effect: policy.Allow},
		{Name: "archiver-from-datacenter", Effect: policy.Deny, ImpersonationRoleIds: []string{ewsRoleID}, NotIpRanges: []string{"10.20.0.0/16"}},
	}, accessctl.Options{Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	return &ewsFixture{issuer: issuer, ring: ring, dir: dir, roles: []*impersonation.Evaluator{archiver, helpdesk}, ac: ac}
}

func (f *ewsFixture) authorizer(t testing.TB, now time.Time, roles ...*impersonation.Evaluator) *impersonation.EWSAuthorizer {
	t.Helper()
	if roles == nil {
		roles = f.roles
	}
	a, err := impersonation.NewEWSAuthorizer(impersonation.EWSConfig{
		OrganizationID: ewsOrg, AccessControl: f.ac, Roles: roles, Keys: f.ring,
		Clock: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (f *ewsFixture) token(t interface {
	Helper()
	Fatal(...any)
}, org, role string) string {
	t.Helper()
	out, err := f.issuer.AssumeImpersonationRole(org, role)
	if err != nil {
		t.Fatal(err)
	}
	return out.Token
}

// SEMANTICS B9: allowed only when the token verifies, the access-control effect
// for (IP, EWS, role) is ALLOW and the role allows the target; each step
// failing alone denies, and the answer says which.
func TestSemanticsB9_EachStepFailingAlone(t *testing.T) {
	f := newEWSFixture(t)
	a := f.authorizer(t, ewsNow.Add(time.Minute))
	good := f.token(t, ewsOrg, ewsRoleID)
	dc := netip.MustParseAddr("10.20.1.1")
	for _, tc := range []struct {
		name    string
		a       *impersonation.EWSAuthorizer
		token   string
		ip      netip.Addr
		target  string
		allowed bool
		failed  impersonation.EWSStep
		reason  error
	}{
		{"all three allow", a, good, dc, "alice@example.com", true, impersonation.StepNone, nil},
		{"token: tampered", a, good[:len(good)-2] + "AA", dc, "alice", false, impersonation.StepToken, impersonation.TokenBadSignature},
		{"token: other organization", a, f.token(t, ewsOtherOrg, ewsRoleID), dc, "alice", false, impersonation.StepToken, impersonation.TokenWrongOrganization},
		{"token: expired", f.authorizer(t, ewsNow.Add(15*time.Minute)), good, dc, "alice", false, impersonation.StepToken, impersonation.TokenExpired},
		{"token: role deleted", f.authorizer(t, ewsNow, f.roles[1]), good, dc, "alice", false, impersonation.StepToken, impersonation.TokenRoleDeleted},
		{"access control: outside the data center", a, good, netip.MustParseAddr("192.0.2.1"), "alice", false, impersonation.StepAccessControl, nil},
		{"access control: IPv6 source", a, good, netip.MustParseAddr("2001:db8::1"), "alice", false, impersonation.StepAccessControl, policy.ErrInvalidParameter},
		{"role: denied target", a, good, dc, "CEO@example.com", false, impersonation.StepRole, nil},
		{"role: unknown target", a, good, dc, "mallory", false, impersonation.StepRole, policy.ErrEntityNotFound},
		{"role: disabled target", a, good, dc, "gone", false, impersonation.StepRole, policy.ErrEntityState},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.a.Authorize(tc.token, tc.ip, tc.target)
			if d.Allowed != tc.allowed || d.Failed != tc.failed {
				t.Fatalf("Allowed=%v Failed=%v, want %v %v (%+v)", d.Allowed, d.Failed, tc.allowed, tc.failed, d)
			}
			if tc.reason != nil {
				err := errors.Join(d.TokenErr, d.AccessControlErr, d.RoleErr)
				if !errors.Is(err, tc.reason) {
					t.Fatalf("errors %v, want %v", err, tc.reason)
				}
			}
			if d.Failed != impersonation.StepToken && d.Type != impersonation.ReadOnly {
				t.Fatalf("Type = %v, want READ_ONLY", d.Type)
			}
			if d.Failed == impersonation.StepAccessControl && d.AccessControlErr == nil &&
				(len(d.AccessControl.MatchedRules) != 1 || d.AccessControl.MatchedRules[0] != "archiver-from-datacenter") {
				t.Fatalf("trace lacks the denying rule: %+v", d.AccessControl)
			}
		})
	}
	// The trace shows step 3 even when step 2 already denies.
	d := a.Authorize(good, netip.MustParseAddr("192.0.2.1"), "ceo")
	if d.Failed != impersonation.StepAccessControl || d.Role.Effect != policy.Deny || len(d.Role.MatchedRules) != 1 {
		t.Fatalf("trace: %+v", d)
	}
	// FULL_ACCESS is carried through.
	d = a.Authorize(f.token(t, ewsOrg, ewsRole2), netip.MustParseAddr("192.0.2.1"), "bob")
	if !d.Allowed || d.Type != impersonation.FullAccess {
		t.Fatalf("helpdesk: %+v", d)
	}
}

func TestNewEWSAuthorizerRefusesBadConfig(t *testing.T) {
	f := newEWSFixture(t)
	_, err := impersonation.NewEWSAuthorizer(impersonation.EWSConfig{
		OrganizationID: "m-n1pq2345678r901st2u3vx45x6789yza",
		Roles:          []*impersonation.Evaluator{f.roles[0], f.roles[0], nil},
	})
	for _, path := range []string{"OrganizationID", "Roles[1]", "Roles[2]", "KeyRing"} {
		found := false
		for _, e := range policy.Errors(err) {
			found = found || e.Path == path
		}
		if !found {
			t.Errorf("no error at %s: %v", path, err)
		}
	}
}

// SEMANTICS B9, as a property: the decision is the conjunction of the three
// separate evaluations, for random access-control rules, addresses, roles and
// targets.
func TestSemanticsB9_PropConjunction(t *testing.T) {
	f := newEWSFixture(t)
	targets := []string{"alice", "BOB@example.com", "ceo", "gone", "nobody-here", "S-1-user-0000000001"}
	var reused impersonation.EWSDecision
	rapid.Check(t, func(t *rapid.T) {
		rules := policytest.Rules(policytest.RuleOptions{MaxRules: 5, Roles: true}).Draw(t, "rules")
		for i := range rules { // name our roles in the generated rules too
			if rapid.Bool().Draw(t, "ours") {
				rules[i].ImpersonationRoleIds = []string{rapid.SampledFrom([]string{ewsRoleID, ewsRole2}).Draw(t, "role")}
			}
		}
		ac, err := accessctl.Compile(rules, accessctl.Options{})
		if err != nil {
			t.Fatal(err)
		}
		now := ewsNow.Add(time.Duration(rapid.IntRange(-5, 20).Draw(t, "minutes")) * time.Minute)
		a, err := impersonation.NewEWSAuthorizer(impersonation.EWSConfig{
			OrganizationID: ewsOrg, AccessControl: ac, Roles: f.roles, Keys: f.ring,
			Clock: func() time.Time { return now },
		})
		if err != nil {
			t.Fatal(err)
		}
		roleID := rapid.SampledFrom([]string{ewsRoleID, ewsRole2}).Draw(t, "tokenRole")
		token := f.token(t, rapid.SampledFrom([]string{ewsOrg, ewsOrg, ewsOtherOrg}).Draw(t, "org"), roleID)
		ip := policytest.Addr().Draw(t, "ip")
		target := rapid.SampledFrom(targets).Draw(t, "target")

		d := a.Authorize(token, ip, target)
		// AuthorizeTo into one EWSDecision reused across draws (its traces
		// full of an earlier answer) says the same.
		a.AuthorizeTo(&reused, token, ip, target)
		if diff := cmp.Diff(d, reused, cmpopts.EquateEmpty(), sameError); diff != "" {
			t.Fatalf("AuthorizeTo differs from Authorize (-Authorize +AuthorizeTo):\n%s", diff)
		}

		v, err := impersonation.NewVerifier(f.ring, impersonation.VerifierOptions{
			Clock:      func() time.Time { return now },
			RoleExists: func(org, role string) bool { return org == ewsOrg },
		})
		if err != nil {
			t.Fatal(err)
		}
		_, tokErr := v.Verify(token, ewsOrg)
		acEff, acErr := ac.Effect(accessctl.Request{IP: ip, Action: accessctl.EWS, ImpersonationRoleID: roleID})
		var role *impersonation.Evaluator
		for _, r := range f.roles {
			if r.ID() == roleID {
				role = r
			}
		}
		roleEff, roleErr := role.Effect(target)
		want := tokErr == nil && acErr == nil && acEff == policy.Allow && roleErr == nil && roleEff == policy.Allow
		if d.Allowed != want {
			t.Fatalf("Allowed=%v, want %v (token %v, ac %v %v, role %v %v; %+v)", d.Allowed, want, tokErr, acEff, acErr, roleEff, roleErr, d)
		}
		if d.Allowed != (d.Failed == impersonation.StepNone) {
			t.Fatalf("Allowed=%v with Failed=%v", d.Allowed, d.Failed)
		}
	})
}

// The zero values fail closed instead of panicking: a nil *EWSAuthorizer
// denies at the token step, and the zero KeyRing has no current key ID.
func TestSemanticsB9_NilAuthorizerDenies(t *testing.T) {
	var a *impersonation.EWSAuthorizer
	d := a.Authorize("v1.x.y", netip.MustParseAddr("10.0.0.1"), "alice@example.com")
	if d.Allowed || d.Failed != impersonation.StepToken || d.TokenErr == nil {
		t.Fatalf("nil authorizer: %+v", d)
	}
	var ring impersonation.KeyRing
	if id := ring.CurrentKeyID(); id != "" {
		t.Fatalf("zero KeyRing's current key ID %q", id)
	}
	var nilRing *impersonation.KeyRing
	if id := nilRing.CurrentKeyID(); id != "" {
		t.Fatalf("nil KeyRing's current key ID %q", id)
	}
}

// sameError compares errors by their text (each call builds its own
// *policy.Error values).
var sameError = cmp.Comparer(func(a, b error) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Error() == b.Error())
})

// Property: DecideTo into one Decision reused across targets gives what
// Decide gives, error included, on random directories and roles.
func TestPropDecideToEqualsDecide(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		dir := policytest.Directory().Draw(t, "directory")
		role := policytest.Role(policytest.RoleOptions{Targets: policytest.UserName(dir)}).Draw(t, "role")
		var ev *impersonation.Evaluator
		if !rapid.Bool().Draw(t, "nil evaluator") {
			var err error
			if ev, err = impersonation.Compile(role, dir); err != nil {
				t.Fatal(err)
			}
		}
		var d impersonation.Decision
		for i := range 8 {
			target := policytest.TargetUser(dir).Draw(t, "target")
			want, wantErr := ev.Decide(target)
			err := ev.DecideTo(&d, target)
			if diff := cmp.Diff(wantErr, err, sameError); diff != "" {
				t.Fatalf("target %d %q: errors differ (-Decide +DecideTo):\n%s", i, target, diff)
			}
			if diff := cmp.Diff(want, d, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("target %d %q: DecideTo differs from Decide (-Decide +DecideTo):\n%s", i, target, diff)
			}
			if err == nil && (d.MatchedRules == nil || d.Matching == nil) {
				t.Fatalf("target %d: DecideTo left a nil slice: %+v", i, d)
			}
		}
	})
}
