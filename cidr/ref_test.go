package cidr

import (
	"regexp"
	"strconv"
	"strings"
)

// Reference implementations of SEMANTICS A9 and A10, written straight from
// the contract's pattern, used to check the hand-written parsers
// differentially (in the table tests and under fuzzing).

// refRangeRE is the SEMANTICS A9 pattern, anchored for a full match.
var refRangeRE = regexp.MustCompile(`^(?:(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}/(0|[1-9]|[12][0-9]|3[0-2]))$`)

// refAddrRE is the SEMANTICS A10 pattern: the A9 address part, no mask.
var refAddrRE = regexp.MustCompile(`^(?:(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3})$`)

// refQuad checks the octets of a string the regexp accepted (octet <= 255)
// and returns the address.
func refQuad(s string) (uint32, bool) {
	var a uint32
	for _, o := range strings.Split(s, ".") {
		v, err := strconv.Atoi(o)
		if err != nil || v > 255 {
			return 0, false
		}
		a = a<<8 | uint32(v)
	}
	return a, true
}

// refParseRange is the reference for ParseRange: ok iff s matches SEMANTICS
// A9 (pattern plus octets <= 255).
func refParseRange(s string) (addr uint32, bits int, ok bool) {
	if !refRangeRE.MatchString(s) {
		return 0, 0, false
	}
	q, m, _ := strings.Cut(s, "/")
	addr, ok = refQuad(q)
	if !ok {
		return 0, 0, false
	}
	bits, _ = strconv.Atoi(m)
	return addr, bits, true
}

// refParseAddr is the reference for ParseAddr (SEMANTICS A10).
func refParseAddr(s string) (uint32, bool) {
	if !refAddrRE.MatchString(s) {
		return 0, false
	}
	return refQuad(s)
}

// kindOK is the zero Kind: the case must parse.
const kindOK Kind = 0

type parseCase struct {
	in   string
	kind Kind // kindOK for valid input
}

var huge = strings.Repeat("1", 1<<20)

