package cidr

import (
	"strconv"
	"unicode/utf8"
)

// Kind classifies a [ParseError], so that callers and tests can tell the
// failures apart without matching message text.
//
// The zero Kind is not used by any error this package returns. Kinds are
// plain values: comparable, safe for concurrent use, and free to copy.
type Kind uint8

// The kinds of [ParseError]. When several apply to one input, the first that
// applies in this order is reported: [KindEmpty], [KindWhitespace], [KindZone],
// [KindIPv6] or [KindMappedIPv6], [KindTooLong], then whatever the left-to-right
// scan of the dotted quad and mask meets first ([KindSyntax],
// [KindLeadingZero], [KindOctetRange], [KindMaskRequired], [KindMaskRange],
// [KindMaskNotAllowed]).
const (
	// KindSyntax: any malformation not covered by a more specific kind: a
	// character other than a digit, '.' or '/' (including '+', '-', full-width
	// digits and invalid UTF-8), too few or too many octets, an empty octet, or
	// text after the mask.
	KindSyntax Kind = iota + 1
	// KindEmpty: the input is the empty string (or, for [AddrFrom], the zero
	// netip.Addr).
	KindEmpty
	// KindTooLong: more than 18 characters for a range (SEMANTICS A9) or 15
	// for an address (SEMANTICS A10; there only the part before any '/' is
	// counted, so that "255.255.255.255/32" is reported as
	// [KindMaskNotAllowed]).
	KindTooLong
	// KindWhitespace: a whitespace character anywhere (leading, trailing or
	// inner; ASCII or Unicode).
	KindWhitespace
	// KindLeadingZero: an octet or mask with a leading zero, like "010" or
	// "/08" ("0" alone is fine).
	KindLeadingZero
	// KindOctetRange: an octet above 255.
	KindOctetRange
	// KindMaskRequired: a range without "/bits", or with nothing after '/'.
	KindMaskRequired
	// KindMaskRange: a mask above 32.
	KindMaskRange
	// KindMaskNotAllowed: an address (SEMANTICS A10) with "/bits".
	KindMaskNotAllowed
	// KindIPv6: an IPv6 address or range (the input contains ':'), or an IPv6
	// netip.Addr given to [AddrFrom].
	KindIPv6
	// KindMappedIPv6: an IPv4-mapped IPv6 address or range written as text,
	// like "::ffff:1.2.3.4/104". ([AddrFrom] unmaps such a netip.Addr instead.)
	KindMappedIPv6
	// KindZone: an IPv6 zone ("%eth0"): the input contains '%', or the
	// netip.Addr given to [AddrFrom] has a zone.
	KindZone
)

var kindNames = [...]string{
	KindSyntax:         "syntax",
	KindEmpty:          "empty",
	KindTooLong:        "too long",
	KindWhitespace:     "whitespace",
	KindLeadingZero:    "leading zero",
	KindOctetRange:     "octet out of range",
	KindMaskRequired:   "mask required",
	KindMaskRange:      "mask out of range",
	KindMaskNotAllowed: "mask not allowed",
	KindIPv6:           "IPv6",
	KindMappedIPv6:     "IPv4-mapped IPv6",
	KindZone:           "zone",
}

// String returns a short lower-case name for k, like "leading zero", or
// "Kind(N)" for a value that is not one of the constants. It does not
// allocate for the constants.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseError is the error returned by [ParseRange], [ParseAddr] and
// [AddrFrom]: every error they return is a *ParseError (use errors.As).
//
// Input is the input exactly as given (never truncated; for [AddrFrom] it is
// the netip.Addr's String form), Kind says what class of problem it is, and
// Msg says what is wrong in words, without the input, e.g. "leading zero in
// octet 1". A returned ParseError is never modified afterwards and is safe to
// share between goroutines. The zero ParseError is never returned, but
// its Error method works.
type ParseError struct {
	Input string
	Kind  Kind
	Msg   string
}

// maxQuoted is how many bytes of Input the Error text shows.
const maxQuoted = 64

// Error returns `cidr: "INPUT": MSG`, e.g.
// `cidr: "010.0.0.0/8": leading zero in octet 1`. Inputs longer than 64 bytes
// are cut (at a character boundary where possible) and followed by "...".
// It allocates the returned string.
func (e *ParseError) Error() string {
	in := e.Input
	var q string
	if len(in) > maxQuoted {
		cut := maxQuoted
		for c := cut; c > maxQuoted-utf8.UTFMax; c-- {
			if utf8.RuneStart(in[c]) {
				cut = c
				break
			}
		}
		q = strconv.Quote(in[:cut]) + "..."
	} else {
		q = strconv.Quote(in)
	}
	return "cidr: " + q + ": " + e.Msg
}

func newError(in string, k Kind, msg string) *ParseError {
	return &ParseError{Input: in, Kind: k, Msg: msg}
}
