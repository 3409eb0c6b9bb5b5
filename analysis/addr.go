package analysis

import (
	"encoding/json"
	"math/bits"

	"github.com/wmpolicy/wmpolicy/cidr"
)

// AddrRange is the IPv4 addresses First..Last, both included (First ≤ Last).
// It is a plain comparable value; the zero AddrRange is the single address
// 0.0.0.0.
type AddrRange struct {
	First, Last uint32
}

// String returns the range as one CIDR ("192.0.2.0/24") when it is one, else
// as "first-last" ("192.0.2.5-192.0.2.17"). It allocates the result.
func (r AddrRange) String() string {
	cs := r.CIDRs()
	if len(cs) == 1 {
		return cs[0].String()
	}
	return cidr.AddrString(r.First) + "-" + cidr.AddrString(r.Last)
}

// Size returns the number of addresses, 1..2^32.
func (r AddrRange) Size() uint64 { return uint64(r.Last) - uint64(r.First) + 1 }

// CIDRs returns the fewest CIDR ranges that cover exactly r, in address order
// (at most 62). O(number of ranges).
func (r AddrRange) CIDRs() []cidr.Range {
	var out []cidr.Range
	a, last := uint64(r.First), uint64(r.Last)
	for a <= last {
		// the largest block aligned at a that fits in a..last
		size := 32
		if a != 0 {
			size = bits.TrailingZeros64(a)
		}
		for size > 0 && a+(1<<size)-1 > last {
			size--
		}
		out = append(out, cidr.RangeFrom(uint32(a), 32-size))
		a += 1 << size
	}
	return out
}

// MarshalJSON writes {"First":"a.b.c.d","Last":"a.b.c.d","CIDRs":[...]}.
func (r AddrRange) MarshalJSON() ([]byte, error) {
	cs := r.CIDRs()
	ss := make([]string, len(cs))
	for i, c := range cs {
		ss[i] = c.String()
	}
	return json.Marshal(struct {
		First string   `json:"First"`
		Last  string   `json:"Last"`
		CIDRs []string `json:"CIDRs"`
	}{cidr.AddrString(r.First), cidr.AddrString(r.Last), ss})
}

// AddrSet is a set of IPv4 addresses held as its maximal intervals: ascending,
// disjoint and never adjacent (one interval's Last+1 is never the next one's
// First). Two AddrSets hold the same addresses exactly when their intervals
// are equal element by element. The nil AddrSet is the empty set. An AddrSet
// is a plain slice: the functions of this package never change one they have
// returned, and callers should not either.
type AddrSet []AddrRange

// Everywhere is the AddrSet of every IPv4 address.
var Everywhere = AddrSet{{0, ^uint32(0)}}

// AddrForm names how [AddrSet.String] renders a set: the shortest of the
// three forms (fewest CIDRs), the positive list on a tie.
type AddrForm uint8

// The forms.
const (
	// FormCIDRs lists the set's CIDRs ("192.0.2.0/24, 10.8.0.0/16"), or says
	// "nowhere" for the empty set.
	FormCIDRs AddrForm = iota
	// FormEverywhere is every address: "everywhere".
	FormEverywhere
	// FormEverywhereExcept lists the CIDRs of the complement:
	// "everywhere except 198.51.100.0/24, 203.0.113.128/25".
	FormEverywhereExcept
)

// String returns "cidrs", "everywhere" or "everywhere-except".
func (f AddrForm) String() string {
	switch f {
	case FormEverywhere:
		return "everywhere"
	case FormEverywhereExcept:
		return "everywhere-except"
	}
	return "cidrs"
}

// MarshalText writes String.
func (f AddrForm) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// Contains reports whether the set holds address a. O(log intervals).
func (s AddrSet) Contains(a uint32) bool {
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch {
		case s[m].Last < a:
			lo = m + 1
		case s[m].First > a:
			hi = m
		default:
			return true
		}
	}
	return false
}

// Size returns the number of addresses, 0..2^32.
func (s AddrSet) Size() uint64 {
	var n uint64
	for _, r := range s {
		n += r.Size()
	}
	return n
}

// Complement returns the addresses not in s. It allocates the result.
func (s AddrSet) Complement() AddrSet {
	var out AddrSet
	next := uint64(0) // first address not yet decided
	for _, r := range s {
		if uint64(r.First) > next {
			out = append(out, AddrRange{uint32(next), r.First - 1})
		}
		next = uint64(r.Last) + 1
	}
	if next <= uint64(^uint32(0)) {
		out = append(out, AddrRange{uint32(next), ^uint32(0)})
	}
	return out
}

// CIDRs returns the fewest CIDR ranges that cover exactly s, in address order.
func (s AddrSet) CIDRs() []cidr.Range {
	var out []cidr.Range
	for _, r := range s {
		out = append(out, r.CIDRs()...)
	}
	return out
}

// cidrCount is len(s.CIDRs()) without allocating.
func (s AddrSet) cidrCount() int {
	n := 0
	for _, r := range s {
		a, last := uint64(r.First), uint64(r.Last)
		for a <= last {
			size := 32
			if a != 0 {
				size = bits.TrailingZeros64(a)
			}
			for size > 0 && a+(1<<size)-1 > last {
				size--
			}
			n++
			a += 1 << size
		}
	}
	return n
}

