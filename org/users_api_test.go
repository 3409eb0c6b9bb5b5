package org

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// SEMANTICS F4: the user operations, one refusal at a time, each changing
// nothing; the password is checked and never stored.
func TestSemanticsF4_Users(t *testing.T) {
	dir := t.TempDir()
	s, clock := testStore(t, dir)
	org, err := s.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: "corp", Domains: []Domain{{DomainName: "corp.example"}}})
	mustOK(t, err)
	id := org.OrganizationId

	_, err = s.CreateUser(context.Background(), CreateUserInput{OrganizationId: id, Name: "bad name", DisplayName: "x"})
	wantCode(t, err, policy.ValidationException)
	_, err = s.CreateUser(context.Background(), CreateUserInput{OrganizationId: id, Name: "alice"})
	wantCode(t, err, policy.ValidationException) // DisplayName is required
	_, err = s.CreateUser(context.Background(), CreateUserInput{OrganizationId: id, Name: "alice", DisplayName: "A", Password: "tab\there"})
	wantCode(t, err, policy.ValidationException)
	if strings.Contains(err.Error(), "tab") {
		t.Fatalf("the error echoes the password: %v", err)
	}
	_, err = s.CreateUser(context.Background(), CreateUserInput{OrganizationId: id, Name: "alice", DisplayName: "A", Role: "SYSTEM_USER"})
	wantCode(t, err, policy.InvalidParameterException)
	_, err = s.CreateUser(context.Background(), CreateUserInput{OrganizationId: "m-00000000000000000000000000000000", Name: "alice", DisplayName: "A"})
	wantCode(t, err, policy.OrganizationNotFoundException)

	const secret = "Sup3r-secret-passw0rd"
	out, err := s.CreateUser(context.Background(), CreateUserInput{OrganizationId: id, Name: "alice", DisplayName: "Alice", Password: secret, FirstName: "Alice"})
	mustOK(t, err)
	if len(out.UserId) != 36 {
		t.Fatalf("UserId %q: want a UUID", out.UserId)
	}
	_, err = s.CreateUser(context.Background(), CreateUserInput{OrganizationId: id, Name: "ALICE", DisplayName: "Another"})
	wantCode(t, err, policy.NameAvailabilityException)

	d, err := s.DescribeUser(context.Background(), DescribeUserInput{OrganizationId: id, UserId: "Alice"})
	mustOK(t, err)
	if d.UserId != out.UserId || d.State != "DISABLED" || d.UserRole != "USER" || d.FirstName != "Alice" || d.Email != "" {
		t.Fatalf("DescribeUser: %+v", d)
	}
	_, err = s.DescribeUser(context.Background(), DescribeUserInput{OrganizationId: id, UserId: "nobody"})
	wantCode(t, err, policy.EntityNotFoundException)
	_, err = s.DescribeUser(context.Background(), DescribeUserInput{OrganizationId: id, UserId: "bad id!"})
	wantCode(t, err, policy.ValidationException)

	// RegisterToWorkMail: the domain must be the organization's.
	_, err = s.RegisterToWorkMail(context.Background(), RegisterToWorkMailInput{OrganizationId: id, EntityId: "alice", Email: "alice@elsewhere.example"})
	wantCode(t, err, policy.MailDomainNotFoundException)
	_, err = s.RegisterToWorkMail(context.Background(), RegisterToWorkMailInput{OrganizationId: id, EntityId: "nobody", Email: "alice@corp.example"})
	wantCode(t, err, policy.EntityNotFoundException)
	_, err = s.RegisterToWorkMail(context.Background(), RegisterToWorkMailInput{OrganizationId: id, EntityId: "alice", Email: "not-an-email"})
	wantCode(t, err, policy.ValidationException)
	clock.Advance(time.Hour)
	_, err = s.RegisterToWorkMail(context.Background(), RegisterToWorkMailInput{OrganizationId: id, EntityId: "alice", Email: "Alice@CORP.example"})
	mustOK(t, err)
	_, err = s.RegisterToWorkMail(context.Background(), RegisterToWorkMailInput{OrganizationId: id, EntityId: "alice", Email: "alice2@corp.example"})
	wantCode(t, err, policy.EntityAlreadyRegisteredException)
	bob, err := s.CreateUser(context.Background(), CreateUserInput{OrganizationId: id, Name: "bob", DisplayName: "Bob"})
	mustOK(t, err)
	_, err = s.RegisterToWorkMail(context.Background(), RegisterToWorkMailInput{OrganizationId: id, EntityId: bob.UserId, Email: "alice@corp.example"})
	wantCode(t, err, policy.EmailAddressInUseException)
	_, err = s.RegisterToWorkMail(context.Background(), RegisterToWorkMailInput{OrganizationId: id, EntityId: bob.UserId, Email: "bob@corp.example"})
	mustOK(t, err)
	d, _ = s.DescribeUser(context.Background(), DescribeUserInput{OrganizationId: id, UserId: "alice@corp.example"})
	if d.State != "ENABLED" || d.EnabledDate != policy.TimestampOf(clock.Now()) {
		t.Fatalf("after RegisterToWorkMail: %+v", d)
	}

	// A rule naming alice by email keeps working (A18).
	_, err = s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: id, Name: "deny-alice", Effect: policy.Deny, UserIds: []string{"alice@corp.example"}})
	mustOK(t, err)
	eff, err := s.GetAccessControlEffect(context.Background(), accessctl.GetAccessControlEffectInput{OrganizationId: id, IpAddress: "127.0.0.1", Action: "IMAP", UserId: out.UserId})
	mustOK(t, err)
	if eff.Effect != policy.Deny {
		t.Fatalf("effect %+v", eff)
	}

	// DeleteUser refuses an ENABLED user; DeregisterFromWorkMail keeps the email.
	_, err = s.DeleteUser(context.Background(), DeleteUserInput{OrganizationId: id, UserId: "alice"})
	wantCode(t, err, policy.EntityStateException)
	_, err = s.DeregisterFromWorkMail(context.Background(), DeregisterFromWorkMailInput{OrganizationId: id, EntityId: "alice"})
	mustOK(t, err)
	_, err = s.DeregisterFromWorkMail(context.Background(), DeregisterFromWorkMailInput{OrganizationId: id, EntityId: "alice"})
	wantCode(t, err, policy.EntityStateException)
	d, _ = s.DescribeUser(context.Background(), DescribeUserInput{OrganizationId: id, UserId: "alice"})
	if d.State != "DISABLED" || d.Email != "Alice@CORP.example" || d.DisabledDate == 0 {
		t.Fatalf("after DeregisterFromWorkMail: %+v", d)
	}
	// alice is still named by a rule.
	_, err = s.DeleteUser(context.Background(), DeleteUserInput{OrganizationId: id, UserId: "alice"})
	wantCode(t, err, policy.EntityNotFoundException)
	_, err = s.DeleteAccessControlRule(context.Background(), DeleteAccessControlRuleInput{OrganizationId: id, Name: "deny-alice"})
	mustOK(t, err)
	_, err = s.DeleteUser(context.Background(), DeleteUserInput{OrganizationId: id, UserId: "alice"})
	mustOK(t, err)
	_, err = s.DeleteUser(context.Background(), DeleteUserInput{OrganizationId: id, UserId: "alice"})
	wantCode(t, err, policy.EntityNotFoundException)

	// The password is nowhere on disk.
	s.Close()
	entries, _ := os.ReadDir(dir + "/orgs")
	for _, e := range entries {
		b, _ := os.ReadFile(dir + "/orgs/" + e.Name())
		if strings.Contains(string(b), secret) {
			t.Fatalf("%s holds the password", e.Name())
		}
	}
}

