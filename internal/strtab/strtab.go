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
	"encoding/binary"
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
	seed  uint64
	full  bool // hash whole keys with maphash
	mseed maphash.Seed
}

type slot struct {
	key string
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
	t := Table{mask: uint64(size - 1), mseed: maphash.MakeSeed()}
	for attempt := 0; ; attempt++ {
		t.seed = maphash.String(t.mseed, fmt.Sprint("strtab", attempt)) | 1
		t.slots = make([]slot, size)
		longest := 0
		for k, v := range m {
			i := t.hash(k) & t.mask
			probe := 0
			for t.slots[i].key != "" {
				i = (i + 1) & t.mask
				probe++
			}
			t.slots[i] = slot{k, v}
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
	b := unsafe.Slice(unsafe.StringData(s), n)
	var x, y uint64
	switch {
	case n >= 8:
		x = binary.LittleEndian.Uint64(b)
		y = binary.LittleEndian.Uint64(b[n-8:])
		if n > 16 {
			x ^= bits.RotateLeft64(binary.LittleEndian.Uint64(b[n/2-4:]), 29)
		}
	case n >= 4:
		x = uint64(binary.LittleEndian.Uint32(b))
		y = uint64(binary.LittleEndian.Uint32(b[n-4:]))
	case n > 0:
		x = uint64(b[0])<<16 | uint64(b[n>>1])<<8 | uint64(b[n-1])
	}
	hi, lo := bits.Mul64(x^t.seed, y^uint64(n)^0x9e3779b97f4a7c15)
	return hi ^ lo
}

// Get returns the value of key s: one sampled hash and typically one string
// comparison; it does not allocate.
func (t *Table) Get(s string) (int32, bool) {
	if len(t.slots) == 0 || s == "" {
		return 0, false
	}
	i := t.hash(s) & t.mask
	for {
		e := &t.slots[i]
		if e.key == s {
			return e.val, true
		}
		if e.key == "" {
			return 0, false
		}
		i = (i + 1) & t.mask
	}
}
