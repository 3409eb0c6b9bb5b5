package cidr

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// MaxRangeLen is the longest valid range string, "255.255.255.255/32"
	// (SEMANTICS A9).
	MaxRangeLen = 18
	// MaxAddrLen is the longest valid address string, "255.255.255.255"
	// (SEMANTICS A10).
	MaxAddrLen = 15
)

// Range is a parsed WorkMail IPv4 range (SEMANTICS A9): an address as written,
// host bits included, and a mask length 0..32. It is a small comparable value
// type, like netip.Prefix: two Ranges are == when they were written the same
// way, so "10.0.0.1/8" != "10.0.0.0/8"; compare [Range.Masked] values to test
// whether two ranges cover the same addresses.
//
// A Range matches the addresses of its masked network: "10.0.0.1/8" contains
// exactly the addresses of "10.0.0.0/8".
//
// The zero Range is not valid: IsValid reports false, it contains no address,
// and it is what the functions of this package return with an error.
// Ranges are immutable values, safe for concurrent use; every method is O(1)
// and only String allocates.
type Range struct {
	addr  uint32 // as written, host bits kept
	bits  uint8  // 0..32
	valid bool
}

// ParseRange parses s as a WorkMail IPv4 range (SEMANTICS A9): the full text
// must match
//
//	(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}/(0|[1-9]|[12][0-9]|3[0-2])
//
// with every octet at most 255: no leading zeros in octets or mask, a mask is
// required, no whitespace, no IPv6, no IPv4-mapped IPv6, at most 18
// characters. Host bits may be set ("10.0.0.1/8" is valid and kept as
// written).
//
// Any other input, including huge or invalid UTF-8 strings, returns the zero
// Range and a *[ParseError]; ParseRange never panics. It is O(1) and does not
// allocate on success; on failure it costs O(len(s)) and allocates the error.
// Safe for concurrent use.
func ParseRange(s string) (Range, error) {
	if a, i, ok := parseQuad(s); ok && i < len(s) && s[i] == '/' {
		if bits, ok := parseMask(s[i+1:]); ok {
			return Range{addr: a, bits: bits, valid: true}, nil
		}
	}
	return Range{}, classify(s, true)
}

// MustParseRange is like [ParseRange] (same cost, safe for concurrent use)
// but panics on error. It is meant for tests and for constants known to be
// valid.
func MustParseRange(s string) Range {
	r, err := ParseRange(s)
	if err != nil {
		panic(err)
	}
	return r
}

// RangeFrom returns the Range with address addr (as written: host bits are
// kept, see [Range.HasHostBits]) and mask length bits. It panics if bits is
// outside 0..32: mask lengths are not clamped. O(1), no allocation, safe for
// concurrent use.
func RangeFrom(addr uint32, bits int) Range {
	if bits < 0 || bits > 32 {
		panic("cidr: RangeFrom: mask length " + strconv.Itoa(bits) + " out of range (0-32)")
	}
	return Range{addr: addr, bits: uint8(bits), valid: true}
}

// IsValid reports whether r is a parsed or constructed range rather than the
// zero Range. O(1), no allocation, like every Range method but String.
func (r Range) IsValid() bool { return r.valid }

// Bits returns the mask length, 0..32, or -1 for the zero Range (like
// netip.Prefix.Bits). O(1).
func (r Range) Bits() int {
	if !r.valid {
		return -1
	}
	return int(r.bits)
}

// Addr returns the address as written, host bits kept: 10.0.0.1 for
// "10.0.0.1/8". It is 0 for the zero Range. O(1).
func (r Range) Addr() uint32 { return r.addr }

// mask returns the network mask of r (0 for /0).
// (Go defines a shift by 32 of a uint32 as 0.)
func (r Range) mask() uint32 { return ^uint32(0) << (32 - uint(r.bits)) }

// HasHostBits reports whether r was written with bits set outside its mask,
// like "10.0.0.1/8". It is false for the zero Range. O(1).
func (r Range) HasHostBits() bool { return r.valid && r.addr&^r.mask() != 0 }

// Masked returns r with its host bits cleared: "10.0.0.0/8" for "10.0.0.1/8".
// The zero Range gives the zero Range. O(1).
func (r Range) Masked() Range {
	r.addr &= r.mask()
	return r
}

// First returns the network address, the first address of the range (the
// masked address). It is 0 for the zero Range. O(1).
func (r Range) First() uint32 { return r.addr & r.mask() }

// Last returns the broadcast address, the last address of the range. It is 0
// for the zero Range. O(1).
func (r Range) Last() uint32 {
	if !r.valid {
		return 0
	}
	return r.addr | ^r.mask()
}

// Contains reports whether address a is in r's masked network. The zero Range
// contains no address. O(1), no allocation.
func (r Range) Contains(a uint32) bool { return r.valid && (a^r.addr)&r.mask() == 0 }

