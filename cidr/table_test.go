package cidr

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func equalIDs(a, b []int32) bool { return len(a) == len(b) && (len(a) == 0 || slices.Equal(a, b)) }

// bruteLookup is the oracle: the IDs of the valid ranges whose masked
// netip.Prefix contains a (SEMANTICS A9: host bits match as the masked
// network).
func bruteLookup(rs []Range, a uint32) []int32 {
	ip := AddrToNetip(a)
	var ids []int32
	for id, r := range rs {
		if r.IsValid() && r.Prefix().Masked().Contains(ip) {
			ids = append(ids, int32(id))
		}
	}
	return ids
}

// boundaries returns the network, broadcast and +-1 addresses of every range
// (skipping wraparound), plus 0 and the last address.
func boundaries(rs []Range) []uint32 {
	as := []uint32{0, 1, math.MaxUint32 - 1, math.MaxUint32}
	for _, r := range rs {
		if !r.IsValid() {
			continue
		}
		f, l := r.First(), r.Last()
		as = append(as, f, l, r.Addr())
		if f > 0 {
			as = append(as, f-1)
		}
		if l < math.MaxUint32 {
			as = append(as, l+1)
		}
	}
	return as
}

// checkTableStructure checks the invariants of the intervals and classes.
func checkTableStructure(t tb, tab *Table) {
	t.Helper()
	nc := tab.NumClasses()
	var next uint64
	var prev Interval
	n := 0
	seenClass := make([]bool, nc)
	maxClass := -1
	memberSets := map[string]uint32{}
	for iv := range tab.Intervals() {
		if uint64(iv.First) != next || iv.Last < iv.First {
			t.Fatalf("interval %d = %+v does not follow %+v", n, iv, prev)
		}
		if n > 0 && iv.Class == prev.Class {
			t.Fatalf("adjacent intervals %+v and %+v have the same class", prev, iv)
		}
		if int(iv.Class) >= nc {
			t.Fatalf("interval %+v: class >= NumClasses() = %d", iv, nc)
		}
		if !seenClass[iv.Class] {
			// Classes are numbered in order of first appearance.
			if int(iv.Class) != maxClass+1 {
				t.Fatalf("interval %+v: class %d appears before class %d", iv, iv.Class, maxClass+1)
			}
			maxClass = int(iv.Class)
			seenClass[iv.Class] = true
		}
		if tab.Class(iv.First) != iv.Class || tab.Class(iv.Last) != iv.Class {
			t.Fatalf("interval %+v: Class(First) = %d, Class(Last) = %d", iv, tab.Class(iv.First), tab.Class(iv.Last))
		}
		next = uint64(iv.Last) + 1
		prev = iv
		n++
	}
	if next != 1<<32 {
		t.Fatalf("intervals end at %#x, not at the end of the address space", next)
	}
	if n != tab.NumIntervals() {
		t.Fatalf("%d intervals, NumIntervals() = %d", n, tab.NumIntervals())
	}
	if maxClass != nc-1 {
		t.Fatalf("classes 0..%d used, NumClasses() = %d", maxClass, nc)
	}
	for c := range uint32(nc) {
		m := tab.Members(c)
		if !slices.IsSorted(m) || len(slices.Compact(slices.Clone(m))) != len(m) {
			t.Fatalf("Members(%d) = %v: not strictly ascending", c, m)
		}
		if cap(m) != len(m) {
			t.Fatalf("Members(%d): cap %d != len %d", c, cap(m), len(m))
		}
		var kb []byte
		for _, id := range m {
			kb = binary.LittleEndian.AppendUint32(kb, uint32(id))
		}
		key := string(kb)
		if d, ok := memberSets[key]; ok {
			t.Fatalf("classes %d and %d have the same members %v", d, c, m)
		}
		memberSets[key] = c
	}
	if tab.Class(0) != 0 {
		t.Fatalf("Class(0) = %d", tab.Class(0))
	}
}

// checkTableLookups checks Lookup and Class against the brute-force oracle at
// the given addresses.
func checkTableLookups(t tb, rs []Range, tab *Table, as []uint32) {
	t.Helper()
	for _, a := range as {
		want := bruteLookup(rs, a)
		if got := tab.Lookup(a); !equalIDs(got, want) {
			t.Fatalf("Lookup(%s) = %v, want %v (ranges %v)", AddrString(a), got, want, rs)
		}
		if got := tab.Members(tab.Class(a)); !equalIDs(got, want) {
			t.Fatalf("Members(Class(%s)) = %v, want %v", AddrString(a), got, want)
		}
	}
}

