package org

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/internal/fold"
	"github.com/wmpolicy/wmpolicy/internal/reference"
	"github.com/wmpolicy/wmpolicy/policy"
	"github.com/wmpolicy/wmpolicy/policytest"
)

// The in-test model of the store: plain maps, no compilation, no snapshots.
type modelOrg struct {
	alias string
	rules map[string]accessctl.Rule // dates zeroed
	roles map[string]impersonation.Role
	users map[string]policy.UserJSON // by ID
	// aliases holds each user's aliases (F5), by user ID, as created.
	aliases map[string][]string
}

// enabled reports whether the organization has an ENABLED user (C2).
func (o *modelOrg) enabled() bool {
	for _, u := range o.users {
		if u.State == "ENABLED" {
			return true
		}
	}
	return false
}

// directory is the organization's directory as the model sees it.
func (o *modelOrg) directory(t *rapid.T) *policy.MemDirectory {
	var us []policy.User
	for _, u := range o.users {
		us = append(us, policy.User{ID: u.Id, Email: u.Email, State: u.State, Aliases: o.aliases[u.Id]})
	}
	d, err := policy.NewDirectory(us)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// names reports whether a rule or role of the organization names user id.
func (o *modelOrg) names(id string) bool {
	for _, r := range o.rules {
		if slices.Contains(r.UserIds, id) || slices.Contains(r.NotUserIds, id) {
			return true
		}
	}
	for _, r := range o.roles {
		for _, rr := range r.Rules {
			if slices.Contains(rr.TargetUsers, id) || slices.Contains(rr.NotTargetUsers, id) {
				return true
			}
		}
	}
	return false
}

// smUserPool is the users the state machine adds and removes: the
// generators' users and one more.
var smUserPool = append(slices.Clone(policytest.UserIDs()), "S-1-1-11-1111111111-2222222222-3333333333-0099")

func smUser(id string) policy.UserJSON {
	return policy.UserJSON{Id: id, Email: strings.ToLower(id[len(id)-4:]) + "@example.com", State: "ENABLED"}
}

type model struct {
	live    map[string]*modelOrg
	deleted map[string]bool
}

const (
	smRoleLimit = 4
	smRuleLimit = 4 // small, so that LimitExceededException happens often
)

var smAliases = []string{"a", "A", "b", "c-d", "d-x", "", "e--f"}
var smRuleNames = []string{"default", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11"}
var smRoleNames = []string{"alpha", "beta", "gamma", "delta", "epsilon"}

// smUsers is every organization's directory in the state machine.
var smUsers = func() []policy.UserJSON {
	var us []policy.UserJSON
	for i, id := range policytest.UserIDs() {
		us = append(us, policy.UserJSON{Id: id, Email: fmt.Sprintf("u%d@example.com", i), State: "ENABLED"})
	}
	return us
}()

type machine struct {
	s *Store
	m model

	state string // the state directory, "" in memory
	pg    string // the PostgreSQL URL in pgMode, else ""
	seed  byte
	opens int
}

// reopen closes the store and opens its state directory again: the reopened
// store must hold exactly what the model holds (checked after the step).
func (mc *machine) reopen(t *rapid.T) {
	if err := mc.s.Close(); err != nil {
		t.Fatal(err)
	}
	mc.opens++
	s, err := Open(Options{Dir: mc.state, Postgres: mc.pg, RoleLimit: smRoleLimit, RuleLimit: smRuleLimit, Rand: newSeeded(mc.seed + byte(mc.opens))})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	mc.s = s
}

func (mc *machine) pickOrg(t *rapid.T) string {
	ids := []string{"m-0123456789abcdef0123456789abcdef", "m-bad"}
	for id := range mc.m.live {
		ids = append(ids, id)
	}
	for id := range mc.m.deleted {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return rapid.SampledFrom(ids).Draw(t, "org")
}

// orgErr is the error the model expects for an organization that is not live.
func (mc *machine) orgErr(id string) policy.Code {
	if !policy.ValidOrganizationID(id) {
		return policy.ValidationException
	}
	if mc.m.live[id] == nil {
		return policy.OrganizationNotFoundException
	}
	return ""
}

// expect checks a call's outcome against the model's prediction and that a
// failed call left the store's revision alone.
func expect(t *rapid.T, what string, err error, want policy.Code) {
	t.Helper()
	if policy.CodeOf(err) != want || (err == nil) != (want == "") {
		t.Fatalf("%s: err = %v, want code %q", what, err, want)
	}
}

func (mc *machine) revs() map[string]uint64 {
	out := map[string]uint64{}
	for id := range mc.m.live {
		out[id] = mc.s.Snapshot(id).Revision()
	}
	return out
}

func (mc *machine) createOrg(t *rapid.T) {
	alias := rapid.SampledFrom(smAliases).Draw(t, "alias")
	var want policy.Code
	if checkAlias(alias) != "" {
		want = policy.ValidationException
	} else {
		for _, o := range mc.m.live {
			if fold.String(o.alias) == fold.String(alias) {
				want = policy.NameAvailabilityException
			}
		}
	}
	before := mc.revs()
	out, err := mc.s.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: alias})
	expect(t, "CreateOrganization", err, want)
	if err != nil {
		if !cmp.Equal(before, mc.revs()) {
			t.Fatal("failed CreateOrganization changed revisions")
		}
		return
	}
	_, err = mc.s.ImportUsers(context.Background(), ImportUsersInput{OrganizationId: out.OrganizationId, Users: smUsers})
	if err != nil {
		t.Fatal(err)
	}
	o := &modelOrg{alias: alias, users: map[string]policy.UserJSON{},
		rules: map[string]accessctl.Rule{"default": defaultRule()}, roles: map[string]impersonation.Role{}}
	for _, u := range smUsers {
		o.users[u.Id] = u
	}
	mc.m.live[out.OrganizationId] = o
}

func (mc *machine) deleteOrg(t *rapid.T) {
	id := mc.pickOrg(t)
	force := rapid.Bool().Draw(t, "force")
	want := mc.orgErr(id)
	if mc.m.deleted[id] {
		want = ""
	} else if want == "" && mc.m.live[id].enabled() && !force {
		want = policy.OrganizationStateException
	}
	_, err := mc.s.DeleteOrganization(context.Background(), DeleteOrganizationInput{OrganizationId: id, DeleteDirectory: ptr(true), ForceDelete: force})
	expect(t, "DeleteOrganization", err, want)
	if err == nil {
		delete(mc.m.live, id)
		mc.m.deleted[id] = true
	}
}

func (mc *machine) roleIDs(id string) []string {
	ids := []string{"ghost-role"}
	if o := mc.m.live[id]; o != nil {
		for rid := range o.roles {
			ids = append(ids, rid)
		}
	}
	sort.Strings(ids)
	return ids
}

func (mc *machine) putRule(t *rapid.T) {
	id := mc.pickOrg(t)
	name := rapid.SampledFrom(smRuleNames).Draw(t, "name")
	rule := policytest.Rule(name, policytest.RuleOptions{Users: true, Roles: rapid.Bool().Draw(t, "roles?"), RoleIDs: mc.roleIDs(id)}).Draw(t, "rule")
	invalid := rapid.IntRange(0, 9).Draw(t, "invalid?") == 0
	if invalid {
		rule.Actions = append(rule.Actions, "Imap")
	}
	want := mc.orgErr(id)
	if want == "" {
		o := mc.m.live[id]
		switch {
		case invalid:
			want = policy.InvalidParameterException
		case slices.ContainsFunc(append(slices.Clone(rule.ImpersonationRoleIds), rule.NotImpersonationRoleIds...), func(r string) bool { _, ok := o.roles[r]; return !ok }):
			want = policy.ResourceNotFoundException // reported before unknown users (paths in order)
		case slices.ContainsFunc(append(slices.Clone(rule.UserIds), rule.NotUserIds...), func(u string) bool { _, ok := o.users[u]; return !ok }):
			want = policy.EntityNotFoundException
		case len(o.rules) >= smRuleLimit && o.rules[name].Name == "":
			want = policy.LimitExceededException
		}
	} else if invalid && want == policy.OrganizationNotFoundException {
		want = policy.InvalidParameterException // the rule is checked before the organization is looked up
	}
	before := mc.revs()
	_, err := mc.s.PutAccessControlRule(context.Background(), PutRuleInput(id, rule))
	expect(t, "PutAccessControlRule", err, want)
	if err != nil {
		if !cmp.Equal(before, mc.revs()) {
			t.Fatal("failed PutAccessControlRule changed revisions")
		}
		return
	}
	mc.m.live[id].rules[name] = rule
}

func (mc *machine) deleteRule(t *rapid.T) {
	id := mc.pickOrg(t)
	name := rapid.SampledFrom(smRuleNames).Draw(t, "name")
	_, err := mc.s.DeleteAccessControlRule(context.Background(), DeleteAccessControlRuleInput{OrganizationId: id, Name: name})
	expect(t, "DeleteAccessControlRule", err, mc.orgErr(id))
	if err == nil {
		delete(mc.m.live[id].rules, name)
	}
}

func (mc *machine) drawRoleRules(t *rapid.T) []impersonation.Rule {
	n := rapid.IntRange(0, 3).Draw(t, "role rules")
	var rules []impersonation.Rule
	for i := 0; i < n; i++ {
		r := impersonation.Rule{ImpersonationRuleId: fmt.Sprintf("rule%d", i),
			Effect: rapid.SampledFrom([]policy.Effect{policy.Allow, policy.Deny}).Draw(t, "effect")}
		if rapid.Bool().Draw(t, "targets?") {
			r.TargetUsers = []string{rapid.SampledFrom(smUserPool).Draw(t, "target")}
		}
		rules = append(rules, r)
	}
	return rules
}

func (mc *machine) nameTaken(id, name, except string) bool {
	for rid, r := range mc.m.live[id].roles {
		if r.Name == name && rid != except {
			return true
		}
	}
	return false
}

func (mc *machine) unknownTarget(id string, rules []impersonation.Rule) bool {
	for _, r := range rules {
		for _, u := range append(slices.Clone(r.TargetUsers), r.NotTargetUsers...) {
			if _, ok := mc.m.live[id].users[u]; !ok {
				return true
			}
		}
	}
	return false
}

func (mc *machine) putUser(t *rapid.T) {
	id := mc.pickOrg(t)
	u := smUser(rapid.SampledFrom(smUserPool).Draw(t, "user"))
	u.State = rapid.SampledFrom([]string{"ENABLED", "DISABLED"}).Draw(t, "state")
	before := mc.revs()
	_, err := mc.s.PutUser(context.Background(), PutUserInput{OrganizationId: id, User: User{Id: u.Id, Email: u.Email, State: u.State}})
	expect(t, "PutUser", err, mc.orgErr(id))
	if err != nil {
		if !cmp.Equal(before, mc.revs()) {
			t.Fatal("failed PutUser changed revisions")
		}
		return
	}
	mc.m.live[id].users[u.Id] = u
	delete(mc.m.live[id].aliases, u.Id) // PutUser replaces the user whole
}

// userIdents are the identifiers the user operations draw from: the pool's
// IDs, the users the organization has now (IDs and names) and some names.
func (mc *machine) userIdents(id string) []string {
	ids := append(slices.Clone(smUserPool), "ghost", "carol", "u0@example.com")
	if o := mc.m.live[id]; o != nil {
		for uid, u := range o.users {
			ids = append(ids, uid)
			if u.Name != "" {
				ids = append(ids, strings.ToUpper(u.Name))
			}
			ids = append(ids, o.aliases[uid]...)
		}
	}
	sort.Strings(ids)
	return slices.Compact(ids)
}

// resolve finds the model's user named by ident (A18: the ID exactly, an
// email or user name case-insensitively).
func (o *modelOrg) resolve(ident string) (policy.UserJSON, bool) {
	if u, ok := o.users[ident]; ok {
		return u, true
	}
	for _, u := range o.users {
		if (u.Email != "" && fold.String(u.Email) == fold.String(ident)) || (u.Name != "" && fold.String(u.Name) == fold.String(ident)) ||
			slices.ContainsFunc(o.aliases[u.Id], func(a string) bool { return fold.String(a) == fold.String(ident) }) {
			return u, true
		}
	}
	return policy.UserJSON{}, false
}

// owner is the model of the store's identifier uniqueness: the user one of
// whose identifiers folds to v's fold.
func (o *modelOrg) owner(v string) (string, bool) {
	for uid, u := range o.users {
		for _, x := range append([]string{u.Id, u.Email, u.Name}, o.aliases[uid]...) {
			if x != "" && fold.String(x) == fold.String(v) {
				return uid, true
			}
		}
	}
	return "", false
}

// SEMANTICS F4: DeleteUser refuses an ENABLED user, and one a rule or role
// still names.
func (mc *machine) deleteUser(t *rapid.T) {
	id := mc.pickOrg(t)
	ident := rapid.SampledFrom(mc.userIdents(id)).Draw(t, "user")
	want := mc.orgErr(id)
	var uid string
	if want == "" {
		o := mc.m.live[id]
		u, ok := o.resolve(ident)
		uid = u.Id
		switch {
		case !ok:
			want = policy.EntityNotFoundException
		case u.State == "ENABLED":
			want = policy.EntityStateException
		case o.names(uid):
			want = policy.EntityNotFoundException
		}
	}
	before := mc.revs()
	_, err := mc.s.DeleteUser(context.Background(), DeleteUserInput{OrganizationId: id, UserId: ident})
	expect(t, "DeleteUser", err, want)
	if err != nil {
		if !cmp.Equal(before, mc.revs()) {
			t.Fatal("failed DeleteUser changed revisions")
		}
		return
	}
	delete(mc.m.live[id].users, uid)
	delete(mc.m.live[id].aliases, uid)
}

var smUserNames = []string{"carol", "Carol", "dave", "u0@example.com", "erin.x"}

// SEMANTICS F4: CreateUser makes a DISABLED user with a new ID; a name that
// already names a user is NameAvailabilityException.
func (mc *machine) createUser(t *rapid.T) {
	id := mc.pickOrg(t)
	name := rapid.SampledFrom(smUserNames).Draw(t, "user name")
	want := mc.orgErr(id)
	if want == "" {
		if _, taken := mc.m.live[id].owner(name); taken {
			want = policy.NameAvailabilityException
		}
	}
	before := mc.revs()
	out, err := mc.s.CreateUser(context.Background(), CreateUserInput{OrganizationId: id, Name: name, DisplayName: "User " + name, Password: "not kept"})
	expect(t, "CreateUser", err, want)
	if err != nil {
		if !cmp.Equal(before, mc.revs()) {
			t.Fatal("failed CreateUser changed revisions")
		}
		return
	}
	mc.m.live[id].users[out.UserId] = policy.UserJSON{Id: out.UserId, Name: name, DisplayName: "User " + name, State: "DISABLED"}
}

// SEMANTICS F4: RegisterToWorkMail enables a user with an email of one of the
// organization's domains that no other user has.
func (mc *machine) register(t *rapid.T) {
	id := mc.pickOrg(t)
	ident := rapid.SampledFrom(mc.userIdents(id)).Draw(t, "user")
	dom := "other.example"
	if o := mc.m.live[id]; o != nil {
		dom = strings.ToLower(o.alias) + ".awsapps.com"
	}
	email := rapid.SampledFrom([]string{"x@" + dom, "Y@" + strings.ToUpper(dom), "x@example.com", "u1@example.com"}).Draw(t, "email")
	want := mc.orgErr(id)
	var u policy.UserJSON
	if want == "" {
		o := mc.m.live[id]
		var ok bool
		u, ok = o.resolve(ident)
		other, taken := o.owner(email)
		switch {
		case !ok:
			want = policy.EntityNotFoundException
		case u.State == "ENABLED":
			want = policy.EntityAlreadyRegisteredException
		case !strings.HasSuffix(strings.ToLower(email), "@"+dom):
			want = policy.MailDomainNotFoundException
		case taken && other != u.Id:
			want = policy.EmailAddressInUseException
		}
	}
	before := mc.revs()
	_, err := mc.s.RegisterToWorkMail(context.Background(), RegisterToWorkMailInput{OrganizationId: id, EntityId: ident, Email: email})
	expect(t, "RegisterToWorkMail", err, want)
	if err != nil {
		if !cmp.Equal(before, mc.revs()) {
			t.Fatal("failed RegisterToWorkMail changed revisions")
		}
		return
	}
	u.Email, u.State = email, "ENABLED"
	mc.m.live[id].users[u.Id] = u
}

// SEMANTICS F4: DeregisterFromWorkMail disables an ENABLED user and keeps its
// email.
func (mc *machine) deregister(t *rapid.T) {
	id := mc.pickOrg(t)
	ident := rapid.SampledFrom(mc.userIdents(id)).Draw(t, "user")
	want := mc.orgErr(id)
	var u policy.UserJSON
	if want == "" {
		var ok bool
		u, ok = mc.m.live[id].resolve(ident)
		switch {
		case !ok:
			want = policy.EntityNotFoundException
		case u.State != "ENABLED":
			want = policy.EntityStateException
		}
	}
	before := mc.revs()
	_, err := mc.s.DeregisterFromWorkMail(context.Background(), DeregisterFromWorkMailInput{OrganizationId: id, EntityId: ident})
	expect(t, "DeregisterFromWorkMail", err, want)
	if err != nil {
		if !cmp.Equal(before, mc.revs()) {
			t.Fatal("failed DeregisterFromWorkMail changed revisions")
		}
		return
	}
	u.State = "DISABLED"
	mc.m.live[id].users[u.Id] = u
}

// smAliasLocals are the local parts of the aliases the machine creates: no
// rule or role names them, and no email drawn elsewhere equals them.
var smAliasLocals = []string{"al1", "AL1", "al2", "al3"}

// aliasDraw draws a user identifier and an alias address for organization
// id: mostly in its default mail domain, sometimes in a foreign one.
func (mc *machine) aliasDraw(t *rapid.T, id string) (ident, alias string) {
	ident = rapid.SampledFrom(mc.userIdents(id)).Draw(t, "user")
	dom := "other.example"
	if o := mc.m.live[id]; o != nil && rapid.IntRange(0, 5).Draw(t, "foreign") > 0 {
		dom = strings.ToLower(o.alias) + ".awsapps.com"
	}
	return ident, rapid.SampledFrom(smAliasLocals).Draw(t, "alias") + "@" + dom
}

// SEMANTICS F5: CreateAlias adds an address to an ENABLED user in one of the
// organization's domains that no other identifier holds; one the user has
// already changes nothing.
func (mc *machine) createAlias(t *rapid.T) {
	id := mc.pickOrg(t)
	ident, alias := mc.aliasDraw(t, id)
	want := mc.orgErr(id)
	var u policy.UserJSON
	has := false
	if want == "" {
		o := mc.m.live[id]
		var ok bool
		u, ok = o.resolve(ident)
		other, taken := o.owner(alias)
		has = taken && other == u.Id && slices.ContainsFunc(o.aliases[u.Id], func(a string) bool { return fold.String(a) == fold.String(alias) })
		switch {
		case !ok:
			want = policy.EntityNotFoundException
		case u.State != "ENABLED":
			want = policy.EntityStateException
		case has:
		case !strings.HasSuffix(alias, ".awsapps.com"):
			want = policy.MailDomainNotFoundException
		case taken:
			want = policy.EmailAddressInUseException
		}
	}
	before := mc.revs()
	_, err := mc.s.CreateAlias(context.Background(), CreateAliasInput{OrganizationId: id, EntityId: ident, Alias: alias})
	expect(t, "CreateAlias", err, want)
	if err != nil || has {
		if !cmp.Equal(before, mc.revs()) {
			t.Fatal("a CreateAlias that changes nothing changed revisions")
		}
		return
	}
	o := mc.m.live[id]
	if o.aliases == nil {
		o.aliases = map[string][]string{}
	}
	o.aliases[u.Id] = append(o.aliases[u.Id], alias)
}

// SEMANTICS F5: DeleteAlias removes an alias (any case); one the user does
// not have changes nothing.
func (mc *machine) deleteAlias(t *rapid.T) {
	id := mc.pickOrg(t)
	ident, alias := mc.aliasDraw(t, id)
	want := mc.orgErr(id)
	var u policy.UserJSON
	j := -1
	if want == "" {
		o := mc.m.live[id]
		var ok bool
		u, ok = o.resolve(ident)
		if !ok {
			want = policy.EntityNotFoundException
		}
		j = slices.IndexFunc(o.aliases[u.Id], func(a string) bool { return fold.String(a) == fold.String(alias) })
	}
	before := mc.revs()
	_, err := mc.s.DeleteAlias(context.Background(), DeleteAliasInput{OrganizationId: id, EntityId: ident, Alias: alias})
	expect(t, "DeleteAlias", err, want)
	if err != nil || j < 0 {
		if !cmp.Equal(before, mc.revs()) {
			t.Fatal("a DeleteAlias that changes nothing changed revisions")
		}
		return
	}
	o := mc.m.live[id]
	o.aliases[u.Id] = slices.Delete(o.aliases[u.Id], j, j+1)
	if len(o.aliases[u.Id]) == 0 {
		delete(o.aliases, u.Id)
	}
}

// SEMANTICS F4 / issue 14 item 4: export → import reproduces the
// organization (its rules with their dates, roles with IDs and dates,
// users), and export → import → export is byte-identical.
func (mc *machine) exportImport(t *rapid.T) {
	ids := mc.liveIDs()
	if len(ids) == 0 {
		return
	}
	id := rapid.SampledFrom(ids).Draw(t, "exported org")
	e, err := mc.s.Export(id)
	if err != nil {
		t.Fatal(err)
	}
	files, err := e.Files()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseExport(files)
	if err != nil {
		t.Fatalf("ParseExport of an export: %v", err)
	}
	fresh, err := Open(Options{RoleLimit: smRoleLimit, RuleLimit: smRuleLimit})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if _, err := fresh.ImportOrganization(context.Background(), parsed); err != nil {
		t.Fatalf("ImportOrganization: %v", err)
	}
	e2, err := fresh.Export(id)
	if err != nil {
		t.Fatal(err)
	}
	files2, err := e2.Files()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(files, files2); diff != "" {
		t.Fatalf("export → import → export differs: %s", diff)
	}
	a, b := mc.s.Snapshot(id), fresh.Snapshot(id)
	if diff := cmp.Diff(a.Rules(), b.Rules(), cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("imported rules: %s", diff)
	}
	if diff := cmp.Diff(a.Roles(), b.Roles(), cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("imported roles: %s", diff)
	}
	if diff := cmp.Diff(a.Users(), b.Users(), cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("imported users: %s", diff)
	}
	// Importing it again here is refused and changes nothing.
	if _, err := mc.s.ImportOrganization(context.Background(), parsed); policy.CodeOf(err) != policy.NameAvailabilityException {
		t.Fatalf("import over the live organization: %v", err)
	}
}

func (mc *machine) liveIDs() []string {
	var ids []string
	for id := range mc.m.live {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// checkUsers compares ListUsers (paged) and DescribeUser with the model
// (SEMANTICS F4, pagination as B7).
func (mc *machine) checkUsers(t *rapid.T, id string, o *modelOrg) {
	var want []UserSummary
	for _, u := range o.users {
		want = append(want, UserSummary{Id: u.Id, Email: u.Email, Name: u.Name, DisplayName: u.DisplayName, State: u.State})
	}
	sort.Slice(want, func(i, j int) bool { return want[i].Id < want[j].Id })
	var got []UserSummary
	page := int32(rapid.IntRange(1, 4).Draw(t, "user page"))
	tok := ""
	for {
		out, err := mc.s.ListUsers(context.Background(), ListUsersInput{OrganizationId: id, NextToken: tok, MaxResults: &page})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Users) > int(page) {
			t.Fatalf("ListUsers: %d users in a page of %d", len(out.Users), page)
		}
		got = append(got, out.Users...)
		if tok = out.NextToken; tok == "" {
			break
		}
	}
	for i := range got {
		got[i].UserRole, got[i].EnabledDate, got[i].DisabledDate = "", 0, 0
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("ListUsers of %s: %s", id, diff)
	}
	for _, u := range want {
		d, err := mc.s.DescribeUser(context.Background(), DescribeUserInput{OrganizationId: id, UserId: u.Id})
		if err != nil || d.UserId != u.Id || d.Email != u.Email || d.State != u.State || d.Name != u.Name {
			t.Fatalf("DescribeUser %s: %+v %v, want %+v", u.Id, d, err, u)
		}
		// ListAliases (F5), paged, in case-folded order.
		wantAliases := slices.Clone(o.aliases[u.Id])
		slices.SortFunc(wantAliases, func(a, b string) int { return strings.Compare(fold.String(a), fold.String(b)) })
		var gotAliases []string
		tok := ""
		for {
			out, err := mc.s.ListAliases(context.Background(), ListAliasesInput{OrganizationId: id, EntityId: u.Id, NextToken: tok, MaxResults: &page})
			if err != nil {
				t.Fatal(err)
			}
			gotAliases = append(gotAliases, out.Aliases...)
			if tok = out.NextToken; tok == "" {
				break
			}
		}
		if diff := cmp.Diff(wantAliases, gotAliases, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("ListAliases of %s: %s", u.Id, diff)
		}
	}
}

func (mc *machine) createRole(t *rapid.T) {
	id := mc.pickOrg(t)
	in := CreateImpersonationRoleInput{OrganizationId: id, Name: rapid.SampledFrom(smRoleNames).Draw(t, "role name"),
		Type:  rapid.SampledFrom([]impersonation.Type{impersonation.FullAccess, impersonation.ReadOnly}).Draw(t, "type"),
		Rules: mc.drawRoleRules(t)}
	want := mc.orgErr(id)
	if want == "" {
		switch {
		case mc.nameTaken(id, in.Name, ""):
			want = policy.InvalidParameterException
		case len(mc.m.live[id].roles) >= smRoleLimit:
			want = policy.LimitExceededException
		case mc.unknownTarget(id, in.Rules):
			want = policy.EntityNotFoundException
		}
	}
	before := mc.revs()
	out, err := mc.s.CreateImpersonationRole(context.Background(), in)
	expect(t, "CreateImpersonationRole", err, want)
	if err != nil && !cmp.Equal(before, mc.revs()) {
		t.Fatal("failed CreateImpersonationRole changed revisions")
	}
	if err == nil {
		mc.m.live[id].roles[out.ImpersonationRoleId] = impersonation.Role{ImpersonationRoleId: out.ImpersonationRoleId,
			Name: in.Name, Type: in.Type, Rules: in.Rules}
	}
}

func (mc *machine) updateRole(t *rapid.T) {
	id := mc.pickOrg(t)
	rid := rapid.SampledFrom(mc.roleIDs(id)).Draw(t, "role")
	in := UpdateImpersonationRoleInput{OrganizationId: id, ImpersonationRoleId: rid, Name: rapid.SampledFrom(smRoleNames).Draw(t, "role name"),
		Type: impersonation.ReadOnly, Rules: mc.drawRoleRules(t)}
	want := mc.orgErr(id)
	if want == "" {
		switch {
		case mc.m.live[id].roles[rid].Name == "":
			want = policy.ResourceNotFoundException
		case mc.nameTaken(id, in.Name, rid):
			want = policy.InvalidParameterException
		case mc.unknownTarget(id, in.Rules):
			want = policy.EntityNotFoundException
		}
	}
	before := mc.revs()
	_, err := mc.s.UpdateImpersonationRole(context.Background(), in)
	expect(t, "UpdateImpersonationRole", err, want)
	if err != nil && !cmp.Equal(before, mc.revs()) {
		t.Fatal("failed UpdateImpersonationRole changed revisions")
	}
	if err == nil {
		mc.m.live[id].roles[rid] = impersonation.Role{ImpersonationRoleId: rid, Name: in.Name, Type: in.Type, Rules: in.Rules}
	}
}

func (mc *machine) deleteRole(t *rapid.T) {
	id := mc.pickOrg(t)
	rid := rapid.SampledFrom(mc.roleIDs(id)).Draw(t, "role")
	_, err := mc.s.DeleteImpersonationRole(context.Background(), DeleteImpersonationRoleInput{OrganizationId: id, ImpersonationRoleId: rid})
	expect(t, "DeleteImpersonationRole", err, mc.orgErr(id))
	if err == nil {
		delete(mc.m.live[id].roles, rid)
	}
}

func undated(rules []accessctl.Rule) []accessctl.Rule {
	for i := range rules {
		rules[i].DateCreated, rules[i].DateModified = 0, 0
	}
	return rules
}

// check compares every listing and some effects with the model.
func (mc *machine) check(t *rapid.T) {
	var wantOrgs []string
	for id := range mc.m.live {
		wantOrgs = append(wantOrgs, id)
	}
	sort.Slice(wantOrgs, func(i, j int) bool {
		a, b := mc.m.live[wantOrgs[i]], mc.m.live[wantOrgs[j]]
		return lessKey([2]string{fold.String(a.alias), wantOrgs[i]}, [2]string{fold.String(b.alias), wantOrgs[j]})
	})
	var gotOrgs []string
	tok := ""
	page := int32(rapid.IntRange(1, 3).Draw(t, "org page"))
	for {
		out, err := mc.s.ListOrganizations(context.Background(), ListOrganizationsInput{NextToken: tok, MaxResults: ptr[int32](page)})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.OrganizationSummaries {
			gotOrgs = append(gotOrgs, o.OrganizationId)
		}
		if tok = out.NextToken; tok == "" {
			break
		}
	}
	if diff := cmp.Diff(wantOrgs, gotOrgs); diff != "" {
		t.Fatalf("ListOrganizations: %s", diff)
	}
	for _, id := range wantOrgs {
		o := mc.m.live[id]
		var want []accessctl.Rule
		for _, r := range o.rules {
			want = append(want, r)
		}
		sort.Slice(want, func(i, j int) bool { return want[i].Name < want[j].Name })
		got := rulesOf(t, mc.s, id)
		if diff := cmp.Diff(want, undated(got), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("rules of %s: %s", id, diff)
		}
		var wantRoles []impersonation.Role
		for _, r := range o.roles {
			wantRoles = append(wantRoles, r)
		}
		sortRoles(wantRoles)
		gotRoles := allRoles(t, mc.s, id, int32(rapid.IntRange(1, 3).Draw(t, "role page")))
		if len(gotRoles) != len(wantRoles) {
			t.Fatalf("roles of %s: %d, want %d", id, len(gotRoles), len(wantRoles))
		}
		for i, r := range wantRoles {
			g := gotRoles[i]
			if g.ImpersonationRoleId != r.ImpersonationRoleId || g.Name != r.Name || g.Type != r.Type {
				t.Fatalf("role %d of %s: %+v, want %+v", i, id, g, r)
			}
		}
		mc.checkUsers(t, id, o)
		// Effects equal the reference's on the model's rules, roles and users.
		odir := o.directory(t)
		if got := len(mc.s.Snapshot(id).Users()); got != len(o.users) {
			t.Fatalf("users of %s: %d, want %d", id, got, len(o.users))
		}
		for i := 0; i < 3; i++ {
			req := policytest.RequestFor(want).Draw(t, "request")
			eff, m, _, err := mc.s.Evaluate(id, req, nil)
			ref, rerr := reference.Evaluate(want, req, odir)
			if _, live := o.roles[req.ImpersonationRoleID]; rerr == nil && req.ImpersonationRoleID != "" && !live {
				// A valid request naming a role the organization does not
				// have (a rule may still name a deleted one) is refused (B6).
				rerr = policy.Errorf(policy.ResourceNotFoundException, "ImpersonationRoleId", "no such role")
			}
			if policy.CodeOf(err) != policy.CodeOf(rerr) || (err == nil && (eff != ref.Effect || !slices.Equal(m, ref.MatchedRules))) {
				t.Fatalf("Evaluate %+v: %v %v %v; reference %v %v %v", req, eff, m, err, ref.Effect, ref.MatchedRules, rerr)
			}
		}
		for rid, r := range o.roles {
			target := rapid.SampledFrom(smUserPool).Draw(t, "target")
			got, err := mc.s.GetImpersonationRoleEffect(context.Background(), impersonation.GetImpersonationRoleEffectInput{OrganizationId: id, ImpersonationRoleId: rid, TargetUser: target})
			ref, rerr := reference.EvaluateImpersonation(r, target, odir)
			if policy.CodeOf(err) != policy.CodeOf(rerr) || (err == nil && (got.Effect != ref.Effect || got.Type != ref.Type ||
				!slices.Equal(got.MatchedRules, ref.MatchedRules))) {
				t.Fatalf("GetImpersonationRoleEffect %s %s: %+v %v; reference %+v %v", rid, target, got, err, ref, rerr)
			}
		}
	}
}

// TestStateMachine runs random sequences of valid and invalid operations
// against the store and the model; after every step every listing and some
// effects equal the model's, and failed calls change nothing (SEMANTICS D1).
func TestStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		runMachine(t, "")
	})
}

