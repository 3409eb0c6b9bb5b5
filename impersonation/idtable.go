package impersonation

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math/bits"
	"unsafe"
)

// idTable is an immutable open-addressing hash table from non-empty strings
// (the user IDs a role names) to class indexes, built once by Compile and read
// on every evaluation. A role names at most 200 users, whose IDs are often 45
// characters long; a Go map hashes the whole key, this table samples it.
//
// The hash mixes the key's length with its first, middle and last 8 bytes under
// a random seed. Keys that agree on every sampled byte collide whatever the
// seed; linear probing keeps lookups correct, and when building finds a probe
// sequence longer than maxSampledProbe under four seeds, the table hashes whole
// keys with hash/maphash instead, so that a lookup probes few slots whatever
// IDs a role names.
type idTable struct {
	slots []idSlot // power-of-two length, at least twice the number of keys; key "" marks a free slot
	mask  uint64
	seed  uint64
	full  bool // hash whole keys with maphash
	mseed maphash.Seed
}

type idSlot struct {
	key string
	val uint16
}

const maxSampledProbe = 8

// newIDTable builds the table of keys; key i maps to i. Keys must be distinct
// and non-empty.
func newIDTable(keys []string) idTable {
	size := 4
	for size < 2*len(keys) {
		size <<= 1
	}
	t := idTable{mask: uint64(size - 1), mseed: maphash.MakeSeed()}
	for attempt := 0; ; attempt++ {
		t.seed = maphash.String(t.mseed, fmt.Sprint("impersonation", attempt)) | 1
		t.slots = make([]idSlot, size)
		longest := 0
		for v, k := range keys {
			i := t.hash(k) & t.mask
			probe := 0
			for t.slots[i].key != "" {
				i = (i + 1) & t.mask
				probe++
			}
			t.slots[i] = idSlot{k, uint16(v)}
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

func (t *idTable) hash(s string) uint64 {
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

// get returns the value of key s: one sampled hash and typically one string
// comparison, no allocation.
func (t *idTable) get(s string) (uint16, bool) {
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