// Form returns the form [AddrSet.String] uses: FormEverywhere for every
// address; FormEverywhereExcept when the complement needs fewer CIDRs than
// the set; else FormCIDRs. Cost: O(intervals + CIDRs), no allocation.
func (s AddrSet) Form() AddrForm {
	if len(s) == 1 && s[0] == (AddrRange{0, ^uint32(0)}) {
		return FormEverywhere
	}
	if len(s) == 0 {
		return FormCIDRs
	}
	// the complement's CIDRs: the gaps between and around the intervals
	out := 0
	next := uint64(0)
	for _, r := range s {
		if uint64(r.First) > next {
			out += AddrSet{{uint32(next), r.First - 1}}.cidrCount()
		}
		next = uint64(r.Last) + 1
	}
	if next <= uint64(^uint32(0)) {
		out += AddrSet{{uint32(next), ^uint32(0)}}.cidrCount()
	}
	if out < s.cidrCount() {
		return FormEverywhereExcept
	}
	return FormCIDRs
}

// FormCIDRs returns the CIDRs the set's form lists: the set's own for
// FormCIDRs, the complement's for FormEverywhereExcept, none for
// FormEverywhere.
func (s AddrSet) FormCIDRs() []cidr.Range {
	switch s.Form() {
	case FormEverywhere:
		return nil
	case FormEverywhereExcept:
		return s.Complement().CIDRs()
	}
	return s.CIDRs()
}

// String renders the set in its [AddrSet.Form]: "everywhere",
// "everywhere except 198.51.100.0/24, 203.0.113.128/25", "192.0.2.0/24,
// 10.8.0.0/16", or "nowhere" for the empty set. Every CIDR is listed: the
// text is exact, however long.
func (s AddrSet) String() string {
	switch s.Form() {
	case FormEverywhere:
		return "everywhere"
	case FormEverywhereExcept:
		return "everywhere except " + joinCIDRs(s.Complement().CIDRs())
	}
	if len(s) == 0 {
		return "nowhere"
	}
	return joinCIDRs(s.CIDRs())
}

func joinCIDRs(cs []cidr.Range) string {
	var b []byte
	for i, c := range cs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, c.String()...)
	}
	return string(b)
}

// addrSetJSON is the JSON shape of an AddrSet.
type addrSetJSON struct {
	Text      string         `json:"Text"`
	Form      AddrForm       `json:"Form"`
	CIDRs     []string       `json:"CIDRs"`
	Intervals []intervalJSON `json:"Intervals"`
}

type intervalJSON struct {
	First string `json:"First"`
	Last  string `json:"Last"`
}

// MarshalJSON writes the set as String renders it and exactly:
//
//	{"Text": "everywhere except 198.51.100.0/24", "Form": "everywhere-except",
//	 "CIDRs": ["198.51.100.0/24"],
//	 "Intervals": [{"First": "0.0.0.0", "Last": "198.51.99.255"},
//	               {"First": "198.51.101.0", "Last": "255.255.255.255"}]}
//
// Form is "everywhere", "everywhere-except" or "cidrs"; CIDRs are the ones
// the form lists (the excluded ones for "everywhere-except", none for
// "everywhere"); Intervals are the set itself.
func (s AddrSet) MarshalJSON() ([]byte, error) {
	out := addrSetJSON{Text: s.String(), Form: s.Form(), CIDRs: []string{}, Intervals: make([]intervalJSON, len(s))}
	for _, c := range s.FormCIDRs() {
		out.CIDRs = append(out.CIDRs, c.String())
	}
	for i, r := range s {
		out.Intervals[i] = intervalJSON{cidr.AddrString(r.First), cidr.AddrString(r.Last)}
	}
	return json.Marshal(out)
}

// witnessAddr returns an address of s that looks like real traffic, from its
// best interval by betterWitness; see witnessIn. s must not be empty.
func (s AddrSet) witnessAddr() uint32 {
	best := 0
	for i, r := range s {
		if betterWitness(r, s[best]) {
			best = i
		}
	}
	return witnessIn(s[best])
}

// witnessRank ranks where an interval lies: 3 between two other ranges (the
// most specific range involved), 2 after one up to the end of the space, 1
// from 0.0.0.0 up to one, 0 the whole space.
func witnessRank(r AddrRange) int {
	switch {
	case r.First != 0 && r.Last != ^uint32(0):
		return 3
	case r.First != 0:
		return 2
	case r.Last != ^uint32(0):
		return 1
	}
	return 0
}

// betterWitness reports whether interval r is a better place for a witness
// address than b: a higher witnessRank, else smaller.
func betterWitness(r, b AddrRange) bool {
	x, y := witnessRank(r), witnessRank(b)
	return x > y || x == y && r.Size() < b.Size()
}

// everywhereWitness is the witness address when every address is alike:
// 203.0.113.10, in TEST-NET-3 (RFC 5737), an address for examples.
const everywhereWitness = 203<<24 | 0<<16 | 113<<8 | 10

// witnessIn returns an address of r near what bounds it: a host address at
// its start (First+1 when First starts a network of four or more addresses,
// which are rare as clients), or near its end for an interval that starts at
// 0.0.0.0, or everywhereWitness for the whole space.
func witnessIn(r AddrRange) uint32 {
	switch witnessRank(r) {
	case 0:
		return everywhereWitness
	case 1:
		if r.Size() >= 4 && r.Last&3 == 3 {
			return r.Last - 1
		}
		return r.Last
	}
	return hostAddr(r)
}

// hostAddr returns r.First, or r.First+1 when r holds four or more addresses
// and First is a multiple of four (a network address, rare as a client).
func hostAddr(r AddrRange) uint32 {
	if r.Size() >= 4 && r.First&3 == 0 {
		return r.First + 1
	}
	return r.First
}
