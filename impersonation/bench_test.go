package impersonation_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/internal/reference"
	"github.com/wmpolicy/wmpolicy/policy"
)

// The benchmark workload: a directory of 100,000 users and a role of 10 rules
// naming 10 users each (7 rules by TargetUsers, 3 by NotTargetUsers; one rule
// in three DENY), the entries written as emails, IDs and user names.
const (
	benchUsers = 100_000
	benchMask  = 1023 // the benchmarks cycle through benchMask+1 targets
)

func benchID(i int) string {
	return fmt.Sprintf("S-1-1-11-1234567890-1234567890-%010d-%04d", i*7919, i%10000)
}
func benchEmail(i int) string { return fmt.Sprintf("user%06d@example.org", i) }
func benchName(i int) string  { return fmt.Sprintf("user%06d", i) }

type benchWorkload struct {
	dir   *policy.MemDirectory
	role  impersonation.Role
	named []int // the users the role names
}

var benchOnce = sync.OnceValue(func() benchWorkload {
	users := make([]policy.User, benchUsers)
	for i := range users {
		users[i] = policy.User{ID: benchID(i), Email: benchEmail(i), Name: benchName(i), State: "ENABLED"}
	}
	dir, err := policy.NewDirectory(users)
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	w := benchWorkload{dir: dir, role: impersonation.Role{ImpersonationRoleId: "bench-role", Name: "bench", Type: impersonation.ReadOnly}}
	for r := range 10 {
		rule := impersonation.Rule{ImpersonationRuleId: fmt.Sprintf("rule-%d", r), Name: fmt.Sprintf("Rule %d", r), Effect: policy.Allow}
		if r%3 == 2 {
			rule.Effect = policy.Deny
		}
		list := make([]string, 10)
		for j := range list {
			u := rng.IntN(benchUsers)
			w.named = append(w.named, u)
			switch j % 3 {
			case 0:
				list[j] = benchEmail(u)
			case 1:
				list[j] = benchID(u)
			default:
				list[j] = strings.ToUpper(benchName(u))
			}
		}
		if r < 7 {
			rule.TargetUsers = list
		} else {
			rule.NotTargetUsers = list
		}
		w.role.Rules = append(w.role.Rules, rule)
	}
	return w
})

// targets returns benchMask+1 targets: one in two a user the role names, the
// others anyone in the directory; hot limits them to 16 distinct users.
func (w benchWorkload) targets(form func(int) string, hot bool) []string {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]string, benchMask+1)
	for i := range out {
		u := rng.IntN(benchUsers)
		if i%2 == 0 {
			u = w.named[rng.IntN(len(w.named))]
		}
		if hot {
			u = w.named[i%16]
		}
		out[i] = form(u)
	}
	return out
}

var (
	sinkType    impersonation.Type
	sinkEffect  policy.Effect
	sinkMatched []impersonation.MatchedRule
	sinkUser    policy.User
)

func benchForms() []struct {
	name string
	form func(int) string
	hot  bool
} {
	return []struct {
		name string
		form func(int) string
		hot  bool
	}{
		{"email", benchEmail, false},
		{"email-hot16", benchEmail, true},
		{"email-upper", func(i int) string { return strings.ToUpper(benchEmail(i)) }, false},
		{"id", benchID, false},
		{"username", benchName, false},
	}
}

// BenchmarkEvaluate measures the fast path: the role's effect for a target
// named by email (and the other forms), the matched rules appended into a
// reused slice, on a role of 10 rules × 10 users and a directory of 100,000.
func BenchmarkEvaluate(b *testing.B) {
	w := benchOnce()
	ev, err := impersonation.Compile(w.role, w.dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range benchForms() {
		targets := w.targets(f.form, f.hot)
		b.Run(f.name, func(b *testing.B) {
			matched := make([]impersonation.MatchedRule, 0, impersonation.MaxRules)
			var typ impersonation.Type
			var eff, deny policy.Effect
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				typ, eff, matched, _ = ev.Evaluate(targets[i&benchMask], matched[:0])
				deny += eff & 1
			}
			sinkType, sinkEffect, sinkMatched = typ, deny, matched
		})
	}
}

// BenchmarkDirectoryLookup is the floor under BenchmarkEvaluate: the
// directory lookup of the same targets alone.
func BenchmarkDirectoryLookup(b *testing.B) {
	w := benchOnce()
	for _, f := range benchForms() {
		targets := w.targets(f.form, f.hot)
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				sinkUser, _ = w.dir.Lookup(targets[i&benchMask])
			}
		})
	}
}

