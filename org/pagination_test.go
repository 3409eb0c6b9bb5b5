package org

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"pgregory.net/rapid"
)

// Concatenated pages equal the full listing, for random stores and page sizes
// (SEMANTICS B7, C3).
func TestPaginationConcatenation(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s, err := Open(Options{RoleLimit: 40, Rand: newSeeded(byte(rapid.IntRange(0, 255).Draw(t, "seed")))})
		if err != nil {
			t.Fatal(err)
		}
		org := mustCreate(t, s, "acme")
		nroles := rapid.IntRange(0, 40).Draw(t, "roles")
		for i := 0; i < nroles; i++ {
			name := rapid.SampledFrom([]string{"a", "b", "B", "c", "é", "z"}).Draw(t, "name") + fmt.Sprint(i)
			if _, err := s.CreateImpersonationRole(context.Background(), simpleRole(org, name)); err != nil {
				t.Fatal(err)
			}
		}
		norgs := rapid.IntRange(0, 12).Draw(t, "orgs")
		for i := 0; i < norgs; i++ {
			mustCreate(t, s, fmt.Sprintf("%s%d", rapid.SampledFrom([]string{"x", "X", "y"}).Draw(t, "alias"), i))
		}
		page := int32(rapid.IntRange(1, 10).Draw(t, "page"))
		full, err := s.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: org, MaxResults: ptr[int32](100)})
		if err != nil || full.NextToken != "" {
			t.Fatal(err, full.NextToken)
		}
		if got := allRoles(t, s, org, page); !slices.Equal(got, full.Roles) {
			t.Fatalf("pages %v\nfull %v", got, full.Roles)
		}
		fullOrgs, _ := s.ListOrganizations(context.Background(), ListOrganizationsInput{})
		var got []OrganizationSummary
		tok := ""
		for {
			out, err := s.ListOrganizations(context.Background(), ListOrganizationsInput{NextToken: tok, MaxResults: ptr[int32](page)})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.OrganizationSummaries) > int(page) || (out.NextToken != "" && len(out.OrganizationSummaries) != int(page)) {
				t.Fatalf("page of %d with token %q", len(out.OrganizationSummaries), out.NextToken)
			}
			got = append(got, out.OrganizationSummaries...)
			if tok = out.NextToken; tok == "" {
				break
			}
		}
		if !slices.Equal(got, fullOrgs.OrganizationSummaries) {
			t.Fatalf("pages %v\nfull %v", got, fullOrgs.OrganizationSummaries)
		}
	})
}

// With roles created and deleted between pages, no role that existed for
// the whole listing is skipped or repeated, and the listing stays in order.
func TestPaginationSurvivesMutations(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s, err := Open(Options{RoleLimit: 100, Rand: newSeeded(byte(rapid.IntRange(0, 255).Draw(t, "seed")))})
		if err != nil {
			t.Fatal(err)
		}
		org := mustCreate(t, s, "acme")
		names := rapid.SampledFrom([]string{"a", "b", "c", "d", "e", "f", "g", "h"})
		n := 0
		create := func() {
			n++
			if _, err := s.CreateImpersonationRole(context.Background(), simpleRole(org, fmt.Sprintf("%s%03d", names.Draw(t, "name"), n))); err != nil {
				t.Fatal(err)
			}
		}
		for i := rapid.IntRange(0, 30).Draw(t, "initial"); i > 0; i-- {
			create()
		}
		initial := map[string]bool{}
		for _, r := range s.Snapshot(org).Roles() {
			initial[r.ImpersonationRoleId] = true
		}
		deleted := map[string]bool{}
		page := int32(rapid.IntRange(1, 5).Draw(t, "page"))
		var got []impersonation.RoleSummary
		tok := ""
		for {
			out, err := s.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: org, NextToken: tok, MaxResults: ptr[int32](page)})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, out.Roles...)
			if tok = out.NextToken; tok == "" {
				break
			}
			for i := rapid.IntRange(0, 3).Draw(t, "mutations"); i > 0; i-- {
				roles := s.Snapshot(org).Roles()
				if len(roles) > 0 && rapid.Bool().Draw(t, "delete?") {
					r := roles[rapid.IntRange(0, len(roles)-1).Draw(t, "victim")]
					deleted[r.ImpersonationRoleId] = true
					if _, err := s.DeleteImpersonationRole(context.Background(), DeleteImpersonationRoleInput{OrganizationId: org, ImpersonationRoleId: r.ImpersonationRoleId}); err != nil {
						t.Fatal(err)
					}
				} else {
					create()
				}
			}
		}
		seen := map[string]int{}
		for i, r := range got {
			seen[r.ImpersonationRoleId]++
			if seen[r.ImpersonationRoleId] > 1 {
				t.Fatalf("role %s repeated", r.Name)
			}
			if i > 0 && !lessKey([2]string{got[i-1].Name, got[i-1].ImpersonationRoleId}, [2]string{r.Name, r.ImpersonationRoleId}) {
				t.Fatalf("out of order: %s after %s", r.Name, got[i-1].Name)
			}
		}
		for id := range initial {
			if !deleted[id] && seen[id] != 1 {
				t.Fatalf("surviving role %s skipped", id)
			}
		}
	})
}

// Store.Evaluate and Store.Snapshot do not allocate.
func TestEvaluateNoAllocs(t *testing.T) {
	s, _ := testStore(t, "")
	org := mustCreate(t, s, "acme")
	addUsers(t, s, org, alice)
	_, err := s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "d", Effect: 1, IpRanges: []string{"10.0.0.0/8"}})
	mustOK(t, err)
	req := accessctl.Request{IP: netip.MustParseAddr("10.1.2.3"), Action: accessctl.IMAP, UserID: alice.Id}
	role, err := s.CreateImpersonationRole(context.Background(), simpleRole(org, "r"))
	mustOK(t, err)
	_, err = s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "r", Effect: 1, ImpersonationRoleIds: []string{role.ImpersonationRoleId}})
	mustOK(t, err)
	roleReq := accessctl.Request{IP: netip.MustParseAddr("192.0.2.1"), Action: accessctl.EWS, ImpersonationRoleID: role.ImpersonationRoleId}
	buf := make([]string, 0, 10)
	h, err := s.Handle(org)
	mustOK(t, err)
	n := testing.AllocsPerRun(1000, func() {
		eff, m, _, err := s.Evaluate(org, req, buf[:0])
		if err != nil || eff != 1 || len(m) != 1 {
			t.Fatal(eff, m, err)
		}
		if s.Snapshot(org) == nil {
			t.Fatal("no snapshot")
		}
		if eff, _, _, err := h.Evaluate(req, buf[:0]); eff != 1 || err != nil {
			t.Fatal(eff, err)
		}
		// A request through a live role also costs nothing (the role check
		// is one map lookup).
		if eff, m, _, err := s.Evaluate(org, roleReq, buf[:0]); eff != 1 || len(m) != 1 || err != nil {
			t.Fatal(eff, m, err)
		}
		if eff, _, _, err := h.Evaluate(roleReq, buf[:0]); eff != 1 || err != nil {
			t.Fatal(eff, err)
		}
	})
	if n != 0 {
		t.Fatalf("%v allocs per run", n)
	}
}