// rangeGen draws lists of ranges biased towards nesting, adjacency,
// overlap, duplicates, host bits, /0, /32 and the ends of the address space.
func rangeGen(maxN int) *rapid.Generator[[]Range] {
	special := []uint32{0, 1, math.MaxUint32, math.MaxUint32 - 1, 0x7fffffff, 0x80000000, 0x0a000000, 0xc0000200}
	return rapid.Custom(func(t *rapid.T) []Range {
		n := rapid.IntRange(0, maxN).Draw(t, "n")
		rs := make([]Range, 0, n)
		for range n {
			op := rapid.IntRange(0, 7).Draw(t, "op")
			if len(rs) == 0 && op != 7 {
				op = 0
			}
			var base Range
			if len(rs) > 0 {
				base = rapid.SampledFrom(rs).Draw(t, "base")
			}
			if !base.IsValid() && op != 7 {
				op = 0
			}
			var r Range
			switch op {
			case 0: // fresh
				a := rapid.OneOf(rapid.Uint32(), rapid.SampledFrom(special)).Draw(t, "addr")
				r = RangeFrom(a, rapid.IntRange(0, 32).Draw(t, "bits"))
			case 1, 2: // nested inside base, maybe with host bits
				bits := rapid.IntRange(base.Bits(), 32).Draw(t, "bits")
				host := rapid.Uint32().Draw(t, "host") &^ base.Masked().mask()
				r = RangeFrom(base.First()|host, bits)
			case 3: // adjacent: the next or previous block of the same size
				size := uint64(base.Last()-base.First()) + 1
				if rapid.Bool().Draw(t, "next") {
					r = RangeFrom(uint32(uint64(base.First())+size), base.Bits())
				} else {
					r = RangeFrom(uint32(uint64(base.First())-size), base.Bits())
				}
			case 4: // parent
				r = RangeFrom(base.Addr(), rapid.IntRange(0, base.Bits()).Draw(t, "bits"))
			case 5: // duplicate, maybe with other host bits
				r = RangeFrom(base.First()|rapid.Uint32().Draw(t, "host")&^base.mask(), base.Bits())
			case 6: // sibling half
				if base.Bits() < 32 {
					r = RangeFrom(base.First()|1<<(31-base.Bits()), base.Bits()+1)
				} else {
					r = base
				}
			case 7: // invalid (zero) Range: contains nothing
			}
			rs = append(rs, r)
		}
		return rs
	})
}

// TestSemanticsA9_TableMatchesNetip checks the Table against
// netip.Prefix.Contains (of the masked prefix) on every boundary address of
// random nested, adjacent and overlapping ranges.
func TestSemanticsA9_TableMatchesNetip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rs := rangeGen(40).Draw(t, "ranges")
		tab := Build(rs)
		if tab.NumRanges() != len(rs) {
			t.Fatalf("NumRanges() = %d, want %d", tab.NumRanges(), len(rs))
		}
		as := boundaries(rs)
		as = append(as, rapid.SliceOf(rapid.Uint32()).Draw(t, "extra")...)
		checkTableLookups(t, rs, tab, as)
		checkTableStructure(t, tab)
	})
}

func TestTableEdgeCases(t *testing.T) {
	tests := []struct {
		name   string
		ranges []string
	}{
		{"none", nil},
		{"slash0", []string{"0.0.0.0/0"}},
		{"slash0 host bits", []string{"255.255.255.255/0"}},
		{"slash32 first", []string{"0.0.0.0/32"}},
		{"slash32 last", []string{"255.255.255.255/32"}},
		{"halves", []string{"0.0.0.0/1", "128.0.0.0/1"}},
		{"halves under slash0", []string{"0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1"}},
		{"covered by children", []string{"10.0.0.0/24", "10.0.0.0/25", "10.0.0.128/25"}},
		{"duplicates", []string{"10.0.0.0/8", "10.0.0.0/8", "10.1.2.3/8", "10.0.0.0/8"}},
		{"nested chain", []string{"10.0.0.0/8", "10.1.0.0/16", "10.1.1.0/24", "10.1.1.1/32", "0.0.0.0/0"}},
		{"adjacent", []string{"10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/23", "10.0.4.0/22"}},
		{"every length", func() []string {
			var s []string
			for b := 0; b <= 32; b++ {
				s = append(s, RangeFrom(0x0a0a0a0a, b).String())
			}
			return s
		}()},
		{"every length at the top", func() []string {
			var s []string
			for b := 32; b >= 0; b-- {
				s = append(s, RangeFrom(math.MaxUint32, b).String())
			}
			return s
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rs []Range
			for _, s := range tt.ranges {
				rs = append(rs, MustParseRange(s))
			}
			// With invalid (zero) ranges mixed in: they get IDs, match nothing.
			for _, withInvalid := range []bool{false, true} {
				in := rs
				if withInvalid {
					in = nil
					for _, r := range rs {
						in = append(in, Range{}, r)
					}
					in = append(in, Range{})
				}
				tab := Build(in)
				checkTableLookups(t, in, tab, boundaries(in))
				checkTableStructure(t, tab)
			}
		})
	}

	tab := Build([]Range{MustParseRange("0.0.0.0/0")})
	if tab.NumClasses() != 1 || tab.NumIntervals() != 1 || !equalIDs(tab.Members(0), []int32{0}) {
		t.Errorf("/0 table: %d classes, %d intervals, members %v", tab.NumClasses(), tab.NumIntervals(), tab.Members(0))
	}
	tab = Build([]Range{Range{}, Range{}})
	if tab.NumClasses() != 1 || tab.NumIntervals() != 1 || len(tab.Members(0)) != 0 || tab.NumRanges() != 2 {
		t.Errorf("invalid-only table: %d classes, %d intervals", tab.NumClasses(), tab.NumIntervals())
	}
}

