// Package strtab is an immutable open-addressing hash table from strings to
// int32, built once and read on hot paths (accessctl's principals,
// impersonation's target users, policy.MemDirectory's identifiers).
//
// The keys it serves are often long (45-character user IDs are common), and a
// Go map spends most of a lookup in generic code around its hash. This table
// hashes keys under a random seed per table with the folded 128-bit product
// of wyhash and its kin. A small table (up to 4,096 keys) first tries
// hashing each key by its first and last 8 bytes, two dependent
// multiplications however long the key, and keeps that when its keys spread
// under one of two seeds; otherwise keys are hashed whole, in multiply-and-fold steps over
// 16-byte pieces (independent steps up to 64 bytes, so a hash costs about one
// multiplication of latency). Either way the table compares keys in full, in
// straight-line 8-byte words up to 64 bytes, and keeps a 32-bit tag of each
// key's hash in its slot so that most mismatches cost no key comparison.
// Lookups of keys of 1 to 64 bytes make no calls ([Table.Lookup] is a leaf
// function: no stack frame). When
// building finds long probe sequences under four seeds, the table hashes
// with hash/maphash instead, so that a lookup probes few slots whatever keys
// it holds.
package strtab

import (
	"fmt"
	"hash/maphash"
	"math/bits"
	"unsafe"
)

// Table maps non-empty strings to int32. The zero Table is empty. A Table is
// immutable once built and safe for concurrent use.
type Table struct {
	slots []slot // power-of-two length, at least 4 times (up to 256 keys), twice (up to 4,096) or 1.5 times the number of keys; key "" marks a free slot
	mask  uint64
	shift uint8 // 64 - log2(len(slots)): slots are indexed by the hash's top bits
	seed  uint64
	ends  bool // hash only the first and last 8 bytes of keys longer than 16 (small tables whose keys that spreads)
	full  bool // hash whole keys with maphash
	// fastLim gates Lookup's word-wise path: a key of n bytes takes it when
	// uint(n-8) < fastLim, that is 8 <= n <= 64, in a table that has slots
	// and is not full; 0 sends every key to getSlow. Keys of 1 to 7 bytes
	// take Lookup's short path in the same tables.
	fastLim uint
	mseed   maphash.Seed
}

type slot struct {
	key string
	tag uint32 // high bits of the key's hash: most mismatches cost one compare
	val int32
}

// New builds the table of m. The empty key cannot be stored; New panics if m
// holds it.
//
// Tables of up to 256 keys fill at most a quarter of their slots (at most
// 24 KiB), so that a lookup, and above all a miss, rarely probes a second
// slot; tables of up to 4,096 keys fill at most half, larger ones two thirds
// (24 bytes a slot: a table of 300,000 keys takes 12 MiB besides the keys).
// A table of up to 4,096 keys first tries hashing them by their ends (see
// hashEnds) under two seeds; then New tries up to four seeds for one under which
// whole-key hashes displace keys little from their slots, then falls back to
// hash/maphash.
// Cost: O(len(m)), a few times over when seeds cluster.
func New(m map[string]int32) Table {
	keys := make([]string, 0, len(m))
	vals := make([]int32, 0, len(m))
	for k, v := range m {
		keys = append(keys, k)
		vals = append(vals, v)
	}
	return FromPairs(keys, vals)
}

