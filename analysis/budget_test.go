package analysis_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/analysis"
	"github.com/wmpolicy/wmpolicy/policy"
)

// SEMANTICS D5: the analysis budget bounds memory, not only cells. Many
// rules with distinct ranges need few cells (intervals × 8 columns) but
// rules × ranges bits: 50,000 such rules would build bitsets of about 600 MB
// (and 100,000, 2.5 GB). Audit ends with a bytes BudgetError before building
// them, having allocated little, and a raised MaxBytes lets a smaller set
// through.
func TestSemanticsD5_AuditBudgetBoundsMemory(t *testing.T) {
	const n = 50000
	rules := make([]accessctl.Rule, n)
	for i := range rules {
		rules[i] = accessctl.Rule{Name: fmt.Sprintf("r%07d", i), Effect: policy.Allow,
			IpRanges: []string{fmt.Sprintf("10.%d.%d.0/24", i/256%256, i%256)}}
		if i%2 == 1 {
			rules[i].Effect = policy.Deny
		}
	}
	a, err := analysis.New(rules, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	_, err = a.Audit(context.Background())
	runtime.ReadMemStats(&m1)
	var be *analysis.BudgetError
	if !errors.As(err, &be) || be.Resource != "bytes" || be.Limit != analysis.DefaultMaxBytes || be.Need <= be.Limit {
		t.Fatalf("Audit = %v, want a bytes BudgetError", err)
	}
	if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 64<<20 {
		t.Errorf("Audit allocated %d MB before refusing; want the budget checked before the bitsets are built", alloc>>20)
	}
	if _, err := analysis.Diff(context.Background(), rules, rules[:10], analysis.Options{}); !errors.As(err, &be) || be.Resource != "bytes" {
		t.Errorf("Diff = %v, want a bytes BudgetError", err)
	}

	small, err := analysis.New(rules[:2000], analysis.Options{MaxBytes: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := small.Audit(context.Background()); !errors.As(err, &be) || be.Resource != "bytes" {
		t.Errorf("MaxBytes 1 KiB: %v", err)
	}
	small, err = analysis.New(rules[:2000], analysis.Options{MaxBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := small.Audit(context.Background()); err != nil {
		t.Errorf("2,000 rules within 64 MiB: %v", err)
	}
}
