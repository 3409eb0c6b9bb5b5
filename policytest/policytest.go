package policytest

import (
	"net/netip"
	"slices"

	"github.com/wmpolicy/wmpolicy/cidr"
	"pgregory.net/rapid"
)

// Anchors returns the networks generated ranges and addresses cluster in: two
// private /16s, the three documentation /24s, and both ends of the address
// space (a new slice on every call).
func Anchors() []uint32 { return slices.Clone(anchors) }

var anchors = []uint32{
	0x0A000000, // 10.0.0.0
	0x0A010000, // 10.1.0.0
	0xC0000200, // 192.0.2.0
	0xC6336400, // 198.51.100.0
	0xCB007100, // 203.0.113.0
	0x00000000, // 0.0.0.0
	0xFFFFFF00, // 255.255.255.0
}

// UserIDs returns the pool of user IDs the generators name (a new slice on
// every call). Every entry is a valid rule entry (12–256 characters, SEMANTICS
// A13) and a valid target user (B1: [a-zA-Z0-9._%+@-]); the pool includes the
// shortest (12) and the longest (256) allowed.
func UserIDs() []string { return slices.Clone(userIDs) }

var userIDs = []string{
	"S-1-1-11-1111111111-2222222222-3333333333-0001",
	"S-1-1-11-1111111111-2222222222-3333333333-0002",
	"S-1-1-11-1111111111-2222222222-3333333333-0003",
	"S-1-1-11-1111111111-2222222222-3333333333-0004",
	"S-1-1-11-1111111111-2222222222-3333333333-0005",
	"S-1-5-21-123", // 12 characters: the minimum
	"S-1-1-11-" + repeat("9", 247),
}

// UnknownUserID and UnknownRoleID are valid identifiers that no generator puts
// in a rule, role or directory: requests naming them match no positive list.
const (
	UnknownUserID = "S-1-1-11-9999999999-unnamed"
	UnknownRoleID = "unnamed-role"
)

// RoleIDs returns the pool of impersonation role IDs the generators name (each
// 1–64 characters of [a-zA-Z0-9_-], including the shortest and the longest; a
// new slice on every call).
func RoleIDs() []string { return slices.Clone(roleIDs) }

var roleIDs = []string{
	"0f8fad5b-d9cb-469f-a165-70867728950e",
	"7c9e6679-7425-40de-944b-e07fc1f90ae7",
	"b1c2d3e4-0000-4000-8000-000000000003",
	"role-4",
	"R",
	repeat("r", 64),
}

func repeat(s string, n int) string {
	b := make([]byte, 0, n*len(s))
	for range n {
		b = append(b, s...)
	}
	return string(b)
}

// edgeBits are the prefix lengths that break address code most often, most
// important first (rapid shrinks toward the first).
var edgeBits = []int{32, 31, 24, 0, 16, 8, 1, 30, 28}

// Range generates a valid range (SEMANTICS A9).
//
// Covers: prefix lengths biased to /32, /31, /24, /0, /16, /8, /1, /30 and /28
// (any length 0–32 otherwise); about three ranges in four written as their
// network and one in four with host bits set ("10.0.0.1/8"); networks at an
// [Anchors] network plus a small offset (so that ranges nest, touch and overlap
// across draws), and one in ten anywhere in the address space.
//
// Shrinks toward 10.0.0.0/32 written without host bits.
func Range() *rapid.Generator[cidr.Range] {
	return rapid.Custom(func(t *rapid.T) cidr.Range {
		bits := rapid.OneOf(
			rapid.SampledFrom(edgeBits),
			rapid.IntRange(0, 32),
		).Draw(t, "bits")
		var base uint32
		if rapid.IntRange(0, 9).Draw(t, "anywhere") == 9 {
			base = rapid.Uint32().Draw(t, "base")
		} else {
			base = rapid.SampledFrom(anchors).Draw(t, "anchor") + rapid.Uint32Range(0, 1023).Draw(t, "offset")
		}
		r := cidr.RangeFrom(base, bits)
		if rapid.IntRange(0, 3).Draw(t, "hostbits") != 3 {
			r = r.Masked()
		}
		return r
	})
}

// RangeString generates the text of a valid range, as a rule holds it; it
// covers and shrinks as [Range] does.
func RangeString() *rapid.Generator[string] {
	return rapid.Map(Range(), cidr.Range.String)
}

// Relations of ranges in a family, in shrinking order.
const (
	relDuplicate = iota
	relNested
	relSupernet
	relAdjacentAfter
	relAdjacentBefore
	relHostBits
	numRelations
)

