package org_test

import (
	"context"
	"fmt"
	"log"
	"net/netip"
	"os"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/org"
	"github.com/wmpolicy/wmpolicy/policy"
)

func Example() {
	// An in-memory store; set Options.Dir to keep the state on disk.
	s, err := org.Open(org.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	created, err := s.CreateOrganization(context.Background(), org.CreateOrganizationInput{Alias: "example"})
	if err != nil {
		log.Fatal(err)
	}
	id := created.OrganizationId
	_, err = s.PutUser(context.Background(), org.PutUserInput{OrganizationId: id, User: org.User{
		Id: "S-1-1-11-1234567890-1234567890-1234567890-1001", Email: "alice@example.com", Name: "alice", State: "ENABLED"}})
	if err != nil {
		log.Fatal(err)
	}
	// Only the office network may use IMAP.
	_, err = s.PutAccessControlRule(context.Background(), org.PutAccessControlRuleInput{
		OrganizationId: id, Name: "imap-office-only", Effect: policy.Deny,
		Description: "IMAP from the office only",
		Actions:     []string{"IMAP"}, NotIpRanges: []string{"192.0.2.0/24"},
	})
	if err != nil {
		log.Fatal(err)
	}
	rules, _ := s.ListAccessControlRules(context.Background(), org.ListAccessControlRulesInput{OrganizationId: id})
	for _, r := range rules.Rules {
		fmt.Println("rule:", r.Name, r.Effect)
	}

	// The wire shape, as the API answers it.
	out, err := s.GetAccessControlEffect(context.Background(), accessctl.GetAccessControlEffectInput{
		OrganizationId: id, IpAddress: "203.0.113.9", Action: "IMAP", UserId: "alice@example.com"})
	fmt.Println(out.Effect, out.MatchedRules, err)

	// The fast path: no lock, no allocation, and the snapshot revision used.
	req := accessctl.Request{IP: netip.MustParseAddr("192.0.2.7"), Action: accessctl.IMAP, UserID: "alice"}
	eff, matched, rev, err := s.Evaluate(id, req, make([]string, 0, 10))
	fmt.Println(eff, matched, rev, err)

	// A missing organization is OrganizationNotFoundException.
	_, err = s.DescribeOrganization(context.Background(), org.DescribeOrganizationInput{OrganizationId: "m-00000000000000000000000000000000"})
	fmt.Println(policy.CodeOf(err))
	// Output:
	// rule: default ALLOW
	// rule: imap-office-only DENY
	// DENY [imap-office-only] <nil>
	// ALLOW [default] 3 <nil>
	// OrganizationNotFoundException
}

// A store with a state directory keeps every mutation on disk before the call
// returns; reopening it restores the organizations, with their revisions.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "wmpolicy-org-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := org.Open(org.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	created, _ := s.CreateOrganization(context.Background(), org.CreateOrganizationInput{Alias: "durable"})
	id := created.OrganizationId
	s.PutAccessControlRule(context.Background(), org.PutAccessControlRuleInput{OrganizationId: id, Name: "no-smtp", Effect: policy.Deny, Actions: []string{"SMTP"}})
	s.Close()

	s, err = org.Open(org.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	snap := s.Snapshot(id)
	fmt.Println("revision", snap.Revision())
	for _, r := range snap.Rules() {
		fmt.Println(r.Name, r.Effect)
	}
	// Output:
	// revision 2
	// default ALLOW
	// no-smtp DENY
}

// A Handle follows an organization's snapshots without looking it up again:
// every evaluation sees the latest rules.
func ExampleHandle() {
	s, _ := org.Open(org.Options{})
	created, _ := s.CreateOrganization(context.Background(), org.CreateOrganizationInput{Alias: "hot"})
	id := created.OrganizationId
	s.PutUser(context.Background(), org.PutUserInput{OrganizationId: id, User: org.User{Id: "S-1-1-11-1234567890-1234567890-1234567890-1001", Name: "alice", State: "ENABLED"}})
	h, _ := s.Handle(id)
	req := accessctl.Request{IP: netip.MustParseAddr("203.0.113.9"), Action: accessctl.EWS, UserID: "alice"}
	buf := make([]string, 0, 10)

	eff, matched, rev, _ := h.Evaluate(req, buf[:0])
	fmt.Println(rev, eff, matched)
	s.PutAccessControlRule(context.Background(), org.PutAccessControlRuleInput{OrganizationId: id, Name: "no-ews", Effect: policy.Deny, Actions: []string{"EWS"}})
	eff, matched, rev, _ = h.Evaluate(req, buf[:0])
	fmt.Println(rev, eff, matched)
	// Output:
	// 2 ALLOW [default]
	// 3 DENY [no-ews]
}
