package cidr

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"

	"pgregory.net/rapid"
)

// bigRangeGen draws lists of minN to maxN ranges, enough for Build's radix
// sort, with the structure of rangeGen: nesting, adjacency, duplicates
// (with other host bits), parents, sibling halves (so that prefixes are
// covered by their children), invalid ranges, /0, /32 and the ends of the
// address space. The list is drawn from a seed, so that it is cheap to draw.
func bigRangeGen(minN, maxN int) *rapid.Generator[[]Range] {
	special := []uint32{0, 1, math.MaxUint32, math.MaxUint32 - 1, 0x7fffffff, 0x80000000, 0x0a000000, 0xc0000200}
	return rapid.Custom(func(t *rapid.T) []Range {
		n := rapid.IntRange(minN, maxN).Draw(t, "n")
		rng := rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "seed"), 1))
		wide := rapid.IntRange(0, 32).Draw(t, "wide") // bias towards short prefixes
		rs := make([]Range, 0, n)
		for range n {
			op := rng.IntN(8)
			var base Range
			if len(rs) > 0 {
				base = rs[rng.IntN(len(rs))]
			}
			if !base.IsValid() && op != 7 {
				op = 0
			}
			var r Range
			switch op {
			case 0: // fresh
				a := rng.Uint32()
				if rng.IntN(4) == 0 {
					a = special[rng.IntN(len(special))]
				}
				bits := rng.IntN(33)
				if rng.IntN(4) == 0 {
					bits = min(bits, wide)
				}
				r = RangeFrom(a, bits)
			case 1, 2: // nested, maybe with host bits
				bits := base.Bits() + rng.IntN(33-base.Bits())
				r = RangeFrom(base.First()|rng.Uint32()&^base.Masked().mask(), bits)
			case 3: // adjacent
				size := uint64(base.Last()-base.First()) + 1
				if rng.IntN(2) == 0 {
					r = RangeFrom(uint32(uint64(base.First())+size), base.Bits())
				} else {
					r = RangeFrom(uint32(uint64(base.First())-size), base.Bits())
				}
			case 4: // parent
				r = RangeFrom(base.Addr(), rng.IntN(base.Bits()+1))
			case 5: // duplicate, maybe with other host bits
				r = RangeFrom(base.First()|rng.Uint32()&^base.mask(), base.Bits())
			case 6: // both halves
				if base.Bits() < 32 {
					r = RangeFrom(base.First()|1<<(31-base.Bits()), base.Bits()+1)
					rs = append(rs, RangeFrom(base.First(), base.Bits()+1))
				} else {
					r = base
				}
			case 7: // invalid
			}
			rs = append(rs, r)
		}
		return rs
	})
}

// TestBuildLargeMatchesOracle checks tables of thousands of ranges (the radix
// sort, prefixes covered by their children, duplicates, invalid ranges)
// against the prefix oracle on every boundary address, and their structure.
//
// Inputs this large are slow to shrink and to check under -race, so the test
// draws 20 seeded examples instead of running rapid's 100 checks; the small-input
// rapid tests keep shrinking.
func TestBuildLargeMatchesOracle(t *testing.T) {
	for seed := range 20 {
		rs := bigRangeGen(radixMin, 2048).Example(seed)
		tab := Build(rs)
		o := newPrefixOracle(rs)
		for _, a := range boundaries(rs) {
			if got, want := tab.Lookup(a), o.lookup(a); !equalIDs(got, want) {
				t.Fatalf("Lookup(%s) = %v, want %v", AddrString(a), got, want)
			}
		}
		checkTableStructure(t, tab)
		if tab.NumRanges() != len(rs) {
			t.Fatalf("NumRanges() = %d, want %d", tab.NumRanges(), len(rs))
		}
	}
}

// TestBuildSortPaths: the radix sort and the comparison sorts build the same
// table.
func TestBuildSortPaths(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rs := bigRangeGen(radixMin, 3000).Draw(t, "ranges")
		want := Build(rs)
		func() {
			defer func(old int) { sortIDLimit = old }(sortIDLimit)
			sortIDLimit = 0
			if got := Build(rs); !reflect.DeepEqual(got, want) {
				t.Fatal("the general sort builds a different table")
			}
		}()
		// The first radixMin-1 ranges alone take the small-input path:
		// compare it to the same ranges padded with invalid ones, which
		// take the radix path and have the same classes.
		small := rs[:radixMin-1]
		padded := append(small[:len(small):len(small)], make([]Range, radixMin)...)
		a, b := Build(small), Build(padded)
		if !reflect.DeepEqual(a.lookup, b.lookup) || !reflect.DeepEqual(a.memOff, b.memOff) || !reflect.DeepEqual(a.members, b.members) {
			t.Fatal("the radix sort and the small-input sort build different tables")
		}
	})
}