// Prefix returns r as a netip.Prefix, as written: netip.Prefix keeps host
// bits, so call Masked on the result (or use r.Masked().Prefix()) for the
// network. The zero Range gives the zero (invalid) netip.Prefix. O(1), no
// allocation.
func (r Range) Prefix() netip.Prefix {
	if !r.valid {
		return netip.Prefix{}
	}
	return netip.PrefixFrom(AddrToNetip(r.addr), int(r.bits))
}

// String returns r in canonical text as written, e.g. "10.0.0.1/8". For every
// s that [ParseRange] accepts, ParseRange(s) gives r with r.String() == s. The
// zero Range gives "invalid Range". It allocates the result.
func (r Range) String() string {
	if !r.valid {
		return "invalid Range"
	}
	var buf [MaxRangeLen]byte
	b := appendAddr(buf[:0], r.addr)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(r.bits), 10)
	return string(b)
}

// ParseAddr parses s as a request address (SEMANTICS A10): a dotted-quad
// IPv4 address with the octet rules of [ParseRange] (0..255, no leading
// zeros), no mask, no whitespace, at most 15 characters. Any other string
// returns 0 and a *[ParseError]; ParseAddr never panics.
//
// It is O(1) and does not allocate on success; on failure it costs
// O(len(s)) and allocates the error. Safe for concurrent use.
func ParseAddr(s string) (uint32, error) {
	if a, i, ok := parseQuad(s); ok && i == len(s) {
		return a, nil
	}
	return 0, classify(s, false)
}

// AddrFrom converts a netip.Addr to an IPv4 address (SEMANTICS A10): an
// IPv4-mapped IPv6 address (::ffff:a.b.c.d) is unmapped first. An address with
// a zone gives a *[ParseError] of kind [KindZone] (even when mapped), any other
// IPv6 address one of kind [KindIPv6], and the zero netip.Addr one of kind
// [KindEmpty].
//
// O(1); it does not allocate on success. Safe for concurrent use.
func AddrFrom(a netip.Addr) (uint32, error) {
	if a.Is4() {
		return from4(a), nil
	}
	return addrFromSlow(a)
}