// TestStateMachineDurable is TestStateMachine over a state directory, with
// one more operation: close and reopen the store. Everything must survive.
// (The fsyncs are skipped here to keep it fast; TestCrashSafety keeps them.)
func TestStateMachineDurable(t *testing.T) {
	noSync = true
	defer func() { noSync = false }()
	rapid.Check(t, func(t *rapid.T) {
		state, err := os.MkdirTemp("", "wmpolicy-org-sm")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(state)
		runMachine(t, state)
	})
}

func runMachine(t *rapid.T, state string) {
	seed := byte(rapid.IntRange(0, 255).Draw(t, "seed"))
	var pg string
	if state == "" {
		pg = pgStoreURL(t) // TestPostgresSuite: the same machine over PostgreSQL
	}
	s, err := Open(Options{Dir: state, Postgres: pg, RoleLimit: smRoleLimit, RuleLimit: smRuleLimit, Rand: newSeeded(seed)})
	if err != nil {
		t.Fatal(err)
	}
	mc := &machine{s: s, m: model{live: map[string]*modelOrg{}, deleted: map[string]bool{}}, state: state, pg: pg, seed: seed}
	defer func() { mc.s.Close() }()
	mc.createOrg(t)
	actions := map[string]func(*rapid.T){
		"CreateOrganization":      mc.createOrg,
		"DeleteOrganization":      mc.deleteOrg,
		"PutAccessControlRule":    mc.putRule,
		"DeleteAccessControlRule": mc.deleteRule,
		"CreateImpersonationRole": mc.createRole,
		"UpdateImpersonationRole": mc.updateRole,
		"DeleteImpersonationRole": mc.deleteRole,
		"PutUser":                 mc.putUser,
		"DeleteUser":              mc.deleteUser,
		"CreateUser":              mc.createUser,
		"RegisterToWorkMail":      mc.register,
		"DeregisterFromWorkMail":  mc.deregister,
		"CreateAlias":             mc.createAlias,
		"DeleteAlias":             mc.deleteAlias,
		"ExportImport":            mc.exportImport,
		"":                        mc.check,
	}
	if state != "" || pg != "" {
		actions["Reopen"] = mc.reopen
	}
	t.Repeat(actions)
}
