package cidr

import (
	"errors"
	"math"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"
)

func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// checkParseError checks the invariants of every error the parsers return.
func checkParseError(t tb, in string, err error) *ParseError {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("%q: error %v (%T) is not a *ParseError", short(in), err, err)
	}
	if pe.Input != in {
		t.Errorf("%q: ParseError.Input = %q", short(in), short(pe.Input))
	}
	if pe.Kind == 0 || strings.HasPrefix(pe.Kind.String(), "Kind(") {
		t.Errorf("%q: bad Kind %d", short(in), pe.Kind)
	}
	msg := pe.Error()
	if !strings.HasPrefix(msg, "cidr: ") || !strings.HasSuffix(msg, ": "+pe.Msg) || pe.Msg == "" {
		t.Errorf("%q: bad message %q", short(in), msg)
	}
	if len(msg) > 4*maxQuoted+200 {
		t.Errorf("%q: message too long (%d bytes)", short(in), len(msg))
	}
	return pe
}

// TestSemanticsA9_RangeSyntax checks ParseRange on the nasty cases of
// rangeCases: the result, the error kind, and the reference regexp.
func TestSemanticsA9_RangeSyntax(t *testing.T) {
	for _, c := range rangeCases {
		r, err := ParseRange(c.in)
		wantAddr, wantBits, refOK := refParseRange(c.in)
		if refOK != (c.kind == kindOK) {
			t.Fatalf("%q: test case disagrees with the reference regexp (ref ok=%v)", short(c.in), refOK)
		}
		if c.kind == kindOK {
			if err != nil {
				t.Errorf("ParseRange(%q): unexpected error %v", c.in, err)
				continue
			}
			if !r.IsValid() || r.Addr() != wantAddr || r.Bits() != wantBits {
				t.Errorf("ParseRange(%q) = %v (addr %#x bits %d), want addr %#x bits %d", c.in, r, r.Addr(), r.Bits(), wantAddr, wantBits)
			}
			if s := r.String(); s != c.in {
				t.Errorf("ParseRange(%q).String() = %q: no round trip", c.in, s)
			}
			continue
		}
		if err == nil {
			t.Errorf("ParseRange(%q) = %v, want a %v error", short(c.in), r, c.kind)
			continue
		}
		if r != (Range{}) {
			t.Errorf("ParseRange(%q) returned %v with its error, want the zero Range", short(c.in), r)
		}
		pe := checkParseError(t, c.in, err)
		if pe.Kind != c.kind {
			t.Errorf("ParseRange(%q): kind %v (%v), want %v", short(c.in), pe.Kind, err, c.kind)
		}
	}
}

// TestSemanticsA10_AddressSyntax checks ParseAddr on the nasty cases of
// addrCases (and the addresses of the range cases).
func TestSemanticsA10_AddressSyntax(t *testing.T) {
	for _, c := range addrCases {
		a, err := ParseAddr(c.in)
		want, refOK := refParseAddr(c.in)
		if refOK != (c.kind == kindOK) {
			t.Fatalf("%q: test case disagrees with the reference regexp", short(c.in))
		}
		if c.kind == kindOK {
			if err != nil || a != want {
				t.Errorf("ParseAddr(%q) = %#x, %v; want %#x", c.in, a, err, want)
			}
			if s := AddrString(a); s != c.in {
				t.Errorf("AddrString(ParseAddr(%q)) = %q", c.in, s)
			}
			continue
		}
		if err == nil {
			t.Errorf("ParseAddr(%q) = %#x, want a %v error", short(c.in), a, c.kind)
			continue
		}
		if a != 0 {
			t.Errorf("ParseAddr(%q) returned %#x with its error", short(c.in), a)
		}
		if pe := checkParseError(t, c.in, err); pe.Kind != c.kind {
			t.Errorf("ParseAddr(%q): kind %v (%v), want %v", short(c.in), pe.Kind, err, c.kind)
		}
	}
	// SEMANTICS A10: the address part of every valid range is a valid
	// address, and the range itself is not (mask not allowed).
	for _, c := range rangeCases {
		if c.kind != kindOK {
			continue
		}
		q, _, _ := strings.Cut(c.in, "/")
		if _, err := ParseAddr(q); err != nil {
			t.Errorf("ParseAddr(%q): %v", q, err)
		}
		_, err := ParseAddr(c.in)
		if pe := checkParseError(t, c.in, err); pe.Kind != KindMaskNotAllowed {
			t.Errorf("ParseAddr(%q): kind %v, want %v", c.in, pe.Kind, KindMaskNotAllowed)
		}
	}
}

