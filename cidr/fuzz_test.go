package cidr

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzParseRange: ParseRange never panics, succeeds iff the SEMANTICS A9
// reference regexp (plus octets <= 255) accepts, and round-trips.
func FuzzParseRange(f *testing.F) {
	for _, c := range rangeCases {
		f.Add(c.in)
	}
	for _, c := range addrCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkRangeAgainstRef(t, s)
	})
}

// FuzzParseAddr: ParseAddr never panics, succeeds iff the SEMANTICS A10
// reference accepts, and round-trips through AddrString.
func FuzzParseAddr(f *testing.F) {
	for _, c := range addrCases {
		f.Add(c.in)
	}
	for _, c := range rangeCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkAddrAgainstRef(t, s)
	})
}

// fuzzRanges decodes up to 64 ranges from b, 5 bytes each: a big-endian
// address and a mask length (values above 32 give the zero Range). A mask
// byte with its top bit set reuses the address of an earlier range, so that
// nesting and duplicates are common.
func fuzzRanges(b []byte) []Range {
	var rs []Range
	for len(b) >= 5 && len(rs) < 64 {
		a := binary.BigEndian.Uint32(b)
		m := b[4]
		b = b[5:]
		if m&0x80 != 0 && len(rs) > 0 {
			a = rs[int(a)%len(rs)].Addr() ^ uint32(a>>16)&0xff
		}
		if bits := int(m & 0x7f); bits <= 32 {
			rs = append(rs, RangeFrom(a, bits))
		} else if bits == 33 {
			rs = append(rs, Range{})
		} else {
			rs = append(rs, RangeFrom(a, bits%33))
		}
	}
	return rs
}

// FuzzTable: Build never panics, and the table agrees with the brute-force
// netip oracle on every boundary address and with its own structure.
func FuzzTable(f *testing.F) {
	enc := func(ss ...string) []byte {
		var b []byte
		for _, s := range ss {
			r := MustParseRange(s)
			b = binary.BigEndian.AppendUint32(b, r.Addr())
			b = append(b, byte(r.Bits()))
		}
		return b
	}
	f.Add([]byte{})
	f.Add(enc("0.0.0.0/0"))
	f.Add(enc("255.255.255.255/32", "0.0.0.0/32"))
	f.Add(enc("10.0.0.1/8", "10.0.0.0/8", "10.1.0.0/16", "10.0.0.0/9", "10.128.0.0/9"))
	f.Add(enc("0.0.0.0/1", "128.0.0.0/1", "0.0.0.0/0", "192.0.2.0/24", "192.0.3.0/24"))
	f.Add(append(enc("10.0.0.0/8"), 0, 0, 0, 0, 0x80|24, 0, 0, 0, 1, 33))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs := fuzzRanges(b)
		tab := Build(rs)
		as := boundaries(rs)
		for i := 0; i+4 <= len(b) && i < 64; i += 4 {
			as = append(as, binary.LittleEndian.Uint32(b[i:]))
		}
		as = append(as, 0, math.MaxUint32)
		checkTableLookups(t, rs, tab, as)
		checkTableStructure(t, tab)
		// BuildMap, whose Table lives in reused scratch memory, labels
		// every address as the Table's classes do.
		count := func(members []int32) uint32 { return uint32(len(members)) }
		m := BuildMap(rs, count)
		for _, a := range as {
			if got, want := m.Get(a), count(tab.Lookup(a)); got != want {
				t.Fatalf("BuildMap: Get(%s) = %d, want %d", AddrString(a), got, want)
			}
		}
	})
}
