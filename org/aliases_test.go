package org

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// SEMANTICS F5: CreateAlias and DeleteAlias, one refusal at a time, each
// changing nothing; an alias names its user in rules (A18), and a rule
// naming a user by an alias keeps that alias from being deleted.
func TestSemanticsF5_Aliases(t *testing.T) {
	ctx := context.Background()
	s, _ := testStore(t, "")
	id := mustCreate(t, s, "corp") // default mail domain corp.awsapps.com
	for _, n := range []string{"alice", "bob", "carol"} {
		out, err := s.CreateUser(ctx, CreateUserInput{OrganizationId: id, Name: n, DisplayName: n})
		mustOK(t, err)
		if n != "carol" { // carol stays DISABLED
			_, err = s.RegisterToWorkMail(ctx, RegisterToWorkMailInput{OrganizationId: id, EntityId: out.UserId, Email: n + "@corp.awsapps.com"})
			mustOK(t, err)
		}
	}
	rev := func() uint64 { return s.Snapshot(id).Revision() }
	before := rev()
	for _, tc := range []struct {
		name string
		in   CreateAliasInput
		code policy.Code
	}{
		{"no alias", CreateAliasInput{OrganizationId: id, EntityId: "alice"}, policy.ValidationException},
		{"not an email", CreateAliasInput{OrganizationId: id, EntityId: "alice", Alias: "ali"}, policy.ValidationException},
		{"bad entity", CreateAliasInput{OrganizationId: id, EntityId: "bad id!", Alias: "ali@corp.awsapps.com"}, policy.ValidationException},
		{"bad organization", CreateAliasInput{OrganizationId: "m-1", EntityId: "alice", Alias: "ali@corp.awsapps.com"}, policy.ValidationException},
		{"unknown organization", CreateAliasInput{OrganizationId: "m-00000000000000000000000000000000", EntityId: "alice", Alias: "ali@corp.awsapps.com"}, policy.OrganizationNotFoundException},
		{"unknown user", CreateAliasInput{OrganizationId: id, EntityId: "nobody", Alias: "ali@corp.awsapps.com"}, policy.EntityNotFoundException},
		{"disabled user", CreateAliasInput{OrganizationId: id, EntityId: "carol", Alias: "caro@corp.awsapps.com"}, policy.EntityStateException},
		{"foreign domain", CreateAliasInput{OrganizationId: id, EntityId: "alice", Alias: "ali@elsewhere.example"}, policy.MailDomainNotFoundException},
		{"another user's email", CreateAliasInput{OrganizationId: id, EntityId: "alice", Alias: "BOB@corp.awsapps.com"}, policy.EmailAddressInUseException},
		{"the user's own email", CreateAliasInput{OrganizationId: id, EntityId: "alice", Alias: "alice@corp.awsapps.com"}, policy.EmailAddressInUseException},
	} {
		_, err := s.CreateAlias(ctx, tc.in)
		if policy.CodeOf(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	if rev() != before {
		t.Fatalf("refused CreateAlias calls changed the revision %d → %d", before, rev())
	}

	mustOK(t, second(s.CreateAlias(ctx, CreateAliasInput{OrganizationId: id, EntityId: "alice", Alias: "Ali@corp.awsapps.com"})))
	r := rev()
	mustOK(t, second(s.CreateAlias(ctx, CreateAliasInput{OrganizationId: id, EntityId: "alice@corp.awsapps.com", Alias: "ali@CORP.awsapps.com"})))
	if rev() != r {
		t.Errorf("CreateAlias of an alias the user has changed the revision")
	}
	_, err := s.CreateAlias(ctx, CreateAliasInput{OrganizationId: id, EntityId: "bob", Alias: "ali@corp.awsapps.com"})
	wantCode(t, err, policy.EmailAddressInUseException)
	d, err := s.DescribeUser(ctx, DescribeUserInput{OrganizationId: id, UserId: "ali@corp.awsapps.com"})
	mustOK(t, err)
	if d.Name != "alice" {
		t.Errorf("DescribeUser by the alias: %+v", d)
	}

	// A18: a rule names alice by her alias; it matches her under any name,
	// and her alias cannot go while the rule names it.
	rule := accessctl.Rule{Name: "no-imap-for-ali", Effect: policy.Deny, Description: "d", Actions: []string{"IMAP"}, UserIds: []string{"ali@corp.awsapps.com"}}
	mustOK(t, second(s.PutAccessControlRule(ctx, PutRuleInput(id, rule))))
	for _, who := range []string{"alice", "alice@corp.awsapps.com", "ALI@corp.awsapps.com"} {
		out, err := s.GetAccessControlEffect(ctx, accessctl.GetAccessControlEffectInput{OrganizationId: id, IpAddress: "192.0.2.1", Action: "IMAP", UserId: who})
		mustOK(t, err)
		if out.Effect != policy.Deny || !slices.Equal(out.MatchedRules, []string{"no-imap-for-ali"}) {
			t.Errorf("%s: %+v, want DENY by no-imap-for-ali", who, out)
		}
	}
	r = rev()
	_, err = s.DeleteAlias(ctx, DeleteAliasInput{OrganizationId: id, EntityId: "alice", Alias: "ali@corp.awsapps.com"})
	wantCode(t, err, policy.EntityNotFoundException)
	if rev() != r {
		t.Fatal("a refused DeleteAlias changed the revision")
	}
	mustOK(t, second(s.DeleteAccessControlRule(ctx, DeleteAccessControlRuleInput{OrganizationId: id, Name: rule.Name})))

	// DeleteAlias: refusals, a missing alias changes nothing, then it goes.
	_, err = s.DeleteAlias(ctx, DeleteAliasInput{OrganizationId: id, EntityId: "nobody", Alias: "ali@corp.awsapps.com"})
	wantCode(t, err, policy.EntityNotFoundException)
	_, err = s.DeleteAlias(ctx, DeleteAliasInput{OrganizationId: id, EntityId: "alice", Alias: "not an email"})
	wantCode(t, err, policy.ValidationException)
	r = rev()
	mustOK(t, second(s.DeleteAlias(ctx, DeleteAliasInput{OrganizationId: id, EntityId: "alice", Alias: "other@corp.awsapps.com"})))
	mustOK(t, second(s.DeleteAlias(ctx, DeleteAliasInput{OrganizationId: id, EntityId: "bob", Alias: "ali@corp.awsapps.com"})))
	if rev() != r {
		t.Error("DeleteAlias of an alias the user does not have changed the revision")
	}
	mustOK(t, second(s.DeleteAlias(ctx, DeleteAliasInput{OrganizationId: id, EntityId: "alice", Alias: "ALI@corp.awsapps.com"})))
	_, err = s.DescribeUser(ctx, DescribeUserInput{OrganizationId: id, UserId: "ali@corp.awsapps.com"})
	wantCode(t, err, policy.EntityNotFoundException)
	// Now free, the address may go to bob.
	mustOK(t, second(s.CreateAlias(ctx, CreateAliasInput{OrganizationId: id, EntityId: "bob", Alias: "ali@corp.awsapps.com"})))

	// At most MaxAliasesPerUser.
	for i := 0; i < MaxAliasesPerUser; i++ {
		mustOK(t, second(s.CreateAlias(ctx, CreateAliasInput{OrganizationId: id, EntityId: "alice", Alias: fmt.Sprintf("a%d@corp.awsapps.com", i)})))
	}
	_, err = s.CreateAlias(ctx, CreateAliasInput{OrganizationId: id, EntityId: "alice", Alias: "one-more@corp.awsapps.com"})
	wantCode(t, err, policy.LimitExceededException)
}

// SEMANTICS F5, B7: ListAliases pages in case-folded order with tokens bound
// to the organization and the user, and continues across changes.
func TestSemanticsF5_ListAliases(t *testing.T) {
	ctx := context.Background()
	s, _ := testStore(t, "")
	id := mustCreate(t, s, "corp")
	for _, n := range []string{"ann", "ben"} {
		_, err := s.CreateUser(ctx, CreateUserInput{OrganizationId: id, Name: n, DisplayName: n})
		mustOK(t, err)
		mustOK(t, second(s.RegisterToWorkMail(ctx, RegisterToWorkMailInput{OrganizationId: id, EntityId: n, Email: n + "@corp.awsapps.com"})))
	}
	for _, a := range []string{"d@corp.awsapps.com", "B@corp.awsapps.com", "a@corp.awsapps.com", "c@corp.awsapps.com", "E@corp.awsapps.com"} {
		mustOK(t, second(s.CreateAlias(ctx, CreateAliasInput{OrganizationId: id, EntityId: "ann", Alias: a})))
	}
	out, err := s.ListAliases(ctx, ListAliasesInput{OrganizationId: id, EntityId: "ann"})
	mustOK(t, err)
	if want := []string{"a@corp.awsapps.com", "B@corp.awsapps.com", "c@corp.awsapps.com", "d@corp.awsapps.com", "E@corp.awsapps.com"}; !slices.Equal(out.Aliases, want) || out.NextToken != "" {
		t.Fatalf("ListAliases: %+v, want %q", out, want)
	}
	two := int32(2)
	p1, err := s.ListAliases(ctx, ListAliasesInput{OrganizationId: id, EntityId: "ann@corp.awsapps.com", MaxResults: &two})
	mustOK(t, err)
	if !slices.Equal(p1.Aliases, []string{"a@corp.awsapps.com", "B@corp.awsapps.com"}) || p1.NextToken == "" {
		t.Fatalf("page 1: %+v", p1)
	}
	// Changes between pages: the listing continues after B.
	mustOK(t, second(s.DeleteAlias(ctx, DeleteAliasInput{OrganizationId: id, EntityId: "ann", Alias: "c@corp.awsapps.com"})))
	mustOK(t, second(s.CreateAlias(ctx, CreateAliasInput{OrganizationId: id, EntityId: "ann", Alias: "bb@corp.awsapps.com"})))
	mustOK(t, second(s.CreateAlias(ctx, CreateAliasInput{OrganizationId: id, EntityId: "ann", Alias: "aa@corp.awsapps.com"})))
	p2, err := s.ListAliases(ctx, ListAliasesInput{OrganizationId: id, EntityId: "ann", MaxResults: &two, NextToken: p1.NextToken})
	mustOK(t, err)
	if !slices.Equal(p2.Aliases, []string{"bb@corp.awsapps.com", "d@corp.awsapps.com"}) || p2.NextToken == "" {
		t.Fatalf("page 2: %+v", p2)
	}
	p3, err := s.ListAliases(ctx, ListAliasesInput{OrganizationId: id, EntityId: "ann", MaxResults: &two, NextToken: p2.NextToken})
	mustOK(t, err)
	if !slices.Equal(p3.Aliases, []string{"E@corp.awsapps.com"}) || p3.NextToken != "" {
		t.Fatalf("page 3: %+v", p3)
	}

	// A user without aliases lists none; the token is bound to the user.
	none, err := s.ListAliases(ctx, ListAliasesInput{OrganizationId: id, EntityId: "ben"})
	mustOK(t, err)
	if none.Aliases == nil || len(none.Aliases) != 0 || none.NextToken != "" {
		t.Fatalf("ben: %+v, want an empty non-nil list", none)
	}
	_, err = s.ListAliases(ctx, ListAliasesInput{OrganizationId: id, EntityId: "ben", NextToken: p1.NextToken})
	wantCode(t, err, policy.InvalidParameterException)
	_, err = s.ListUsers(ctx, ListUsersInput{OrganizationId: id, NextToken: p1.NextToken})
	wantCode(t, err, policy.InvalidParameterException)
	_, err = s.ListAliases(ctx, ListAliasesInput{OrganizationId: id, EntityId: "nobody"})
	wantCode(t, err, policy.EntityNotFoundException)
	zero := int32(0)
	_, err = s.ListAliases(ctx, ListAliasesInput{OrganizationId: id, EntityId: "ann", MaxResults: &zero})
	wantCode(t, err, policy.ValidationException)
}

// second returns the error of a (value, error) pair.
func second[T any](_ T, err error) error { return err }

// SEMANTICS F5: PutUser holds a user's aliases to CreateAlias's rules, so
// that whatever the store holds exports and imports again; RegisterToWorkMail
// does not make an alias the user's email as well.
func TestSemanticsF5_AliasesElsewhere(t *testing.T) {
	ctx := context.Background()
	s, _ := testStore(t, "")
	id := mustCreate(t, s, "corp")
	const uid = "S-1-1-11-1111111111-2222222222-3333333333-0001"
	put := func(aliases ...string) error {
		_, err := s.PutUser(ctx, PutUserInput{OrganizationId: id, User: User{Id: uid, Email: "u@corp.awsapps.com", State: "ENABLED", Aliases: aliases}})
		return err
	}
	for _, c := range []struct {
		aliases []string
		path    string
	}{
		{[]string{"x@corp.awsapps.com", "X@corp.awsapps.com"}, "Aliases[1]"},
		{[]string{"not-an-address"}, "Aliases[0]"},
		{[]string{"U@corp.awsapps.com"}, "Aliases[0]"},
	} {
		err := put(c.aliases...)
		if policy.CodeOf(err) != policy.ValidationException || !slices.ContainsFunc(policy.Errors(err), func(e *policy.Error) bool { return e.Path == c.path }) {
			t.Errorf("PutUser with aliases %q: %v, want ValidationException at %s", c.aliases, err, c.path)
		}
	}
	many := make([]string, MaxAliasesPerUser+1)
	for i := range many {
		many[i] = fmt.Sprintf("a%d@corp.awsapps.com", i)
	}
	wantCode(t, put(many...), policy.LimitExceededException)
	mustOK(t, put("b@corp.awsapps.com", "a@corp.awsapps.com"))
	out, err := s.ListAliases(ctx, ListAliasesInput{OrganizationId: id, EntityId: uid})
	mustOK(t, err)
	if !slices.Equal(out.Aliases, []string{"a@corp.awsapps.com", "b@corp.awsapps.com"}) {
		t.Errorf("ListAliases after PutUser: %q", out.Aliases)
	}

	mustOK(t, second(s.DeregisterFromWorkMail(ctx, DeregisterFromWorkMailInput{OrganizationId: id, EntityId: uid})))
	_, err = s.RegisterToWorkMail(ctx, RegisterToWorkMailInput{OrganizationId: id, EntityId: uid, Email: "B@corp.awsapps.com"})
	wantCode(t, err, policy.EmailAddressInUseException)
	mustOK(t, second(s.RegisterToWorkMail(ctx, RegisterToWorkMailInput{OrganizationId: id, EntityId: uid, Email: "u@corp.awsapps.com"})))
}

// SEMANTICS F5: every user ID names its list-aliases file, so an
// organization whose users have aliases always exports, and imports again.
func TestAliasesFileNames(t *testing.T) {
	long := "S-1-1-11-" + strings.Repeat("9", 240)
	for _, c := range []struct{ id, want string }{
		{"S-1-1-11-1111111111-2222222222-3333333333-0001", "list-aliases-S-1-1-11-1111111111-2222222222-3333333333-0001.json"},
		{"0f8fad5b-d9cb-469f-a165-70867728950e", "list-aliases-0f8fad5b-d9cb-469f-a165-70867728950e.json"},
		{long, "list-aliases-sha256-"},
		{"user with space", "list-aliases-sha256-"},
		{"a/../../b", "list-aliases-sha256-"},
		{"sha256-abc", "list-aliases-sha256-"},
	} {
		got := AliasesFile(c.id)
		if !strings.HasPrefix(got, c.want) || !strings.HasSuffix(got, ".json") || strings.Contains(got, "/") || len(got) > 255 ||
			(!strings.HasSuffix(c.want, "-") && got != c.want) {
			t.Errorf("AliasesFile(%.20q…) = %q, want %q…", c.id, got, c.want)
		}
	}
	ctx := context.Background()
	s, _ := testStore(t, "")
	id := mustCreate(t, s, "corp")
	mustOK(t, second(s.PutUser(ctx, PutUserInput{OrganizationId: id, User: User{Id: long, Email: "u@corp.awsapps.com", State: "ENABLED", Aliases: []string{"v@corp.awsapps.com"}}})))
	e, err := s.Export(id)
	mustOK(t, err)
	files, err := e.Files()
	mustOK(t, err)
	if _, ok := files[AliasesFile(long)]; !ok {
		t.Fatalf("export files %v lack %s", slices.Sorted(maps.Keys(files)), AliasesFile(long))
	}
	parsed, err := ParseExport(files)
	mustOK(t, err)
	s2, _ := testStore(t, "")
	mustOK(t, second(s2.ImportOrganization(ctx, parsed)))
	out, err := s2.ListAliases(ctx, ListAliasesInput{OrganizationId: id, EntityId: "v@corp.awsapps.com"})
	mustOK(t, err)
	if !slices.Equal(out.Aliases, []string{"v@corp.awsapps.com"}) {
		t.Fatalf("imported aliases: %q", out.Aliases)
	}
}