// BenchmarkEvaluateParallel runs the fast path from GOMAXPROCS goroutines.
//
// Run it with a time -benchtime (the default), not a count: with a count
// RunParallel hands out iterations one or two at a time through one shared
// counter (golang/go#37996), which then dominates the time per op (see
// accessctl's BenchmarkEvaluateParallel). It logs a warning when given a count.
func BenchmarkEvaluateParallel(b *testing.B) {
	if impersonation.CountBenchtime() {
		b.Log("-benchtime is a count: RunParallel will hand out iterations one at a time (golang/go#37996); use a duration")
	}
	w := benchOnce()
	ev, err := impersonation.Compile(w.role, w.dir)
	if err != nil {
		b.Fatal(err)
	}
	targets := w.targets(benchEmail, false)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		matched := make([]impersonation.MatchedRule, 0, impersonation.MaxRules)
		i := 0
		for pb.Next() {
			_, eff, m, _ := ev.Evaluate(targets[i&benchMask], matched[:0])
			if eff == 0 {
				panic("no effect")
			}
			matched = m
			i++
		}
	})
}

// BenchmarkDecide measures the full decision (it allocates its answer).
func BenchmarkDecide(b *testing.B) {
	w := benchOnce()
	ev, err := impersonation.Compile(w.role, w.dir)
	if err != nil {
		b.Fatal(err)
	}
	targets := w.targets(benchEmail, false)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d, _ := ev.Decide(targets[i&benchMask])
		sinkEffect = d.Effect
	}
}

// BenchmarkGetImpersonationRoleEffect measures the wire path: input checks,
// evaluation and the output's slice.
func BenchmarkGetImpersonationRoleEffect(b *testing.B) {
	w := benchOnce()
	ev, err := impersonation.Compile(w.role, w.dir)
	if err != nil {
		b.Fatal(err)
	}
	targets := w.targets(benchEmail, false)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		out, _ := ev.GetImpersonationRoleEffect(impersonation.GetImpersonationRoleEffectInput{TargetUser: targets[i&benchMask]})
		sinkEffect = out.Effect
	}
}

// BenchmarkReference measures the linear reference on the same targets, for
// the speed-up ratio.
func BenchmarkReference(b *testing.B) {
	w := benchOnce()
	for _, f := range benchForms()[:1] {
		targets := w.targets(f.form, f.hot)
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				res, _ := reference.EvaluateImpersonation(w.role, targets[i&benchMask], w.dir)
				sinkEffect = res.Effect
			}
		})
	}
}

// BenchmarkCompile measures compiling the role (100 directory lookups).
func BenchmarkCompile(b *testing.B) {
	w := benchOnce()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := impersonation.Compile(w.role, w.dir); err != nil {
			b.Fatal(err)
		}
	}
}

// The fast path allocates nothing: Evaluate and Effect, with and without a
// directory, targets named by every form, users the role names and others.
func TestEvaluateNoAllocs(t *testing.T) {
	dir := semDirectory(t)
	role := mkRole(impersonation.ReadOnly,
		impersonation.Rule{ImpersonationRuleId: "all", Name: "All", Effect: policy.Allow},
		impersonation.Rule{ImpersonationRuleId: "no-alice", Effect: policy.Deny, TargetUsers: []string{aliceMail}},
		impersonation.Rule{ImpersonationRuleId: "bob", Effect: policy.Allow, TargetUsers: []string{bob}, NotTargetUsers: []string{daveName}},
	)
	targets := []string{alice, aliceMail, strings.ToUpper(aliceMail), aliceAlias, aliceName, "ALICE", bob, bobMail, "BOB", dave, daveMail, "Dave"}
	for _, d := range []policy.Directory{dir, nil} {
		ev := compileRole(t, role, d)
		matched := make([]impersonation.MatchedRule, 0, impersonation.MaxRules)
		i := 0
		allocs := testing.AllocsPerRun(1000, func() {
			var err error
			_, _, matched, err = ev.Evaluate(targets[i%len(targets)], matched[:0])
			if err != nil {
				panic(err)
			}
			i++
		})
		if allocs != 0 {
			t.Errorf("directory %v: Evaluate allocates %v times per run", d != nil, allocs)
		}
		allocs = testing.AllocsPerRun(1000, func() {
			sinkEffect, _ = ev.Effect(targets[i%len(targets)])
			i++
		})
		if allocs != 0 {
			t.Errorf("directory %v: Effect allocates %v times per run", d != nil, allocs)
		}
	}
	// The benchmark's workload too: 100,000 users, 10 rules × 10 users.
	if testing.Short() {
		return
	}
	w := benchOnce()
	ev := compileRole(t, w.role, w.dir)
	matched := make([]impersonation.MatchedRule, 0, impersonation.MaxRules)
	for _, f := range benchForms() {
		targets := w.targets(f.form, f.hot)
		i := 0
		allocs := testing.AllocsPerRun(2000, func() {
			_, _, matched, _ = ev.Evaluate(targets[i&benchMask], matched[:0])
			i++
		})
		if allocs != 0 {
			t.Errorf("%s: Evaluate allocates %v times per run", f.name, allocs)
		}
	}
}

// The benchmark's compiled role agrees with the reference on its targets.
func TestBenchWorkloadEqualsReference(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a directory of 100,000 users")
	}
	w := benchOnce()
	ev := compileRole(t, w.role, w.dir)
	for _, f := range benchForms() {
		for _, target := range w.targets(f.form, f.hot)[:200] {
			decideAll(t, ev, w.role, w.dir, target)
		}
	}
}
