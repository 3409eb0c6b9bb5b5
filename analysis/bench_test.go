package analysis_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/analysis"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/policy"
)

// maxRules returns a rule set of the model's maximum size: 10 rules, each with
// `ranges` IpRanges and `ranges` NotIpRanges (1024 is the maximum), naming
// users and roles from pools of 10 each. Ranges are random /8–/32 networks,
// half of them clustered in 10.0.0.0/8 so that they nest and overlap.
//
// With disjoint, every range is instead a /24–/32 anywhere in the address
// space, so that nearly all of them are disjoint and the decomposition has
// the most intervals (two per range).
func maxRules(seed uint64, ranges int, disjoint ...bool) []accessctl.Rule {
	rng := rand.New(rand.NewPCG(seed, 1))
	rangeText := func() string {
		if len(disjoint) > 0 && disjoint[0] {
			return cidr.RangeFrom(rng.Uint32(), 24+rng.IntN(9)).Masked().String()
		}
		bits := 8 + rng.IntN(25)
		a := rng.Uint32()
		if rng.IntN(2) == 0 {
			a = 0x0A000000 | a&0x00FFFFFF
		}
		return cidr.RangeFrom(a, bits).Masked().String()
	}
	users := make([]string, 10)
	roles := make([]string, 10)
	for i := range users {
		users[i] = fmt.Sprintf("S-1-1-11-1111111111-2222222222-3333333333-%04d", i)
		roles[i] = fmt.Sprintf("role-%02d", i)
	}
	acts := []string{"ActiveSync", "AutoDiscover", "EWS", "IMAP", "SMTP", "WindowsOutlook", "WebMail"}
	rules := make([]accessctl.Rule, 10)
	for k := range rules {
		r := accessctl.Rule{Name: fmt.Sprintf("rule-%02d", k), Effect: policy.Effect(1 + k%2)}
		for range ranges {
			r.IpRanges = append(r.IpRanges, rangeText())
			r.NotIpRanges = append(r.NotIpRanges, rangeText())
		}
		r.Actions = []string{acts[k%7], acts[(k+3)%7], "EWS"}
		switch k % 3 {
		case 0:
			r.UserIds = users[k%10 : k%10+1]
			r.NotUserIds = []string{users[(k+1)%10], users[(k+2)%10]}
		case 1:
			r.ImpersonationRoleIds = []string{roles[k%10], roles[(k+5)%10], roles[(k+7)%10]}
		default:
			r.NotUserIds = users[:k%10]
			r.NotImpersonationRoleIds = roles[:k%10]
		}
		rules[k] = r
	}
	return rules
}

// edited returns rules with one range of one rule changed.
func edited(rules []accessctl.Rule) []accessctl.Rule {
	out := make([]accessctl.Rule, len(rules))
	for i, r := range rules {
		out[i] = r.Clone()
	}
	out[3].IpRanges[17] = "203.0.113.0/24"
	return out
}

func benchDiff(b *testing.B, before, after []accessctl.Rule) {
	b.ReportAllocs()
	var peak uint64
	var regions int
	var cells int64
	for b.Loop() {
		var ms runtime.MemStats
		res, err := analysis.Diff(context.Background(), before, after, analysis.Options{})
		if err != nil {
			b.Fatal(err)
		}
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		regions = len(res.Regions)
		cells = res.Cells
	}
	b.ReportMetric(float64(cells), "cells")
	b.ReportMetric(float64(peak)/(1<<20), "heapMB")
	b.ReportMetric(float64(regions), "regions")
}

// Diff of two maximum-size rule sets that differ in one range (target ≤ 1 s,
// ≤ 256 MB).
func BenchmarkDiffMaxEdit(b *testing.B) {
	r := maxRules(1, 1024)
	benchDiff(b, r, edited(r))
}

// Diff of two unrelated maximum-size rule sets: the worst case for the number
// of regions.
func BenchmarkDiffMaxUnrelated(b *testing.B) {
	benchDiff(b, maxRules(1, 1024), maxRules(2, 1024))
}

// Diff of two maximum-size rule sets of disjoint ranges that differ in one
// range: the most intervals (about 82,000) and cells (about 7.2 million).
func BenchmarkDiffMaxDisjointEdit(b *testing.B) {
	r := maxRules(1, 1024, true)
	benchDiff(b, r, edited(r))
}

// Diff of two unrelated maximum-size rule sets of disjoint ranges.
func BenchmarkDiffMaxDisjointUnrelated(b *testing.B) {
	benchDiff(b, maxRules(1, 1024, true), maxRules(2, 1024, true))
}

// Audit of a maximum-size rule set of disjoint ranges.
func BenchmarkAuditMaxDisjoint(b *testing.B) { benchAudit(b, maxRules(1, 1024, true)) }

// Audit of a maximum-size rule set (target ≤ 1 s).
func BenchmarkAuditMax(b *testing.B) { benchAudit(b, maxRules(1, 1024)) }

func benchAudit(b *testing.B, rules []accessctl.Rule) {
	a, err := analysis.New(rules, analysis.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Audit(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// Explain of one request against a maximum-size rule set (target ≤ 50 µs).
func BenchmarkExplainMax(b *testing.B) {
	a, err := analysis.New(maxRules(1, 1024), analysis.Options{})
	if err != nil {
		b.Fatal(err)
	}
	req := accessctl.Request{IP: netip.MustParseAddr("10.1.2.3"), Action: accessctl.EWS, UserID: "S-1-1-11-1111111111-2222222222-3333333333-0003"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Explain(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// WhoCanPrincipal of one user against a maximum-size rule set.
func BenchmarkWhoCanPrincipalMax(b *testing.B) {
	a, err := analysis.New(maxRules(1, 1024), analysis.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.WhoCanPrincipal(context.Background(), analysis.User, "S-1-1-11-1111111111-2222222222-3333333333-0003"); err != nil {
			b.Fatal(err)
		}
	}
}

// A maximum-size diff (smaller with -short): one edited range reads as the
// regions it really changes, each witness replays as claimed, and the cell
// count is intervals × (11 user classes × 7 actions + 11 role classes).
func TestMaxSizeDiff(t *testing.T) {
	n := 1024
	if testing.Short() {
		n = 128
	}
	before := maxRules(1, n)
	after := edited(before)
	res, err := analysis.Diff(context.Background(), before, after, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Principals) != 22 || res.Cells%88 != 0 {
		t.Fatalf("%d principal classes, %d cells", len(res.Principals), res.Cells)
	}
	for _, g := range res.Regions {
		b, a := replay(t, before, nil, g.Witness), replay(t, after, nil, g.Witness)
		if b.Effect == a.Effect || (a.Effect == policy.Allow) != (g.Change == analysis.NewlyAllowed) {
			t.Errorf("witness %+v of %v: before %v, after %v", g.Witness, g.Change, b.Effect, a.Effect)
		}
	}
	if len(res.Regions) == 0 {
		t.Fatal("no regions")
	}
	t.Logf("%d ranges per list: %d cells, %d regions", n, res.Cells, len(res.Regions))
	rev, err := analysis.Diff(context.Background(), after, before, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rev.Regions) != len(res.Regions) {
		t.Errorf("%d regions one way, %d the other", len(res.Regions), len(rev.Regions))
	}
}
