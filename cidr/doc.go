// Package cidr parses WorkMail IPv4 ranges and request addresses strictly, and
// compiles lists of ranges into a [Table] that answers "which ranges contain
// this address" without allocating. It is the address-matching hot path of
// the access-control library.
//
// # Ranges (SEMANTICS A9)
//
// A range is an IPv4 CIDR whose text fully matches
//
//	(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}/(0|[1-9]|[12][0-9]|3[0-2])
//
// with every octet at most 255. So: no leading zeros ("010.0.0.0/8" and
// "10.0.0.0/08" are errors), the mask is required, no whitespace anywhere,
// no IPv6 and no IPv4-mapped IPv6 ("::ffff:1.2.3.4/104" is an error), at most
// 18 characters. Host bits may be set: "10.0.0.1/8" is valid, matches as its
// masked network 10.0.0.0/8, and keeps its text as written ([Range.String],
// [Range.Addr], [Range.HasHostBits]; [Range.Masked] gives the network).
//
// # Request addresses (SEMANTICS A10)
//
// A request address is a dotted-quad IPv4 address with the same octet rules,
// no mask, at most 15 characters ([ParseAddr]); any other string is an error.
// A netip.Addr ([AddrFrom]) that is IPv4-mapped IPv6 is unmapped first; a
// real IPv6 address, or one with a zone, is an error. Addresses are uint32
// values with the first octet in the high byte: 1.2.3.4 is 0x01020304.
//
// # Errors
//
// Every parse error is a *[ParseError] whose [Kind] tells what is wrong
// (leading zero, mask required, IPv6, ...) and whose message says it in
// words, e.g. `cidr: "010.0.0.0/8": leading zero in octet 1`. Parsing never
// panics, whatever the input (huge, invalid UTF-8, ...).
//
// # Tables
//
// [Build] compiles ranges (range i has ID i) into an immutable [Table] that
// maps an address to a class ([Table.Class]): addresses in the same class are
// contained in exactly the same ranges ([Table.Members]). Class costs
// O(log n) in the worst case and typically one or two probes, and neither it
// nor [Table.Lookup] allocates. Tables are safe for concurrent use.
//
// # Costs
//
// [ParseRange], [ParseAddr] and [AddrFrom] are O(1) and allocation-free on
// success; on failure they allocate the error. String forms allocate.
package cidr
