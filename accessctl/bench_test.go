package accessctl_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/internal/reference"
	"github.com/wmpolicy/wmpolicy/policy"
)

// workload is one of the benchmark workloads of issue 2, generated
// deterministically.
type workload struct {
	name   string
	rules  []accessctl.Rule
	reqs   []accessctl.Request
	ranges int
}

var allActions = accessctl.Actions()

// reqMask: the benchmarks cycle through reqMask+1 requests (a power of two, so
// that picking one costs an AND, not a division).
const reqMask = 1023

func userID(i int) string { return fmt.Sprintf("S-1-1-11-1234567890-1234567890-1234567890-%04d", i) }

// genRange draws a range: prefix lengths /8–/32, mostly /16–/28, anywhere.
func genRange(rng *rand.Rand) string {
	bits := 8 + rng.IntN(25)
	if rng.IntN(4) != 0 {
		bits = 16 + rng.IntN(13)
	}
	return cidr.RangeFrom(rng.Uint32(), bits).Masked().String()
}

// shape says which range lists the rules of a workload carry.
type shape struct {
	ranges  int // entries per present range list
	inEvery bool
	// notEvery: every rule has NotIpRanges too; otherwise one rule in notOneIn
	// has them (0: none).
	notEvery bool
	notOneIn int
}

// genRules draws n rules of the given shape, with random effects (one in three
// DENY), actions, users and roles.
func genRules(rng *rand.Rand, n int, sh shape, users int) []accessctl.Rule {
	rules := make([]accessctl.Rule, n)
	for i := range rules {
		r := accessctl.Rule{Name: fmt.Sprintf("rule-%04d", i), Effect: policy.Allow}
		if rng.IntN(3) == 0 {
			r.Effect = policy.Deny
		}
		if sh.inEvery || rng.IntN(10) < 7 {
			for range sh.ranges {
				r.IpRanges = append(r.IpRanges, genRange(rng))
			}
		}
		if sh.notEvery || (sh.notOneIn > 0 && rng.IntN(sh.notOneIn) == 0) {
			for range sh.ranges {
				r.NotIpRanges = append(r.NotIpRanges, genRange(rng))
			}
		}
		if rng.IntN(2) == 0 {
			for range 1 + rng.IntN(3) {
				r.Actions = append(r.Actions, allActions[rng.IntN(len(allActions))].String())
			}
		}
		if rng.IntN(4) == 0 {
			r.NotActions = append(r.NotActions, allActions[rng.IntN(len(allActions))].String())
		}
		if users > 0 && rng.IntN(3) == 0 {
			for range 1 + rng.IntN(3) {
				r.UserIds = append(r.UserIds, userID(rng.IntN(users)))
			}
		}
		if users > 0 && rng.IntN(5) == 0 {
			r.NotUserIds = append(r.NotUserIds, userID(rng.IntN(users)))
		}
		if rng.IntN(10) == 0 {
			r.ImpersonationRoleIds = []string{fmt.Sprintf("role-%d", rng.IntN(5))}
		}
		rules[i] = r
	}
	// Shuffle so that input order differs from name order.
	rng.Shuffle(len(rules), func(i, j int) { rules[i], rules[j] = rules[j], rules[i] })
	return rules
}

// genRequests draws a fixed mix: half the addresses inside a rule's range (hits),
// half anywhere (mostly misses); mostly users, some roles.
func genRequests(rng *rand.Rand, rules []accessctl.Rule, n, users int) []accessctl.Request {
	var ranges []string
	for _, r := range rules {
		ranges = append(ranges, r.IpRanges...)
		ranges = append(ranges, r.NotIpRanges...)
	}
	reqs := make([]accessctl.Request, n)
	for i := range reqs {
		a := rng.Uint32()
		if len(ranges) > 0 && i%2 == 0 {
			rg := cidr.MustParseRange(ranges[rng.IntN(len(ranges))])
			a = rg.First() + uint32(rng.Uint64N(uint64(rg.Last()-rg.First())+1))
		}
		req := accessctl.Request{IP: cidr.AddrToNetip(a), Action: allActions[rng.IntN(len(allActions))]}
		if i%10 == 9 {
			req.Action = accessctl.EWS
			req.ImpersonationRoleID = fmt.Sprintf("role-%d", rng.IntN(6))
		} else {
			req.UserID = userID(rng.IntN(users + 2))
		}
		reqs[i] = req
	}
	return reqs
}

