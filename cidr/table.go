package cidr

import (
	"iter"
	"math"
	"slices"
)

// Table is a compiled, immutable range table: it answers which of a list of
// ranges ([Range]) contain an address, in O(log n) worst case and about one
// or two memory probes in the typical case, without allocating.
//
// Build splits the IPv4 space into maximal elementary intervals of addresses
// that are contained in the same set of ranges, and numbers each distinct set
// as a class. A range with host bits set matches as its masked network.
//
// The zero Table and a nil *Table behave as a table built from no ranges:
// every address is in class 0, which has no members, and there is one
// interval. A Table is never modified after Build, so all its methods are
// safe for concurrent use.
//
// Memory is at most about 24 bytes per interval (8 for the interval, up to
// 16 for the lookup index) plus 4 bytes per class and 4 per member ID listed,
// summed over the classes; NumIntervals is at most 2*len(ranges)+1 and
// NumClasses at most len(ranges)+1. A class lists every range that contains
// it, so inputs in which many copies of a wide range overlap many distinct
// narrower ranges repeat the wide range's IDs in every such class (1,000
// copies of 0.0.0.0/0 over 10,000 distinct /32s store some 10 million IDs):
// deduplicate such inputs first if that matters.
type Table struct {
	// Address lookup: bucket index[a>>shift] either gives a's class
	// directly (the bucket lies in one interval) or the few intervals to
	// binary-search: a is in the last interval i with ivs[i].start <= a.
	lookup Map // the address → class lookup

	memOff  []uint32 // members of class c are members[memOff[c]:memOff[c+1]]
	members []int32

	nranges int
}

// An ival is an elementary interval: its first address and its class. The
// class sits next to the start so that the final probe of a lookup hits the
// cache line of the binary search.
type ival struct{ start, class uint32 }

// A bucket of the first-level index: when n == 0 the whole bucket is in one
// interval and lo is its class; otherwise the bucket's addresses are in
// intervals lo..lo+n.
type bucket struct{ lo, n uint32 }

// maxIndexBits caps the first-level index at 1<<20 entries (8 MiB, reached
// only by tables of more than 2^19 intervals).
const maxIndexBits = 20

// Build compiles ranges into a Table. Range i has ID i; the IDs a class lists
// are ascending. A range with host bits set matches as its masked network.
// Invalid (zero) Ranges are allowed, keep their ID, and contain nothing: their
// IDs are in no class. Duplicate, nested, adjacent and overlapping ranges,
// /0 and /32 are all fine.
//
// Classes are numbered densely in the order in which they first occur in
// address order, so Class(0) is always 0, and every class has at least one
// address.
//
// Build costs O(n log n) time for n ranges (a few milliseconds for 20,000,
// tens for 100,000) plus time linear in the size of the member lists, and
// does not keep a reference to ranges. It panics if len(ranges) >
// math.MaxInt32. Safe for concurrent use (it only reads ranges).
func Build(ranges []Range) *Table {
	if len(ranges) > math.MaxInt32 {
		panic("cidr: Build: too many ranges")
	}
	ids := sortedIDs(ranges)

	// Group equal masked prefixes. Sorted by (first, bits), the distinct
	// prefixes come in preorder of their containment tree: every prefix
	// is followed by the prefixes inside it.
	var b builder
	b.ids = ids
	b.pfStart = make([]int32, 0, len(ids)+1)
	b.pfFirst = make([]uint32, 0, len(ids))
	b.pfBits = make([]uint8, 0, len(ids))
	for j, id := range ids {
		r := ranges[id]
		first := r.First()
		if j > 0 {
			if n := len(b.pfFirst) - 1; b.pfFirst[n] == first && b.pfBits[n] == r.bits {
				continue
			}
		}
		b.pfStart = append(b.pfStart, int32(j))
		b.pfFirst = append(b.pfFirst, first)
		b.pfBits = append(b.pfBits, r.bits)
	}
	b.pfStart = append(b.pfStart, int32(len(ids)))
	b.stack = make([]frame, 0, 33)

	// Two sweeps: the first only counts intervals, classes and members so
	// that the second can fill arrays of the exact size (a store may hold
	// thousands of tables, and growing the member array by appending
	// would copy it many times).
	b.counting = true
	b.sweep()
	if b.nMembers > math.MaxUint32 {
		panic("cidr: Build: member lists too large")
	}
	b.ivs = make([]ival, 0, b.nIntervals)
	b.memOff = make([]uint32, 1, b.nClasses+1)
	b.members = make([]int32, 0, b.nMembers)
	b.counting = false
	b.sweep()

	t := &Table{
		lookup:  Map{ivs: b.ivs},
		memOff:  b.memOff,
		members: b.members,
		nranges: len(ranges),
	}
	t.lookup.buildIndex()
	return t
}