// RangeFamily generates 1–8 ranges related to each other the way that breaks
// range-matching code. The first is a [Range]; each further one is derived
// from an earlier member of the family as one of:
//
//   - an exact duplicate;
//   - a range nested inside it (a longer prefix anywhere in it, down to /32);
//   - its supernet (a shorter prefix containing it, up to /0), so ranges overlap;
//   - the adjacent block of the same size right after its broadcast address or
//     right before its network address (where one exists);
//   - the same network written with host bits set ("10.0.0.7/24" next to
//     "10.0.0.0/24": equal as address sets, different as text).
//
// (IPv4 prefixes either nest or are disjoint, so nesting, supernets and
// duplicates are all the overlaps there are.) Shrinks toward a single range, and
// toward duplicates of the first.
func RangeFamily() *rapid.Generator[[]cidr.Range] {
	return rapid.Custom(func(t *rapid.T) []cidr.Range {
		out := []cidr.Range{Range().Draw(t, "base")}
		n := rapid.IntRange(0, 7).Draw(t, "related")
		for range n {
			ref := out[rapid.IntRange(0, len(out)-1).Draw(t, "of")].Masked()
			bits := ref.Bits()
			var r cidr.Range
			switch rapid.IntRange(0, numRelations-1).Draw(t, "relation") {
			case relDuplicate:
				r = out[rapid.IntRange(0, len(out)-1).Draw(t, "dup")]
			case relNested:
				b := rapid.IntRange(bits, 32).Draw(t, "nested bits")
				off := uint32(0)
				if size := ref.Last() - ref.First(); size > 0 {
					off = rapid.Uint32Range(0, size).Draw(t, "nested offset")
				}
				r = cidr.RangeFrom(ref.First()+off, b).Masked()
			case relSupernet:
				r = cidr.RangeFrom(ref.First(), rapid.IntRange(0, bits).Draw(t, "supernet bits")).Masked()
			case relAdjacentAfter:
				if ref.Last() == ^uint32(0) {
					r = ref
				} else {
					r = cidr.RangeFrom(ref.Last()+1, bits)
				}
			case relAdjacentBefore:
				if ref.First() == 0 {
					r = ref
				} else {
					r = cidr.RangeFrom(ref.First()-1, bits).Masked()
				}
			case relHostBits:
				host := ref.Last() - ref.First()
				r = cidr.RangeFrom(ref.First()|rapid.Uint32Range(0, host).Draw(t, "host bits"), bits)
			}
			out = append(out, r)
		}
		return out
	})
}

// Addr generates an IPv4 address.
//
// Covers: four in five inside or at the edge of the [Anchors] (offsets 0–1279
// from each anchor network: network addresses, the addresses around the /24,
// /23 and /22 boundaries above them, and 0.0.0.0 and 255.255.255.255 through the
// end anchors); one in five anywhere.
//
// Shrinks toward 10.0.0.0.
func Addr() *rapid.Generator[netip.Addr] {
	return rapid.Custom(func(t *rapid.T) netip.Addr {
		var a uint32
		if rapid.IntRange(0, 4).Draw(t, "kind") == 4 {
			a = rapid.Uint32().Draw(t, "any")
		} else {
			a = rapid.SampledFrom(anchors).Draw(t, "anchor") + rapid.Uint32Range(0, 1279).Draw(t, "offset")
		}
		return cidr.AddrToNetip(a)
	})
}

// AddrNear generates an address at the edge of one of ranges: one of its
// [BoundaryAddrs] (network, broadcast, the addresses just inside and just
// outside them) nine times in ten, else any address inside it. With no ranges
// it is [Addr].
//
// Shrinks toward the network address of ranges[0].
func AddrNear(ranges ...cidr.Range) *rapid.Generator[netip.Addr] {
	if len(ranges) == 0 {
		return Addr()
	}
	ranges = append([]cidr.Range(nil), ranges...)
	return rapid.Custom(func(t *rapid.T) netip.Addr {
		r := ranges[rapid.IntRange(0, len(ranges)-1).Draw(t, "range")]
		if rapid.IntRange(0, 9).Draw(t, "inside?") == 9 {
			return cidr.AddrToNetip(r.First() + rapid.Uint32Range(0, r.Last()-r.First()).Draw(t, "offset"))
		}
		return cidr.AddrToNetip(rapid.SampledFrom(BoundaryAddrs(r)).Draw(t, "edge"))
	})
}

// BoundaryAddrs returns the edge addresses of r: network, broadcast, the
// addresses just outside them (where they exist) and just inside them (when
// the range has more than one address), in that order. A range with host bits
// set has the edges of its masked network.
func BoundaryAddrs(r cidr.Range) []uint32 {
	first, last := r.First(), r.Last()
	out := []uint32{first, last}
	if first > 0 {
		out = append(out, first-1)
	}
	if last < ^uint32(0) {
		out = append(out, last+1)
	}
	if first < last {
		out = append(out, first+1, last-1)
	}
	return out
}