// FromPairs is [New] of the map {keys[i]: vals[i]}, for callers that hold
// the pairs already: it spares building a Go map. The keys must be distinct
// and non-empty; FromPairs panics on an empty key or unequal lengths, and
// does not keep the slices.
func FromPairs(keys []string, vals []int32) Table {
	if len(keys) != len(vals) {
		panic("strtab: FromPairs: lengths differ")
	}
	n := len(keys)
	size := 4
	for size < 4*n && (n <= 256 || size < 2*n && (n <= 4096 || 2*size < 3*n)) {
		size <<= 1
	}
	t := Table{mask: uint64(size - 1), shift: uint8(64 - bits.TrailingZeros(uint(size))), mseed: maphash.MakeSeed()}
	// Linear probing at these loads displaces a key by less than one slot
	// on average and rarely by more than a few times log2(n).
	longestOK := 8 + 4*bits.Len(uint(n))
	// A small table first tries hashing keys by their ends (two
	// multiplications, however long the keys): IDs, emails and names mostly
	// differ there. Keys that do not spread that way fail the probe check
	// below and get the whole-key hash.
	t.ends = n <= 4096
	for attempt := 0; ; attempt++ {
		t.seed = maphash.String(t.mseed, fmt.Sprint("strtab", attempt)) | 1
		t.slots = make([]slot, size)
		longest, total := 0, 0
		for j, k := range keys {
			if k == "" {
				panic("strtab: empty key")
			}
			h := t.hash(k)
			i := h >> t.shift
			probe := 0
			for t.slots[i].key != "" {
				i = (i + 1) & t.mask
				probe++
			}
			t.slots[i] = slot{key: k, tag: uint32(h), val: vals[j]}
			longest = max(longest, probe)
			total += probe
		}
		if t.full || longest <= longestOK && total <= 2*n {
			t.setFastLim()
			return t
		}
		// An unlucky seed clusters keys now and then: try others, then
		// hash whole keys with maphash. Keys that spread by their ends fail
		// under about one seed in 50,000 (numbered IDs, 1,000 of them), so
		// the ends hash gets a second seed before whole keys are hashed.
		if t.ends {
			if attempt == 0 {
				continue
			}
			t.ends, attempt = false, -1
			continue
		}
		t.full = attempt >= 3
	}
}

// setFastLim sets fastLim from the layout.
func (t *Table) setFastLim() {
	t.fastLim = 0
	if len(t.slots) > 0 && !t.full {
		t.fastLim = 64 - 8 + 1
	}
}

// Len returns the number of keys.
func (t *Table) Len() int {
	n := 0
	for i := range t.slots {
		if t.slots[i].key != "" {
			n++
		}
	}
	return n
}

func (t *Table) hash(s string) uint64 {
	n := len(s)
	p := unsafe.Pointer(unsafe.StringData(s))
	switch {
	case t.full:
		return maphash.String(t.mseed, s)
	case n >= 8 && (n <= 16 || t.ends):
		return hashEnds(load64(p, 0), load64(p, n-8), t.seed, n)
	case n >= 8:
		return hash8(p, n, t.seed)
	case n >= 4:
		return mum(uint64(load32(p, 0))^t.seed, uint64(load32(p, n-4))^uint64(n)^k1)
	case n > 0:
		b := unsafe.Slice((*byte)(p), n)
		return mum(uint64(b[0])<<16|uint64(b[n>>1])<<8|uint64(b[n-1])^t.seed, uint64(n)^k1)
	}
	return 0
}

// Odd constants (the golden ratio and splitmix64's) that keep the factors of
// mum away from zero for keys of zero bytes.
const (
	k1 = 0x9e3779b97f4a7c15
	k2 = 0xbf58476d1ce4e5b9
	k3 = 0x94d049bb133111eb
	k4 = 0xd6e8feb86659fd93
	k5 = 0xa0761d6478bd642f
	k6 = 0xe7037ed1a0b428db
	k7 = 0x8ebc6af09c88c6e3
	k8 = 0x589965cc75374cc3
)

// hash8 hashes the n > 16 bytes at p under seed, whole (its callers hash
// shorter keys with hashEnds). Up to 64 bytes it folds two or four
// independent multiply-and-fold steps (mum) over 16-byte pieces that cover
// the key (the first and last pieces, overlapping for keys between the
// sizes), so that the latency of a lookup's hash is about one
// multiplication; longer keys first chain a step per 16 bytes. Every byte
// and n count. Lookup inlines the cases up to 64 bytes.
func hash8(p unsafe.Pointer, n int, seed uint64) uint64 {
	if n <= 32 {
		return mum(load64(p, 0)^seed^k1, load64(p, 8)^seed^k2) ^ mum(load64(p, n-16)^seed^k3, load64(p, n-8)^seed^uint64(n)^k4)
	}
	h := seed
	for off := 0; off < n-64; off += 16 {
		h = mum(load64(p, off)^h^k1, load64(p, off+8)^h^k2)
	}
	return hash64(p, n, h)
}

