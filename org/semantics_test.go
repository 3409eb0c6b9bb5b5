package org

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

// SEMANTICS A14: a put of an existing name replaces the rule, keeps
// DateCreated and sets DateModified to now.
func TestSemanticsA14_ReplaceKeepsDateCreated(t *testing.T) {
	s, clk := testStore(t, "")
	org := mustCreate(t, s, "acme")
	in := PutAccessControlRuleInput{OrganizationId: org, Name: "r1", Effect: policy.Deny, Actions: []string{"IMAP"}}
	_, err := s.PutAccessControlRule(context.Background(), in)
	mustOK(t, err)
	created := policy.TimestampOf(clk.Now())
	clk.Advance(time.Hour)
	in.Effect, in.Actions, in.Description = policy.Allow, []string{"EWS"}, "changed"
	_, err = s.PutAccessControlRule(context.Background(), in)
	mustOK(t, err)
	got := rulesOf(t, s, org)
	want := []accessctl.Rule{defaultRule(), {Name: "r1", Effect: policy.Allow, Description: "changed", Actions: []string{"EWS"},
		DateCreated: created, DateModified: policy.TimestampOf(clk.Now())}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatal(diff)
	}
}

// SEMANTICS A14: 10 rules per organization, default included; a new name
// beyond is LimitExceededException, a replacement at the limit is fine, and
// Options.RuleLimit raises the limit.
func TestSemanticsA14_RuleLimit(t *testing.T) {
	s, _ := testStore(t, "")
	org := mustCreate(t, s, "acme")
	put := func(name string) error {
		_, err := s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: name, Effect: policy.Allow})
		return err
	}
	for i := 1; i <= 9; i++ {
		mustOK(t, put(string(rune('a'+i))))
	}
	if n := len(rulesOf(t, s, org)); n != 10 {
		t.Fatalf("%d rules, want 10", n)
	}
	wantCode(t, put("z"), policy.LimitExceededException)
	mustOK(t, put("b")) // replacement
	mustOK(t, put("default"))

	raised, err := Open(Options{RuleLimit: 12})
	mustOK(t, err)
	org2 := mustCreate(t, raised, "acme")
	for i := 1; i <= 11; i++ {
		_, err := raised.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org2, Name: string(rune('a' + i)), Effect: policy.Allow})
		mustOK(t, err)
	}
	_, err = raised.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org2, Name: "zz", Effect: policy.Allow})
	wantCode(t, err, policy.LimitExceededException)
}

// SEMANTICS A13 via PutAccessControlRule: field paths are the request's.
func TestSemanticsA13_PutValidationPaths(t *testing.T) {
	s, _ := testStore(t, "")
	org := mustCreate(t, s, "acme")
	_, err := s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "bad name", Effect: policy.Allow,
		IpRanges: []string{"10.0.0.0/8", "010.0.0.0/8"}, Actions: []string{"Imap"}})
	var paths []string
	for _, e := range policy.Errors(err) {
		paths = append(paths, e.Path)
	}
	if diff := cmp.Diff([]string{"Name", "IpRanges[1]", "Actions[0]"}, paths); diff != "" {
		t.Fatalf("%v\n%s", err, diff)
	}
	_, err = s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "x"})
	wantCode(t, err, policy.ValidationException)
}

// SEMANTICS A15: deleting a missing name succeeds and changes nothing.
func TestSemanticsA15_DeleteMissingRule(t *testing.T) {
	s, _ := testStore(t, "")
	org := mustCreate(t, s, "acme")
	rev := s.Snapshot(org).Revision()
	_, err := s.DeleteAccessControlRule(context.Background(), DeleteAccessControlRuleInput{OrganizationId: org, Name: "nope"})
	mustOK(t, err)
	if s.Snapshot(org).Revision() != rev {
		t.Fatal("revision changed")
	}
	_, err = s.DeleteAccessControlRule(context.Background(), DeleteAccessControlRuleInput{OrganizationId: org, Name: "default"})
	mustOK(t, err)
	if n := len(rulesOf(t, s, org)); n != 0 {
		t.Fatalf("%d rules after deleting default", n)
	}
	_, err = s.DeleteAccessControlRule(context.Background(), DeleteAccessControlRuleInput{OrganizationId: org, Name: "bad name"})
	wantCode(t, err, policy.ValidationException)
}

// SEMANTICS A16: rules are listed in ascending byte order of Name, empty
// lists omitted from the JSON.
func TestSemanticsA16_ListOrder(t *testing.T) {
	s, _ := testStore(t, "")
	org := mustCreate(t, s, "acme")
	for _, n := range []string{"b", "B", "a", "_x", "A-1"} {
		_, err := s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: n, Effect: policy.Deny})
		mustOK(t, err)
	}
	var names []string
	for _, r := range rulesOf(t, s, org) {
		names = append(names, r.Name)
	}
	if diff := cmp.Diff([]string{"A-1", "B", "_x", "a", "b", "default"}, names); diff != "" {
		t.Fatal(diff)
	}
	b, _ := json.Marshal(rulesOf(t, s, org)[0])
	if strings.Contains(string(b), "IpRanges") {
		t.Fatalf("empty list in JSON: %s", b)
	}
}

// SEMANTICS A17: a new organization holds exactly the default rule, which is
// ordinary (can be replaced).
func TestSemanticsA17_DefaultRule(t *testing.T) {
	s, _ := testStore(t, "")
	org := mustCreate(t, s, "acme")
	out, err := s.ListAccessControlRules(context.Background(), ListAccessControlRulesInput{OrganizationId: org})
	mustOK(t, err)
	b, _ := json.Marshal(out)
	want := `{"Rules":[{"Name":"default","Effect":"ALLOW","Description":"Default WorkMail Rule"}]}`
	if string(b) != want {
		t.Fatalf("got %s\nwant %s", b, want)
	}
	eff, err := s.GetAccessControlEffect(context.Background(), accessctl.GetAccessControlEffectInput{OrganizationId: org, IpAddress: "1.2.3.4", Action: "IMAP", ImpersonationRoleId: "r"})
	if err == nil {
		t.Fatal("IMAP with a role accepted")
	}
	addUsers(t, s, org, alice)
	eff, err = s.GetAccessControlEffect(context.Background(), accessctl.GetAccessControlEffectInput{OrganizationId: org, IpAddress: "1.2.3.4", Action: "IMAP", UserId: "alice"})
	mustOK(t, err)
	if eff.Effect != policy.Allow || !cmp.Equal(eff.MatchedRules, []string{"default"}) {
		t.Fatalf("got %+v", eff)
	}
}