// TestBuildCovered: prefixes covered by their children, at every depth,
// including the whole space.
func TestBuildCovered(t *testing.T) {
	var rs []Range
	var split func(first uint32, bits, depth int)
	split = func(first uint32, bits, depth int) {
		rs = append(rs, RangeFrom(first, bits))
		if depth == 0 || bits == 32 {
			return
		}
		split(first, bits+1, depth-1)
		split(first|1<<(31-bits), bits+1, depth-1)
	}
	split(0, 0, 10) // 2047 prefixes, only the leaves not covered
	rs = append(rs, Range{}, RangeFrom(0x12345678, 30))
	for _, in := range [][]Range{rs, rs[:300]} {
		tab := Build(in)
		o := newPrefixOracle(in)
		for _, a := range boundaries(in) {
			if got, want := tab.Lookup(a), o.lookup(a); !equalIDs(got, want) {
				t.Fatalf("%d ranges: Lookup(%s) = %v, want %v", len(in), AddrString(a), got, want)
			}
		}
		checkTableStructure(t, tab)
	}
}

// TestBuildConcurrent: Builds from several goroutines at once (run with
// -race) build the same tables as one at a time.
func TestBuildConcurrent(t *testing.T) {
	var inputs [][]Range
	var want []*Table
	for i := range 6 {
		rs := randomRanges(rand.New(rand.NewPCG(uint64(i), 99)), 500+i*700)
		inputs = append(inputs, rs)
		want = append(want, Build(rs))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 12 {
				i := (g + k) % len(inputs)
				if !reflect.DeepEqual(Build(inputs[i]), want[i]) {
					errs <- "concurrent Build differs"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// withRadixMin calls f with radixMin set to n.
func withRadixMin(n int, f func()) {
	defer func(old int) { radixMin = old }(radixMin)
	radixMin = n
	f()
}

// TestBuildRadixSmall: small inputs built through the radix sort give the
// same tables as through the comparison sort.
func TestBuildRadixSmall(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rs := rangeGen(60).Draw(t, "ranges")
		want := Build(rs)
		withRadixMin(0, func() {
			if got := Build(rs); !reflect.DeepEqual(got, want) {
				t.Fatal("the radix sort builds a different table")
			}
		})
	})
}

// FuzzTableRadix: Build through the radix sort never panics, agrees with
// the brute-force netip oracle on every boundary address and with its own
// structure, and builds the same table as through the comparison sorts.
func FuzzTableRadix(f *testing.F) {
	enc := func(ss ...string) []byte {
		var b []byte
		for _, s := range ss {
			r := MustParseRange(s)
			b = binary.BigEndian.AppendUint32(b, r.Addr())
			b = append(b, byte(r.Bits()))
		}
		return b
	}
	f.Add([]byte{})
	f.Add(enc("0.0.0.0/0"))
	f.Add(enc("10.0.0.1/8", "10.0.0.0/8", "10.1.0.0/16", "10.0.0.0/9", "10.128.0.0/9"))
	f.Add(enc("0.0.0.0/1", "128.0.0.0/1", "0.0.0.0/0", "192.0.2.0/24", "192.0.3.0/24"))
	f.Add(append(enc("10.0.0.0/8"), 0, 0, 0, 0, 0x80|24, 0, 0, 0, 1, 33))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs := fuzzRanges(b)
		var tab *Table
		withRadixMin(0, func() { tab = Build(rs) })
		as := boundaries(rs)
		for i := 0; i+4 <= len(b) && i < 64; i += 4 {
			as = append(as, binary.LittleEndian.Uint32(b[i:]))
		}
		as = append(as, 0, math.MaxUint32)
		checkTableLookups(t, rs, tab, as)
		checkTableStructure(t, tab)
		if !reflect.DeepEqual(Build(rs), tab) {
			t.Fatal("the comparison sort builds a different table")
		}
		defer func(old int) { sortIDLimit = old }(sortIDLimit)
		sortIDLimit = 0
		if !reflect.DeepEqual(Build(rs), tab) {
			t.Fatal("the general sort builds a different table")
		}
	})
}