// sortIDLimit is the largest number of ranges that Build sorts as packed
// uint64 keys (32 bits of address, 6 of mask, 26 of ID). A variable so that
// tests can exercise the general path.
var sortIDLimit = 1 << 26

// sortedIDs returns the IDs of the valid ranges sorted by (masked address,
// mask length, ID).
func sortedIDs(ranges []Range) []int32 {
	if len(ranges) <= sortIDLimit {
		keys := make([]uint64, 0, len(ranges))
		for id, r := range ranges {
			if r.valid {
				keys = append(keys, uint64(r.First())<<32|uint64(r.bits)<<26|uint64(id))
			}
		}
		sortKeys(keys)
		ids := make([]int32, len(keys))
		for i, k := range keys {
			ids[i] = int32(k & (1<<26 - 1))
		}
		return ids
	}
	ids := make([]int32, 0, len(ranges))
	for id, r := range ranges {
		if r.valid {
			ids = append(ids, int32(id))
		}
	}
	slices.SortFunc(ids, func(x, y int32) int {
		rx, ry := ranges[x], ranges[y]
		kx := uint64(rx.First())<<8 | uint64(rx.bits)
		ky := uint64(ry.First())<<8 | uint64(ry.bits)
		switch {
		case kx < ky:
			return -1
		case kx > ky:
			return 1
		}
		return int(x - y) // no overflow: both are >= 0
	})
	return ids
}

// radixMin is the number of keys from which sortKeys uses a radix sort.
const radixMin = 2048