// hashEnds hashes a key of n bytes by its first and last 8 bytes, a and b
// (the whole key when n <= 16): two multiply-and-fold steps, as wyhash does
// for short keys, since one step leaves keys that differ in a few bytes of
// one word, such as numbered IDs, in a lattice that clusters under some
// seeds.
func hashEnds(a, b, seed uint64, n int) uint64 {
	hi, lo := bits.Mul64(a^seed^k1, b^seed^k2)
	return mum(lo^uint64(n)^k3, hi^k4)
}

// hash64 is the last step of hash8 for n > 32: the last 64 bytes (the whole
// key, its halves overlapping, when n < 64) in four independent steps.
func hash64(p unsafe.Pointer, n int, h uint64) uint64 {
	off := max(n-64, 0)
	return mum(load64(p, off)^h^k1, load64(p, off+8)^h^k2) ^ mum(load64(p, off+16)^h^k3, load64(p, off+24)^h^k4) ^
		mum(load64(p, n-32)^h^k5, load64(p, n-24)^h^k6) ^ mum(load64(p, n-16)^h^k7, load64(p, n-8)^h^uint64(n)^k8)
}

// mum multiplies x and y to 128 bits and folds the halves: every bit of
// either factor moves the high bits, which index slots.
func mum(x, y uint64) uint64 {
	hi, lo := bits.Mul64(x, y)
	return hi ^ lo
}

// load64 and load32 read little-endian words at p+off; callers keep off+8 (or
// +4) within the string. Unaligned loads are fine on the platforms Go supports
// here, and byte order only changes the hash, not correctness.
func load64(p unsafe.Pointer, off int) uint64 { return *(*uint64)(unsafe.Add(p, off)) }
func load32(p unsafe.Pointer, off int) uint32 { return *(*uint32)(unsafe.Add(p, off)) }
func load8(p unsafe.Pointer, off int) uint8   { return *(*uint8)(unsafe.Add(p, off)) }

// Get returns the value of key s: one hash and typically one key comparison;
// it does not allocate. Keys of up to 64 bytes, the common case, take
// [Table.Lookup], which makes no calls; others take a slower path.
func (t *Table) Get(s string) (int32, bool) {
	v, r := t.Lookup(s)
	if r != Slow {
		return v, r == Hit
	}
	return t.getSlow(s)
}

// Result is the outcome of [Table.Lookup].
type Result uint8

// Results of Lookup.
const (
	Miss Result = iota // no such key
	Hit                // the key's value was returned
	Slow               // Lookup does not handle the key: call Get
)

