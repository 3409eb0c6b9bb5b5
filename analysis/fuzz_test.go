package analysis_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/analysis"
	"github.com/wmpolicy/wmpolicy/cidr"
)

// FuzzAnalyze feeds arbitrary rules files (list-access-control-rules output)
// through the analysis: whatever DecodeRules accepts must analyse without
// panicking, diff equivalent with itself, audit with every witness replaying
// as claimed, and agree with accessctl on a request at each range boundary.
func FuzzAnalyze(f *testing.F) {
	seeds, _ := filepath.Glob("../examples/org/rules.json")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"Rules":[]}`))
	f.Add([]byte(`{"Rules":[{"Name":"a","Effect":"ALLOW","IpRanges":["10.0.0.1/8"],"NotIpRanges":["10.1.0.0/16","10.1.0.0/16"]},{"Name":"b","Effect":"DENY","NotActions":["IMAP"],"UserIds":["S-1-1-11-1111111111"],"NotUserIds":["S-1-1-11-1111111111"]}]}`))
	f.Add([]byte(`{"Rules":[{"Name":"r","Effect":"DENY","ImpersonationRoleIds":["x"],"Actions":["SMTP"]},{"Name":"default","Effect":"ALLOW"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := accessctl.DecodeRules(data)
		if err != nil || len(rules) > 12 {
			return
		}
		a, err := analysis.New(rules, analysis.Options{MaxCells: 1 << 20})
		if err != nil {
			t.Fatalf("DecodeRules accepted what New refuses: %v", err)
		}
		ctx := context.Background()
		rep, err := a.Audit(ctx)
		if err != nil {
			return // over budget
		}
		checkWitnesses(t, rules, nil, rep)
		d, err := analysis.Diff(ctx, rules, rules, analysis.Options{MaxCells: 1 << 20})
		if err != nil {
			return
		}
		if d.Verdict != analysis.Equivalent || len(d.Regions) != 0 {
			t.Fatalf("a rule set differs from itself: %v %+v", d.Verdict, d.Regions)
		}
		p, err := accessctl.Compile(rules, accessctl.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			for _, s := range append(r.IpRanges, r.NotIpRanges...) {
				rg := cidr.MustParseRange(s)
				for _, addr := range []uint32{rg.First(), rg.Last(), rg.Last() + 1} {
					req := accessctl.Request{IP: cidr.AddrToNetip(addr), Action: accessctl.EWS, UserID: "S-1-1-11-fuzz-user"}
					ex, err := a.Explain(ctx, req)
					if err != nil {
						t.Fatal(err)
					}
					want, _ := p.Decide(req)
					if ex.Effect != want.Effect || ex.Reason != want.Reason {
						t.Fatalf("%+v: explain %v %v, accessctl %v %v", req, ex.Effect, ex.Reason, want.Effect, want.Reason)
					}
				}
			}
		}
	})
}
