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
