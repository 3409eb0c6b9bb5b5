package cidr

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"

	"pgregory.net/rapid"
)

// setLabel labels a set of range IDs (ascending) with a 32-bit hash of it, so
// that labels look like the rule bitsets accessctl stores (arbitrary uint32s,
// including 0).
func setLabel(ids []int32) uint32 {
	if len(ids) == 0 {
		return 0
	}
	h := fnv.New32a()
	for _, id := range ids {
		h.Write([]byte{byte(id), byte(id >> 8), byte(id >> 16), byte(id >> 24)})
	}
	return h.Sum32()
}

// refMembers lists the IDs of the ranges that contain a, by net/netip.
func refMembers(ps []netip.Prefix, a uint32) []int32 {
	addr := netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
	var ids []int32
	for i, p := range ps {
		if p.IsValid() && p.Contains(addr) {
			ids = append(ids, int32(i))
		}
	}
	return ids
}

func prefixes(rs []Range) []netip.Prefix {
	ps := make([]netip.Prefix, len(rs))
	for i, r := range rs {
		if r.IsValid() {
			a := r.Addr()
			ps[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), r.Bits()).Masked()
		}
	}
	return ps
}

// Property (Map's contract, on which accessctl's address dimension rests,
// SEMANTICS A3/A9): Map.Get(a) is label(class of a) for every boundary
// address and random ones, checked against membership computed with
// net/netip rather than against Table.Class (which shares Map.Get and
// buildIndex), with labels that are arbitrary 32-bit values.
func TestMapGetEqualsNetip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rs := rangeGen(60).Draw(t, "ranges")
		tab := Build(rs)
		m := tab.Map(func(c uint32) uint32 { return setLabel(tab.Members(c)) })
		ps := prefixes(rs)
		as := boundaries(rs)
		as = append(as, rapid.SliceOfN(rapid.Uint32(), 0, 20).Draw(t, "extra")...)
		for _, a := range as {
			if got, want := m.Get(a), setLabel(refMembers(ps, a)); got != want {
				t.Fatalf("Get(%s) = %#x, want %#x (members %v)", AddrString(a), got, want, refMembers(ps, a))
			}
		}
	})
}

// The same on tables large enough for many-bit indexes, with starts placed
// exactly on bucket boundaries and just after them, and intervals that span
// many buckets (the n == 0 buckets that store the label directly).
func TestMapBucketEdges(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{1, 2, 3, 7, 64, 600} {
		var rs []Range
		for i := 0; i < n; i++ {
			switch rng.IntN(4) {
			case 0: // aligned on a power of two: starts at bucket edges
				bits := 1 + rng.IntN(20)
				rs = append(rs, RangeFrom(rng.Uint32(), bits))
			case 1:
				rs = append(rs, RangeFrom(rng.Uint32(), 32))
			case 2: // just after a bucket edge
				rs = append(rs, RangeFrom(rng.Uint32()&^0xfff|1, 32))
			default:
				rs = append(rs, RangeFrom(rng.Uint32(), 8+rng.IntN(25)))
			}
		}
		tab := Build(rs)
		m := tab.Map(func(c uint32) uint32 { return setLabel(tab.Members(c)) })
		ps := prefixes(rs)
		as := boundaries(rs)
		for i := 0; i < 2000; i++ {
			as = append(as, rng.Uint32())
		}
		for k := 1; k <= 20; k++ { // every bucket edge of a 2^k index near the ranges
			for j := 0; j < 50; j++ {
				b := rng.Uint32() >> (32 - k) << (32 - k)
				as = append(as, b, b-1, b+1)
			}
		}
		as = append(as, 0, math.MaxUint32)
		for _, a := range as {
			if got, want := m.Get(a), setLabel(refMembers(ps, a)); got != want {
				t.Fatalf("n=%d: Get(%s) = %#x, want %#x", n, AddrString(a), got, want)
			}
		}
	}
}
