package ruleset

import "unsafe"

// Interner stores each distinct rule bitset of one width once, in one
// slice. The zero Interner is not usable: make one with [NewInterner]. Not
// safe for concurrent use (it is a building tool; keep only Sets).
type Interner struct {
	w    int
	sets []uint64
	one  map[uint64]uint32
	many map[string]uint32
}

// NewInterner returns an empty Interner of bitsets w words wide.
func NewInterner(w int) *Interner {
	return &Interner{w: w, one: map[uint64]uint32{}, many: map[string]uint32{}}
}

// Intern returns the word offset of bits (w words) in [Interner.Sets],
// adding it if it is new: the n-th distinct bitset is at n*w. It copies bits;
// amortised O(w) time.
func (in *Interner) Intern(bits []uint64) uint32 {
	if in.w == 1 {
		if off, ok := in.one[bits[0]]; ok {
			return off
		}
		off := uint32(len(in.sets))
		in.sets = append(in.sets, bits[0])
		in.one[bits[0]] = off
		return off
	}
	key := unsafe.Slice((*byte)(unsafe.Pointer(&bits[0])), len(bits)*8)
	if off, ok := in.many[string(key)]; ok { // no copy for a lookup
		return off
	}
	off := uint32(len(in.sets))
	in.sets = append(in.sets, bits...)
	in.many[string(key)] = off // a copy of the bytes: bits may change
	return off
}

// Sets returns the distinct bitsets, each w words, in order of first
// appearance. The Interner keeps appending to the slice: take it last.
func (in *Interner) Sets() []uint64 { return in.sets }

// Len returns the number of distinct bitsets.
func (in *Interner) Len() int { return len(in.sets) / in.w }
