package org

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

// FuzzDecodeOrgFile feeds arbitrary bytes to the state file decoder: it must
// never panic, must refuse with a *FileError, and what it accepts must
// compile into a snapshot of the organization the file is named for.
func FuzzDecodeOrgFile(f *testing.F) {
	const id = "m-0123456789abcdef0123456789abcdef"
	rec := &record{OrganizationId: id, Alias: "acme", State: StateActive, DefaultMailDomain: "acme.awsapps.com", Revision: 3,
		Rules: []accessctl.Rule{defaultRule(), {Name: "x", Effect: policy.Deny, IpRanges: []string{"10.0.0.1/8"}}},
		Roles: []impersonation.Role{{ImpersonationRoleId: "r1", Name: "n", Type: impersonation.ReadOnly,
			Rules: []impersonation.Rule{{ImpersonationRuleId: "a", Effect: policy.Allow, TargetUsers: []string{"alice"}}}}},
		Users: []User{alice}}
	body, _ := json.MarshalIndent(rec, "", "  ")
	good := envelope("Organization", body)
	f.Add(good)                                                      // a valid file
	f.Add(good[:len(good)/2])                                        // truncated
	f.Add([]byte{})                                                  // empty
	f.Add([]byte(`{"Schema": 2}`))                                   // future schema
	f.Add([]byte(`{"Schema": 1, "Sha256": "", "Organization": {}}`)) // bad checksum
	tomb, _ := json.Marshal(&record{OrganizationId: id, Alias: "gone", State: StateDeleted, DefaultMailDomain: "g.awsapps.com", Revision: 2})
	f.Add(envelope("Organization", tomb)) // a tombstone
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, snap, err := decodeOrg("fuzz.json", id, data)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FileError", err)
			}
			return
		}
		if rec.OrganizationId != id {
			t.Fatalf("accepted a file of %q", rec.OrganizationId)
		}
		if rec.State == StateActive && (snap == nil || snap.Policy() == nil) {
			t.Fatal("accepted an active organization without a snapshot")
		}
	})
}

// FuzzPageToken feeds arbitrary NextTokens to both listings: they must never
// panic and must be refused unless the store issued them for that listing.
func FuzzPageToken(f *testing.F) {
	s, err := Open(Options{Rand: newSeeded(9)})
	if err != nil {
		f.Fatal(err)
	}
	org := mustCreate(f, s, "acme")
	for _, n := range []string{"a", "b", "c"} {
		mustCreate(f, s, n)
		if _, err := s.CreateImpersonationRole(context.Background(), simpleRole(org, n)); err != nil {
			f.Fatal(err)
		}
	}
	orgs, _ := s.ListOrganizations(context.Background(), ListOrganizationsInput{MaxResults: ptr[int32](1)})
	roles, _ := s.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: org, MaxResults: ptr[int32](1)})
	f.Add(orgs.NextToken)
	f.Add(roles.NextToken)
	f.Add("")
	f.Add("AQE")
	f.Add("not base64 at all")
	f.Fuzz(func(t *testing.T, tok string) {
		_, err1 := s.ListOrganizations(context.Background(), ListOrganizationsInput{NextToken: tok})
		_, err2 := s.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: org, NextToken: tok})
		// Decoding is strict (SEMANTICS B7): no string but the issued one
		// decodes to an issued token, and a new MAC cannot be forged, so
		// every other non-empty token is refused.
		if tok != "" && tok != orgs.NextToken && err1 == nil {
			t.Fatalf("ListOrganizations accepted %q (issued %q)", tok, orgs.NextToken)
		}
		if tok != "" && tok != roles.NextToken && err2 == nil {
			t.Fatalf("ListImpersonationRoles accepted %q (issued %q)", tok, roles.NextToken)
		}
		for _, err := range []error{err1, err2} {
			if err != nil && policy.CodeOf(err) == "" {
				t.Fatalf("untyped error %v", err)
			}
		}
	})
}
