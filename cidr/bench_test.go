package cidr

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"
)

var (
	benchSink    uint32
	benchSinkIDs []int32
	benchSinkErr error
)

func BenchmarkParseAddr(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		benchSink, benchSinkErr = ParseAddr("192.168.100.200")
	}
}

func BenchmarkParseAddrError(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		benchSink, benchSinkErr = ParseAddr("192.168.100.256")
	}
}

func BenchmarkParseRange(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var r Range
		r, benchSinkErr = ParseRange("192.168.100.0/24")
		benchSink = r.Addr()
	}
}

func BenchmarkAddrFrom(b *testing.B) {
	a := netip.MustParseAddr("192.0.2.1")
	b.ReportAllocs()
	for b.Loop() {
		benchSink, benchSinkErr = AddrFrom(a)
	}
}

// benchAddrs returns addresses half of which fall in some range.
func benchAddrs(rng *rand.Rand, rs []Range) []uint32 {
	as := make([]uint32, 1<<14)
	for i := range as {
		if i%2 == 0 || len(rs) == 0 {
			as[i] = rng.Uint32()
		} else {
			r := rs[rng.IntN(len(rs))]
			as[i] = r.First() | rng.Uint32()&^r.mask()
		}
	}
	return as
}

func BenchmarkClass(b *testing.B) {
	for _, n := range []int{10, 20_000, 100_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, uint64(n)))
			rs := randomRanges(rng, n)
			tab := Build(rs)
			as := benchAddrs(rng, rs)
			b.ReportMetric(float64(tab.NumIntervals()), "intervals")
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				benchSink += tab.Class(as[i&(len(as)-1)])
				i++
			}
		})
	}
}

func BenchmarkLookup(b *testing.B) {
	for _, n := range []int{20_000, 100_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, uint64(n)))
			rs := randomRanges(rng, n)
			tab := Build(rs)
			as := benchAddrs(rng, rs)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				benchSinkIDs = tab.Lookup(as[i&(len(as)-1)])
				i++
			}
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{20_000, 100_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			rs := randomRanges(rand.New(rand.NewPCG(1, uint64(n))), n)
			b.ReportAllocs()
			for b.Loop() {
				Build(rs)
			}
		})
	}
}

func BenchmarkTableMap(b *testing.B) {
	for _, n := range []int{20_000, 100_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			tab := Build(randomRanges(rand.New(rand.NewPCG(1, uint64(n))), n))
			b.ReportAllocs()
			for b.Loop() {
				tab.Map(func(c uint32) uint32 { return c % 16 })
			}
		})
	}
}