// sortKeys sorts packed keys (address<<32 | bits<<26 | id) that were
// appended in ascending id order. Large inputs get an LSD radix sort on the
// 38 bits above the id: it is stable, so equal prefixes keep their ids in
// ascending order, which gives the same order as sorting the whole keys.
func sortKeys(keys []uint64) {
	if len(keys) < radixMin {
		slices.Sort(keys)
		return
	}
	src, dst := keys, make([]uint64, len(keys))
	var count [1 << 13]int
	for _, shift := range [...]uint{26, 39, 52} {
		clear(count[:])
		for _, k := range src {
			count[k>>shift&(1<<13-1)]++
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, k := range src {
			d := k >> shift & (1<<13 - 1)
			dst[count[d]] = k
			count[d]++
		}
		src, dst = dst, src
	}
	// Three passes: the result is in the scratch buffer.
	copy(keys, src)
}

type frame struct {
	end   uint64 // last address + 1
	class int32  // class whose innermost prefix this is, or -1 if none yet
	set   int    // filling: the chain's member set is chain[set:]
	size  int    // the size of the chain's member set
}

type builder struct {
	ids     []int32 // valid IDs sorted by prefix
	pfStart []int32 // prefix p has IDs ids[pfStart[p]:pfStart[p+1]]
	pfFirst []uint32
	pfBits  []uint8

	counting bool    // first sweep: count only
	stack    []frame // the prefixes containing pos, outermost first (<= 33)
	chain    []int32 // filling: member sets of the stack's chains, in order
	pos      uint64  // start of the interval not yet emitted

	emptyClass int32 // class of the empty set, or -1 if none yet
	lastClass  int32 // class of the last interval emitted
	nIntervals int
	nClasses   int
	nMembers   int

	ivs     []ival
	memOff  []uint32
	members []int32
}

// sweep walks the distinct prefixes in order, emitting the elementary
// intervals and interning their classes.
func (b *builder) sweep() {
	b.pos = 0
	b.stack = b.stack[:0]
	b.chain = b.chain[:0]
	b.emptyClass, b.lastClass = -1, -1
	b.nIntervals, b.nClasses, b.nMembers = 0, 0, 0
	for p := range len(b.pfFirst) {
		first := uint64(b.pfFirst[p])
		for len(b.stack) > 0 && b.stack[len(b.stack)-1].end <= first {
			b.emit(b.stack[len(b.stack)-1].end)
			b.pop()
		}
		b.emit(first)
		b.push(int32(p))
	}
	for len(b.stack) > 0 {
		b.emit(b.stack[len(b.stack)-1].end)
		b.pop()
	}
	b.emit(1 << 32)
}

// emit ends the current interval [pos, end) (if not empty) with the class of
// the current stack.
//
// The member set of an interval is the set of IDs of the prefixes on the
// stack, and that chain is fixed by its innermost prefix, so a class is
// interned per innermost prefix (or the empty stack). Different chains have
// different ID sets, since every distinct prefix has at least one ID.
func (b *builder) emit(end uint64) {
	if b.pos >= end {
		return
	}
	var c int32
	if len(b.stack) == 0 {
		if b.emptyClass < 0 {
			b.emptyClass = b.newClass(0)
		}
		c = b.emptyClass
	} else {
		top := &b.stack[len(b.stack)-1]
		if top.class < 0 {
			top.class = b.newClass(top.size)
		}
		c = top.class
	}
	// Adjacent intervals never get the same class from the sweep, but
	// merge them anyway so that intervals are maximal by construction.
	if c != b.lastClass {
		b.lastClass = c
		b.nIntervals++
		if !b.counting {
			b.ivs = append(b.ivs, ival{start: uint32(b.pos), class: uint32(c)})
		}
	}
	b.pos = end
}

// push opens distinct prefix p inside the current stack top. When filling,
// it computes the member set of the new chain, the sorted union of the
// parent chain's set and p's IDs, in time linear in its size.
func (b *builder) push(p int32) {
	own := b.ids[b.pfStart[p]:b.pfStart[p+1]]
	f := frame{
		end:   uint64(b.pfFirst[p]) + 1<<(32-b.pfBits[p]),
		class: -1,
		set:   len(b.chain),
		size:  len(own),
	}
	if n := len(b.stack); n > 0 {
		f.size += b.stack[n-1].size
	}
	b.stack = append(b.stack, f)
	if b.counting {
		return
	}
	parentSet := f.set
	if n := len(b.stack); n > 1 {
		parentSet = b.stack[n-2].set
	}
	parent := b.chain[parentSet:f.set]
	switch {
	case len(parent) == 0 || parent[len(parent)-1] < own[0]:
		b.chain = append(b.chain, parent...)
		b.chain = append(b.chain, own...)
	case own[len(own)-1] < parent[0]:
		b.chain = append(b.chain, own...)
		b.chain = append(b.chain, parent...)
	default:
		b.chain = slices.Grow(b.chain, len(parent)+len(own))
		parent = b.chain[parentSet:f.set] // Grow may have moved it
		i, j := 0, 0
		for i < len(parent) && j < len(own) {
			if parent[i] < own[j] {
				b.chain = append(b.chain, parent[i])
				i++
			} else {
				b.chain = append(b.chain, own[j])
				j++
			}
		}
		b.chain = append(b.chain, parent[i:]...)
		b.chain = append(b.chain, own[j:]...)
	}
}

// pop closes the innermost prefix.
func (b *builder) pop() {
	n := len(b.stack) - 1
	b.chain = b.chain[:b.stack[n].set]
	b.stack = b.stack[:n]
}

// newClass records the member set of the current stack, of the given size,
// as a new class.
func (b *builder) newClass(size int) int32 {
	c := int32(b.nClasses)
	b.nClasses++
	b.nMembers += size
	if !b.counting {
		if n := len(b.stack); n > 0 {
			b.members = append(b.members, b.chain[b.stack[n-1].set:]...)
		}
		b.memOff = append(b.memOff, uint32(len(b.members)))
	}
	return c
}

// Class returns the class of address a: all addresses with the same class are
// contained in exactly the same set of input ranges, and addresses in
// different classes in different sets. Classes are numbered densely,
// 0..NumClasses()-1.
//
// This is the hot path: O(log n) worst case, one index probe when a's index
// bucket lies in a single interval and typically a probe or two more
// otherwise; it does not allocate. For the zero Table or a nil *Table it
// returns 0.
func (t *Table) Class(a uint32) uint32 {
	if t == nil {
		return 0
	}
	return t.lookup.Get(a)
}

// NumClasses returns the number of classes, at least 1 (1 for the zero
// Table). O(1).
func (t *Table) NumClasses() int {
	if t == nil || t.memOff == nil {
		return 1
	}
	return len(t.memOff) - 1
}

// Members returns the IDs, ascending, of the ranges that contain the
// addresses of class. The slice is shared, read-only storage of the Table: do
// not modify it (its capacity is its length, so appending to it copies). It
// is empty, not nil, for an empty class of a built Table, and nil for the zero
// Table's class 0.
//
// O(1), no allocation. It panics if class >= NumClasses().
func (t *Table) Members(class uint32) []int32 {
	if t == nil || t.memOff == nil {
		if class != 0 {
			panic("cidr: Members: class out of range")
		}
		return nil
	}
	lo, hi := t.memOff[class], t.memOff[class+1]
	return t.members[lo:hi:hi]
}

// Lookup returns the IDs, ascending, of the ranges that contain a: it is
// Members(Class(a)), with the same sharing rules and cost as Class plus O(1).
// It does not allocate.
func (t *Table) Lookup(a uint32) []int32 { return t.Members(t.Class(a)) }

// NumIntervals returns the number of maximal elementary intervals: maximal
// runs of consecutive addresses with the same class. Adjacent intervals have
// different classes. It is 1 for the zero Table. O(1).
func (t *Table) NumIntervals() int {
	if t == nil || t.lookup.ivs == nil {
		return 1
	}
	return len(t.lookup.ivs)
}

// NumRanges returns len(ranges) as given to Build (invalid ranges included),
// or 0 for the zero Table. O(1).
func (t *Table) NumRanges() int {
	if t == nil {
		return 0
	}
	return t.nranges
}

// Interval is a maximal elementary interval of a [Table]: the addresses
// First..Last, both included, are all in class Class. It is a plain value;
// the zero Interval is the single address 0.0.0.0 in class 0.
type Interval struct {
	First, Last uint32
	Class       uint32
}

// Intervals returns an iterator over the table's maximal elementary
// intervals in address order: the first starts at 0, each starts right after
// the one before, the last ends at 255.255.255.255, and adjacent intervals
// have different classes. The zero Table yields {0, 0xffffffff, 0}.
//
// Iterating costs O(NumIntervals) and does not allocate beyond the iterator
// itself; it may be run any number of times, concurrently.
func (t *Table) Intervals() iter.Seq[Interval] {
	return func(yield func(Interval) bool) {
		if t == nil || t.lookup.ivs == nil {
			yield(Interval{First: 0, Last: math.MaxUint32, Class: 0})
			return
		}
		for i, iv := range t.lookup.ivs {
			last := uint32(math.MaxUint32)
			if i+1 < len(t.lookup.ivs) {
				last = t.lookup.ivs[i+1].start - 1
			}
			if !yield(Interval{First: iv.start, Last: last, Class: iv.class}) {
				return
			}
		}
	}
}