func workloads() []workload {
	rng := rand.New(rand.NewPCG(42, 2))
	mk := func(name string, n int, sh shape, users int) workload {
		rules := genRules(rng, n, sh, users)
		w := workload{name: name, rules: rules, reqs: genRequests(rng, rules, reqMask+1, users)}
		for _, r := range rules {
			w.ranges += len(r.IpRanges) + len(r.NotIpRanges)
		}
		return w
	}
	return []workload{
		// S, a typical organization: 10 rules, 10 users, up to 10 ranges per list
		// (IpRanges in 7 rules of 10, NotIpRanges in 1 of 2).
		mk("S", 10, shape{ranges: 10, notOneIn: 2}, 10),
		// M, the model's maximum: 10 rules, each with 1024 IpRanges and 1024 NotIpRanges.
		mk("M", 10, shape{ranges: 1024, inEvery: true, notEvery: true}, 10),
		// L, a large gateway past AWS's limits: 1,000 rules, each with 100
		// IpRanges (one in five with 100 NotIpRanges as well), 10 users.
		mk("L", 1000, shape{ranges: 100, inEvery: true, notOneIn: 5}, 10),
	}
}

var (
	sinkEffect policy.Effect
	sinkNames  []string
)

// BenchmarkEvaluate measures the fast path: effect plus matched names appended
// into a reused slice.
func BenchmarkEvaluate(b *testing.B) {
	for _, w := range workloads() {
		p, err := accessctl.Compile(w.rules, accessctl.Options{})
		if err != nil {
			b.Fatal(err)
		}
		reqs := w.reqs
		b.Run(w.name, func(b *testing.B) {
			names := make([]string, 0, len(w.rules))
			var eff, deny policy.Effect
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				eff, names, _ = p.Evaluate(reqs[i&reqMask], names[:0])
				deny += eff & 1
			}
			sinkEffect, sinkNames = deny, names
		})
	}
}

// BenchmarkEffect measures Effect (the effect alone, no rule names) on the
// same requests as BenchmarkEvaluate.
func BenchmarkEffect(b *testing.B) {
	for _, w := range workloads() {
		p, err := accessctl.Compile(w.rules, accessctl.Options{})
		if err != nil {
			b.Fatal(err)
		}
		reqs := w.reqs
		b.Run(w.name, func(b *testing.B) {
			var deny policy.Effect
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				eff, _ := p.Effect(reqs[i&reqMask])
				deny += eff & 1
			}
			sinkEffect = deny
		})
	}
}

// BenchmarkEvaluateRepeat evaluates one request of each workload's mix (the
// first that one rule decides) over and over: the branch predictors and
// caches learn it, so this is the floor under BenchmarkEvaluate, and the
// difference is what a mix of requests costs (mispredicted branches above
// all). It is also a probe of the machine's speed at the moment: on a VM
// whose speed varies by 2x within seconds, the ratio of BenchmarkEvaluate/S
// to BenchmarkEvaluateRepeat/S measured in one run is steady where either
// alone is not (docs/performance.md has the method and the numbers).
func BenchmarkEvaluateRepeat(b *testing.B) {
	for _, w := range workloads() {
		p, err := accessctl.Compile(w.rules, accessctl.Options{})
		if err != nil {
			b.Fatal(err)
		}
		req := w.reqs[0]
		for _, r := range w.reqs {
			if _, names, _ := p.Evaluate(r, nil); len(names) == 1 {
				req = r
				break
			}
		}
		b.Run(w.name, func(b *testing.B) {
			names := make([]string, 0, len(w.rules))
			var eff, deny policy.Effect
			b.ReportAllocs()
			for range b.N {
				eff, names, _ = p.Evaluate(req, names[:0])
				deny += eff & 1
			}
			sinkEffect, sinkNames = deny, names
		})
	}
}

// BenchmarkEvaluateParallel runs the fast path from GOMAXPROCS goroutines.
//
// Run it with a time -benchtime (the default), not a count (-benchtime 1000x):
// with a count RunParallel hands out iterations one or two at a time through
// one shared atomic counter (it sizes its batches from a first run of one
// iteration; golang/go#37996), and the goroutines then spend most of their
// time passing that counter's cache line between cores, and the time per op
// measures that, not the code. The benchmark logs a warning when given a count.
func BenchmarkEvaluateParallel(b *testing.B) {
	for _, w := range workloads() {
		p, err := accessctl.Compile(w.rules, accessctl.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(w.name, func(b *testing.B) {
			if countBenchtime() {
				b.Log("-benchtime is a count: RunParallel will hand out iterations one at a time (golang/go#37996); use a duration")
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				names := make([]string, 0, len(w.rules))
				i := 0
				for pb.Next() {
					eff, n, _ := p.Evaluate(w.reqs[i&reqMask], names[:0])
					names = n
					if eff == 0 {
						panic("no effect")
					}
					i++
				}
			})
		})
	}
}