// SEMANTICS A18: rules name users by ID, email, alias or user name through
// the organization's directory; an unknown user is EntityNotFoundException
// in a rule and in a request; an unknown role ID is ResourceNotFoundException.
func TestSemanticsA18_Resolution(t *testing.T) {
	s, _ := testStore(t, "")
	org := mustCreate(t, s, "acme")
	addUsers(t, s, org, alice, bob)
	_, err := s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "nobob", Effect: policy.Deny, UserIds: []string{"robert@example.com"}})
	mustOK(t, err)
	for _, who := range []string{bob.Id, "bob", "BOB@example.com", "robert@example.com"} {
		out, err := s.GetAccessControlEffect(context.Background(), accessctl.GetAccessControlEffectInput{OrganizationId: org, IpAddress: "1.2.3.4", Action: "EWS", UserId: who})
		mustOK(t, err)
		if out.Effect != policy.Deny {
			t.Fatalf("%s: %v", who, out)
		}
	}
	_, err = s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "x", Effect: policy.Deny, NotUserIds: []string{"nobody@example.com"}})
	wantCode(t, err, policy.EntityNotFoundException)
	if p := policy.Errors(err)[0].Path; p != "NotUserIds[0]" {
		t.Fatalf("path %q", p)
	}
	_, err = s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "x", Effect: policy.Deny, ImpersonationRoleIds: []string{"no-such-role"}})
	wantCode(t, err, policy.ResourceNotFoundException)
	_, err = s.GetAccessControlEffect(context.Background(), accessctl.GetAccessControlEffectInput{OrganizationId: org, IpAddress: "1.2.3.4", Action: "EWS", UserId: "nobody@example.com"})
	wantCode(t, err, policy.EntityNotFoundException)
	// A user a rule names cannot be removed (once deregistered, F4).
	_, err = s.DeregisterFromWorkMail(context.Background(), DeregisterFromWorkMailInput{OrganizationId: org, EntityId: bob.Id})
	mustOK(t, err)
	_, err = s.DeleteUser(context.Background(), DeleteUserInput{OrganizationId: org, UserId: bob.Id})
	wantCode(t, err, policy.EntityNotFoundException)
	_, err = s.ImportUsers(context.Background(), ImportUsersInput{OrganizationId: org, Users: []policy.UserJSON{{Id: alice.Id}}})
	wantCode(t, err, policy.EntityNotFoundException)
	if n := len(s.Snapshot(org).Users()); n != 2 {
		t.Fatalf("%d users after refused changes", n)
	}
}

// SEMANTICS B5: role IDs are random UUIDs; 20 roles at most; names unique;
// ClientToken replay and mismatch.
func TestSemanticsB5_CreateRole(t *testing.T) {
	s, clk := testStore(t, "")
	org := mustCreate(t, s, "acme")
	addUsers(t, s, org, alice)
	out, err := s.CreateImpersonationRole(context.Background(), simpleRole(org, "r0"))
	mustOK(t, err)
	if len(out.ImpersonationRoleId) != 36 || out.ImpersonationRoleId[14] != '4' {
		t.Fatalf("role ID %q is not a v4 UUID", out.ImpersonationRoleId)
	}
	_, err = s.CreateImpersonationRole(context.Background(), simpleRole(org, "r0"))
	wantCode(t, err, policy.InvalidParameterException)
	for i := 1; i < 20; i++ {
		_, err := s.CreateImpersonationRole(context.Background(), simpleRole(org, "r"+string(rune('A'+i))))
		mustOK(t, err)
	}
	_, err = s.CreateImpersonationRole(context.Background(), simpleRole(org, "one-too-many"))
	wantCode(t, err, policy.LimitExceededException)

	org2 := mustCreate(t, s, "other")
	in := simpleRole(org2, "tok")
	in.ClientToken = "token-1"
	in.Rules = []impersonation.Rule{{ImpersonationRuleId: "r1", Effect: policy.Allow}}
	first, err := s.CreateImpersonationRole(context.Background(), in)
	mustOK(t, err)
	again, err := s.CreateImpersonationRole(context.Background(), in)
	mustOK(t, err)
	if again != first || len(allRoles(t, s, org2, 0)) != 1 {
		t.Fatalf("replay created a role: %v %v", first, again)
	}
	in.Type = impersonation.ReadOnly
	_, err = s.CreateImpersonationRole(context.Background(), in)
	wantCode(t, err, policy.InvalidParameterException)
	clk.Advance(ClientTokenLifetime)
	in.Name = "tok2"
	later, err := s.CreateImpersonationRole(context.Background(), in)
	mustOK(t, err)
	if later == first {
		t.Fatal("expired token replayed")
	}
	in.ClientToken = "bad token"
	_, err = s.CreateImpersonationRole(context.Background(), in)
	wantCode(t, err, policy.ValidationException)
	// B2: TargetUsers entries are resolved when the role is saved.
	bad := simpleRole(org2, "bad", impersonation.Rule{ImpersonationRuleId: "x", Effect: policy.Allow, TargetUsers: []string{"nobody"}})
	_, err = s.CreateImpersonationRole(context.Background(), bad)
	wantCode(t, err, policy.EntityNotFoundException)
}