// TestSemanticsA9_ErrorMessages pins the wording of the errors.
func TestSemanticsA9_ErrorMessages(t *testing.T) {
	tests := []struct {
		in, want string
		addr     bool
	}{
		{in: "010.0.0.0/8", want: `cidr: "010.0.0.0/8": leading zero in octet 1`},                               // SEMANTICS A9: leading zero
		{in: "10.0.0.0/08", want: `cidr: "10.0.0.0/08": leading zero in mask`},                                  // SEMANTICS A9: leading zero in mask
		{in: "10.0.0.0", want: `cidr: "10.0.0.0": mask required`},                                               // SEMANTICS A9: mask required
		{in: "::1/128", want: `cidr: "::1/128": IPv6 not supported`},                                            // SEMANTICS A9: no IPv6
		{in: "1.256.0.0/16", want: `cidr: "1.256.0.0/16": octet 2 out of range (256 > 255)`},                    // SEMANTICS A9: octet <= 255
		{in: "10.0.0.0/33", want: `cidr: "10.0.0.0/33": mask /33 out of range (0-32)`},                          // SEMANTICS A9: mask 0-32
		{in: " 10.0.0.0/8", want: `cidr: " 10.0.0.0/8": whitespace not allowed`},                                // SEMANTICS A9: no whitespace
		{in: "1111111111111111111", want: `cidr: "1111111111111111111": too long (19 > 18 characters)`},         // SEMANTICS A9: max 18
		{in: "1.2.3.4%eth0", want: `cidr: "1.2.3.4%eth0": zone not allowed`},                                    // SEMANTICS A9: no zone
		{in: "", want: `cidr: "": empty`},                                                                       // SEMANTICS A9: empty
		{in: "::ffff:1.2.3.4/104", want: `cidr: "::ffff:1.2.3.4/104": 4-in-6 (IPv4-mapped IPv6) not supported`}, // SEMANTICS A9: no 4-in-6
		{in: "1.2.3/8", want: `cidr: "1.2.3/8": too few octets (3, want 4)`},                                    // SEMANTICS A9: 4 octets
		{in: "1.2.3.4.5/8", want: `cidr: "1.2.3.4.5/8": too many octets (want 4)`},                              // SEMANTICS A9: 4 octets
		{in: "+1.2.3.4/8", want: `cidr: "+1.2.3.4/8": unexpected character '+' at offset 0`},                    // SEMANTICS A9: digits only
		{in: "1.2.3.4/8\xff", want: `cidr: "1.2.3.4/8\xff": invalid UTF-8 byte 0xff at offset 9`},               // SEMANTICS A9: invalid UTF-8
		{in: "１.２.３.４/８", want: `cidr: "１.２.３.４/８": unexpected character '１' at offset 0`},                      // SEMANTICS A9: ASCII digits
		{in: "1.2.3.4/8", want: `cidr: "1.2.3.4/8": mask not allowed in an address`, addr: true},                // SEMANTICS A10: no mask
		{in: "1.2.3.4.", want: `cidr: "1.2.3.4.": too many octets (want 4)`, addr: true},                        // SEMANTICS A10: 4 octets
		{in: "255.255.255.2555", want: `cidr: "255.255.255.2555": too long (16 > 15 characters)`, addr: true},   // SEMANTICS A10: max 15
	}
	for _, tt := range tests {
		var err error
		if tt.addr {
			_, err = ParseAddr(tt.in)
		} else {
			_, err = ParseRange(tt.in)
		}
		if err == nil || err.Error() != tt.want {
			t.Errorf("parse %q: error %v, want %s", tt.in, err, tt.want)
		}
	}

	// Huge inputs: the message shows a bounded prefix.
	_, err := ParseRange(huge)
	want := `cidr: "` + strings.Repeat("1", maxQuoted) + `"...: too long (1048576 > 18 characters)`
	if err == nil || err.Error() != want {
		t.Errorf("huge input: error %v, want %s", err, want)
	}
	// ... cut at a character boundary.
	in := strings.Repeat("é", 100)
	_, err = ParseRange(in)
	want = `cidr: "` + strings.Repeat("é", maxQuoted/2) + `"...: too long (100 > 18 characters)`
	if err == nil || err.Error() != want {
		t.Errorf("long UTF-8 input: error %v, want %s", err, want)
	}
}