// rangeCases are the nasty cases for ParseRange. They also seed the fuzzers.
var rangeCases = []parseCase{
	// SEMANTICS A9: valid ranges, including the extremes.
	{"0.0.0.0/0", kindOK},
	{"255.255.255.255/32", kindOK},
	{"192.0.2.0/24", kindOK},
	{"10.0.0.0/8", kindOK},
	{"1.2.3.4/32", kindOK},
	{"0.0.0.0/32", kindOK},
	{"100.64.0.0/10", kindOK},
	{"172.16.0.0/12", kindOK},
	{"9.99.199.250/19", kindOK},
	{"255.0.0.0/1", kindOK},
	// SEMANTICS A9: host bits may be set; the text is kept as written.
	{"10.0.0.1/8", kindOK},
	{"255.255.255.255/0", kindOK},
	{"192.0.2.77/24", kindOK},

	// SEMANTICS A9: empty.
	{"", KindEmpty},
	// SEMANTICS A9: leading zero in an octet.
	{"010.0.0.0/8", KindLeadingZero},
	{"10.00.0.0/8", KindLeadingZero},
	{"10.0.0.01/8", KindLeadingZero},
	{"00.0.0.0/0", KindLeadingZero},
	{"0256.0.0.0/8", KindLeadingZero},
	// SEMANTICS A9: leading zero in the mask.
	{"10.0.0.0/08", KindLeadingZero},
	{"0.0.0.0/00", KindLeadingZero},
	{"1.2.3.4/032", KindLeadingZero},
	// SEMANTICS A9: mask out of range.
	{"10.0.0.0/33", KindMaskRange},
	{"10.0.0.0/40", KindMaskRange},
	{"10.0.0.0/100", KindMaskRange},
	{"10.0.0.0/99999", KindMaskRange},
	// SEMANTICS A9: mask required.
	{"10.0.0.0", KindMaskRequired},
	{"10.0.0.0/", KindMaskRequired},
	{"255.255.255.255", KindMaskRequired},
	// SEMANTICS A9: octet > 255.
	{"256.0.0.0/8", KindOctetRange},
	{"1.256.0.0/16", KindOctetRange},
	{"1.2.3.999/32", KindOctetRange},
	{"1.2.3.1000/8", KindOctetRange},
	{"1111.2.3.4/8", KindOctetRange},
	// SEMANTICS A9: no whitespace: leading, trailing, inner, tabs, newlines,
	// Unicode spaces.
	{" 10.0.0.0/8", KindWhitespace},
	{"10.0.0.0/8 ", KindWhitespace},
	{"10.0.0.0 /8", KindWhitespace},
	{"1.2.3.4/ 8", KindWhitespace},
	{"1.2. 3.4/8", KindWhitespace},
	{"\t10.0.0.0/8", KindWhitespace},
	{"10.0.0.0/8\n", KindWhitespace},
	{"10.0.0.0/8\r\n", KindWhitespace},
	{"10.0.0.0/8\v", KindWhitespace},
	{"10.0.0.0/8\f", KindWhitespace},
	{"10.0.0.0/8\u00a0", KindWhitespace},
	{"\u300010.0.0.0/8", KindWhitespace},
	{"10.0.0.0/8\u2028", KindWhitespace},
	{" ", KindWhitespace},
	{strings.Repeat(" ", 100), KindWhitespace},
	// SEMANTICS A9: no IPv6.
	{"::1/128", KindIPv6},
	{"2001:db8::/32", KindIPv6},
	{"::/0", KindIPv6},
	{"fe80::1/64", KindIPv6},
	{"2001:0db8:85a3:0000:0000:8a2e:0370:7334/128", KindIPv6},
	{"1.2.3.4:80/8", KindIPv6},
	{":", KindIPv6},
	// SEMANTICS A9: no 4-in-6.
	{"::ffff:1.2.3.4/104", KindMappedIPv6},
	{"::FFFF:1.2.3.4/128", KindMappedIPv6},
	{"::ffff:0102:0304/120", KindMappedIPv6},
	{"0:0:0:0:0:ffff:1.2.3.4/104", KindMappedIPv6},
	{"::ffff:1.2.3.4", KindMappedIPv6},
	// SEMANTICS A9: no zones.
	{"1.2.3.4%eth0", KindZone},
	{"1.2.3.4/8%eth0", KindZone},
	{"fe80::1%eth0/64", KindZone},
	{"%", KindZone},
	// SEMANTICS A9: at most 18 characters.
	{"255.255.255.255/320", KindTooLong},
	{"1.1.1.1/8" + strings.Repeat("0", 10), KindTooLong},
	{strings.Repeat("1.", 10) + "/8", KindTooLong},
	{huge, KindTooLong},
	{strings.Repeat("\xff", 100), KindTooLong},
	// SEMANTICS A9: wrong number of octets.
	{"1.2.3/8", KindSyntax},
	{"1.2/8", KindSyntax},
	{"1/8", KindSyntax},
	{"10/8", KindSyntax},
	{"1.2.3.4.5/8", KindSyntax},
	{"1.2.3.4./8", KindSyntax},
	{"1.2.3./8", KindSyntax},
	{"1..2.3/8", KindSyntax},
	{".1.2.3.4/8", KindSyntax},
	{"1.2.3.4", KindMaskRequired},
	// SEMANTICS A9: only digits, dots and one slash.
	{"+1.2.3.4/8", KindSyntax},
	{"-1.2.3.4/8", KindSyntax},
	{"1.2.3.4/+8", KindSyntax},
	{"1.2.3.4/-0", KindSyntax},
	{"0x1.2.3.4/8", KindSyntax},
	{"1e1.0.0.0/8", KindSyntax},
	{"a.b.c.d/8", KindSyntax},
	{"1.2.3.4/8a", KindSyntax},
	{"1.2.3.4/8/8", KindSyntax},
	{"1.2.3.4//8", KindSyntax},
	{"1.2.3.4/8.", KindSyntax},
	{"1.2.3.4/8,", KindSyntax},
	{"1.2.3.4\\8", KindSyntax},
	{"1.2.3.4\x00/8", KindSyntax},
	{"/8", KindSyntax},
	{"/", KindSyntax},
	{".", KindSyntax},
	// SEMANTICS A9: ASCII digits only (full-width, Arabic-Indic).
	{"１.２.３.４/８", KindSyntax},
	{"１０.０.０.０/８", KindSyntax},
	{"1.2.3.4/３２", KindSyntax},
	{"١.٢.٣.٤/٨", KindSyntax},
	// SEMANTICS A9: invalid UTF-8 is an error, not a panic.
	{"\xff1.2.3.4/8", KindSyntax},
	{"1.2.3.4/8\xff", KindSyntax},
	{"1.2.3\xc0.4/8", KindSyntax},
	{"\xed\xa0\x80", KindSyntax},
}