// SEMANTICS B6: update replaces the role whole, keeps DateCreated, sets
// DateModified; unknown role is ResourceNotFoundException; delete of an
// unknown role succeeds; rules naming a deleted role stay.
func TestSemanticsB6_UpdateDelete(t *testing.T) {
	s, clk := testStore(t, "")
	org := mustCreate(t, s, "acme")
	addUsers(t, s, org, alice, bob)
	in := simpleRole(org, "r", impersonation.Rule{ImpersonationRuleId: "a", Effect: policy.Allow, TargetUsers: []string{"alice"}})
	in.Description = "first"
	out, err := s.CreateImpersonationRole(context.Background(), in)
	mustOK(t, err)
	id := out.ImpersonationRoleId
	created := policy.TimestampOf(clk.Now())
	clk.Advance(time.Minute)
	_, err = s.UpdateImpersonationRole(context.Background(), UpdateImpersonationRoleInput{OrganizationId: org, ImpersonationRoleId: id, Name: "r2", Type: impersonation.ReadOnly,
		Rules: []impersonation.Rule{{ImpersonationRuleId: "b", Effect: policy.Allow, TargetUsers: []string{"bob"}}}})
	mustOK(t, err)
	got, err := s.GetImpersonationRole(context.Background(), GetImpersonationRoleInput{OrganizationId: org, ImpersonationRoleId: id})
	mustOK(t, err)
	want := impersonation.Role{ImpersonationRoleId: id, Name: "r2", Type: impersonation.ReadOnly,
		Rules:       []impersonation.Rule{{ImpersonationRuleId: "b", Effect: policy.Allow, TargetUsers: []string{"bob"}}},
		DateCreated: created, DateModified: policy.TimestampOf(clk.Now())}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatal(diff)
	}
	eff, err := s.GetImpersonationRoleEffect(context.Background(), impersonation.GetImpersonationRoleEffectInput{OrganizationId: org, ImpersonationRoleId: id, TargetUser: "alice"})
	mustOK(t, err)
	if eff.Effect != policy.Deny || eff.Type != impersonation.ReadOnly {
		t.Fatalf("old rules still apply: %+v", eff)
	}
	_, err = s.UpdateImpersonationRole(context.Background(), UpdateImpersonationRoleInput{OrganizationId: org, ImpersonationRoleId: "nope", Name: "x", Type: impersonation.ReadOnly})
	wantCode(t, err, policy.ResourceNotFoundException)

	_, err = s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "rolerule", Effect: policy.Deny, ImpersonationRoleIds: []string{id}})
	mustOK(t, err)
	_, err = s.DeleteImpersonationRole(context.Background(), DeleteImpersonationRoleInput{OrganizationId: org, ImpersonationRoleId: id})
	mustOK(t, err)
	_, err = s.DeleteImpersonationRole(context.Background(), DeleteImpersonationRoleInput{OrganizationId: org, ImpersonationRoleId: id})
	mustOK(t, err)
	if len(rulesOf(t, s, org)) != 2 {
		t.Fatal("rule naming the deleted role was removed")
	}
	_, err = s.GetImpersonationRole(context.Background(), GetImpersonationRoleInput{OrganizationId: org, ImpersonationRoleId: id})
	wantCode(t, err, policy.ResourceNotFoundException)
	// The stored rules still compile and the ID never matches: a request
	// naming the deleted role is ResourceNotFoundException, not an
	// evaluation of the rule that still names it.
	_, err = s.GetAccessControlEffect(context.Background(), accessctl.GetAccessControlEffectInput{OrganizationId: org, IpAddress: "1.2.3.4", Action: "EWS", ImpersonationRoleId: id})
	wantCode(t, err, policy.ResourceNotFoundException)
	_, err = s.GetAccessControlEffect(context.Background(), accessctl.GetAccessControlEffectInput{OrganizationId: org, IpAddress: "1.2.3.4", Action: "EWS", UserId: alice.Id})
	mustOK(t, err)
}

// SEMANTICS B6: a rule that still names a deleted role is left alone, and
// the deleted role's ID never matches it: GetAccessControlEffect,
// Store.Evaluate and Handle.Evaluate refuse a request naming a role the
// organization does not have (deleted or never created) with
// ResourceNotFoundException at ImpersonationRoleId; the request's own
// validation errors come first.
func TestSemanticsB6_DeletedRoleIdNeverMatches(t *testing.T) {
	s, _ := testStore(t, "")
	org := mustCreate(t, s, "acme")
	r, err := s.CreateImpersonationRole(context.Background(), simpleRole(org, "r"))
	mustOK(t, err)
	_, err = s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "denyrole", Effect: policy.Deny,
		ImpersonationRoleIds: []string{r.ImpersonationRoleId}})
	mustOK(t, err)
	in := accessctl.GetAccessControlEffectInput{OrganizationId: org, IpAddress: "1.2.3.4", Action: "EWS", ImpersonationRoleId: r.ImpersonationRoleId}
	out, err := s.GetAccessControlEffect(context.Background(), in)
	mustOK(t, err)
	if out.Effect != policy.Deny || len(out.MatchedRules) != 1 || out.MatchedRules[0] != "denyrole" {
		t.Fatalf("live role: %+v", out)
	}
	_, err = s.DeleteImpersonationRole(context.Background(), DeleteImpersonationRoleInput{OrganizationId: org, ImpersonationRoleId: r.ImpersonationRoleId})
	mustOK(t, err)
	if len(rulesOf(t, s, org)) != 2 {
		t.Fatal("the rule naming the deleted role was removed")
	}
	notFound := func(what string, err error) {
		t.Helper()
		wantCode(t, err, policy.ResourceNotFoundException)
		var pe *policy.Error
		if errors.As(err, &pe); pe.Path != "ImpersonationRoleId" {
			t.Fatalf("%s: path %q, want ImpersonationRoleId", what, pe.Path)
		}
	}
	h, err := s.Handle(org)
	mustOK(t, err)
	for _, id := range []string{r.ImpersonationRoleId, "never-created"} {
		in.ImpersonationRoleId = id
		_, err = s.GetAccessControlEffect(context.Background(), in)
		notFound("GetAccessControlEffect", err)
		req, err := in.Request()
		mustOK(t, err)
		matched := []string{"kept"}
		eff, m, _, err := s.Evaluate(org, req, matched)
		notFound("Store.Evaluate", err)
		if eff != policy.Deny || len(m) != 1 || m[0] != "kept" {
			t.Fatalf("Store.Evaluate: %v %v", eff, m)
		}
		eff, m, _, err = h.Evaluate(req, matched)
		notFound("Handle.Evaluate", err)
		if eff != policy.Deny || len(m) != 1 {
			t.Fatalf("Handle.Evaluate: %v %v", eff, m)
		}
	}
	// Validation errors of the request come first.
	in.Action = "IMAP" // a role only with EWS (A12)
	_, err = s.GetAccessControlEffect(context.Background(), in)
	wantCode(t, err, policy.InvalidParameterException)
	in.Action, in.IpAddress = "EWS", "1.2.3"
	_, err = s.GetAccessControlEffect(context.Background(), in)
	wantCode(t, err, policy.ValidationException)
}