func TestKindString(t *testing.T) {
	seen := map[string]bool{}
	for k := KindSyntax; k <= KindZone; k++ {
		s := k.String()
		if s == "" || strings.HasPrefix(s, "Kind(") || seen[s] {
			t.Errorf("Kind(%d).String() = %q", k, s)
		}
		seen[s] = true
	}
	if s := Kind(0).String(); s != "Kind(0)" {
		t.Errorf("Kind(0).String() = %q", s)
	}
	if s := Kind(200).String(); s != "Kind(200)" {
		t.Errorf("Kind(200).String() = %q", s)
	}
}

// TestSemanticsA9_HostBitsMatchMaskedNetwork: a range written with host bits
// matches as its masked network and keeps its text.
func TestSemanticsA9_HostBitsMatchMaskedNetwork(t *testing.T) {
	r := MustParseRange("10.0.0.1/8")
	if !r.HasHostBits() {
		t.Error("10.0.0.1/8: HasHostBits() = false")
	}
	if got := r.String(); got != "10.0.0.1/8" {
		t.Errorf("String() = %q, want as written", got)
	}
	if got := r.Addr(); got != 0x0a000001 {
		t.Errorf("Addr() = %#x, want as written", got)
	}
	if got, want := r.Prefix(), netip.MustParsePrefix("10.0.0.1/8"); got != want {
		t.Errorf("Prefix() = %v, want %v", got, want)
	}
	m := r.Masked()
	if m != MustParseRange("10.0.0.0/8") || m.HasHostBits() || m.String() != "10.0.0.0/8" {
		t.Errorf("Masked() = %v", m)
	}
	if m.Masked() != m {
		t.Error("Masked is not idempotent")
	}
	if r == m {
		t.Error("a range with host bits compares equal to its masked network")
	}
	if r.First() != 0x0a000000 || r.Last() != 0x0affffff {
		t.Errorf("First, Last = %#x, %#x", r.First(), r.Last())
	}
	for _, a := range []uint32{0x0a000000, 0x0a000001, 0x0affffff, 0x0a123456} {
		if !r.Contains(a) {
			t.Errorf("10.0.0.1/8 does not contain %s", AddrString(a))
		}
	}
	for _, a := range []uint32{0x09ffffff, 0x0b000000, 0, math.MaxUint32} {
		if r.Contains(a) {
			t.Errorf("10.0.0.1/8 contains %s", AddrString(a))
		}
	}

	// The table matches it as its network too.
	tab := Build([]Range{r, MustParseRange("10.0.0.0/8"), MustParseRange("10.255.255.255/32")})
	if got := tab.Lookup(0x0a000000); !equalIDs(got, []int32{0, 1}) {
		t.Errorf("Lookup(10.0.0.0) = %v, want [0 1]", got)
	}
	if got := tab.Lookup(0x0affffff); !equalIDs(got, []int32{0, 1, 2}) {
		t.Errorf("Lookup(10.255.255.255) = %v, want [0 1 2]", got)
	}
	if got := tab.Lookup(0x0b000000); len(got) != 0 {
		t.Errorf("Lookup(11.0.0.0) = %v, want []", got)
	}

	// Exhaustively over masks: host bits never change what a range matches.
	rng := rand.New(rand.NewPCG(1, 2))
	for bits := 0; bits <= 32; bits++ {
		for range 50 {
			a := rng.Uint32()
			r := RangeFrom(a, bits)
			p := netip.PrefixFrom(AddrToNetip(a), bits)
			if r.Prefix() != p || r.Masked().Prefix() != p.Masked() {
				t.Fatalf("%v: Prefix %v, Masked %v", r, r.Prefix(), r.Masked().Prefix())
			}
			if r.HasHostBits() != (p != p.Masked()) {
				t.Fatalf("%v: HasHostBits = %v", r, r.HasHostBits())
			}
			for _, x := range []uint32{a, r.First(), r.Last(), r.First() - 1, r.Last() + 1, rng.Uint32()} {
				if got, want := r.Contains(x), p.Masked().Contains(AddrToNetip(x)); got != want {
					t.Fatalf("%v.Contains(%s) = %v, want %v", r, AddrString(x), got, want)
				}
			}
			if back, err := ParseRange(r.String()); err != nil || back != r {
				t.Fatalf("ParseRange(%q) = %v, %v", r.String(), back, err)
			}
		}
	}
}