// BenchmarkReference measures the naive reference evaluator on the same
// requests, for the speed-up ratio.
func BenchmarkReference(b *testing.B) {
	for _, w := range workloads() {
		if w.name == "L" {
			continue // minutes per op batch; S and M give the ratio
		}
		b.Run(w.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				res, _ := reference.Evaluate(w.rules, w.reqs[i&reqMask], nil)
				sinkEffect = res.Effect
			}
		})
	}
}

// workloadNames are the names of workloads(), in order.
var workloadNames = []string{"S", "M", "L"}

// workloadNamed returns one workload (the same as in workloads()), without
// keeping the others alive.
func workloadNamed(name string) workload {
	for _, w := range workloads() {
		if w.name == name {
			return w
		}
	}
	panic("no workload " + name)
}

// BenchmarkCompile measures compilation; the "heap-MB" metric is the live heap
// held by one compiled policy. Each workload is generated on its own, so that
// the garbage collector works on what a gateway compiling those rules would
// hold: the rules and the policy, not the other workloads' rules too.
func BenchmarkCompile(b *testing.B) {
	for _, name := range workloadNames {
		w := workloadNamed(name)
		runtime.GC()
		b.Run(w.name, func(b *testing.B) {
			b.ReportAllocs()
			var p *accessctl.Policy
			for i := 0; i < b.N; i++ {
				var err error
				p, err = accessctl.Compile(w.rules, accessctl.Options{})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(heapOf(func() any { p, _ := accessctl.Compile(w.rules, accessctl.Options{}); return p }))/(1<<20), "heap-MB")
			_ = p
		})
	}
}

// heapOf returns the bytes of live heap that the value made by f keeps.
func heapOf(f func() any) uint64 {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	v := f()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	runtime.KeepAlive(v)
	if m1.HeapAlloc < m0.HeapAlloc {
		return 0
	}
	return m1.HeapAlloc - m0.HeapAlloc
}

// The fast path allocates nothing: for every workload, user and role requests,
// with and without a directory, hits and misses.
func TestEvaluateNoAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the large workloads")
	}
	for _, w := range workloads() {
		p := mustCompile(t, w.rules)
		names := make([]string, 0, len(w.rules))
		i := 0
		allocs := testing.AllocsPerRun(2000, func() {
			_, names, _ = p.Evaluate(w.reqs[i%len(w.reqs)], names[:0])
			i++
		})
		if allocs != 0 {
			t.Errorf("%s: Evaluate allocates %v times per run", w.name, allocs)
		}
		allocs = testing.AllocsPerRun(2000, func() {
			sinkEffect, _ = p.Effect(w.reqs[i%len(w.reqs)])
			i++
		})
		if allocs != 0 {
			t.Errorf("%s: Effect allocates %v times per run", w.name, allocs)
		}
	}
}

// With a directory, resolving emails (any case), aliases and user names on the
// fast path allocates nothing either.
func TestEvaluateNoAllocsWithDirectory(t *testing.T) {
	dir := exampleDirectory(t)
	users := dir.Users()
	rules := []accessctl.Rule{
		{Name: "default", Effect: policy.Allow},
		{Name: "deny-a", Effect: policy.Deny, UserIds: []string{users[0].Email}, NotIpRanges: []string{"10.0.0.0/8"}},
	}
	p, err := accessctl.Compile(rules, accessctl.Options{Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{users[0].ID, users[0].Email, upperASCII(users[0].Email), users[0].Aliases[0], users[0].Name, users[1].Email, upperASCII(users[2].Name)}
	names := make([]string, 0, 4)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		req := accessctl.Request{IP: netip.AddrFrom4([4]byte{192, 0, 2, 1}), Action: accessctl.IMAP, UserID: ids[i%len(ids)]}
		_, names, _ = p.Evaluate(req, names[:0])
		i++
	})
	if allocs != 0 {
		t.Errorf("Evaluate with directory allocates %v times per run", allocs)
	}
}

// countBenchtime reports whether -test.benchtime is a count ("1000x"), with
// which RunParallel's per-op times measure its shared counter, not the code.
func countBenchtime() bool {
	f := flag.Lookup("test.benchtime")
	return f != nil && strings.HasSuffix(f.Value.String(), "x")
}
