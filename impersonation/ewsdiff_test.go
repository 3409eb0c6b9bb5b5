package impersonation_test

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/internal/reference"
	"github.com/wmpolicy/wmpolicy/policy"
	"github.com/wmpolicy/wmpolicy/policytest"
	"pgregory.net/rapid"
)

// TestSemanticsB9_AuthorizeEqualsReferences: SEMANTICS B9. For generated
// access-control rules naming the pool's roles (and near misses of them),
// generated roles over a generated directory, tokens of every role of the
// pool (some deleted, i.e. not configured), any address and any target, the
// authorizer allows exactly when the token verifies and both
// reference.Evaluate (for IP, EWS, the token's role) and
// reference.EvaluateImpersonation (for the token's role and the target) say
// ALLOW; Failed is the first step that did not allow, and Type is the
// token's role's.
func TestSemanticsB9_AuthorizeEqualsReferences(t *testing.T) {
	ring, err := impersonation.NewKeyRing(impersonation.Key{ID: "k1", Secret: bytes.Repeat([]byte{9, 8, 7, 6}, 8)})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	issuer, err := impersonation.NewIssuer(ring, impersonation.IssuerOptions{Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	const org = "m-0123456789abcdef0123456789abcdef"
	rapid.Check(t, func(t *rapid.T) {
		dir := policytest.Directory().Draw(t, "dir")
		rules := policytest.Rules(policytest.RuleOptions{MaxRules: 6, Roles: true}).Draw(t, "rules")
		for i := range rules {
			if rapid.IntRange(0, 3).Draw(t, "near role?") == 0 && len(rules[i].ImpersonationRoleIds) > 0 {
				rules[i].ImpersonationRoleIds[0] = policytest.NearMiss(rules[i].ImpersonationRoleIds[0]).Draw(t, "near")
				if accessctl.ValidateRules(rules) != nil {
					t.Skip("near miss made the rules invalid")
				}
			}
		}
		ac, err := accessctl.Compile(rules, accessctl.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var evs []*impersonation.Evaluator
		roles := map[string]impersonation.Role{}
		for _, id := range policytest.RoleIDs() {
			if rapid.IntRange(0, 4).Draw(t, "deleted?") == 0 {
				continue
			}
			r := policytest.Role(policytest.RoleOptions{ID: id, Targets: policytest.TargetUser(dir)}).Draw(t, "role")
			ev, err := impersonation.Compile(r, dir)
			if err != nil {
				continue // a rule names an unknown user: not saved
			}
			evs = append(evs, ev)
			roles[id] = r
		}
		a, err := impersonation.NewEWSAuthorizer(impersonation.EWSConfig{OrganizationID: org, AccessControl: ac, Roles: evs, Keys: ring,
			Clock: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		roleID := rapid.SampledFrom(policytest.RoleIDs()).Draw(t, "token role")
		out, err := issuer.AssumeImpersonationRole(org, roleID)
		if err != nil {
			t.Fatal(err)
		}
		ip := policytest.AddrNear(policytest.RangeFamily().Draw(t, "fam")...).Draw(t, "ip")
		if rapid.IntRange(0, 10).Draw(t, "v6?") == 0 {
			ip = netip.MustParseAddr("2001:db8::1")
		}
		target := policytest.TargetUser(dir).Draw(t, "target")

		d := a.Authorize(out.Token, ip, target)

		role, exists := roles[roleID]
		var want bool
		failed := impersonation.StepToken
		if exists {
			acRes, acErr := reference.Evaluate(rules, accessctl.Request{IP: ip, Action: accessctl.EWS, ImpersonationRoleID: roleID}, nil)
			imRes, imErr := reference.EvaluateImpersonation(role, target, dir)
			acOK := acErr == nil && acRes.Effect == policy.Allow
			imOK := imErr == nil && imRes.Effect == policy.Allow
			want = acOK && imOK
			switch {
			case !acOK:
				failed = impersonation.StepAccessControl
			case !imOK:
				failed = impersonation.StepRole
			default:
				failed = impersonation.StepNone
			}
			if d.Type != role.Type {
				t.Fatalf("Type %v, want %v", d.Type, role.Type)
			}
		}
		if d.Allowed != want || d.Failed != failed {
			t.Fatalf("role %q exists=%v ip %v target %q: Allowed=%v Failed=%v, want %v %v (%+v)", roleID, exists, ip, target, d.Allowed, d.Failed, want, failed, d)
		}
	})
}
