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
	bk := m.index[a>>m.shift]
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
	n := 0
	for i, iv := range t.lookup.ivs {
		if i == 0 || labels[iv.class] != labels[t.lookup.ivs[i-1].class] {
			n++
		}
	}
	m := &Map{ivs: make([]ival, 0, n)}
	for _, iv := range t.lookup.ivs {
		l := labels[iv.class]
		if k := len(m.ivs); k > 0 && m.ivs[k-1].class == l {
			continue
		}
		m.ivs = append(m.ivs, ival{start: iv.start, class: l})
	}
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
// bits, k = ceil(log2(NumIntervals)) clamped to [1, maxIndexBits], so that the index
// has fewer than 2*NumIntervals+2 entries and a bucket holds about one
// interval start on average.
func (m *Map) buildIndex() {
	n := len(m.ivs)
	k := min(max(bits.Len(uint(n-1)), 1), maxIndexBits)
	m.shift = uint8(32 - k)
	nb := 1 << k
	m.index = make([]bucket, nb)
	i := 0 // the interval containing the start of bucket b
	for b := range nb {
		for i+1 < n && uint64(m.ivs[i+1].start) <= uint64(b)<<m.shift {
			i++
		}
		// The interval containing the bucket's last address.
		j := i
		last := uint64(b+1)<<m.shift - 1
		for j+1 < n && uint64(m.ivs[j+1].start) <= last {
			j++
		}
		if j == i {
			m.index[b] = bucket{lo: m.ivs[i].class}
		} else {
			m.index[b] = bucket{lo: uint32(i), n: uint32(j - i)}
		}
	}
}
