// Package strtab is an immutable open-addressing hash table from strings to
// int32, built once and read on hot paths (accessctl's principals,
// impersonation's target users).
//
// The keys it serves are few and long (45-character user IDs are common), and
// a Go map spends most of a lookup hashing the whole key and in generic code.
// This table hashes a sample of the key — its length and its first, middle and
// last 8 bytes — under a random seed. Keys that agree on every sampled byte
// collide whatever the seed; linear probing keeps lookups correct, and when
// building finds a probe sequence longer than maxSampledProbe under four seeds,
// the table hashes whole keys with hash/maphash instead, so that a lookup
// probes few slots whatever keys it holds.
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
	slots []slot // power-of-two length, at least twice the number of keys; key "" marks a free slot
	mask  uint64
	shift uint8 // 64 - log2(len(slots)): slots are indexed by the hash's top bits
	seed  uint64
	full  bool // hash whole keys with maphash
	mseed maphash.Seed
}

type slot struct {
	key string
	tag uint32 // high bits of the key's hash: most mismatches cost one compare
	val int32
}

const maxSampledProbe = 8

// New builds the table of m. The empty key cannot be stored; New panics if m
// holds it. Cost: O(len(m)), a few times over when seeds cluster.
func New(m map[string]int32) Table {
	if _, ok := m[""]; ok {
		panic("strtab: empty key")
	}
	size := 4
	for size < 2*len(m) {
		size <<= 1
	}
	t := Table{mask: uint64(size - 1), shift: uint8(64 - bits.TrailingZeros(uint(size))), mseed: maphash.MakeSeed()}
	for attempt := 0; ; attempt++ {
		t.seed = maphash.String(t.mseed, fmt.Sprint("strtab", attempt)) | 1
		t.slots = make([]slot, size)
		longest := 0
		for k, v := range m {
			h := t.hash(k)
			i := h >> t.shift
			probe := 0
			for t.slots[i].key != "" {
				i = (i + 1) & t.mask
				probe++
			}
			t.slots[i] = slot{key: k, tag: uint32(h), val: v}
			longest = max(longest, probe)
		}
		if longest <= maxSampledProbe || t.full {
			return t
		}
		// An unlucky seed clusters keys now and then: try others first; keys
		// that collide on every sampled byte get whole-key hashing.
		t.full = attempt >= 3
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
	if t.full {
		return maphash.String(t.mseed, s)
	}
	n := len(s)
	p := unsafe.Pointer(unsafe.StringData(s))
	var x, y uint64
	switch {
	case n >= 8:
		x = load64(p, 0)
		y = load64(p, n-8)
		if n > 16 {
			x ^= bits.RotateLeft64(load64(p, n/2-4), 29)
		}
	case n >= 4:
		x = uint64(load32(p, 0))
		y = uint64(load32(p, n-4))
	case n > 0:
		b := unsafe.Slice((*byte)(p), n)
		x = uint64(b[0])<<16 | uint64(b[n>>1])<<8 | uint64(b[n-1])
	}
	hi, lo := bits.Mul64(x^t.seed, y^uint64(n)^0x9e3779b97f4a7c15)
	return (hi ^ lo) * 0xbf58476d1ce4e5b9 // spread into the top bits, which index slots
}

// load64 and load32 read little-endian words at p+off; callers keep off+8 (or
// +4) within the string. Unaligned loads are fine on the platforms Go supports
// here, and byte order only changes the hash, not correctness.
func load64(p unsafe.Pointer, off int) uint64 { return *(*uint64)(unsafe.Add(p, off)) }
func load32(p unsafe.Pointer, off int) uint32 { return *(*uint32)(unsafe.Add(p, off)) }

// equal reports a == b for strings of equal length n ≥ 8, comparing 16 bytes
// per step (the last step overlapping) instead of calling the runtime's
// memequal.
func equal(a, b string, n int) bool {
	pa := unsafe.Pointer(unsafe.StringData(a))
	pb := unsafe.Pointer(unsafe.StringData(b))
	if n < 16 {
		return load64(pa, 0) == load64(pb, 0) && load64(pa, n-8) == load64(pb, n-8)
	}
	for off := 0; off < n-16; off += 16 {
		if (load64(pa, off)^load64(pb, off))|(load64(pa, off+8)^load64(pb, off+8)) != 0 {
			return false
		}
	}
	return (load64(pa, n-16)^load64(pb, n-16))|(load64(pa, n-8)^load64(pb, n-8)) == 0
}

// Get returns the value of key s: one sampled hash and typically one string
// comparison; it does not allocate.
func (t *Table) Get(s string) (int32, bool) {
	n := len(s)
	if len(t.slots) == 0 || n == 0 {
		return 0, false
	}
	h := t.hash(s)
	tag := uint32(h)
	i := h >> t.shift
	for {
		e := &t.slots[i]
		if e.tag == tag && len(e.key) == n {
			if n >= 8 {
				if equal(e.key, s, n) {
					return e.val, true
				}
			} else if e.key == s {
				return e.val, true
			}
		}
		if e.key == "" {
			return 0, false
		}
		i = (i + 1) & t.mask
	}
}