func from4(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addrFromSlow(a netip.Addr) (uint32, error) {
	switch {
	case !a.IsValid():
		return 0, newError("", KindEmpty, "invalid (zero) netip.Addr")
	case a.Zone() != "":
		return 0, newError(a.String(), KindZone, "zone not allowed")
	case a.Is4In6():
		return from4(a.Unmap()), nil
	}
	return 0, newError(a.String(), KindIPv6, "IPv6 not supported")
}

// AddrString returns a in dotted-quad form, e.g. "192.0.2.1"; AddrString(0)
// is "0.0.0.0". O(1); it allocates the result. Safe for concurrent use.
func AddrString(a uint32) string {
	var buf [MaxAddrLen]byte
	return string(appendAddr(buf[:0], a))
}

// AddrToNetip returns a as an IPv4 netip.Addr (never IPv4-mapped IPv6).
// O(1), no allocation, safe for concurrent use.
func AddrToNetip(a uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
}

func appendAddr(b []byte, a uint32) []byte {
	b = strconv.AppendUint(b, uint64(a>>24), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(a>>16&0xff), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(a>>8&0xff), 10)
	b = append(b, '.')
	return strconv.AppendUint(b, uint64(a&0xff), 10)
}

// parseQuad parses a strict dotted quad (octets 0..255 without leading
// zeros) at the start of s. It returns the address and the number of bytes
// used. It does not check what follows.
func parseQuad(s string) (a uint32, n int, ok bool) {
	i := 0
	for k := 0; k < 4; k++ {
		if k > 0 {
			if i >= len(s) || s[i] != '.' {
				return 0, 0, false
			}
			i++
		}
		if i >= len(s) {
			return 0, 0, false
		}
		d := s[i] - '0'
		if d > 9 {
			return 0, 0, false
		}
		i++
		v := uint32(d)
		// A leading '0' is the whole octet: a digit after it fails on the
		// '.' (or end) check that follows.
		if d != 0 && i < len(s) {
			if d = s[i] - '0'; d <= 9 {
				v = v*10 + uint32(d)
				i++
				if i < len(s) {
					if d = s[i] - '0'; d <= 9 {
						v = v*10 + uint32(d)
						i++
						if v > 255 {
							return 0, 0, false
						}
					}
				}
			}
		}
		a = a<<8 | v
	}
	return a, i, true
}

// parseMask parses the whole of m as a strict mask length 0..32.
func parseMask(m string) (uint8, bool) {
	switch len(m) {
	case 1:
		if d := m[0] - '0'; d <= 9 {
			return d, true
		}
	case 2:
		d0, d1 := m[0]-'0', m[1]-'0'
		if d0 >= 1 && d0 <= 3 && d1 <= 9 {
			if v := d0*10 + d1; v <= 32 {
				return v, true
			}
		}
	}
	return 0, false
}

// classify explains why s is not a valid range (wantMask) or address. It is
// called only after the fast parser has rejected s, and always returns an
// error. The order of the checks is the one documented on the Kind
// constants.
func classify(s string, wantMask bool) *ParseError {
	if s == "" {
		return newError(s, KindEmpty, "empty")
	}
	var pct, colon bool
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case ' ', '\t', '\n', '\v', '\f', '\r':
				return newError(s, KindWhitespace, "whitespace not allowed")
			case '%':
				pct = true
			case ':':
				colon = true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			return newError(s, KindWhitespace, "whitespace not allowed")
		}
		i += size
	}
	if pct {
		return newError(s, KindZone, "zone not allowed")
	}
	if colon {
		return ipv6Error(s)
	}
	maxLen, long := MaxRangeLen, s
	if !wantMask {
		// Only the part before a mask counts, so that a valid range given
		// as an address is reported as such.
		maxLen = MaxAddrLen
		if i := strings.IndexByte(s, '/'); i >= 0 {
			long = s[:i]
		}
	}
	if len(long) > maxLen {
		// Count characters, not bytes, so that e.g. full-width digits get
		// the more helpful syntax error below.
		if n := utf8.RuneCountInString(long); n > maxLen {
			return newError(s, KindTooLong, "too long ("+strconv.Itoa(n)+" > "+strconv.Itoa(maxLen)+" characters)")
		}
	}

	i := 0
	for k := 1; k <= 4; k++ {
		if k > 1 {
			if i >= len(s) || s[i] == '/' {
				return newError(s, KindSyntax, "too few octets ("+strconv.Itoa(k-1)+", want 4)")
			}
			if s[i] != '.' {
				return badChar(s, i)
			}
			i++
		}
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		oct := strconv.Itoa(k)
		if i == start {
			if i >= len(s) || s[i] == '.' || s[i] == '/' {
				return newError(s, KindSyntax, "octet "+oct+" is empty")
			}
			return badChar(s, i)
		}
		digits := s[start:i]
		if len(digits) > 1 && digits[0] == '0' {
			return newError(s, KindLeadingZero, "leading zero in octet "+oct)
		}
		if len(digits) > 3 || digits > "255" && len(digits) == 3 {
			return newError(s, KindOctetRange, "octet "+oct+" out of range ("+digits+" > 255)")
		}
	}
	if i == len(s) {
		if wantMask {
			return newError(s, KindMaskRequired, "mask required")
		}
		return newError(s, KindSyntax, "invalid address") // not reached
	}
	switch s[i] {
	case '/':
		if !wantMask {
			return newError(s, KindMaskNotAllowed, "mask not allowed in an address")
		}
	case '.':
		return newError(s, KindSyntax, "too many octets (want 4)")
	default:
		return badChar(s, i)
	}
	i++
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	digits := s[start:i]
	switch {
	case digits == "":
		if i >= len(s) {
			return newError(s, KindMaskRequired, "mask required (nothing after '/')")
		}
		return badChar(s, i)
	case len(digits) > 1 && digits[0] == '0':
		return newError(s, KindLeadingZero, "leading zero in mask")
	case len(digits) > 2 || digits > "32" && len(digits) == 2:
		return newError(s, KindMaskRange, "mask /"+digits+" out of range (0-32)")
	case i < len(s):
		return badChar(s, i)
	}
	return newError(s, KindSyntax, "invalid range") // not reached
}

func isDigit(c byte) bool { return c-'0' <= 9 }

// badChar reports the unexpected character at byte offset i of s.
func badChar(s string, i int) *ParseError {
	r, size := utf8.DecodeRuneInString(s[i:])
	at := " at offset " + strconv.Itoa(i)
	if r == utf8.RuneError && size <= 1 {
		return newError(s, KindSyntax, "invalid UTF-8 byte 0x"+strconv.FormatUint(uint64(s[i]), 16)+at)
	}
	return newError(s, KindSyntax, "unexpected character "+strconv.QuoteRune(r)+at)
}

// ipv6Error classifies an input that contains ':'.
func ipv6Error(s string) *ParseError {
	a := s
	if i := strings.LastIndexByte(a, '/'); i >= 0 {
		a = a[:i]
	}
	if ip, err := netip.ParseAddr(a); err == nil && ip.Is4In6() {
		return newError(s, KindMappedIPv6, "4-in-6 (IPv4-mapped IPv6) not supported")
	}
	return newError(s, KindIPv6, "IPv6 not supported")
}