func TestTableZeroValue(t *testing.T) {
	for name, tab := range map[string]*Table{"nil": nil, "zero": {}, "built empty": Build(nil)} {
		if tab.Class(0) != 0 || tab.Class(math.MaxUint32) != 0 || tab.Class(12345) != 0 {
			t.Errorf("%s: Class != 0", name)
		}
		if tab.NumClasses() != 1 || tab.NumIntervals() != 1 || len(tab.Members(0)) != 0 || len(tab.Lookup(42)) != 0 {
			t.Errorf("%s: not an empty table", name)
		}
		var ivs []Interval
		for iv := range tab.Intervals() {
			ivs = append(ivs, iv)
		}
		if want := []Interval{{0, math.MaxUint32, 0}}; !reflect.DeepEqual(ivs, want) {
			t.Errorf("%s: Intervals = %v, want %v", name, ivs, want)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Members(1) did not panic", name)
				}
			}()
			tab.Members(1)
		}()
	}
	if (*Table)(nil).NumRanges() != 0 {
		t.Error("nil table: NumRanges != 0")
	}
	// Stopping the iteration early.
	tab := Build([]Range{MustParseRange("10.0.0.0/8")})
	n := 0
	for range tab.Intervals() {
		n++
		break
	}
	if n != 1 || tab.NumIntervals() != 3 {
		t.Errorf("early break: %d, NumIntervals %d", n, tab.NumIntervals())
	}
}

// randomRanges makes n ranges the way a big store might hold them: mostly
// /16 to /32 at random places, a few wider ones, and a share nested in,
// adjacent to or duplicating earlier ranges.
func randomRanges(rng *rand.Rand, n int) []Range {
	rs := make([]Range, 0, n)
	for range n {
		switch k := rng.IntN(100); {
		case k < 70 || len(rs) == 0:
			bits := 16 + rng.IntN(17)
			switch rng.IntN(1000) {
			case 0:
				bits = rng.IntN(8)
			case 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20:
				bits = 8 + rng.IntN(8)
			}
			rs = append(rs, RangeFrom(rng.Uint32(), bits))
		case k < 85: // nested
			base := rs[rng.IntN(len(rs))]
			bits := base.Bits() + rng.IntN(33-base.Bits())
			rs = append(rs, RangeFrom(base.First()|rng.Uint32()&^base.mask(), bits))
		case k < 97: // adjacent
			base := rs[rng.IntN(len(rs))]
			rs = append(rs, RangeFrom(base.Last()+1, base.Bits()))
		default: // duplicate
			rs = append(rs, rs[rng.IntN(len(rs))])
		}
	}
	return rs
}

// TestBuildWideDuplicates: many copies of wide ranges over many narrow ones
// repeat the wide IDs in every class; Build stays linear in that size.
func TestBuildWideDuplicates(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	var rs []Range
	for i := range 2000 {
		if i%8 == 0 {
			rs = append(rs, RangeFrom(rng.Uint32(), i%3))
		} else {
			rs = append(rs, RangeFrom(rng.Uint32(), 32))
		}
	}
	tab := Build(rs)
	o := newPrefixOracle(rs)
	for _, a := range boundaries(rs) {
		if got, want := tab.Lookup(a), o.lookup(a); !equalIDs(got, want) {
			t.Fatalf("Lookup(%s) = %v, want %v", AddrString(a), got, want)
		}
	}
	checkTableStructure(t, tab)
}

// prefixOracle answers lookups through a map of masked prefixes, keyed
// by netip's masking: at most 33 probes per address, fast enough for big
// tables.
type prefixOracle map[uint64][]int32

