package org

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

// openPG opens a store over url with the test clock.
func openPG(t testing.TB, url string, clk *fakeClock, seed byte) *Store {
	t.Helper()
	s, err := Open(Options{Postgres: url, Clock: clk.Now, Rand: newSeeded(seed), RoleLimit: 100, RuleLimit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// waitFor polls cond every millisecond for up to d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("after %v: %s", d, what)
		}
	}
}

// SEMANTICS G2: two stores (two pools, two feeds: nothing shared but the
// database) share the token keys and the page secret: a token assumed
// through one verifies in the other, and a NextToken of one continues in
// the other.
func TestSemanticsG2_TokensAcrossStores(t *testing.T) {
	url := freshSchema(t, pgURL(t))
	clk := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	a, b := openPG(t, url, clk, 1), openPG(t, url, clk, 2)
	org := mustCreate(t, a, "acme")
	addUsers(t, a, org, alice, bob)
	var last string
	for _, name := range []string{"r1", "r2", "r3", "r4", "r5"} {
		out, err := a.CreateImpersonationRole(context.Background(), simpleRole(org, name, impersonation.Rule{ImpersonationRuleId: "all", Name: "all", Effect: policy.Allow, TargetUsers: []string{alice.Id}}))
		mustOK(t, err)
		last = out.ImpersonationRoleId
	}
	waitFor(t, 5*time.Second, "b sees the roles", func() bool { return b.Snapshot(org) != nil && b.Snapshot(org).Role(last) != nil })
	tok, err := a.AssumeImpersonationRole(context.Background(), AssumeImpersonationRoleInput{OrganizationId: org, ImpersonationRoleId: last})
	mustOK(t, err)
	if _, err := b.VerifyToken(tok.Token, org); err != nil {
		t.Fatalf("a token of a does not verify in b: %v", err)
	}
	page := int32(2)
	p1, err := a.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: org, MaxResults: &page})
	mustOK(t, err)
	p2, err := b.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: org, MaxResults: &page, NextToken: p1.NextToken})
	mustOK(t, err)
	if len(p2.Roles) != 2 || p2.Roles[0].Name != "r3" {
		t.Fatalf("b continued a's listing with %+v", p2.Roles)
	}
	orgs, err := b.ListOrganizations(context.Background(), ListOrganizationsInput{MaxResults: ptr(int32(1))})
	mustOK(t, err)
	if _, err := a.ListOrganizations(context.Background(), ListOrganizationsInput{NextToken: orgs.NextToken + "x"}); err == nil {
		t.Fatal("an altered NextToken was accepted")
	}
}