// addrCases are the nasty cases for ParseAddr. They also seed the fuzzers.
var addrCases = []parseCase{
	// SEMANTICS A10: valid dotted quads.
	{"0.0.0.0", kindOK},
	{"255.255.255.255", kindOK},
	{"192.0.2.1", kindOK},
	{"10.0.0.1", kindOK},
	{"1.22.133.244", kindOK},
	// SEMANTICS A10: empty.
	{"", KindEmpty},
	// SEMANTICS A10: no mask.
	{"1.2.3.4/32", KindMaskNotAllowed},
	{"10.0.0.0/8", KindMaskNotAllowed},
	{"1.2.3.4/", KindMaskNotAllowed},
	{"1.2.3.4/08", KindMaskNotAllowed},
	// SEMANTICS A10: same octet rules as A9.
	{"01.2.3.4", KindLeadingZero},
	{"1.2.3.04", KindLeadingZero},
	{"1.2.3.00", KindLeadingZero},
	{"256.1.1.1", KindOctetRange},
	{"1.2.3.300", KindOctetRange},
	{"1111.2.3.4", KindOctetRange},
	// SEMANTICS A10: dotted quad only.
	{"1.2.3", KindSyntax},
	{"1.2.3.4.5", KindSyntax},
	{"1.2.3.", KindSyntax},
	{"1", KindSyntax},
	{"16909060", KindOctetRange}, // octet 1 is read first
	{"0x01020304", KindSyntax},
	{"+1.2.3.4", KindSyntax},
	{"1.2.3.-4", KindSyntax},
	{"１.２.３.４", KindSyntax},
	{"1.2.3.4\x00", KindSyntax},
	{"\xff", KindSyntax},
	{"1.2.3.\xff", KindSyntax},
	// SEMANTICS A10: no whitespace.
	{" 1.2.3.4", KindWhitespace},
	{"1.2.3.4 ", KindWhitespace},
	{"1.2.3.4\n", KindWhitespace},
	{"1.2.\t3.4", KindWhitespace},
	{"1.2.3.4\u00a0", KindWhitespace},
	// SEMANTICS A10: no IPv6, no 4-in-6 text, no zone.
	{"::1", KindIPv6},
	{"2001:db8::1", KindIPv6},
	{"1.2.3.4:25", KindIPv6},
	{"::ffff:1.2.3.4", KindMappedIPv6},
	{"::ffff:192.0.2.1", KindMappedIPv6},
	{"1.2.3.4%eth0", KindZone},
	{"fe80::1%eth0", KindZone},
	// SEMANTICS A10: at most 15 characters.
	{"255.255.255.2555", KindTooLong},
	{"1.1.1.1" + strings.Repeat("1", 20), KindTooLong},
	{huge, KindTooLong},
}

// tb is what the shared checks need from *testing.T and *rapid.T.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}
