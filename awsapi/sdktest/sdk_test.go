package sdktest

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/workmail"
	"github.com/aws/aws-sdk-go-v2/service/workmail/types"
	"github.com/aws/smithy-go"
	"github.com/wmpolicy/wmpolicy/awsapi"
	"github.com/wmpolicy/wmpolicy/org"
)

const (
	keyID  = "WMPSDKTESTKEY0000001"
	secret = "sdk-test-secret-0123456789abcdefghij"
	roKey  = "WMPSDKTESTKEYREADONL"
)

// server starts the handler over a durable store on loopback and returns a
// client of the AWS SDK pointed at it.
func server(t *testing.T) (*workmail.Client, func(id, secret string) *workmail.Client) {
	t.Helper()
	s, err := org.Open(org.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	creds, err := awsapi.ParseCredentials([]byte(`{"Keys":[
		{"AccessKeyId":"` + keyID + `","SecretAccessKey":"` + secret + `"},
		{"AccessKeyId":"` + roKey + `","SecretAccessKey":"` + secret + `","ReadOnly":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	h, err := awsapi.NewHandler(awsapi.Options{Store: s, Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client := func(id, sec string) *workmail.Client {
		return workmail.New(workmail.Options{
			Region:           "us-east-1",
			BaseEndpoint:     aws.String(srv.URL),
			Credentials:      credentials.NewStaticCredentialsProvider(id, sec, ""),
			RetryMaxAttempts: 1,
		})
	}
	return client(keyID, secret), client
}

// must returns v, or panics with err (the test fails with the call's stack).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// wantErr checks that err is of the SDK's typed error E.
func wantErr[E error](t *testing.T, err error) {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want %T", err, err, e)
	}
}

// wantCode checks the API error code of err (for codes the model has no type for).
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

// Every implemented operation through the AWS SDK for Go v2: its
// serializers, its SigV4 signer, its deserializers and typed errors
// (SEMANTICS F1–F4).
func TestSDK(t *testing.T) {
	ctx := context.Background()
	c, clientOf := server(t)

	// Organizations, with a ClientToken replay and the SDK's automatic token.
	co := must(c.CreateOrganization(ctx, &workmail.CreateOrganizationInput{Alias: aws.String("sdk"), ClientToken: aws.String("sdk-token-1"),
		Domains: []types.Domain{{DomainName: aws.String("sdk.example")}}}))
	again := must(c.CreateOrganization(ctx, &workmail.CreateOrganizationInput{Alias: aws.String("sdk"), ClientToken: aws.String("sdk-token-1"),
		Domains: []types.Domain{{DomainName: aws.String("sdk.example")}}}))
	if *again.OrganizationId != *co.OrganizationId {
		t.Fatalf("ClientToken replay: %s, want %s", *again.OrganizationId, *co.OrganizationId)
	}
	_, err := c.CreateOrganization(ctx, &workmail.CreateOrganizationInput{Alias: aws.String("sdk2"), ClientToken: aws.String("sdk-token-1")})
	wantErr[*types.InvalidParameterException](t, err)
	_, err = c.CreateOrganization(ctx, &workmail.CreateOrganizationInput{Alias: aws.String("SDK")})
	wantErr[*types.NameAvailabilityException](t, err)
	for _, a := range []string{"b-org", "c-org"} {
		must(c.CreateOrganization(ctx, &workmail.CreateOrganizationInput{Alias: aws.String(a)}))
	}
	id := co.OrganizationId
	d := must(c.DescribeOrganization(ctx, &workmail.DescribeOrganizationInput{OrganizationId: id}))
	if *d.State != "Active" || *d.DefaultMailDomain != "sdk.example" || d.CompletedDate == nil {
		t.Fatalf("DescribeOrganization: %+v", d)
	}
	var aliases []string
	pages := workmail.NewListOrganizationsPaginator(c, &workmail.ListOrganizationsInput{MaxResults: aws.Int32(1)})
	n := 0
	for pages.HasMorePages() {
		p := must(pages.NextPage(ctx))
		for _, s := range p.OrganizationSummaries {
			aliases = append(aliases, *s.Alias)
		}
		n++
	}
	if len(aliases) != 3 || n < 3 || aliases[0] != "b-org" || aliases[2] != "sdk" {
		t.Fatalf("ListOrganizations pages: %d pages, %v", n, aliases)
	}
	_, err = c.DescribeOrganization(ctx, &workmail.DescribeOrganizationInput{OrganizationId: aws.String("m-00000000000000000000000000000000")})
	wantErr[*types.OrganizationNotFoundException](t, err)
	_, err = c.DescribeOrganization(ctx, &workmail.DescribeOrganizationInput{OrganizationId: aws.String("m-bad")})
	wantCode(t, err, "ValidationException")

	// Users (F4).
	var ids []string
	for _, name := range []string{"alice", "bob", "carol"} {
		u := must(c.CreateUser(ctx, &workmail.CreateUserInput{OrganizationId: id, Name: aws.String(name), DisplayName: aws.String(name), Password: aws.String("Pw-" + name + "-12345")}))
		ids = append(ids, *u.UserId)
	}
	_, err = c.CreateUser(ctx, &workmail.CreateUserInput{OrganizationId: id, Name: aws.String("Alice"), DisplayName: aws.String("again")})
	wantErr[*types.NameAvailabilityException](t, err)
	must(c.RegisterToWorkMail(ctx, &workmail.RegisterToWorkMailInput{OrganizationId: id, EntityId: aws.String("alice"), Email: aws.String("alice@sdk.example")}))
	_, err = c.RegisterToWorkMail(ctx, &workmail.RegisterToWorkMailInput{OrganizationId: id, EntityId: aws.String("bob"), Email: aws.String("bob@elsewhere.example")})
	wantErr[*types.MailDomainNotFoundException](t, err)
	_, err = c.RegisterToWorkMail(ctx, &workmail.RegisterToWorkMailInput{OrganizationId: id, EntityId: aws.String("bob"), Email: aws.String("ALICE@sdk.example")})
	wantErr[*types.EmailAddressInUseException](t, err)
	_, err = c.RegisterToWorkMail(ctx, &workmail.RegisterToWorkMailInput{OrganizationId: id, EntityId: aws.String("alice"), Email: aws.String("a2@sdk.example")})
	wantErr[*types.EntityAlreadyRegisteredException](t, err)
	_, err = c.RegisterToWorkMail(ctx, &workmail.RegisterToWorkMailInput{OrganizationId: id, EntityId: aws.String("nobody"), Email: aws.String("n@sdk.example")})
	wantErr[*types.EntityNotFoundException](t, err)
	du := must(c.DescribeUser(ctx, &workmail.DescribeUserInput{OrganizationId: id, UserId: aws.String("alice@sdk.example")}))
	if du.State != types.EntityStateEnabled || *du.UserId != ids[0] || du.UserRole != types.UserRoleUser || du.EnabledDate == nil {
		t.Fatalf("DescribeUser: %+v", du)
	}
	var listed []string
	up := workmail.NewListUsersPaginator(c, &workmail.ListUsersInput{OrganizationId: id, MaxResults: aws.Int32(2)})
	for up.HasMorePages() {
		for _, u := range must(up.NextPage(ctx)).Users {
			listed = append(listed, *u.Id)
		}
	}
	if len(listed) != 3 {
		t.Fatalf("ListUsers: %v", listed)
	}
	lf := must(c.ListUsers(ctx, &workmail.ListUsersInput{OrganizationId: id, Filters: &types.ListUsersFilters{State: types.EntityStateEnabled}}))
	if len(lf.Users) != 1 || *lf.Users[0].Name != "alice" {
		t.Fatalf("ListUsers filtered: %+v", lf.Users)
	}
	_, err = c.DeleteUser(ctx, &workmail.DeleteUserInput{OrganizationId: id, UserId: aws.String("alice")})
	wantErr[*types.EntityStateException](t, err)

	// Aliases (F5), listed with the SDK's paginator.
	for _, a := range []string{"b@sdk.example", "a@sdk.example", "C@sdk.example"} {
		must(c.CreateAlias(ctx, &workmail.CreateAliasInput{OrganizationId: id, EntityId: aws.String("alice"), Alias: aws.String(a)}))
	}
	_, err = c.CreateAlias(ctx, &workmail.CreateAliasInput{OrganizationId: id, EntityId: aws.String("bob"), Alias: aws.String("bobby@sdk.example")})
	wantErr[*types.EntityStateException](t, err)
	_, err = c.CreateAlias(ctx, &workmail.CreateAliasInput{OrganizationId: id, EntityId: aws.String("alice"), Alias: aws.String("ALICE@sdk.example")})
	wantErr[*types.EmailAddressInUseException](t, err)
	var held []string
	ap := workmail.NewListAliasesPaginator(c, &workmail.ListAliasesInput{OrganizationId: id, EntityId: aws.String(ids[0]), MaxResults: aws.Int32(2)})
	for ap.HasMorePages() {
		held = append(held, must(ap.NextPage(ctx)).Aliases...)
	}
	if strings.Join(held, ",") != "a@sdk.example,b@sdk.example,C@sdk.example" {
		t.Fatalf("ListAliases: %v", held)
	}
	must(c.DeleteAlias(ctx, &workmail.DeleteAliasInput{OrganizationId: id, EntityId: aws.String("alice"), Alias: aws.String("c@SDK.example")}))
	if la := must(c.ListAliases(ctx, &workmail.ListAliasesInput{OrganizationId: id, EntityId: aws.String("alice")})); len(la.Aliases) != 2 {
		t.Fatalf("ListAliases after DeleteAlias: %v", la.Aliases)
	}

	// Access-control rules.
	must(c.PutAccessControlRule(ctx, &workmail.PutAccessControlRuleInput{OrganizationId: id, Name: aws.String("no-imap"), Effect: types.AccessControlRuleEffectDeny,
		Description: aws.String("no IMAP for alice"), Actions: []string{"IMAP"}, UserIds: []string{"alice@sdk.example"}}))
	_, err = c.PutAccessControlRule(ctx, &workmail.PutAccessControlRuleInput{OrganizationId: id, Name: aws.String("typo"), Effect: types.AccessControlRuleEffectDeny,
		Description: aws.String("x"), NotActions: []string{"Imap"}})
	wantErr[*types.InvalidParameterException](t, err)
	rules := must(c.ListAccessControlRules(ctx, &workmail.ListAccessControlRulesInput{OrganizationId: id}))
	if len(rules.Rules) != 2 || *rules.Rules[0].Name != "default" || *rules.Rules[1].Name != "no-imap" || rules.Rules[1].DateCreated == nil {
		t.Fatalf("ListAccessControlRules: %+v", rules.Rules)
	}
	eff := must(c.GetAccessControlEffect(ctx, &workmail.GetAccessControlEffectInput{OrganizationId: id, IpAddress: aws.String("127.0.0.1"), Action: aws.String("IMAP"), UserId: aws.String("alice")}))
	if eff.Effect != types.AccessControlRuleEffectDeny || len(eff.MatchedRules) != 1 || eff.MatchedRules[0] != "no-imap" {
		t.Fatalf("GetAccessControlEffect: %+v", eff)
	}
	eff = must(c.GetAccessControlEffect(ctx, &workmail.GetAccessControlEffectInput{OrganizationId: id, IpAddress: aws.String("127.0.0.1"), Action: aws.String("EWS"), UserId: aws.String(ids[0])}))
	if eff.Effect != types.AccessControlRuleEffectAllow {
		t.Fatalf("GetAccessControlEffect EWS: %+v", eff)
	}

	// Impersonation roles.
	roleIn := &workmail.CreateImpersonationRoleInput{OrganizationId: id, Name: aws.String("reader"), Type: types.ImpersonationRoleTypeReadOnly, ClientToken: aws.String("role-token"),
		Rules: []types.ImpersonationRule{{ImpersonationRuleId: aws.String("r1"), Effect: types.AccessEffectAllow, TargetUsers: []string{"alice"}}}}
	role := must(c.CreateImpersonationRole(ctx, roleIn))
	role2 := must(c.CreateImpersonationRole(ctx, roleIn))
	if *role2.ImpersonationRoleId != *role.ImpersonationRoleId {
		t.Fatal("role ClientToken replay created another role")
	}
	rid := role.ImpersonationRoleId
	gr := must(c.GetImpersonationRole(ctx, &workmail.GetImpersonationRoleInput{OrganizationId: id, ImpersonationRoleId: rid}))
	if *gr.Name != "reader" || gr.Type != types.ImpersonationRoleTypeReadOnly || len(gr.Rules) != 1 || gr.DateCreated == nil {
		t.Fatalf("GetImpersonationRole: %+v", gr)
	}
	for i := 0; i < 2; i++ {
		must(c.CreateImpersonationRole(ctx, &workmail.CreateImpersonationRoleInput{OrganizationId: id, Name: aws.String([]string{"x1", "x2"}[i]),
			Type: types.ImpersonationRoleTypeFullAccess, Rules: []types.ImpersonationRule{}}))
	}
	must(c.UpdateImpersonationRole(ctx, &workmail.UpdateImpersonationRoleInput{OrganizationId: id, ImpersonationRoleId: rid, Name: aws.String("reader2"),
		Type: types.ImpersonationRoleTypeFullAccess, Rules: []types.ImpersonationRule{{ImpersonationRuleId: aws.String("r1"), Effect: types.AccessEffectDeny}}}))
	var roleNames []string
	rp := workmail.NewListImpersonationRolesPaginator(c, &workmail.ListImpersonationRolesInput{OrganizationId: id, MaxResults: aws.Int32(1)})
	for rp.HasMorePages() {
		for _, r := range must(rp.NextPage(ctx)).Roles {
			roleNames = append(roleNames, *r.Name)
		}
	}
	if len(roleNames) != 3 || roleNames[0] != "reader2" {
		t.Fatalf("ListImpersonationRoles: %v", roleNames)
	}
	ge := must(c.GetImpersonationRoleEffect(ctx, &workmail.GetImpersonationRoleEffectInput{OrganizationId: id, ImpersonationRoleId: rid, TargetUser: aws.String("alice")}))
	if ge.Effect != types.AccessEffectDeny || ge.Type != types.ImpersonationRoleTypeFullAccess {
		t.Fatalf("GetImpersonationRoleEffect: %+v", ge)
	}
	_, err = c.GetImpersonationRoleEffect(ctx, &workmail.GetImpersonationRoleEffectInput{OrganizationId: id, ImpersonationRoleId: rid, TargetUser: aws.String("bob")})
	wantErr[*types.EntityStateException](t, err)
	_, err = c.GetImpersonationRole(ctx, &workmail.GetImpersonationRoleInput{OrganizationId: id, ImpersonationRoleId: aws.String("no-such-role")})
	wantErr[*types.ResourceNotFoundException](t, err)
	tok := must(c.AssumeImpersonationRole(ctx, &workmail.AssumeImpersonationRoleInput{OrganizationId: id, ImpersonationRoleId: rid}))
	if tok.Token == nil || tok.ExpiresIn == nil || *tok.ExpiresIn != 900 {
		t.Fatalf("AssumeImpersonationRole: %+v", tok)
	}

	// Authentication and authorization.
	_, err = clientOf(keyID, secret+"x").ListOrganizations(ctx, &workmail.ListOrganizationsInput{})
	wantCode(t, err, "InvalidSignatureException")
	_, err = clientOf("WMPNOSUCHKEY00000001", secret).ListOrganizations(ctx, &workmail.ListOrganizationsInput{})
	wantCode(t, err, "UnrecognizedClientException")
	ro := clientOf(roKey, secret)
	must(ro.ListAccessControlRules(ctx, &workmail.ListAccessControlRulesInput{OrganizationId: id}))
	_, err = ro.DeleteAccessControlRule(ctx, &workmail.DeleteAccessControlRuleInput{OrganizationId: id, Name: aws.String("no-imap")})
	wantCode(t, err, "AccessDeniedException")

	// Operations wmpolicy does not implement.
	_, err = c.CreateGroup(ctx, &workmail.CreateGroupInput{OrganizationId: id, Name: aws.String("g")})
	wantErr[*types.UnsupportedOperationException](t, err)

	// Tear down.
	must(c.DeregisterFromWorkMail(ctx, &workmail.DeregisterFromWorkMailInput{OrganizationId: id, EntityId: aws.String("alice")}))
	_, err = c.DeregisterFromWorkMail(ctx, &workmail.DeregisterFromWorkMailInput{OrganizationId: id, EntityId: aws.String("alice")})
	wantErr[*types.EntityStateException](t, err)
	must(c.DeleteAccessControlRule(ctx, &workmail.DeleteAccessControlRuleInput{OrganizationId: id, Name: aws.String("no-imap")}))
	must(c.DeleteImpersonationRole(ctx, &workmail.DeleteImpersonationRoleInput{OrganizationId: id, ImpersonationRoleId: rid}))
	must(c.DeleteUser(ctx, &workmail.DeleteUserInput{OrganizationId: id, UserId: aws.String("alice")}))
	del := must(c.DeleteOrganization(ctx, &workmail.DeleteOrganizationInput{OrganizationId: id, DeleteDirectory: true}))
	if *del.State != "Deleted" {
		t.Fatalf("DeleteOrganization: %+v", del)
	}
	_, err = c.ListUsers(ctx, &workmail.ListUsersInput{OrganizationId: id})
	wantErr[*types.OrganizationNotFoundException](t, err)
}
