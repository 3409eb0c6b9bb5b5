package org

import "math/bits"

// orgTable is the read side of the store's index of live organizations: an
// immutable open-addressing hash table keyed by organization ID, rebuilt on
// every create and delete of an organization (O(n)), so that the request path
// finds an organization with four 8-byte loads of the ID, a multiply-xor hash,
// usually one probe of one 40-byte entry and no string comparison call: no
// locks, no allocation. byID is the same index as a map, for writers and
// listings.
type orgTable struct {
	byID    map[string]*slot
	shift   uint8
	entries []tableEntry
}

// tableEntry holds an ID's 32 hex digits as four words (the "m-" prefix is
// checked apart) and its slot; a nil slot is an empty entry.
type tableEntry struct {
	w  [4]uint64
	sl *slot
}

// idLen is the length of a well-formed organization ID: "m-" and 32 hex digits.
const idLen = 34

func newOrgTable(byID map[string]*slot) *orgTable {
	size := 8
	for size < 2*len(byID) {
		size *= 2
	}
	t := &orgTable{byID: byID, shift: uint8(64 - bits.TrailingZeros(uint(size))), entries: make([]tableEntry, size)}
	mask := uint64(size - 1)
	for id, sl := range byID {
		w := words(id)
		i := t.hash(w[0], w[1], w[2], w[3])
		for t.entries[i].sl != nil {
			i = (i + 1) & mask
		}
		t.entries[i] = tableEntry{w: w, sl: sl}
	}
	return t
}

// le64 reads 8 bytes of s at i, little-endian (the compiler merges the loads).
func le64(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// words returns the 32 bytes after the prefix of an ID of idLen bytes.
func words(id string) [4]uint64 {
	_ = id[idLen-1]
	return [4]uint64{le64(id, 2), le64(id, 10), le64(id, 18), le64(id, 26)}
}

func (t *orgTable) hash(w0, w1, w2, w3 uint64) uint64 {
	x := w0*0x9e3779b97f4a7c15 ^ w1*0xc2b2ae3d27d4eb4f ^ w2*0x165667b19e3779f9 ^ w3*0xd6e8feb86659fd93
	x ^= x >> 29
	return (x * 0xbf58476d1ce4e5b9) >> t.shift
}

// get returns the slot of organization id, or nil.
func (t *orgTable) get(id string) *slot {
	if len(id) != idLen || id[0] != 'm' || id[1] != '-' {
		return nil
	}
	w0, w1, w2, w3 := le64(id, 2), le64(id, 10), le64(id, 18), le64(id, 26)
	mask := uint64(len(t.entries) - 1)
	for i := t.hash(w0, w1, w2, w3) & mask; ; i = (i + 1) & mask {
		e := &t.entries[i]
		if e.sl == nil || (e.w[0] == w0 && e.w[1] == w1 && e.w[2] == w2 && e.w[3] == w3) {
			return e.sl
		}
	}
}
