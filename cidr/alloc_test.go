package cidr

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestAllocs: the hot paths do not allocate.
func TestAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("AllocsPerRun is slow-ish")
	}
	rng := rand.New(rand.NewPCG(9, 10))
	tab := Build(randomRanges(rng, 1000))
	small := Build([]Range{MustParseRange("10.0.0.1/8")})
	v4 := netip.MustParseAddr("192.0.2.1")
	mapped := netip.MustParseAddr("::ffff:192.0.2.1")
	var sink uint32
	var sinkIDs []int32
	var sinkErr error
	tests := []struct {
		name string
		f    func()
	}{
		{"ParseAddr", func() { sink, sinkErr = ParseAddr("192.0.2.1") }},
		{"ParseAddr/max", func() { sink, sinkErr = ParseAddr("255.255.255.255") }},
		{"ParseRange", func() {
			var r Range
			r, sinkErr = ParseRange("10.0.0.1/8")
			sink = r.Addr()
		}},
		{"AddrFrom/v4", func() { sink, sinkErr = AddrFrom(v4) }},
		{"AddrFrom/mapped", func() { sink, sinkErr = AddrFrom(mapped) }},
		{"Class", func() { sink = tab.Class(rng.Uint32()) }},
		{"Class/small", func() { sink = small.Class(rng.Uint32()) }},
		{"Class/nil", func() { sink = (*Table)(nil).Class(rng.Uint32()) }},
		{"Lookup", func() { sinkIDs = tab.Lookup(rng.Uint32()) }},
		{"Members", func() { sinkIDs = tab.Members(uint32(rng.IntN(tab.NumClasses()))) }},
		{"Contains", func() {
			if MustParseRange("10.0.0.0/8").Contains(rng.Uint32()) {
				sink++
			}
		}},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(1000, tt.f); n != 0 {
			t.Errorf("%s: %v allocs per run, want 0", tt.name, n)
		}
	}
	_, _, _ = sink, sinkIDs, sinkErr
}
