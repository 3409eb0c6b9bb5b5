package cidr

import (
	"iter"
	"math"
	"math/bits"
)

// Map is a compiled map from IPv4 addresses to uint32 labels: the address
// space cut into maximal intervals, each with one label. Build one from a
// [Table] with [Table.Map], which labels each of the table's classes.
//
// A Map is the lookup half of a Table without its member lists: where a caller
// needs only "which precomputed answer belongs to this address", a Map is
// smaller, and its [Map.Get] is one load cheaper than Table.Class followed by
// a class-indexed load.
//
// A Map is immutable and safe for concurrent use. The zero Map (and a nil *Map)
// labels every address 0.
type Map struct {
	// Address lookup: bucket index[a>>shift] either gives a's label
	// directly (the bucket lies in one interval) or the few intervals to
	// binary-search: a is in the last interval i with ivs[i].start <= a.
	shift uint8    // 32-k for a k-bit index, 12..31
	index []bucket // 1<<k entries
	ivs   []ival   // the intervals, ascending, ivs[0].start == 0; class is the label
}

// Get returns the label of address a. O(log n) worst case for n intervals,
// usually one or two loads; it does not allocate.
func (m *Map) Get(a uint32) uint32 {
	if m == nil || m.index == nil {
		return 0
	}
	bk := m.index[a>>(m.shift&31)]
	if bk.n == 0 {
		return bk.lo
	}
	// Find the last of the intervals lo..lo+n that starts at or before a,
	// halving the number n of candidates after lo at each step.
	for bk.n > 0 {
		half := (bk.n + 1) >> 1
		if m.ivs[bk.lo+half].start <= a {
			bk.lo += half
			bk.n -= half
		} else {
			bk.n = half - 1
		}
	}
	return m.ivs[bk.lo].class
}

// Map returns a [Map] that labels every address with label(Class(address)).
// Adjacent intervals that get the same label are merged, so the Map may have
// fewer intervals than the Table. label is called once per class, in class
// order. Cost: O(NumIntervals + NumClasses).
func (t *Table) Map(label func(class uint32) uint32) *Map {
	if t == nil || t.lookup.ivs == nil {
		m := &Map{ivs: []ival{{start: 0, class: label(0)}}}
		m.buildIndex()
		return m
	}
	labels := make([]uint32, t.NumClasses())
	for c := range labels {
		labels[c] = label(uint32(c))
	}
	// Two passes without data-dependent branches: count the intervals
	// whose label differs from the one before, then write them, storing
	// every interval and advancing over those that start a new label.
	src := t.lookup.ivs
	n := 1
	prev := labels[src[0].class]
	for _, iv := range src[1:] {
		l := labels[iv.class]
		if l != prev {
			n++
		}
		prev = l
	}
	ivs := make([]ival, n+1) // one spare for the last store
	ivs[0] = ival{start: 0, class: labels[src[0].class]}
	k := 1
	prev = ivs[0].class
	for _, iv := range src[1:] {
		l := labels[iv.class]
		ivs[k] = ival{start: iv.start, class: l}
		if l != prev {
			k++
		}
		prev = l
	}
	m := &Map{ivs: ivs[:n:n]}
	m.buildIndex()
	return m
}

// NumIntervals returns the number of maximal intervals of the map (1 for the
// zero Map). O(1).
func (m *Map) NumIntervals() int {
	if m == nil || m.ivs == nil {
		return 1
	}
	return len(m.ivs)
}

// Intervals returns an iterator over the maximal intervals in address order,
// with their labels in the Class field; see [Table.Intervals].
func (m *Map) Intervals() iter.Seq[Interval] {
	return func(yield func(Interval) bool) {
		if m == nil || m.ivs == nil {
			yield(Interval{First: 0, Last: math.MaxUint32, Class: 0})
			return
		}
		for i, iv := range m.ivs {
			last := uint32(math.MaxUint32)
			if i+1 < len(m.ivs) {
				last = m.ivs[i+1].start - 1
			}
			if !yield(Interval{First: iv.start, Last: last, Class: iv.class}) {
				return
			}
		}
	}
}

// buildIndex builds the first-level bucket index over the top k address
// bits. With k0 = ceil(log2(NumIntervals)), at least 1, a large map takes
// k = k0 (at most maxIndexBits): fewer than 2*NumIntervals+2 entries, about
// one interval start per bucket. A small map takes two bits more, up to
// smallIndexBits (an index of at most 32 KiB): with about four buckets per
// interval most buckets hold no start and answer a lookup directly, which
// spares a lookup the binary search and its mispredicted branches.
//
// Bucket b spans intervals lo..lo+n, where lo contains its first address
// and n counts the interval starts after that address in the bucket. Two
// linear passes without data-dependent branches: one counts the starts per
// bucket, one accumulates lo. O(NumIntervals + 2^k).
func (m *Map) buildIndex() {
	ivs := m.ivs
	k0 := max(bits.Len(uint(len(ivs)-1)), 1)
	k := min(max(k0, min(k0+2, smallIndexBits)), maxIndexBits)
	shift := uint(32 - k)
	m.shift = uint8(shift)
	index := make([]bucket, 1<<k)
	m.index = index
	// First index[b].n counts the starts inside bucket b, and index[b].lo
	// the one (if any) at its first address; ivs[0] starts at 0 and is
	// left out.
	low := uint32(1)<<shift - 1
	for _, iv := range ivs[1:] {
		in := uint32(0)
		if iv.start&low != 0 {
			in = 1
		}
		bk := &index[iv.start>>shift]
		bk.n += in
		bk.lo += 1 - in
	}
	lo := uint32(0)
	for b, bk := range index {
		lo += bk.lo
		v := lo
		if c := ivs[lo].class; bk.n == 0 { // loaded either way: no branch
			v = c
		}
		index[b].lo = v
		lo += bk.n
	}
}