// SEMANTICS B7: ListImpersonationRoles pages, order, defaults and tokens.
func TestSemanticsB7_ListRoles(t *testing.T) {
	s, _ := testStore(t, "")
	org := mustCreate(t, s, "acme")
	other := mustCreate(t, s, "other")
	names := []string{"m", "b", "Z", "a", "c", "b2"}
	for _, n := range names {
		_, err := s.CreateImpersonationRole(context.Background(), simpleRole(org, n))
		mustOK(t, err)
		_, err = s.CreateImpersonationRole(context.Background(), simpleRole(other, n))
		mustOK(t, err)
	}
	var got []string
	for _, r := range allRoles(t, s, org, 2) {
		got = append(got, r.Name)
		if r.DateCreated == 0 || r.ImpersonationRoleId == "" {
			t.Fatalf("summary %+v", r)
		}
	}
	if diff := cmp.Diff([]string{"Z", "a", "b", "b2", "c", "m"}, got); diff != "" {
		t.Fatal(diff)
	}
	first, err := s.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: org, MaxResults: ptr[int32](2)})
	mustOK(t, err)
	for _, n := range []int32{-1, 101} {
		_, err = s.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: org, MaxResults: ptr[int32](n)})
		wantCode(t, err, policy.ValidationException)
	}
	// A token of another organization, of another listing, or altered.
	_, err = s.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: other, NextToken: first.NextToken})
	wantCode(t, err, policy.InvalidParameterException)
	orgs, err := s.ListOrganizations(context.Background(), ListOrganizationsInput{MaxResults: ptr[int32](1)})
	mustOK(t, err)
	_, err = s.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: org, NextToken: orgs.NextToken})
	wantCode(t, err, policy.InvalidParameterException)
	_, err = s.ListOrganizations(context.Background(), ListOrganizationsInput{NextToken: first.NextToken})
	wantCode(t, err, policy.InvalidParameterException)
	tok := []byte(first.NextToken)
	tok[3] ^= 1
	_, err = s.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: org, NextToken: string(tok)})
	wantCode(t, err, policy.InvalidParameterException)
	_, err = s.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: org, NextToken: "not a token!"})
	wantCode(t, err, policy.InvalidParameterException)
	// A token of another store is refused too.
	s2, err := Open(Options{})
	mustOK(t, err)
	_, err = s2.ListOrganizations(context.Background(), ListOrganizationsInput{NextToken: orgs.NextToken})
	wantCode(t, err, policy.InvalidParameterException)
	// Default page size 20.
	big := mustCreate(t, s, "big")
	for i := 0; i < 20; i++ {
		_, err := s.CreateImpersonationRole(context.Background(), simpleRole(big, "r"+string(rune('a'+i))))
		mustOK(t, err)
	}
	page, err := s.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: big})
	mustOK(t, err)
	if len(page.Roles) != 20 || page.NextToken != "" {
		t.Fatalf("%d roles, token %q", len(page.Roles), page.NextToken)
	}
}

// SEMANTICS B8: AssumeImpersonationRole issues a 900-second token that
// verifies offline until the role is deleted.
func TestSemanticsB8_Assume(t *testing.T) {
	s, clk := testStore(t, "")
	org := mustCreate(t, s, "acme")
	r, err := s.CreateImpersonationRole(context.Background(), simpleRole(org, "r"))
	mustOK(t, err)
	out, err := s.AssumeImpersonationRole(context.Background(), AssumeImpersonationRoleInput{OrganizationId: org, ImpersonationRoleId: r.ImpersonationRoleId})
	mustOK(t, err)
	if out.ExpiresIn != 900 || out.Token == "" || len(out.Token) > 256 {
		t.Fatalf("%+v", out)
	}
	claims, err := s.VerifyToken(out.Token, org)
	mustOK(t, err)
	if claims.RoleID != r.ImpersonationRoleId || claims.OrganizationID != org {
		t.Fatalf("%+v", claims)
	}
	_, err = s.AssumeImpersonationRole(context.Background(), AssumeImpersonationRoleInput{OrganizationId: org, ImpersonationRoleId: "nope"})
	wantCode(t, err, policy.ResourceNotFoundException)
	clk.Advance(900 * time.Second)
	_, err = s.VerifyToken(out.Token, org)
	if !errors.Is(err, impersonation.TokenExpired) {
		t.Fatalf("expired token: %v", err)
	}
	out, err = s.AssumeImpersonationRole(context.Background(), AssumeImpersonationRoleInput{OrganizationId: org, ImpersonationRoleId: r.ImpersonationRoleId})
	mustOK(t, err)
	_, err = s.DeleteImpersonationRole(context.Background(), DeleteImpersonationRoleInput{OrganizationId: org, ImpersonationRoleId: r.ImpersonationRoleId})
	mustOK(t, err)
	_, err = s.VerifyToken(out.Token, org)
	if !errors.Is(err, impersonation.TokenRoleDeleted) {
		t.Fatalf("deleted role: %v", err)
	}
}

// SEMANTICS B2 through the store: a target that is not ENABLED is
// EntityStateException; an unknown one EntityNotFoundException.
func TestSemanticsB2_TargetState(t *testing.T) {
	s, _ := testStore(t, "")
	org := mustCreate(t, s, "acme")
	addUsers(t, s, org, alice, carol)
	r, err := s.CreateImpersonationRole(context.Background(), simpleRole(org, "r", impersonation.Rule{ImpersonationRuleId: "all", Effect: policy.Allow}))
	mustOK(t, err)
	in := impersonation.GetImpersonationRoleEffectInput{OrganizationId: org, ImpersonationRoleId: r.ImpersonationRoleId, TargetUser: "ALICE@example.com"}
	out, err := s.GetImpersonationRoleEffect(context.Background(), in)
	mustOK(t, err)
	if out.Effect != policy.Allow {
		t.Fatal(out)
	}
	in.TargetUser = "carol"
	_, err = s.GetImpersonationRoleEffect(context.Background(), in)
	wantCode(t, err, policy.EntityStateException)
	in.TargetUser = "dave"
	_, err = s.GetImpersonationRoleEffect(context.Background(), in)
	wantCode(t, err, policy.EntityNotFoundException)
	in.ImpersonationRoleId = "nope"
	_, err = s.GetImpersonationRoleEffect(context.Background(), in)
	wantCode(t, err, policy.ResourceNotFoundException)
}