func oracleKey(p netip.Prefix) uint64 {
	a := p.Addr().As4()
	return uint64(a[0])<<38 | uint64(a[1])<<30 | uint64(a[2])<<22 | uint64(a[3])<<14 | uint64(p.Bits())
}

func newPrefixOracle(rs []Range) prefixOracle {
	o := prefixOracle{}
	for id, r := range rs {
		if r.IsValid() {
			k := oracleKey(r.Prefix().Masked())
			o[k] = append(o[k], int32(id))
		}
	}
	return o
}

func (o prefixOracle) lookup(a uint32) []int32 {
	var ids []int32
	for b := 0; b <= 32; b++ {
		m := uint32(0)
		if b > 0 {
			m = ^uint32(0) << (32 - b)
		}
		ids = append(ids, o[uint64(a&m)<<14|uint64(b)]...)
	}
	slices.Sort(ids)
	return ids
}

// TestTableSeeded20k checks a 20,000-range table on every boundary address
// and on random addresses.
func TestTableSeeded20k(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 20000))
	rs := randomRanges(rng, 20_000)
	tab := Build(rs)
	o := newPrefixOracle(rs)
	as := boundaries(rs)
	for range 20_000 {
		as = append(as, rng.Uint32())
	}
	for _, a := range as {
		want := o.lookup(a)
		if got := tab.Lookup(a); !equalIDs(got, want) {
			t.Fatalf("Lookup(%s) = %v, want %v", AddrString(a), got, want)
		}
	}
	// Every interval's members, checked at its first address.
	for iv := range tab.Intervals() {
		if got, want := tab.Members(iv.Class), o.lookup(iv.First); !equalIDs(got, want) {
			t.Fatalf("interval %+v: members %v, want %v", iv, got, want)
		}
	}
	checkTableStructure(t, tab)
	t.Logf("%d ranges: %d intervals, %d classes, index 2^%d", len(rs), tab.NumIntervals(), tab.NumClasses(), 32-tab.lookup.shift)
}

// TestBuildSortFallback: the general sort path (for more than 2^26 ranges)
// builds the same table as the packed-key one.
func TestBuildSortFallback(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	rs := randomRanges(rng, 3000)
	rs = append(rs, Range{}, MustParseRange("0.0.0.0/0"), Range{})
	want := Build(rs)
	defer func(old int) { sortIDLimit = old }(sortIDLimit)
	sortIDLimit = 0
	if got := Build(rs); !reflect.DeepEqual(got, want) {
		t.Error("fallback sort builds a different table")
	}
}

// TestTableIndexBound: the first-level index stays proportional to the
// number of intervals (a store holds thousands of tables): about one bucket
// per interval for large tables, about four for small ones, whose index
// stays within 1<<smallIndexBits entries.
func TestTableIndexBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 2, 3, 10, 100, 300, 1000, 3000, 50_000} {
		tab := Build(randomRanges(rng, n))
		entries, ivs := len(tab.lookup.index), tab.NumIntervals()
		k0 := max(bits.Len(uint(ivs-1)), 1)
		switch {
		case entries > 1<<maxIndexBits:
			t.Errorf("%d ranges: index has %d entries", n, entries)
		case k0+2 <= smallIndexBits && entries != 1<<(k0+2):
			t.Errorf("%d ranges, %d intervals: index has %d entries, want %d (small)", n, ivs, entries, 1<<(k0+2))
		case k0+2 > smallIndexBits && entries > max(1<<smallIndexBits, 2*ivs+1):
			t.Errorf("%d ranges, %d intervals: index has %d entries", n, ivs, entries)
		}
		t.Logf("%d ranges: %d intervals, index 2^%d", n, ivs, 32-tab.lookup.shift)
	}
}

// TestTableConcurrent: a Table is read-only after Build (run with -race).
func TestTableConcurrent(t *testing.T) {
	rs := randomRanges(rand.New(rand.NewPCG(13, 14)), 2000)
	tab := Build(rs)
	o := newPrefixOracle(rs)
	as := boundaries(rs)
	done := make(chan error, 4)
	for g := range 4 {
		go func() {
			for i := g; i < len(as); i += 4 {
				if got, want := tab.Lookup(as[i]), o.lookup(as[i]); !equalIDs(got, want) {
					done <- fmt.Errorf("Lookup(%s) = %v, want %v", AddrString(as[i]), got, want)
					return
				}
			}
			n := 0
			for range tab.Intervals() {
				n++
			}
			if n != tab.NumIntervals() {
				done <- fmt.Errorf("%d intervals, want %d", n, tab.NumIntervals())
				return
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