func TestRangeZeroValue(t *testing.T) {
	var r Range
	if r.IsValid() || r.Bits() != -1 || r.Addr() != 0 || r.HasHostBits() ||
		r.Masked() != r || r.First() != 0 || r.Last() != 0 || r.Prefix().IsValid() ||
		r.String() != "invalid Range" {
		t.Errorf("zero Range misbehaves: %+v", r)
	}
	for _, a := range []uint32{0, 1, math.MaxUint32} {
		if r.Contains(a) {
			t.Errorf("zero Range contains %s", AddrString(a))
		}
	}
}

func TestRangeFrom(t *testing.T) {
	if r := RangeFrom(0, 0); r != MustParseRange("0.0.0.0/0") || r.First() != 0 || r.Last() != math.MaxUint32 || !r.Contains(math.MaxUint32) {
		t.Errorf("RangeFrom(0, 0) = %v", r)
	}
	if r := RangeFrom(math.MaxUint32, 32); r.String() != "255.255.255.255/32" || r.First() != math.MaxUint32 || r.Last() != math.MaxUint32 || r.Contains(math.MaxUint32-1) {
		t.Errorf("RangeFrom(max, 32) = %v", r)
	}
	for _, bits := range []int{-1, 33, 1000, math.MinInt} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RangeFrom(0, %d) did not panic", bits)
				}
			}()
			RangeFrom(0, bits)
		}()
	}
	defer func() {
		if recover() == nil {
			t.Error("MustParseRange did not panic")
		}
	}()
	MustParseRange("10.0.0.0")
}