// SEMANTICS C1: alias and field rules, uniqueness, interoperability,
// defaults, ClientToken.
func TestSemanticsC1_CreateOrganization(t *testing.T) {
	s, clk := testStore(t, "")
	out, err := s.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: "Acme-Corp"})
	mustOK(t, err)
	if !policy.ValidOrganizationID(out.OrganizationId) {
		t.Fatalf("ID %q", out.OrganizationId)
	}
	d, err := s.DescribeOrganization(context.Background(), DescribeOrganizationInput(out))
	mustOK(t, err)
	if d.State != "Active" || d.DefaultMailDomain != "acme-corp.awsapps.com" || d.Alias != "Acme-Corp" {
		t.Fatalf("%+v", d)
	}
	for _, c := range []struct {
		in   CreateOrganizationInput
		code policy.Code
	}{
		{CreateOrganizationInput{Alias: ""}, policy.ValidationException},
		{CreateOrganizationInput{Alias: "d-abc"}, policy.ValidationException},
		{CreateOrganizationInput{Alias: "a--b"}, policy.ValidationException},
		{CreateOrganizationInput{Alias: "-ab"}, policy.ValidationException},
		{CreateOrganizationInput{Alias: "a_b"}, policy.ValidationException},
		{CreateOrganizationInput{Alias: strings.Repeat("a", 63)}, policy.ValidationException},
		{CreateOrganizationInput{Alias: "ACME-corp"}, policy.NameAvailabilityException},
		{CreateOrganizationInput{Alias: "x", DirectoryId: "d-12345"}, policy.ValidationException},
		{CreateOrganizationInput{Alias: "x", EnableInteroperability: true}, policy.InvalidParameterException},
		{CreateOrganizationInput{Alias: "x", Domains: make([]Domain, 6)}, policy.ValidationException},
		{CreateOrganizationInput{Alias: "x", Domains: []Domain{{DomainName: "a_b.com"}}}, policy.ValidationException},
		{CreateOrganizationInput{Alias: "x", Domains: []Domain{{DomainName: "ab.com", HostedZoneId: "a/b"}}}, policy.ValidationException},
		{CreateOrganizationInput{Alias: "x", KmsKeyArn: "arn:aws:s3:::bucket-name-long"}, policy.ValidationException},
		{CreateOrganizationInput{Alias: "x", ClientToken: "has space"}, policy.ValidationException},
	} {
		_, err := s.CreateOrganization(context.Background(), c.in)
		wantCode(t, err, c.code)
	}
	_, err = s.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: strings.Repeat("a", 62), DirectoryId: "d-0123456789", EnableInteroperability: true,
		Domains: []Domain{{DomainName: "Example.com", HostedZoneId: "Z123"}}, KmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/abc"})
	mustOK(t, err)
	_, err = s.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: "y", DirectoryId: "d-0123456789"})
	wantCode(t, err, policy.DirectoryInUseException)

	in := CreateOrganizationInput{Alias: "tok", ClientToken: "ct-1", Domains: []Domain{{DomainName: "tok.example"}}}
	first, err := s.CreateOrganization(context.Background(), in)
	mustOK(t, err)
	again, err := s.CreateOrganization(context.Background(), in)
	mustOK(t, err)
	if first != again {
		t.Fatal("replay created another organization")
	}
	d, _ = s.DescribeOrganization(context.Background(), DescribeOrganizationInput(first))
	if d.DefaultMailDomain != "tok.example" {
		t.Fatalf("DefaultMailDomain %q", d.DefaultMailDomain)
	}
	in.Alias = "tok2"
	_, err = s.CreateOrganization(context.Background(), in)
	wantCode(t, err, policy.InvalidParameterException)
	clk.Advance(25 * time.Hour)
	_, err = s.CreateOrganization(context.Background(), in)
	mustOK(t, err)
}

// SEMANTICS C2: DeleteOrganization.
func TestSemanticsC2_DeleteOrganization(t *testing.T) {
	s, _ := testStore(t, "")
	org := mustCreate(t, s, "acme")
	addUsers(t, s, org, alice)
	_, err := s.DeleteOrganization(context.Background(), DeleteOrganizationInput{OrganizationId: org})
	wantCode(t, err, policy.ValidationException)
	_, err = s.DeleteOrganization(context.Background(), DeleteOrganizationInput{OrganizationId: org, DeleteDirectory: ptr(true)})
	wantCode(t, err, policy.OrganizationStateException)
	out, err := s.DeleteOrganization(context.Background(), DeleteOrganizationInput{OrganizationId: org, DeleteDirectory: ptr(true), ForceDelete: true})
	mustOK(t, err)
	if out != (DeleteOrganizationOutput{OrganizationId: org, State: "Deleted"}) {
		t.Fatal(out)
	}
	again, err := s.DeleteOrganization(context.Background(), DeleteOrganizationInput{OrganizationId: org, DeleteDirectory: ptr(false)})
	mustOK(t, err)
	if again != out {
		t.Fatal(again)
	}
	list, _ := s.ListOrganizations(context.Background(), ListOrganizationsInput{})
	if len(list.OrganizationSummaries) != 0 {
		t.Fatal(list)
	}
	_, err = s.DescribeOrganization(context.Background(), DescribeOrganizationInput{OrganizationId: org})
	wantCode(t, err, policy.OrganizationNotFoundException)
	_, err = s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "x", Effect: policy.Allow})
	wantCode(t, err, policy.OrganizationNotFoundException)
	_, _, _, err = s.Evaluate(org, accessctl.Request{}, nil)
	wantCode(t, err, policy.OrganizationNotFoundException)
	// The alias is free again.
	mustCreate(t, s, "ACME")
	// An organization with only disabled users needs no ForceDelete.
	o2 := mustCreate(t, s, "two")
	addUsers(t, s, o2, carol)
	_, err = s.DeleteOrganization(context.Background(), DeleteOrganizationInput{OrganizationId: o2, DeleteDirectory: ptr(true)})
	mustOK(t, err)
}

