package impersonation_test

import (
	"math/rand/v2"
	"testing"

	"github.com/wmpolicy/wmpolicy/impersonation"
)

// BenchmarkEvaluateByKind splits BenchmarkEvaluate/email: targets the role
// names (answered from its own table) and targets it does not (one directory
// probe), each beside the directory lookup alone.
func BenchmarkEvaluateByKind(b *testing.B) {
	w := benchOnce()
	ev, _ := impersonation.Compile(w.role, w.dir)
	named := map[int]bool{}
	for _, u := range w.named {
		named[u] = true
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var nt, ut []string
	for len(ut) < benchMask+1 {
		u := rng.IntN(benchUsers)
		if !named[u] {
			ut = append(ut, benchEmail(u))
		}
	}
	for len(nt) < benchMask+1 {
		nt = append(nt, benchEmail(w.named[rng.IntN(len(w.named))]))
	}
	for _, c := range []struct {
		name string
		t    []string
	}{{"named", nt}, {"unnamed", ut}} {
		b.Run(c.name, func(b *testing.B) {
			m := make([]impersonation.MatchedRule, 0, 10)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_, _, m, _ = ev.Evaluate(c.t[i&benchMask], m[:0])
			}
		})
		b.Run(c.name+"-dir", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				sinkUser, _ = w.dir.Lookup(c.t[i&benchMask])
			}
		})
	}
}
