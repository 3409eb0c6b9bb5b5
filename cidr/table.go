package cidr

import (
	"cmp"
	"iter"
	"math"
	"slices"
	"sync"
	"weak"
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
// Memory is at most about 26 bytes per interval (8 for the interval, and up
// to a quarter more that Build may leave unused; up to 16 for the lookup
// index) plus 4 bytes per class and 4 per member ID listed, summed over the
// classes; NumIntervals is at most 2*len(ranges)+1 and
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

// smallIndexBits caps the index of small maps, which take two bits more
// than one bucket per interval, at 1<<12 entries (32 KiB).
const smallIndexBits = 12

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
// Build costs O(n) time for n ranges (a radix sort and a few linear passes,
// without data-dependent branches where it matters: one to two milliseconds
// for 20,000) plus time linear in the size of the member lists, and does not
// keep a reference to ranges. It allocates the Table in five arrays; its
// working memory (about 36 bytes per range, plus 96 KiB) is kept for the
// next Build until the next garbage collection. It panics if len(ranges) >
// math.MaxInt32. Safe for concurrent use (it only reads ranges).
func Build(ranges []Range) *Table {
	s := getScratch()
	defer putScratch(s)
	t := s.build(ranges, false)
	t.lookup.buildIndex()
	return t
}

// BuildMap returns the [Map] of the [Table] that [Build] would make of
// ranges, each class labelled label(its members): the same as
// Build(ranges).Map(func(c uint32) uint32 { return label(t.Members(c)) }),
// without the Table's own lookup index, which a caller that only wants the
// Map never uses. label is called once per class, in class order; members is
// the class's range IDs, ascending, valid only during the call. Cost: that of
// Build and of [Table.Map]; it allocates only the Map: the Table lives in the
// working memory that Builds pass on to each other until the next garbage
// collection (with it, about 16 more bytes per range and 4 per member ID).
// Safe for concurrent use (it only reads ranges).
func BuildMap(ranges []Range, label func(members []int32) uint32) *Map {
	s := getScratch()
	defer putScratch(s)
	// The Table lives only as long as this call: its arrays are scratch.
	t := s.build(ranges, true)
	return t.Map(func(c uint32) uint32 { return label(t.Members(c)) })
}

// build builds the Table of ranges, without its lookup index, in s; with
// temp the Table's own arrays are s's too, and the Table is valid only
// until s is used again.
func (s *scratch) build(ranges []Range, temp bool) *Table {
	if len(ranges) > math.MaxInt32 {
		panic("cidr: Build: too many ranges")
	}

	// Sorted by (first, bits, ID), the distinct prefixes come in preorder
	// of their containment tree: every prefix is followed by the prefixes
	// inside it, and the IDs of equal prefixes are adjacent and ascending.
	s.sortKeys(ranges)
	// A sweep over the prefixes finds the intervals, each with its
	// innermost prefix, and the tree of prefixes; then the classes are
	// numbered in order of first interval, and the member set of every
	// prefix is written, parents first. The intervals go into an array of
	// the largest possible size, kept if not too large.
	var ivs []ival
	if temp {
		s.ivs = grow(s.ivs, 2*len(s.keys)+2)
		ivs = s.ivs
	} else {
		ivs = make([]ival, 2*len(s.keys)+2)
	}
	nIv := s.sweep(ivs)
	nCl, nMem := s.number(ivs[:nIv])
	if uint64(nMem) > math.MaxUint32 {
		panic("cidr: Build: member lists too large")
	}
	var memOff []uint32
	var members []int32
	if temp {
		s.memOff, s.members = grow(s.memOff, nCl+1), grow(s.members, nMem)
		memOff, members = s.memOff, s.members
		clear(memOff)
		clear(members)
	} else {
		memOff, members = make([]uint32, nCl+1), make([]int32, nMem)
	}
	s.fillMembers(members, memOff)
	if !temp {
		ivs = fit(ivs, nIv)
	}
	t := &Table{
		lookup:  Map{ivs: ivs[:nIv:nIv]},
		memOff:  memOff,
		members: members,
		nranges: len(ranges),
	}
	return t
}

// fit returns s[:n] with capacity n: a slice of s if that leaves at most a
// quarter of s unused, else a copy.
func fit[S ~[]E, E any](s S, n int) S {
	if cap(s)-n <= cap(s)/4 {
		return s[:n:n]
	}
	t := make(S, n)
	copy(t, s)
	return t
}

// scratch is the working memory of a Build.
type scratch struct {
	buf  []uint64 // holds keys, then the other half of the radix sort
	keys []uint64 // the sorted keys of the valid ranges (see sortKeys)
	ids  []int32  // nil, or the IDs of keys (see sortKeys)
	pfx  []prefix // the root and the distinct prefixes in order
	side []int32  // member sets of prefixes without a class

	// A temporary Table's arrays (BuildMap).
	ivs     []ival
	memOff  []uint32
	members []int32

	count [3]digitCount // the radix sort's digit counts
}

// lastScratch is the scratch of the last Build, until it is reused or
// garbage collected: the working memory of a Build is a good part of the
// Table's size, and Builds in a row (compiling a store's policies) reuse it.
// A weak pointer keeps it only until the next collection (unlike a
// sync.Pool, whose victim cache would make it look like part of the live
// heap of the last Table built).
var lastScratch struct {
	sync.Mutex
	p weak.Pointer[scratch]
}

func getScratch() *scratch {
	lastScratch.Lock()
	s := lastScratch.p.Value()
	lastScratch.p = weak.Pointer[scratch]{}
	lastScratch.Unlock()
	if s == nil {
		s = new(scratch)
	}
	return s
}

func putScratch(s *scratch) {
	s.keys, s.ids = nil, nil
	w := weak.Make(s)
	lastScratch.Lock()
	lastScratch.p = w
	lastScratch.Unlock()
}

// grow returns s resliced to length n, or a new slice if s is too short.
func grow[S ~[]E, E any](s S, n int) S {
	if cap(s) < n {
		return make(S, n)
	}
	return s[:n]
}

// Sort keys pack a masked prefix and, on the usual path, an ID:
// first<<32 | bits<<idBits | id.
const (
	idBits = 26
	idMask = 1<<idBits - 1
)

// sortIDLimit is the largest number of ranges whose IDs Build packs into the
// sort keys. A variable so that tests can exercise the general path.
var sortIDLimit = 1 << idBits

// sortKeys sets keys to the keys of the valid ranges sorted by (masked
// address, mask length, ID). If ids is nil, the IDs are the low idBits bits
// of the keys; otherwise (more than sortIDLimit ranges) the keys hold no ID
// and ids[j] is the ID of keys[j].
func (s *scratch) sortKeys(ranges []Range) {
	n := len(ranges)
	if n > sortIDLimit {
		ids := make([]int32, 0, n)
		for id, r := range ranges {
			if r.valid {
				ids = append(ids, int32(id))
			}
		}
		key := func(r Range) uint64 { return uint64(r.First())<<32 | uint64(r.bits)<<idBits }
		slices.SortFunc(ids, func(x, y int32) int {
			if c := cmp.Compare(key(ranges[x]), key(ranges[y])); c != 0 {
				return c
			}
			return cmp.Compare(x, y)
		})
		s.buf = grow(s.buf, len(ids))
		keys := s.buf
		for j, id := range ids {
			keys[j] = key(ranges[id])
		}
		s.keys, s.ids = keys, ids
		return
	}
	if n < radixMin {
		s.buf = grow(s.buf, n)
		keys := s.buf[:0]
		for id, r := range ranges {
			if r.valid {
				keys = append(keys, uint64(r.First())<<32|uint64(r.bits)<<idBits|uint64(id))
			}
		}
		slices.Sort(keys)
		s.keys, s.ids = keys, nil
		return
	}
	s.buf = grow(s.buf, 2*n)
	keys, tmp := s.buf[:n], s.buf[n:]
	// Write the keys and count the radix sort's digits in one pass.
	count := &s.count
	clear(count[:])
	k := 0
	for id, r := range ranges {
		mask := uint32(^uint64(0) << ((32 - uint(r.bits)) & 63)) // r.mask()
		key := uint64(r.addr&mask)<<32 | uint64(r.bits)<<idBits | uint64(id)
		keys[k] = key
		if r.valid {
			k++
			count[0][key>>digit0&digitMask]++
			count[1][key>>digit1&digitMask]++
			count[2][key>>digit2&digitMask]++
		}
	}
	s.keys, s.ids = radixSort(keys[:k], tmp[:k], count), nil
}

// radixMin is the number of ranges from which sortKeys uses a radix sort. A
// variable so that tests can exercise the radix sort on small inputs.
var radixMin = 1024

// The radix sort's digits: three of 13 bits from bit idBits up cover the
// 38 bits of the key above the ID (the last only 12).
const (
	digitBits = 13
	digitMask = 1<<digitBits - 1
	digit0    = idBits
	digit1    = idBits + digitBits
	digit2    = idBits + 2*digitBits
)

type digitCount [1 << digitBits]uint32

// radixSort sorts packed keys that were written in ascending ID order, using
// tmp (of the same length) as scratch, given the counts of their digits, and
// returns the sorted keys: keys or tmp. It is an LSD radix sort on the 38
// bits above the ID, which is stable, so equal prefixes keep their IDs in
// ascending order: the same order as sorting the whole keys.
func radixSort(keys, tmp []uint64, count *[3]digitCount) []uint64 {
	if radixPass(keys, tmp, &count[0], digit0) {
		keys, tmp = tmp, keys
	}
	if radixPass(keys, tmp, &count[1], digit1) {
		keys, tmp = tmp, keys
	}
	if radixPass(keys, tmp, &count[2], digit2) {
		keys = tmp
	}
	return keys
}

// radixPass moves src into dst stably ordered by the digit at shift, given
// the digit's counts. It does nothing and reports false if all keys have the
// same digit.
func radixPass(src, dst []uint64, count *digitCount, shift uint) bool {
	sum := uint32(0)
	for i, c := range count {
		if int(c) == len(src) {
			return false
		}
		count[i] = sum
		sum += c
	}
	dst = dst[:len(src)]
	for _, k := range src {
		d := k >> (shift & 63) & digitMask
		dst[count[d]] = k
		count[d]++
	}
	return true
}

// A prefix is a distinct masked prefix, numbered from 1 in sorted order;
// prefix 0 is the root, the whole address space with no IDs. The member set
// of its chain (it and the prefixes that contain it) is the sorted union of
// its parent's set and its own IDs.
type prefix struct {
	parent int32  // the innermost prefix that contains it (the root for none)
	own    int32  // its number of IDs: it has those of the next own keys
	size   int32  // the size of its chain's member set
	class  int32  // its class, or -1 if none (covered by its children)
	off    uint32 // where its chain's set is: members[off:] with a class, else side[off:]
}

// A frame is a prefix on the sweep's stack.
type frame struct {
	end  uint64 // last address + 1
	p    int32  // the prefix
	size int32  // the size of its chain's member set
}

// sweep walks the distinct prefixes in sorted order (preorder) with a stack
// of the prefixes that contain the current address, and emits the
// elementary intervals at the boundaries, each with the innermost prefix on
// the stack (the root for none) in place of its class. It fills pfx and
// ivs (of length at least 2*len(keys)+2) and returns the number of
// intervals.
//
// An interval is emitted without a data-dependent branch: it is always
// stored, and counted only if not empty. Consecutive non-empty intervals
// always have different innermost prefixes, so every interval is a maximal
// one. (Between two of them the stack changes; if only by pushes, the
// second prefix is inside the first; if it ever pops the first, the first
// is gone; and a prefix pushed and popped in between covers addresses, so it
// emits an interval itself.)
func (s *scratch) sweep(ivs []ival) int {
	keys := s.keys
	n := len(keys)
	s.pfx = grow(s.pfx, n+1)
	pf := s.pfx
	ivs = ivs[:2*n+2]
	pf[0] = prefix{class: -1}

	// stack[0] is the root, which no prefix leaves.
	var stack [34]frame
	stack[0] = frame{end: 1 << 32}
	d := 0
	np := 1          // prefixes so far, the root included
	pos := uint64(0) // start of the interval not yet emitted
	nIv := 0
	for j := 0; j < n; {
		k := keys[j] >> idBits // first<<6 | bits
		first := k >> 6
		// Close the prefixes that end before this one starts.
		for first >= stack[d].end {
			f := &stack[d]
			ivs[nIv] = ival{start: uint32(pos), class: uint32(f.p)}
			if pos < f.end {
				nIv++
			}
			pos = f.end
			d--
		}
		f := &stack[d]
		ivs[nIv] = ival{start: uint32(pos), class: uint32(f.p)}
		if pos < first {
			nIv++
		}
		pos = first
		j0 := j
		for j++; j < n && keys[j]>>idBits == k; j++ {
		}
		own := int32(j - j0)
		size := f.size + own
		// (Field by field: building a struct in a temporary and copying
		// it stalls on store forwarding.)
		q := &pf[np]
		q.parent, q.own, q.size, q.class = f.p, own, size, -1
		d++
		g := &stack[d]
		g.end, g.p, g.size = first+1<<(32-k&63), int32(np), size
		np++
	}
	for ; d >= 0; d-- {
		f := &stack[d]
		ivs[nIv] = ival{start: uint32(pos), class: uint32(f.p)}
		if pos < f.end {
			nIv++
		}
		pos = f.end
	}
	s.pfx = pf[:np]
	return nIv
}

// number numbers the classes, one per prefix that has an interval, in the
// order of their first interval, replaces the prefixes in ivs with their
// classes, gives each class's prefix the offset of its member set, and
// returns the number of classes and the total size of their member sets.
func (s *scratch) number(ivs []ival) (nCl, nMem int) {
	pf := s.pfx
	for i, iv := range ivs {
		// Without data-dependent branches: the stores are always done,
		// the counts advance by 0 or 1.
		q := &pf[iv.class]
		c, off := q.class, q.off
		isNew := 0
		if c < 0 {
			isNew, c, off = 1, int32(nCl), uint32(nMem)
		}
		q.class, q.off = c, off
		nMem += int(q.size) & -isNew
		nCl += isNew
		ivs[i].class = uint32(c)
	}
	return nCl, nMem
}

// fillMembers writes the member sets of the classes to members, and their
// offsets to memOff. It computes the set of every prefix in order
// (preorder), so that its parent's set is there to merge from: into
// members for a prefix with a class, else (a prefix covered by its
// children, or the root) into side.
func (s *scratch) fillMembers(members []int32, memOff []uint32) {
	keys, pf := s.keys, s.pfx
	s.side = s.side[:0]
	if r := &pf[0]; r.class < 0 {
		r.off = 0 // an empty set anywhere
	} else {
		memOff[r.class+1] = r.off
	}
	j := 0 // the own IDs of prefix p start at keys[j]
	lastParent := int32(-1)
	var parent []int32 // the set of lastParent
	for p := 1; p < len(pf); p++ {
		q := &pf[p]
		if q.parent != lastParent { // siblings often come in runs
			lastParent = q.parent
			parent = s.set(&pf[q.parent], members)
		}
		j0 := j
		j += int(q.own)
		if q.class < 0 || q.own != 1 || s.ids != nil {
			s.fillOther(q, parent, members, memOff, j0)
			continue
		}
		// The usual case: one ID, and a class.
		memOff[q.class+1] = q.off + uint32(q.size)
		insert(members[q.off:], parent, int32(keys[j0]&idMask))
	}
}

// set returns the member set of prefix q, which must have been written.
func (s *scratch) set(q *prefix, members []int32) []int32 {
	if q.class >= 0 {
		return members[q.off : q.off+uint32(q.size)]
	}
	return s.side[q.off : q.off+uint32(q.size)]
}

// fillOther writes the set of prefix q, whose own IDs start at keys[j0],
// in the cases other than the usual one.
func (s *scratch) fillOther(q *prefix, parent, members []int32, memOff []uint32, j0 int) {
	var out []int32
	if q.class >= 0 {
		out = members[q.off : q.off+uint32(q.size)]
		memOff[q.class+1] = q.off + uint32(q.size)
	} else {
		o := len(s.side)
		if uint64(o)+uint64(q.size) > math.MaxUint32 {
			panic("cidr: Build: member lists too large")
		}
		q.off = uint32(o)
		s.side = slices.Grow(s.side, int(q.size))[:o+int(q.size)]
		out = s.side[o:] // parent may be in the old array: still good
	}
	writeSet(out, parent, s.keys, s.ids, j0, j0+int(q.own))
}

// insert writes to out the sorted parent with x (not in parent) inserted,
// without data-dependent branches. (Not inlined: in a function of its own,
// the loop keeps everything in registers.)
//
//go:noinline
func insert(out, parent []int32, x int32) {
	// out[k] = min(parent[k], max(parent[k-1], x)), with parent[-1] below
	// and parent[len(parent)] above all IDs. Two at a time, without
	// bounds checks.
	out = out[:len(parent)+1]
	prev := int32(-1)
	k, last := 0, len(parent)-1
	for ; k < last; k += 2 {
		v0, v1 := parent[k], parent[k+1]
		out[k] = min(v0, max(prev, x))
		out[k+1] = min(v1, max(v0, x))
		prev = v1
	}
	if k < len(parent) {
		v := parent[k]
		out[k] = min(v, max(prev, x))
		prev = v
	}
	out[len(parent)] = max(prev, x)
}

// writeSet writes to out the sorted union of parent and the IDs of
// keys[j0:j1] (ids[j0:j1] if ids is not nil), which are sorted and disjoint
// from parent.
func writeSet(out, parent []int32, keys []uint64, ids []int32, j0, j1 int) {
	id := func(j int) int32 {
		if ids != nil {
			return ids[j]
		}
		return int32(keys[j] & idMask)
	}
	if j1-j0 == 1 {
		insert(out, parent, id(j0))
		return
	}
	i, j, o := 0, j0, 0
	for i < len(parent) && j < j1 {
		if x := id(j); parent[i] < x {
			out[o] = parent[i]
			i++
		} else {
			out[o] = x
			j++
		}
		o++
	}
	o += copy(out[o:], parent[i:])
	for ; j < j1; j++ {
		out[o] = id(j)
		o++
	}
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
