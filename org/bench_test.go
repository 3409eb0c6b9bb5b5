package org

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

var (
	sinkEffect policy.Effect
	sinkNames  []string
	sinkRev    uint64
)

// benchRules are a realistic organization's rules.
func benchRules() []accessctl.Rule {
	return []accessctl.Rule{
		defaultRule(),
		{Name: "block-legacy", Effect: policy.Deny, Actions: []string{"IMAP", "SMTP"}, NotIpRanges: []string{"192.0.2.0/24", "198.51.100.0/24"}},
		{Name: "contractors", Effect: policy.Deny, UserIds: []string{alice.Id}, NotIpRanges: []string{"10.0.0.0/8"}},
		{Name: "office", Effect: policy.Allow, IpRanges: []string{"10.0.0.0/8", "172.16.0.0/12"}},
	}
}

// writeOrgs writes n small organizations straight into dir's files (without
// fsync, to keep the setup fast) and returns their IDs.
func writeOrgs(b *testing.B, dir string, n int) []string {
	b.Helper()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	d := &disk{dir: dir, orgs: filepath.Join(dir, orgsDirName)}
	ids := make([]string, n)
	for i := range ids {
		id := fmt.Sprintf("m-%032x", i+1)
		ids[i] = id
		rules := benchRules()
		sort.Slice(rules, func(i, j int) bool { return rules[i].Name < rules[j].Name })
		rec := &record{OrganizationId: id, Alias: fmt.Sprintf("org%d", i), State: StateActive,
			DefaultMailDomain: fmt.Sprintf("org%d.awsapps.com", i), DateCreated: policy.TimestampOf(time.Unix(1700000000, 0)), Revision: 1,
			Rules: rules, Users: []User{alice, bob}, Roles: []impersonation.Role{{ImpersonationRoleId: "role-1", Name: "archiver",
				Type: impersonation.ReadOnly, Rules: []impersonation.Rule{{ImpersonationRuleId: "r", Effect: policy.Allow, NotTargetUsers: []string{"bob"}}}}}}
		body, err := json.MarshalIndent(rec, "", "  ")
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d.orgs, id+".json"), envelope("Organization", body), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return ids
}

// BenchmarkGetAccessControlEffect compares the store's paths with calling the
// compiled evaluator directly, with 1,000 organizations in the store.
func BenchmarkGetAccessControlEffect(b *testing.B) {
	s, err := Open(Options{})
	if err != nil {
		b.Fatal(err)
	}
	var org string
	for i := 0; i < 1000; i++ {
		out, err := s.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: fmt.Sprintf("org%d", i)})
		if err != nil {
			b.Fatal(err)
		}
		org = out.OrganizationId
		if _, err := s.PutUser(context.Background(), PutUserInput{OrganizationId: org, User: alice}); err != nil {
			b.Fatal(err)
		}
		for _, r := range benchRules()[1:] {
			if _, err := s.PutAccessControlRule(context.Background(), PutRuleInput(org, r)); err != nil {
				b.Fatal(err)
			}
		}
	}
	req := accessctl.Request{IP: netip.MustParseAddr("10.1.2.3"), Action: accessctl.IMAP, UserID: alice.Id}
	buf := make([]string, 0, 10)
	p := s.Snapshot(org).Policy()
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkEffect, sinkNames, _ = p.Evaluate(req, buf[:0])
		}
	})
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkEffect, sinkNames, sinkRev, _ = s.Evaluate(org, req, buf[:0])
		}
	})
	h, err := s.Handle(org)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("handle", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkEffect, sinkNames, sinkRev, _ = h.Evaluate(req, buf[:0])
		}
	})
	b.Run("snapshot", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkEffect, sinkNames, _ = s.Snapshot(org).Policy().Evaluate(req, buf[:0])
		}
	})
	// The store's own cost: the lookup that Evaluate adds to the evaluator.
	b.Run("lookup-only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkRev = s.Snapshot(org).rev
		}
	})
	in := accessctl.GetAccessControlEffectInput{OrganizationId: org, IpAddress: "10.1.2.3", Action: "IMAP", UserId: alice.Id}
	b.Run("wire", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, _ := s.GetAccessControlEffect(context.Background(), in)
			sinkEffect = out.Effect
		}
	})
}

// BenchmarkPutRule1024Ranges puts one rule of 1024 ranges into one of 1,000
// stored organizations: compile, durable write (fsync included) and publish.
func BenchmarkPutRule1024Ranges(b *testing.B) {
	dir := b.TempDir()
	ids := writeOrgs(b, dir, 1000)
	s, err := Open(Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ranges := make([]string, 1024)
	for i := range ranges {
		ranges[i] = fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)
	}
	in := PutAccessControlRuleInput{OrganizationId: ids[500], Name: "big", Effect: policy.Deny, IpRanges: ranges}
	b.ReportAllocs()
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := s.PutAccessControlRule(context.Background(), in); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
}

// BenchmarkOpen1000 opens a state directory of 1,000 organizations: read,
// verify, decode, validate and compile every file.
func BenchmarkOpen1000(b *testing.B) {
	dir := b.TempDir()
	writeOrgs(b, dir, 1000)
	b.ReportAllocs()
	for b.Loop() {
		s, err := Open(Options{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