// SEMANTICS F4, B7: ListUsers pages with opaque tokens bound to the
// organization, continues across changes, filters with one filter at a time.
func TestSemanticsF4_ListUsers(t *testing.T) {
	s, _ := testStore(t, "")
	id := mustCreate(t, s, "corp")
	other := mustCreate(t, s, "other")
	var ids []string
	for _, n := range []string{"ann", "ben", "cat", "dan", "eve"} {
		out, err := s.CreateUser(context.Background(), CreateUserInput{OrganizationId: id, Name: n, DisplayName: strings.ToUpper(n)})
		mustOK(t, err)
		ids = append(ids, out.UserId)
	}
	_, err := s.RegisterToWorkMail(context.Background(), RegisterToWorkMailInput{OrganizationId: id, EntityId: "eve", Email: "eve@corp.awsapps.com"})
	mustOK(t, err)
	all, err := s.ListUsers(context.Background(), ListUsersInput{OrganizationId: id, MaxResults: ptr[int32](100)})
	mustOK(t, err)
	sort.Strings(ids)
	for i, u := range all.Users {
		if u.Id != ids[i] {
			t.Fatalf("ListUsers order: %d is %s, want %s (ascending Id)", i, u.Id, ids[i])
		}
	}
	if len(all.Users) != 5 || all.NextToken != "" {
		t.Fatalf("ListUsers: %+v", all)
	}
	p1, err := s.ListUsers(context.Background(), ListUsersInput{OrganizationId: id, MaxResults: ptr[int32](2)})
	mustOK(t, err)
	if len(p1.Users) != 2 || p1.NextToken == "" {
		t.Fatalf("page 1: %+v", p1)
	}
	_, err = s.ListUsers(context.Background(), ListUsersInput{OrganizationId: other, NextToken: p1.NextToken})
	wantCode(t, err, policy.InvalidParameterException)
	_, err = s.ListUsers(context.Background(), ListUsersInput{OrganizationId: id, NextToken: p1.NextToken + "A"})
	wantCode(t, err, policy.InvalidParameterException)
	_, err = s.ListUsers(context.Background(), ListUsersInput{OrganizationId: id, MaxResults: ptr[int32](0)})
	wantCode(t, err, policy.ValidationException)
	// Deleting a listed user between pages neither skips nor repeats.
	_, err = s.DeleteUser(context.Background(), DeleteUserInput{OrganizationId: id, UserId: p1.Users[1].Id})
	mustOK(t, err)
	seen := map[string]bool{p1.Users[0].Id: true, p1.Users[1].Id: true}
	tok := p1.NextToken
	for tok != "" {
		p, err := s.ListUsers(context.Background(), ListUsersInput{OrganizationId: id, NextToken: tok, MaxResults: ptr[int32](2)})
		mustOK(t, err)
		for _, u := range p.Users {
			if seen[u.Id] {
				t.Fatalf("%s listed twice", u.Id)
			}
			seen[u.Id] = true
		}
		tok = p.NextToken
	}
	if len(seen) != 5 {
		t.Fatalf("%d users seen, want 5", len(seen))
	}
	f, err := s.ListUsers(context.Background(), ListUsersInput{OrganizationId: id, Filters: &ListUsersFilters{State: "ENABLED"}})
	mustOK(t, err)
	if len(f.Users) != 1 || f.Users[0].Name != "eve" {
		t.Fatalf("State filter: %+v", f)
	}
	f, err = s.ListUsers(context.Background(), ListUsersInput{OrganizationId: id, Filters: &ListUsersFilters{UsernamePrefix: "D"}})
	mustOK(t, err)
	if len(f.Users) != 1 || f.Users[0].Name != "dan" {
		t.Fatalf("UsernamePrefix filter: %+v", f)
	}
	_, err = s.ListUsers(context.Background(), ListUsersInput{OrganizationId: id, Filters: &ListUsersFilters{State: "ENABLED", UsernamePrefix: "e"}})
	wantCode(t, err, policy.InvalidParameterException)
	_, err = s.ListUsers(context.Background(), ListUsersInput{OrganizationId: id, Filters: &ListUsersFilters{State: "ON"}})
	wantCode(t, err, policy.ValidationException)
	// The wire shape: the model's User members only, Users [] when empty.
	e, _ := s.ListUsers(context.Background(), ListUsersInput{OrganizationId: other})
	b, _ := json.Marshal(e)
	if string(b) != `{"Users":[]}` {
		t.Fatalf("empty listing: %s", b)
	}
}