// SEMANTICS C3: ListOrganizations order and pages.
func TestSemanticsC3_ListOrganizations(t *testing.T) {
	s, _ := testStore(t, "")
	for _, a := range []string{"beta", "Alpha", "gamma", "ALPHA2", "b"} {
		mustCreate(t, s, a)
	}
	var got []string
	tok := ""
	for {
		out, err := s.ListOrganizations(context.Background(), ListOrganizationsInput{NextToken: tok, MaxResults: ptr[int32](2)})
		mustOK(t, err)
		if len(out.OrganizationSummaries) > 2 {
			t.Fatal("page too long")
		}
		for _, o := range out.OrganizationSummaries {
			got = append(got, o.Alias)
			if o.State != "Active" || o.DefaultMailDomain == "" {
				t.Fatalf("%+v", o)
			}
		}
		if tok = out.NextToken; tok == "" {
			break
		}
	}
	if diff := cmp.Diff([]string{"Alpha", "ALPHA2", "b", "beta", "gamma"}, got); diff != "" {
		t.Fatal(diff)
	}
	_, err := s.ListOrganizations(context.Background(), ListOrganizationsInput{MaxResults: ptr[int32](101)})
	wantCode(t, err, policy.ValidationException)
	out, _ := s.ListOrganizations(context.Background(), ListOrganizationsInput{})
	b, _ := json.Marshal(out)
	if strings.Contains(string(b), "ErrorMessage") || strings.Contains(string(b), "NextToken") {
		t.Fatalf("%s", b)
	}
}

// SEMANTICS C4: malformed IDs are ValidationException, unknown ones
// OrganizationNotFoundException, for every operation.
func TestSemanticsC4_OrganizationID(t *testing.T) {
	s, _ := testStore(t, "")
	for _, c := range []struct {
		id   string
		code policy.Code
	}{
		{"", policy.ValidationException},
		{"m-123", policy.ValidationException},
		{"m-0123456789ABCDEF0123456789abcdef", policy.ValidationException},
		{"m-0123456789abcdef0123456789abcdef", policy.OrganizationNotFoundException},
	} {
		calls := map[string]error{}
		_, calls["Describe"] = s.DescribeOrganization(context.Background(), DescribeOrganizationInput{OrganizationId: c.id})
		_, calls["Delete"] = s.DeleteOrganization(context.Background(), DeleteOrganizationInput{OrganizationId: c.id, DeleteDirectory: ptr(true)})
		_, calls["Put"] = s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: c.id, Name: "x", Effect: policy.Allow})
		_, calls["DeleteRule"] = s.DeleteAccessControlRule(context.Background(), DeleteAccessControlRuleInput{OrganizationId: c.id, Name: "x"})
		_, calls["ListRules"] = s.ListAccessControlRules(context.Background(), ListAccessControlRulesInput{OrganizationId: c.id})
		_, calls["Effect"] = s.GetAccessControlEffect(context.Background(), accessctl.GetAccessControlEffectInput{OrganizationId: c.id, IpAddress: "1.2.3.4", Action: "EWS", UserId: "someone-long-enough"})
		_, calls["CreateRole"] = s.CreateImpersonationRole(context.Background(), simpleRole(c.id, "r"))
		_, calls["GetRole"] = s.GetImpersonationRole(context.Background(), GetImpersonationRoleInput{OrganizationId: c.id, ImpersonationRoleId: "r"})
		_, calls["UpdateRole"] = s.UpdateImpersonationRole(context.Background(), UpdateImpersonationRoleInput{OrganizationId: c.id, ImpersonationRoleId: "r", Name: "r", Type: impersonation.ReadOnly})
		_, calls["DeleteRole"] = s.DeleteImpersonationRole(context.Background(), DeleteImpersonationRoleInput{OrganizationId: c.id, ImpersonationRoleId: "r"})
		_, calls["ListRoles"] = s.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: c.id})
		_, calls["RoleEffect"] = s.GetImpersonationRoleEffect(context.Background(), impersonation.GetImpersonationRoleEffectInput{OrganizationId: c.id, ImpersonationRoleId: "r", TargetUser: "u"})
		_, calls["Assume"] = s.AssumeImpersonationRole(context.Background(), AssumeImpersonationRoleInput{OrganizationId: c.id, ImpersonationRoleId: "r"})
		_, calls["PutUser"] = s.PutUser(context.Background(), PutUserInput{OrganizationId: c.id, User: alice})
		_, calls["ImportUsers"] = s.ImportUsers(context.Background(), ImportUsersInput{OrganizationId: c.id})
		_, calls["DeleteUser"] = s.DeleteUser(context.Background(), DeleteUserInput{OrganizationId: c.id, UserId: "u"})
		_, calls["ListUsers"] = s.ListUsers(context.Background(), ListUsersInput{OrganizationId: c.id})
		_, _, _, calls["Evaluate"] = s.Evaluate(c.id, accessctl.Request{}, nil)
		for op, err := range calls {
			if policy.CodeOf(err) != c.code {
				t.Errorf("%s(%q): %v, want %s", op, c.id, err, c.code)
			}
		}
	}
}