// Lookup is Get's path without calls, for keys of 1 to 64 bytes in a table
// built by New or FromPairs that does not hash with maphash; for any other
// key (empty, longer than 64 bytes, or of the zero Table or a maphash table)
// it returns Slow, and the caller calls Get. Calling nothing, it runs
// without a stack frame, spills or stack check, which a hot caller that
// handles Slow out of line saves on every lookup.
func (t *Table) Lookup(s string) (int32, Result) {
	n := len(s)
	// t.hash for 1 <= n <= 64, with hash8 inline.
	p := unsafe.Pointer(unsafe.StringData(s))
	var h uint64
	switch seed := t.seed; {
	case uint(n)-8 >= t.fastLim: // not 8..64, or a table Lookup does not serve
		if uint(n)-1 >= 7 || t.fastLim == 0 {
			return 0, Slow
		}
		if n >= 4 {
			h = mum(uint64(load32(p, 0))^seed, uint64(load32(p, n-4))^uint64(n)^k1)
		} else {
			h = mum(uint64(load8(p, 0))<<16|uint64(load8(p, n>>1))<<8|uint64(load8(p, n-1))^seed, uint64(n)^k1)
		}
	case n <= 16 || t.ends:
		h = hashEnds(load64(p, 0), load64(p, n-8), seed, n)
	case n <= 32:
		h = mum(load64(p, 0)^seed^k1, load64(p, 8)^seed^k2) ^ mum(load64(p, n-16)^seed^k3, load64(p, n-8)^seed^uint64(n)^k4)
	default:
		h = mum(load64(p, 0)^seed^k1, load64(p, 8)^seed^k2) ^ mum(load64(p, 16)^seed^k3, load64(p, 24)^seed^k4) ^
			mum(load64(p, n-32)^seed^k5, load64(p, n-24)^seed^k6) ^ mum(load64(p, n-16)^seed^k7, load64(p, n-8)^seed^uint64(n)^k8)
	}
	tag := uint32(h)
	base := unsafe.Pointer(unsafe.SliceData(t.slots))
	for i := h >> (t.shift & 63); ; i = (i + 1) & t.mask {
		// i <= mask < len(slots): the slot is in bounds.
		e := (*slot)(unsafe.Add(base, uintptr(i)*unsafe.Sizeof(slot{})))
		if e.tag == tag && len(e.key) == n {
			// Compare in 8-byte words, straight through (pieces overlapping
			// for lengths between the sizes), without calling the
			// runtime's memequal.
			q := unsafe.Pointer(unsafe.StringData(e.key))
			var d uint64
			switch {
			case n <= 16:
				switch {
				case n >= 8:
					d = (load64(p, 0) ^ load64(q, 0)) | (load64(p, n-8) ^ load64(q, n-8))
				case n >= 4:
					d = uint64((load32(p, 0) ^ load32(q, 0)) | (load32(p, n-4) ^ load32(q, n-4)))
				default: // bytes 0, n/2 and n-1 are all of them
					d = uint64((load8(p, 0) ^ load8(q, 0)) | (load8(p, n>>1) ^ load8(q, n>>1)) | (load8(p, n-1) ^ load8(q, n-1)))
				}
			case n <= 32:
				d = (load64(p, 0) ^ load64(q, 0)) | (load64(p, 8) ^ load64(q, 8)) |
					(load64(p, n-16) ^ load64(q, n-16)) | (load64(p, n-8) ^ load64(q, n-8))
			case n <= 48:
				d = (load64(p, 0) ^ load64(q, 0)) | (load64(p, 8) ^ load64(q, 8)) |
					(load64(p, 16) ^ load64(q, 16)) | (load64(p, 24) ^ load64(q, 24)) |
					(load64(p, n-16) ^ load64(q, n-16)) | (load64(p, n-8) ^ load64(q, n-8))
			default:
				d = (load64(p, 0) ^ load64(q, 0)) | (load64(p, 8) ^ load64(q, 8)) |
					(load64(p, 16) ^ load64(q, 16)) | (load64(p, 24) ^ load64(q, 24)) |
					(load64(p, n-32) ^ load64(q, n-32)) | (load64(p, n-24) ^ load64(q, n-24)) |
					(load64(p, n-16) ^ load64(q, n-16)) | (load64(p, n-8) ^ load64(q, n-8))
			}
			if d == 0 {
				return e.val, Hit
			}
		}
		if e.key == "" {
			return 0, Miss
		}
	}
}

// getSlow is Get for the keys Lookup leaves: empty or longer than 64 bytes,
// and any key of the zero Table or of one that hashes with maphash.
func (t *Table) getSlow(s string) (int32, bool) {
	n := len(s)
	if len(t.slots) == 0 || n == 0 {
		return 0, false
	}
	h := t.hash(s)
	tag := uint32(h)
	i := h >> t.shift
	for {
		e := &t.slots[i]
		if e.tag == tag && e.key == s {
			return e.val, true
		}
		if e.key == "" {
			return 0, false
		}
		i = (i + 1) & t.mask
	}
}