// SEMANTICS G1, B5, C1: ClientToken replays through another store answer
// the first call's ID and create nothing; alias and directory uniqueness
// hold across stores; concurrent writers through two stores lose nothing.
func TestSemanticsG1_ClientTokensAndConflictsAcrossStores(t *testing.T) {
	url := freshSchema(t, pgURL(t))
	clk := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	a, b := openPG(t, url, clk, 1), openPG(t, url, clk, 2)
	o1, err := a.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: "acme", DirectoryId: "d-0123456789", ClientToken: "tok"})
	mustOK(t, err)
	o2, err := b.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: "acme", DirectoryId: "d-0123456789", ClientToken: "tok"})
	mustOK(t, err)
	if o1.OrganizationId != o2.OrganizationId {
		t.Fatalf("replay through b created %s, want %s", o2.OrganizationId, o1.OrganizationId)
	}
	_, err = b.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: "other", ClientToken: "tok"})
	wantCode(t, err, policy.InvalidParameterException)
	_, err = b.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: "ACME"})
	wantCode(t, err, policy.NameAvailabilityException)
	_, err = b.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: "x", DirectoryId: "d-0123456789"})
	wantCode(t, err, policy.DirectoryInUseException)
	org := o1.OrganizationId
	r1, err := a.CreateImpersonationRole(context.Background(), CreateImpersonationRoleInput{OrganizationId: org, Name: "r", Type: impersonation.ReadOnly, ClientToken: "rt"})
	mustOK(t, err)
	r2, err := b.CreateImpersonationRole(context.Background(), CreateImpersonationRoleInput{OrganizationId: org, Name: "r", Type: impersonation.ReadOnly, ClientToken: "rt"})
	mustOK(t, err)
	if r1 != r2 {
		t.Fatalf("role replay through b: %v, want %v", r2, r1)
	}
	// Concurrent writers through both stores: 2 × 40 rules, none lost.
	done := make(chan error, 2)
	for i, s := range []*Store{a, b} {
		go func() {
			for n := range 40 {
				_, err := s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: string(rune('a'+i)) + itoa(n), Effect: policy.Deny, Actions: []string{"EWS"}})
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	mustOK(t, <-done)
	mustOK(t, <-done)
	// Deleting through b frees the alias for a (after b's commit, a's create
	// is checked by the database, not by a's possibly older snapshot).
	_, err = b.DeleteOrganization(context.Background(), DeleteOrganizationInput{OrganizationId: org, DeleteDirectory: ptr(true)})
	mustOK(t, err)
	if _, err := a.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: "acme"}); err != nil {
		t.Fatalf("alias still taken after delete through the other store: %v", err)
	}
	// A fresh store reads everything back: 40 + 40 rules and the default on
	// the deleted organization's last revision is gone, but the count of
	// revisions shows no lost update: 1 (create) + 1 (role) + 80 (rules) + 1 (delete).
	c := openPG(t, url, clk, 3)
	sb := c.sharedBackend()
	rev, err := sb.revision(context.Background(), org)
	mustOK(t, err)
	if rev != 83 {
		t.Fatalf("revision %d after 1+1+80+1 mutations", rev)
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// SEMANTICS G3, G4: a commit through one store reaches the other's
// snapshot; when the other's feed connection is lost (terminated, and
// reconnecting refused) it keeps answering from its last snapshot and
// reports itself stale; once it can reconnect it resynchronizes (the change
// committed meanwhile is there) before it reports itself fresh.
func TestSemanticsG3_FeedStaleAndResync(t *testing.T) {
	base := pgURL(t)
	url := freshSchema(t, base)
	clk := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	a, b := openPG(t, url, clk, 1), openPG(t, url, clk, 2)
	org := mustCreate(t, a, "acme")
	waitFor(t, 5*time.Second, "b sees the new organization", func() bool { return b.Snapshot(org) != nil })
	addUsers(t, a, org, alice)
	_, err := a.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "deny-ews", Effect: policy.Deny, Actions: []string{"EWS"}})
	mustOK(t, err)
	waitFor(t, 5*time.Second, "b sees revision 3", func() bool { return b.Snapshot(org).Revision() == 3 })
	waitFor(t, 5*time.Second, "b fresh", func() bool { return b.SyncStatus().Fresh })

	pb := b.b.(*pgBackend)
	refuse := func() error { return errors.New("test: reconnecting refused") }
	pb.feedFault.Store(&refuse)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	mustOK(t, err)
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend($1)", int32(pb.feedPID.Load())); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "b reports itself stale", func() bool { st := b.SyncStatus(); return !st.Fresh && st.Err != nil })
	stale := b.SyncStatus()
	_, err = a.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "deny-imap", Effect: policy.Deny, Actions: []string{"IMAP"}})
	mustOK(t, err)
	req := accessctl.Request{Action: accessctl.EWS, IP: netip.MustParseAddr("127.0.0.1"), UserID: alice.Id}
	for range 100 { // still answering, from revision 3
		eff, _, rev, err := b.Evaluate(org, req, nil)
		if err != nil || eff != policy.Deny || rev != 3 {
			t.Fatalf("stale b answered %v rev %d err %v", eff, rev, err)
		}
	}
	if st := b.SyncStatus(); st.Fresh || !st.LastSync.Equal(stale.LastSync) {
		t.Fatalf("status while disconnected: %+v", st)
	}
	pb.feedFault.Store(nil)
	waitFor(t, 10*time.Second, "b fresh again", func() bool { return b.SyncStatus().Fresh })
	if rev := b.Snapshot(org).Revision(); rev != 4 {
		t.Fatalf("b fresh at revision %d, want 4 (resync before fresh)", rev)
	}
	if st := b.SyncStatus(); st.Reconnects < 1 || !st.LastSync.After(stale.LastSync) || st.Revision < stale.Revision+1 {
		t.Fatalf("status after resync: %+v (stale: %+v)", st, stale)
	}
}