// SEMANTICS D1: a failed call changes nothing: same revision, same listings.
func TestSemanticsD1_FailedCallChangesNothing(t *testing.T) {
	dir := t.TempDir()
	s, _ := testStore(t, dir)
	org := mustCreate(t, s, "acme")
	addUsers(t, s, org, alice)
	role, err := s.CreateImpersonationRole(context.Background(), simpleRole(org, "r"))
	mustOK(t, err)
	for i := 0; i < 9; i++ {
		_, err := s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "r" + string(rune('0'+i)), Effect: policy.Deny})
		mustOK(t, err)
	}
	state := func() string {
		r, _ := s.ListAccessControlRules(context.Background(), ListAccessControlRulesInput{OrganizationId: org})
		u, _ := s.ListUsers(context.Background(), ListUsersInput{OrganizationId: org})
		o, _ := s.ListOrganizations(context.Background(), ListOrganizationsInput{})
		b, _ := json.Marshal([]any{r, u, o, allRoles(t, s, org, 0), s.Snapshot(org).Revision()})
		return string(b)
	}
	before := state()
	failing := []func() error{
		func() error {
			_, err := s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "new", Effect: policy.Deny})
			return err
		},
		func() error {
			_, err := s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "r1", Effect: policy.Deny, UserIds: []string{"nobody-at-all"}})
			return err
		},
		func() error {
			_, err := s.CreateImpersonationRole(context.Background(), simpleRole(org, "r"))
			return err
		},
		func() error {
			_, err := s.UpdateImpersonationRole(context.Background(), UpdateImpersonationRoleInput{OrganizationId: org, ImpersonationRoleId: role.ImpersonationRoleId, Name: "r",
				Type: impersonation.ReadOnly, Rules: []impersonation.Rule{{ImpersonationRuleId: "x", Effect: policy.Allow, TargetUsers: []string{"ghost"}}}})
			return err
		},
		func() error {
			_, err := s.PutUser(context.Background(), PutUserInput{OrganizationId: org, User: User{Id: "other-id-long", Email: "alice@example.com"}})
			return err
		},
		func() error {
			_, err := s.DeleteUser(context.Background(), DeleteUserInput{OrganizationId: org, UserId: "ghost"})
			return err
		},
		func() error {
			_, err := s.DeleteOrganization(context.Background(), DeleteOrganizationInput{OrganizationId: org, DeleteDirectory: ptr(true)})
			return err
		},
		func() error {
			_, err := s.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: "ACME"})
			return err
		},
	}
	for i, f := range failing {
		if err := f(); err == nil {
			t.Fatalf("call %d succeeded", i)
		}
		if after := state(); after != before {
			t.Fatalf("call %d changed the state:\n%s\n%s", i, before, after)
		}
	}
	// And the durable state is the same.
	s.Close()
	s2, _ := testStore(t, dir)
	r, _ := s2.ListAccessControlRules(context.Background(), ListAccessControlRulesInput{OrganizationId: org})
	if len(r.Rules) != 10 || s2.Snapshot(org).Revision() != s.Snapshot(org).Revision() {
		t.Fatal("reopened state differs")
	}
}

// A Handle follows its organization's snapshots and answers
// OrganizationNotFoundException once the organization is deleted (C2).
func TestSemanticsC2_HandleFollowsSnapshots(t *testing.T) {
	s, _ := testStore(t, "")
	org := mustCreate(t, s, "acme")
	addUsers(t, s, org, alice)
	h, err := s.Handle(org)
	mustOK(t, err)
	req := accessctl.Request{IP: netip.MustParseAddr("10.0.0.1"), Action: accessctl.IMAP, UserID: "alice"}
	eff, _, rev, err := h.Evaluate(req, nil)
	if eff != policy.Allow || err != nil || rev != 2 {
		t.Fatal(eff, rev, err)
	}
	_, err = s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "no-imap", Effect: policy.Deny, Actions: []string{"IMAP"}})
	mustOK(t, err)
	eff, m, rev, err := h.Evaluate(req, nil)
	if eff != policy.Deny || err != nil || rev != 3 || !cmp.Equal(m, []string{"no-imap"}) {
		t.Fatal(eff, m, rev, err)
	}
	if h.Snapshot().Revision() != 3 {
		t.Fatal("handle snapshot is stale")
	}
	_, err = s.DeleteOrganization(context.Background(), DeleteOrganizationInput{OrganizationId: org, DeleteDirectory: ptr(true), ForceDelete: true})
	mustOK(t, err)
	_, _, _, err = h.Evaluate(req, nil)
	wantCode(t, err, policy.OrganizationNotFoundException)
	if h.Snapshot() != nil {
		t.Fatal("snapshot of a deleted organization")
	}
	_, err = s.Handle(org)
	wantCode(t, err, policy.OrganizationNotFoundException)
}

// SEMANTICS B9 through the store: the EWS authorizer of a snapshot uses the
// store's keys, rules and roles.
func TestSemanticsB9_EWSAuthorizer(t *testing.T) {
	s, _ := testStore(t, "")
	org := mustCreate(t, s, "acme")
	addUsers(t, s, org, alice, bob)
	r, err := s.CreateImpersonationRole(context.Background(), simpleRole(org, "r", impersonation.Rule{ImpersonationRuleId: "a", Effect: policy.Allow, TargetUsers: []string{"bob"}}))
	mustOK(t, err)
	tok, err := s.AssumeImpersonationRole(context.Background(), AssumeImpersonationRoleInput{OrganizationId: org, ImpersonationRoleId: r.ImpersonationRoleId})
	mustOK(t, err)
	a, err := s.EWSAuthorizer(org)
	mustOK(t, err)
	if d := a.Authorize(tok.Token, netip.MustParseAddr("10.0.0.1"), "bob@example.com"); !d.Allowed {
		t.Fatalf("bob: %+v", d)
	}
	if d := a.Authorize(tok.Token, netip.MustParseAddr("10.0.0.1"), "alice"); d.Allowed || d.Failed != impersonation.StepRole {
		t.Fatalf("alice: %+v", d)
	}
	_, err = s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "no-roles", Effect: policy.Deny, ImpersonationRoleIds: []string{r.ImpersonationRoleId}})
	mustOK(t, err)
	a, err = s.EWSAuthorizer(org)
	mustOK(t, err)
	if d := a.Authorize(tok.Token, netip.MustParseAddr("10.0.0.1"), "bob"); d.Allowed || d.Failed != impersonation.StepAccessControl {
		t.Fatalf("after the deny rule: %+v", d)
	}
}

