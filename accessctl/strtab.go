package accessctl

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"unsafe"
)

// strTable is an immutable open-addressing hash table from non-empty strings to
// int32, built once at compile time and read on every request. It replaces a Go
// map on the hot path: the principal IDs it holds are long (45-character user
// IDs are common) and few, and a Go map spends most of its time on them hashing
// the whole key and in generic code.
//
// The hash samples the key (its first, middle and last 8 bytes and its length)
// and mixes them with a random seed. Keys that agree on every sampled byte
// collide whatever the seed; linear probing keeps lookups correct, and if
// building finds a probe sequence longer than maxSampledProbe the table switches
// to hashing whole keys with hash/maphash, so a lookup never probes more than a
// few slots whatever IDs the rules name.
type strTable struct {
	slots []strSlot // power-of-two length, at least twice the number of keys; key "" is empty
	mask  uint64
	seed  uint64
	full  bool // hash whole keys (maphash) instead of sampling
	mseed maphash.Seed
}

type strSlot struct {
	key string
	val int32
}

const maxSampledProbe = 8

func newStrTable(m map[string]int32) strTable {
	size := 4
	for size < 2*len(m) {
		size <<= 1
	}
	t := strTable{mask: uint64(size - 1), mseed: maphash.MakeSeed()}
	t.seed = maphash.String(t.mseed, "wmpolicy") | 1
	for attempt := 0; ; attempt++ {
		t.slots = make([]strSlot, size)
		longest := 0
		for k, v := range m {
			i := t.hash(k) & t.mask
			probe := 0
			for t.slots[i].key != "" {
				i = (i + 1) & t.mask
				probe++
			}
			t.slots[i] = strSlot{k, v}
			longest = max(longest, probe)
		}
		if longest <= maxSampledProbe || t.full {
			return t
		}
		t.full = true // keys collide on the sampled bytes: hash them whole
	}
}

func (t *strTable) hash(s string) uint64 {
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

// get returns the value of key s. It costs one sampled hash, and typically one
// string comparison.
func (t *strTable) get(s string) (int32, bool) {
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
