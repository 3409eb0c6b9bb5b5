package compare

import (
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
)

// engines is every engine of a workload, built once per test or benchmark.
type engines struct {
	w     Workload
	wm    *Wmpolicy
	scan  *Scan
	bart  *Bart
	cedar *Cedar
	creqs []CedarRequest // the requests in Cedar's form
}

func build(tb testing.TB, w Workload) *engines {
	tb.Helper()
	e := &engines{w: w}
	var err error
	if e.wm, err = NewWmpolicy(w.Rules); err != nil {
		tb.Fatal(err)
	}
	if e.scan, err = NewScan(w.Rules); err != nil {
		tb.Fatal(err)
	}
	if e.bart, err = NewBart(w.Rules); err != nil {
		tb.Fatal(err)
	}
	if e.cedar, err = NewCedar(w.Rules); err != nil {
		tb.Fatal(err)
	}
	for i := range w.Reqs {
		e.creqs = append(e.creqs, e.cedar.Request(&w.Reqs[i]))
	}
	return e
}

// cedarChecks is how many requests of a workload Cedar is checked on: all
// but on L, where one request costs milliseconds.
func cedarChecks(w Workload) int {
	if w.Name == "L" {
		return 64
	}
	return len(w.Reqs)
}

// agree checks that every engine gives wmpolicy's answer on every request
// (Cedar on cedarChecks of them).
func (e *engines) agree(tb testing.TB) (allows, denies, implicits int) {
	tb.Helper()
	var names []string
	for i := range e.w.Reqs {
		r := &e.w.Reqs[i]
		deny, n := e.wm.Eval(r, names)
		want := Answer{deny, append([]string(nil), n...)}
		switch {
		case !deny:
			allows++
		case len(n) > 0:
			denies++
		default:
			implicits++
		}
		check := func(engine string, deny bool, n []string) {
			if got := (Answer{deny, n}); !got.Equal(want) {
				tb.Fatalf("%s request %d %+v: %s says %s, wmpolicy %s", e.w.Name, i, *r, engine, got, want)
			}
		}
		deny, n = e.scan.Eval(r, names)
		check("netip scan", deny, n)
		deny, n = e.bart.Eval(r, names)
		check("bart", deny, n)
		if i < cedarChecks(e.w) {
			deny, n = e.cedar.Eval(&e.creqs[i], names)
			check("cedar", deny, n)
		}
	}
	return allows, denies, implicits
}

// TestAgreement: the four engines give the same effect and deciding rules
// (SEMANTICS A6, A7) on every request of every workload, so the benchmarks
// compare like with like.
func TestAgreement(t *testing.T) {
	for _, w := range Workloads() {
		t.Run(w.Name, func(t *testing.T) {
			if err := accessctl.ValidateRules(w.Rules); err != nil {
				t.Fatalf("the workload is not WorkMail-valid: %v", err)
			}
			allow, deny, implicit := build(t, w).agree(t)
			t.Logf("%d requests: %d ALLOW, %d explicit DENY, %d implicit DENY", len(w.Reqs), allow, deny, implicit)
			if allow == 0 || deny == 0 || implicit == 0 {
				t.Errorf("the workload does not exercise every outcome")
			}
		})
	}
}

var sinkDeny bool

// BenchmarkCompare evaluates each workload's requests, in turn, through each
// engine; requests are parsed (for Cedar, built) before the timer starts, and
// the engines' agreement is checked first.
func BenchmarkCompare(b *testing.B) {
	const mask = NumRequests - 1
	for _, w := range Workloads() {
		e := build(b, w)
		e.agree(b)
		reqs := w.Reqs
		names := make([]string, 0, len(w.Rules))
		b.Run(w.Name+"/wmpolicy", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				sinkDeny, names = e.wm.Eval(&reqs[i&mask], names)
			}
		})
		b.Run(w.Name+"/netip-scan", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				sinkDeny, names = e.scan.Eval(&reqs[i&mask], names)
			}
		})
		b.Run(w.Name+"/bart-lpm", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				sinkDeny, names = e.bart.Eval(&reqs[i&mask], names)
			}
		})
		b.Run(w.Name+"/cedar", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				sinkDeny, names = e.cedar.Eval(&e.creqs[i&mask], names)
			}
		})
	}
}