// SEMANTICS B7, C3: a NextToken that was altered in any way is
// InvalidParameterException: the decoding is strict, so CR/LF or other
// characters outside the base64url alphabet, and a last character whose
// unused low bits differ, are refused instead of decoding to the issued token.
func TestSemanticsB7_AlteredNextTokenRefused(t *testing.T) {
	s, _ := testStore(t, "")
	org := mustCreate(t, s, "aa")
	for _, a := range []string{"bb", "cc", "dd"} {
		mustCreate(t, s, a)
	}
	for _, n := range []string{"x", "y", "z"} {
		_, err := s.CreateImpersonationRole(context.Background(), simpleRole(org, n))
		mustOK(t, err)
	}
	orgs, err := s.ListOrganizations(context.Background(), ListOrganizationsInput{MaxResults: ptr[int32](1)})
	mustOK(t, err)
	roles, err := s.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: org, MaxResults: ptr[int32](1)})
	mustOK(t, err)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	altered := func(tok string) []string {
		out := []string{tok[:5] + "\n" + tok[5:], tok + "\r\n", "\n" + tok, tok[:5] + "\r" + tok[5:],
			tok + "=", tok[:5] + " " + tok[5:], tok[:5] + "+" + tok[6:], tok[:5] + "/" + tok[6:], tok + "é"}
		for i := 0; i < len(alphabet); i++ {
			if alphabet[i] != tok[len(tok)-1] {
				out = append(out, tok[:len(tok)-1]+alphabet[i:i+1])
			}
		}
		return out
	}
	for _, v := range altered(orgs.NextToken) {
		_, err := s.ListOrganizations(context.Background(), ListOrganizationsInput{MaxResults: ptr[int32](1), NextToken: v})
		if policy.CodeOf(err) != policy.InvalidParameterException {
			t.Errorf("ListOrganizations accepted altered token %q (issued %q): err = %v", v, orgs.NextToken, err)
		}
	}
	for _, v := range altered(roles.NextToken) {
		_, err := s.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: org, MaxResults: ptr[int32](1), NextToken: v})
		if policy.CodeOf(err) != policy.InvalidParameterException {
			t.Errorf("ListImpersonationRoles accepted altered token %q (issued %q): err = %v", v, roles.NextToken, err)
		}
	}
	// The issued tokens themselves still work.
	_, err = s.ListOrganizations(context.Background(), ListOrganizationsInput{MaxResults: ptr[int32](1), NextToken: orgs.NextToken})
	mustOK(t, err)
	_, err = s.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: org, MaxResults: ptr[int32](1), NextToken: roles.NextToken})
	mustOK(t, err)
}

// SEMANTICS B7, C3: MaxResults is 1–100; absent means the default page, but
// an explicit 0 (in Go or as "MaxResults": 0 in JSON) is a
// ValidationException at MaxResults, not the default.
func TestSemanticsB7_MaxResultsExplicitZero(t *testing.T) {
	s, _ := testStore(t, "")
	org := mustCreate(t, s, "acme")
	atMaxResults := func(err error) {
		t.Helper()
		wantCode(t, err, policy.ValidationException)
		var pe *policy.Error
		if errors.As(err, &pe); pe.Path != "MaxResults" {
			t.Fatalf("path %q, want MaxResults", pe.Path)
		}
	}
	var lo ListOrganizationsInput
	mustOK(t, policy.DecodeStrict([]byte(`{"MaxResults":0}`), &lo))
	_, err := s.ListOrganizations(context.Background(), lo)
	atMaxResults(err)
	_, err = s.ListOrganizations(context.Background(), ListOrganizationsInput{MaxResults: ptr[int32](0)})
	atMaxResults(err)
	var lr ListImpersonationRolesInput
	mustOK(t, policy.DecodeStrict([]byte(`{"OrganizationId":"`+org+`","MaxResults":0}`), &lr))
	_, err = s.ListImpersonationRoles(context.Background(), lr)
	atMaxResults(err)
	_, err = s.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: org, MaxResults: ptr[int32](0)})
	atMaxResults(err)
	// Absent is the default page.
	lo = ListOrganizationsInput{}
	mustOK(t, policy.DecodeStrict([]byte(`{}`), &lo))
	if lo.MaxResults != nil {
		t.Fatal("absent MaxResults decoded as set")
	}
	out, err := s.ListOrganizations(context.Background(), lo)
	mustOK(t, err)
	if len(out.OrganizationSummaries) != 1 {
		t.Fatalf("%+v", out)
	}
	_, err = s.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: org})
	mustOK(t, err)
	// An absent MaxResults is omitted on the wire; a set one is kept.
	b, _ := json.Marshal(ListOrganizationsInput{MaxResults: ptr[int32](0)})
	if string(b) != `{"MaxResults":0}` {
		t.Fatalf("%s", b)
	}
}

// SEMANTICS C1: the length limits of the model are in characters:
// HostedZoneId is 1–32 characters without / or \, so 32 non-ASCII
// characters (64 bytes) are accepted and 33 are refused.
func TestSemanticsC1_HostedZoneIdCountsCharacters(t *testing.T) {
	s, _ := testStore(t, "")
	_, err := s.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: "acme",
		Domains: []Domain{{DomainName: "example.com", HostedZoneId: strings.Repeat("é", 20)}}})
	mustOK(t, err)
	_, err = s.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: "acme2",
		Domains: []Domain{{DomainName: "example.com", HostedZoneId: strings.Repeat("é", 32)}}})
	mustOK(t, err)
	_, err = s.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: "acme3",
		Domains: []Domain{{DomainName: "example.com", HostedZoneId: strings.Repeat("é", 33)}}})
	wantCode(t, err, policy.ValidationException)
	// Messages count characters too, and truncation never splits one.
	if msg := checkAlias(strings.Repeat("é", 63)); !strings.Contains(msg, "63 characters") {
		t.Fatalf("alias message %q", msg)
	}
	if got := truncate(strings.Repeat("é", 50), 40); got != strings.Repeat("é", 40)+"…" {
		t.Fatalf("truncate: %q", got)
	}
}

// SEMANTICS C1, D1: a CreateOrganization whose alias collides with one
// organization and whose DirectoryId with another always answers the same
// code: the alias is checked first (C1 lists it first; the contract does not
// rank them), so NameAvailabilityException.
func TestSemanticsC1_ConflictCodeDeterministic(t *testing.T) {
	s, _ := testStore(t, "")
	for i := 0; i < 20; i++ { // enough organizations for the map order to vary
		_, err := s.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: fmt.Sprintf("org%d", i), DirectoryId: fmt.Sprintf("d-%010d", i)})
		mustOK(t, err)
	}
	for i := 0; i < 200; i++ {
		_, err := s.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: "ORG1", DirectoryId: "d-0000000002"})
		wantCode(t, err, policy.NameAvailabilityException)
	}
	_, err := s.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: "fresh", DirectoryId: "d-0000000002"})
	wantCode(t, err, policy.DirectoryInUseException)
}