// TestSemanticsA10_NetipUnmap: a netip.Addr that is IPv4-mapped IPv6 is
// unmapped; real IPv6, zones and the zero Addr are errors.
func TestSemanticsA10_NetipUnmap(t *testing.T) {
	tests := []struct {
		in   netip.Addr
		want uint32
		kind Kind
	}{
		{netip.MustParseAddr("192.0.2.1"), 0xc0000201, kindOK},                         // SEMANTICS A10: IPv4
		{netip.MustParseAddr("0.0.0.0"), 0, kindOK},                                    // SEMANTICS A10: IPv4
		{netip.MustParseAddr("255.255.255.255"), math.MaxUint32, kindOK},               // SEMANTICS A10: IPv4
		{netip.MustParseAddr("::ffff:192.0.2.1"), 0xc0000201, kindOK},                  // SEMANTICS A10: 4-in-6 is unmapped first
		{netip.MustParseAddr("::ffff:0.0.0.0"), 0, kindOK},                             // SEMANTICS A10: 4-in-6 is unmapped first
		{netip.AddrFrom16(netip.MustParseAddr("10.1.2.3").As16()), 0x0a010203, kindOK}, // SEMANTICS A10: 4-in-6 is unmapped first
		{netip.MustParseAddr("::1"), 0, KindIPv6},                                      // SEMANTICS A10: real IPv6
		{netip.MustParseAddr("2001:db8::1"), 0, KindIPv6},                              // SEMANTICS A10: real IPv6
		{netip.MustParseAddr("::"), 0, KindIPv6},                                       // SEMANTICS A10: real IPv6
		{netip.MustParseAddr("::1.2.3.4"), 0, KindIPv6},                                // SEMANTICS A10: IPv4-compatible is not mapped
		{netip.MustParseAddr("fe80::1%eth0"), 0, KindZone},                             // SEMANTICS A10: zone
		{netip.MustParseAddr("::ffff:1.2.3.4%eth0"), 0, KindZone},                      // SEMANTICS A10: zone, even if mapped
		{netip.Addr{}, 0, KindEmpty},                                                   // SEMANTICS A10: zero Addr
	}
	for _, tt := range tests {
		got, err := AddrFrom(tt.in)
		if tt.kind == kindOK {
			if err != nil || got != tt.want {
				t.Errorf("AddrFrom(%v) = %#x, %v; want %#x", tt.in, got, err, tt.want)
			}
			if back := AddrToNetip(got); back != tt.in.Unmap() {
				t.Errorf("AddrToNetip(%#x) = %v, want %v", got, back, tt.in.Unmap())
			}
			continue
		}
		if err == nil {
			t.Errorf("AddrFrom(%v) = %#x, want a %v error", tt.in, got, tt.kind)
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Kind != tt.kind || got != 0 {
			t.Errorf("AddrFrom(%v) = %#x, %v; want kind %v", tt.in, got, err, tt.kind)
		}
	}
}

// TestSemanticsA9_DifferentialRegexp checks ParseRange against the A9
// reference regexp on the seed lists, every one-byte mutation of them over a
// small alphabet, and many random strings.
func TestSemanticsA9_DifferentialRegexp(t *testing.T) {
	for _, s := range differentialInputs() {
		checkRangeAgainstRef(t, s)
	}
}

// TestSemanticsA10_DifferentialRegexp checks ParseAddr against the A10
// reference on the same inputs.
func TestSemanticsA10_DifferentialRegexp(t *testing.T) {
	for _, s := range differentialInputs() {
		checkAddrAgainstRef(t, s)
	}
}

var differentialInputs = sync.OnceValue(func() []string {
	const alphabet = "0123456789./: %\tx\xff"
	var inputs []string
	for _, c := range append(append([]parseCase{}, rangeCases...), addrCases...) {
		if len(c.in) > 64 {
			continue
		}
		inputs = append(inputs, c.in)
		for i := 0; i <= len(c.in); i++ {
			for j := 0; j < len(alphabet); j++ {
				inputs = append(inputs,
					c.in[:i]+alphabet[j:j+1]+c.in[i:], // insert
				)
				if i < len(c.in) {
					inputs = append(inputs, c.in[:i]+alphabet[j:j+1]+c.in[i+1:]) // replace
				}
			}
			if i < len(c.in) {
				inputs = append(inputs, c.in[:i]+c.in[i+1:]) // delete
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const digitsHeavy = "0123456789012345678901234567890123456789......///"
	for range 20_000 {
		n := rng.IntN(21)
		b := make([]byte, n)
		for i := range b {
			b[i] = digitsHeavy[rng.IntN(len(digitsHeavy))]
		}
		inputs = append(inputs, string(b))
	}
	for bits := 0; bits <= 40; bits++ {
		inputs = append(inputs, "10.0.0.0/"+itoa(bits), "10.0.0.0/0"+itoa(bits))
	}
	for o := 0; o <= 1000; o++ {
		inputs = append(inputs, "1."+itoa(o)+".0.0/16", itoa(o)+".0.0.0", "0"+itoa(o)+".1.1.1")
	}

	return inputs
})

func itoa(i int) string { return strconv.Itoa(i) }

func isSpaceRune(r rune) bool { return unicode.IsSpace(r) }

// checkRangeAgainstRef is the differential property of ParseRange (shared
// by the tests and FuzzParseRange).
func checkRangeAgainstRef(t tb, s string) {
	t.Helper()
	r, err := ParseRange(s)
	addr, bits, ok := refParseRange(s)
	if ok != (err == nil) {
		t.Fatalf("ParseRange(%q): err = %v, but the A9 reference says ok=%v", short(s), err, ok)
	}
	if err != nil {
		if r != (Range{}) {
			t.Fatalf("ParseRange(%q) returned %v with an error", short(s), r)
		}
		pe := checkParseError(t, s, err)
		checkKindPriority(t, s, pe, MaxRangeLen)
		return
	}
	if r.Addr() != addr || r.Bits() != bits || !r.IsValid() {
		t.Fatalf("ParseRange(%q) = %v, want addr %#x bits %d", s, r, addr, bits)
	}
	if r.String() != s {
		t.Fatalf("ParseRange(%q).String() = %q", s, r.String())
	}
	if p, err := netip.ParsePrefix(s); err != nil || p != r.Prefix() {
		t.Fatalf("ParseRange(%q).Prefix() = %v, netip says %v, %v", s, r.Prefix(), p, err)
	}
}

// checkAddrAgainstRef is the differential property of ParseAddr.
func checkAddrAgainstRef(t tb, s string) {
	t.Helper()
	a, err := ParseAddr(s)
	want, ok := refParseAddr(s)
	if ok != (err == nil) {
		t.Fatalf("ParseAddr(%q): err = %v, but the A10 reference says ok=%v", short(s), err, ok)
	}
	if err != nil {
		if a != 0 {
			t.Fatalf("ParseAddr(%q) returned %#x with an error", short(s), a)
		}
		pe := checkParseError(t, s, err)
		checkKindPriority(t, s, pe, MaxAddrLen)
		return
	}
	if a != want || AddrString(a) != s {
		t.Fatalf("ParseAddr(%q) = %#x (%s), want %#x", s, a, AddrString(a), want)
	}
	if n, err := netip.ParseAddr(s); err != nil || AddrToNetip(a) != n {
		t.Fatalf("ParseAddr(%q) = %s, netip says %v, %v", s, AddrString(a), n, err)
	}
}

// checkKindPriority checks the documented order of the first error kinds.
func checkKindPriority(t tb, s string, pe *ParseError, maxLen int) {
	t.Helper()
	var want Kind
	switch {
	case s == "":
		want = KindEmpty
	case strings.IndexFunc(s, isSpaceRune) >= 0:
		want = KindWhitespace
	case strings.Contains(s, "%"):
		want = KindZone
	case strings.Contains(s, ":"):
		if pe.Kind != KindIPv6 && pe.Kind != KindMappedIPv6 {
			t.Fatalf("%q: kind %v, want IPv6 or mapped IPv6", short(s), pe.Kind)
		}
		return
	case utf8.RuneCountInString(beforeMask(s, maxLen)) > maxLen:
		want = KindTooLong
	default:
		switch pe.Kind {
		case KindEmpty, KindWhitespace, KindZone, KindIPv6, KindMappedIPv6, KindTooLong:
			t.Fatalf("%q: kind %v", short(s), pe.Kind)
		}
		return
	}
	if pe.Kind != want {
		t.Fatalf("%q: kind %v, want %v", short(s), pe.Kind, want)
	}
}

// beforeMask returns the part of s whose length counts: all of a range, the
// part of an address before any '/'.
func beforeMask(s string, maxLen int) string {
	if maxLen == MaxAddrLen {
		s, _, _ = strings.Cut(s, "/")
	}
	return s
}

// TestParseOctetGrid runs ParseRange and ParseAddr against the A9/A10
// references on every dotted quad of tricky octet spellings (one, two, three
// and four digits, leading zeros, 255/256, empty, non-digits, NUL) followed
// by every tricky mask spelling, so that every combination of octet lengths
// meets every way a quad and a mask can go wrong.
func TestParseOctetGrid(t *testing.T) {
	octets := []string{"", "0", "00", "01", "1", "9", "10", "99", "100", "199", "200", "249", "250", "255", "256", "260", "300", "999", "1000", "0255", "a", "1a", "\x00", " 1", "+1"}
	masks := []string{"", "/", "/0", "/00", "/01", "/1", "/9", "/10", "/19", "/29", "/32", "/33", "/40", "/99", "/100", "/032", "/3a", "/a", "/\x00", "//1", "/1 ", "."}
	n := 0
	for _, o0 := range octets {
		for _, o1 := range []string{"0", "255", "01", "1000", "a"} {
			for _, o2 := range []string{"", "1", "99", "256"} {
				for _, o3 := range octets {
					q := o0 + "." + o1 + "." + o2 + "." + o3
					checkAddrAgainstRef(t, q)
					for _, m := range masks {
						checkRangeAgainstRef(t, q+m)
						n++
					}
				}
			}
		}
	}
	if testing.Verbose() {
		t.Logf("%d ranges", n)
	}
}
