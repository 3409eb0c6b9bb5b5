package policytest

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/policy"
	"pgregory.net/rapid"
)

// Invalid is an input the library must reject, with how it must be rejected:
// the SEMANTICS rule it breaks, what is wrong in words, and the AWS code and
// field path of the error the library reports for it (among possibly others).
// Tests use it to assert the error path of their own code:
//
//	bad := policytest.InvalidRules().Draw(t, "bad")
//	if err := bad.Match(myLoader(bad.Value)); err != nil {
//		t.Fatal(err)
//	}
//
// An Invalid is plain data; the zero value is meaningless.
type Invalid[T any] struct {
	Value T           // the input
	Rule  string      // the SEMANTICS rule it breaks: "A9" … "A13", "A15b", "B1", or "D2" for JSON problems
	Class string      // what is wrong, in words: "leading zero", "name too long", "unknown field" …
	Code  policy.Code // the code of the error the library reports
	Path  string      // the field path of that error ("Rules[2].IpRanges[0]"); "" when it names no field
}

// String describes v without its value, e.g.
// `A9 leading zero: ValidationException at "IpRanges[0]"`.
func (v Invalid[T]) String() string {
	return fmt.Sprintf("%s %s: %s at %q", v.Rule, v.Class, v.Code, v.Path)
}

// Match returns nil when err rejects v as claimed: err holds a *policy.Error
// (see policy.Errors) whose code is v.Code and whose path is v.Path. Otherwise
// it returns an error saying what err was instead. An error that is not a
// *policy.Error counts as a ValidationException without a path, as
// policy.Errors says, so Match also works for the *cidr.ParseError of
// [InvalidRange] and [InvalidAddr].
func (v Invalid[T]) Match(err error) error {
	if err == nil {
		return fmt.Errorf("policytest: %v: accepted, want rejected", v)
	}
	for _, e := range policy.Errors(err) {
		if e.Code == v.Code && e.Path == v.Path {
			return nil
		}
	}
	return fmt.Errorf("policytest: %v: rejected with %v", v, err)
}

func invalid[T any](value T, rule, class string, code policy.Code, path string) Invalid[T] {
	return Invalid[T]{Value: value, Rule: rule, Class: class, Code: code, Path: path}
}

// octets returns the decimal octets and mask of r as written.
func octets(r cidr.Range) ([4]string, string) {
	a := r.Addr()
	var o [4]string
	for i := range o {
		o[i] = strconv.Itoa(int(a >> (24 - 8*i) & 0xFF))
	}
	return o, strconv.Itoa(r.Bits())
}

func join(o [4]string) string { return strings.Join(o[:], ".") }

// insertAt inserts ins into s at a drawn byte offset (s is ASCII).
func insertAt(t *rapid.T, s, ins string) string {
	i := rapid.IntRange(0, len(s)).Draw(t, "at")
	return s[:i] + ins + s[i:]
}

// shortRange draws a valid range and returns it when its text has at most
// n characters, else 10.0.0.0/8, so that an edit keeps the text short enough
// not to be KindTooLong.
func shortRange(t *rapid.T, n int) cidr.Range {
	r := Range().Draw(t, "range")
	if len(r.String()) > n {
		return cidr.MustParseRange("10.0.0.0/8")
	}
	return r
}

// InvalidRange generates range text that cidr.ParseRange, and so rule
// validation, rejects (SEMANTICS A9). Class is the cidr.Kind the parser
// reports, as Kind.String gives it ("leading zero", "mask required", …); Code is
// ValidationException and Path "" (in a rule the path is the item's,
// "IpRanges[3]").
//
// Covers every cidr.Kind a range can have: empty; whitespace (ASCII and
// Unicode, anywhere); zone; IPv6; IPv4-mapped IPv6 ("::ffff:1.2.3.4/104"); too
// long; a leading zero in an octet or the mask; an octet above 255; no mask or
// an empty one; a mask above 32; syntax (three or five octets, letters, signs,
// full-width digits, invalid UTF-8, text after the mask). Each is an edit of a
// drawn valid [Range].
//
// Shrinks toward the empty string.
func InvalidRange() *rapid.Generator[Invalid[string]] {
	return rapid.Custom(func(t *rapid.T) Invalid[string] {
		bad := func(s string, k cidr.Kind) Invalid[string] {
			return invalid(s, "A9", k.String(), policy.ValidationException, "")
		}
		switch rapid.IntRange(0, 11).Draw(t, "class") {
		case 0:
			return bad("", cidr.KindEmpty)
		case 1:
			ws := rapid.SampledFrom([]string{" ", "\t", "\n", "\u00a0", "\u3000"}).Draw(t, "space")
			return bad(insertAt(t, Range().Draw(t, "range").String(), ws), cidr.KindWhitespace)
		case 2:
			return bad(rapid.SampledFrom([]string{"fe80::1%eth0/64", "10.0.0.0%1/8", "::ffff:10.0.0.1%lo/128"}).Draw(t, "zone"), cidr.KindZone)
		case 3:
			return bad(rapid.SampledFrom([]string{"2001:db8::/32", "::/0", "::1/128", "fe80::/10", ":/8"}).Draw(t, "ipv6"), cidr.KindIPv6)
		case 4:
			r := Range().Draw(t, "range")
			o, _ := octets(r)
			return bad(fmt.Sprintf("::ffff:%s/%d", join(o), 96+r.Bits()), cidr.KindMappedIPv6)
		case 5:
			// Zero-padded to 3 digits everywhere: 19 characters or more.
			r := Range().Draw(t, "range")
			a := r.Addr()
			return bad(fmt.Sprintf("%03d.%03d.%03d.%03d/%03d", a>>24, a>>16&0xFF, a>>8&0xFF, a&0xFF, r.Bits()), cidr.KindTooLong)
		case 6:
			r := shortRange(t, cidr.MaxRangeLen-1)
			o, m := octets(r)
			if i := rapid.IntRange(0, 4).Draw(t, "where"); i < 4 {
				o[i] = "0" + o[i]
			} else {
				m = "0" + m
			}
			return bad(join(o)+"/"+m, cidr.KindLeadingZero)
		case 7:
			r := Range().Draw(t, "range")
			o, m := octets(r)
			o[rapid.IntRange(0, 3).Draw(t, "octet")] = strconv.Itoa(rapid.IntRange(256, 999).Draw(t, "value"))
			return bad(join(o)+"/"+m, cidr.KindOctetRange)
		case 8:
			o, _ := octets(Range().Draw(t, "range"))
			return bad(join(o)+rapid.SampledFrom([]string{"", "/"}).Draw(t, "mask"), cidr.KindMaskRequired)
		case 9:
			o, _ := octets(shortRange(t, cidr.MaxRangeLen-1))
			return bad(join(o)+"/"+strconv.Itoa(rapid.IntRange(33, 99).Draw(t, "bits")), cidr.KindMaskRange)
		case 10:
			r := shortRange(t, 14)
			o, m := octets(r)
			switch rapid.IntRange(0, 6).Draw(t, "syntax") {
			case 0:
				return bad(strings.Join(o[:3], ".")+"/"+m, cidr.KindSyntax)
			case 1:
				return bad(join(o)+".1/"+m, cidr.KindSyntax)
			case 2:
				o[rapid.IntRange(0, 3).Draw(t, "octet")] = "a"
			case 3:
				o[0] = "+" + o[0]
			case 4:
				o[rapid.IntRange(0, 3).Draw(t, "octet")] = "１"
			case 5:
				o[rapid.IntRange(0, 3).Draw(t, "octet")] = "\xff"
			case 6:
				return bad(join(o)+"/"+m+"x", cidr.KindSyntax)
			}
			return bad(join(o)+"/"+m, cidr.KindSyntax)
		default:
			return bad(rapid.SampledFrom([]string{"10.0.0.0/8,", "1.2.3.4/8/8", "0x0a.0.0.0/8", "10.0.0.0/-1", "10..0.0/8"}).Draw(t, "odd"), cidr.KindSyntax)
		}
	})
}

// InvalidAddr generates request-address text that cidr.ParseAddr, and so
// GetAccessControlEffectInput.Request, rejects (SEMANTICS A10). Class is the
// cidr.Kind reported ("mask not allowed", "leading zero", …); Code is
// ValidationException and Path "IpAddress", the path of the wire request's error.
//
// Covers: empty; whitespace; a mask ("10.0.0.1/32"); a leading zero; an octet
// above 255; IPv6; IPv4-mapped IPv6; a zone; more than 15 characters; syntax
// (three or five octets, letters). Shrinks toward the empty string.
func InvalidAddr() *rapid.Generator[Invalid[string]] {
	return rapid.Custom(func(t *rapid.T) Invalid[string] {
		bad := func(s string, k cidr.Kind) Invalid[string] {
			return invalid(s, "A10", k.String(), policy.ValidationException, "IpAddress")
		}
		a := Addr().Draw(t, "addr").As4()
		o := [4]string{strconv.Itoa(int(a[0])), strconv.Itoa(int(a[1])), strconv.Itoa(int(a[2])), strconv.Itoa(int(a[3]))}
		switch rapid.IntRange(0, 9).Draw(t, "class") {
		case 0:
			return bad("", cidr.KindEmpty)
		case 1:
			return bad(insertAt(t, join(o), rapid.SampledFrom([]string{" ", "\t", "\u00a0"}).Draw(t, "space")), cidr.KindWhitespace)
		case 2:
			return bad(join(o)+"/"+strconv.Itoa(rapid.IntRange(0, 32).Draw(t, "bits")), cidr.KindMaskNotAllowed)
		case 3:
			if len(join(o)) >= cidr.MaxAddrLen {
				o = [4]string{"10", "0", "0", "1"}
			}
			i := rapid.IntRange(0, 3).Draw(t, "octet")
			o[i] = "0" + o[i]
			return bad(join(o), cidr.KindLeadingZero)
		case 4:
			o[rapid.IntRange(0, 3).Draw(t, "octet")] = strconv.Itoa(rapid.IntRange(256, 999).Draw(t, "value"))
			return bad(join(o), cidr.KindOctetRange)
		case 5:
			return bad(rapid.SampledFrom([]string{"::1", "2001:db8::1", "fe80::"}).Draw(t, "ipv6"), cidr.KindIPv6)
		case 6:
			return bad("::ffff:"+join(o), cidr.KindMappedIPv6)
		case 7:
			return bad(rapid.SampledFrom([]string{"fe80::1%eth0", "10.0.0.1%1"}).Draw(t, "zone"), cidr.KindZone)
		case 8:
			return bad(join(o)+"."+join(o)+".0", cidr.KindTooLong) // at least 17 characters
		default:
			if len(join(o)) >= cidr.MaxAddrLen-1 {
				o = [4]string{"10", "0", "0", "1"}
			}
			s := rapid.SampledFrom([]string{strings.Join(o[:3], "."), join(o) + ".1", strings.Join(o[:3], ".") + ".a"}).Draw(t, "syntax")
			return bad(s, cidr.KindSyntax)
		}
	})
}

// InvalidAction generates action names that accessctl.ParseAction rejects
// (SEMANTICS A11): InvalidParameterException, Path "". Class is "wrong case"
// ("Imap", "ews": actions are case-sensitive), "misspelled" ("IMAPS",
// "WebMai"), "empty", "whitespace" or "not an action" ("ALL", "*", "POP3").
//
// Shrinks toward a lower-case valid action name.
func InvalidAction() *rapid.Generator[Invalid[string]] {
	return rapid.Custom(func(t *rapid.T) Invalid[string] {
		bad := func(s, class string) Invalid[string] {
			return invalid(s, "A11", class, policy.InvalidParameterException, "")
		}
		name := rapid.SampledFrom(actionNames()).Draw(t, "action")
		switch rapid.IntRange(0, 4).Draw(t, "class") {
		case 0:
			// A case variant that differs from the name: lower case, or
			// random case forced to differ in its first letter.
			s := strings.ToLower(name)
			if s == name || rapid.Bool().Draw(t, "random?") {
				s = randomCase(t, s)
				b := []byte(s)
				if b[0] >= 'a' == (name[0] >= 'a') {
					b[0] ^= 0x20
				}
				s = string(b)
			}
			return bad(s, "wrong case")
		case 1:
			switch rapid.IntRange(0, 2).Draw(t, "edit") {
			case 0:
				return bad(name+"S", "misspelled")
			case 1:
				return bad(name[:len(name)-1], "misspelled")
			default:
				return bad(name[:1]+"x"+name[1:], "misspelled")
			}
		case 2:
			return bad("", "empty")
		case 3:
			return bad(rapid.SampledFrom([]string{" ", "\t", ""}).Draw(t, "space")+name+rapid.SampledFrom([]string{" ", "\n"}).Draw(t, "trailing"), "whitespace")
		default:
			return bad(rapid.SampledFrom([]string{"ALL", "*", "POP3", "OWA", "MAPI", "Any"}).Draw(t, "other"), "not an action")
		}
	})
}

// InvalidRequest generates Go requests that Policy.Evaluate (and Effect,
// Decide) reject, whatever the rules (SEMANTICS A10–A12); all are
// InvalidParameterException. Each is a valid [Request] with one thing broken:
//
//   - A10, Path "IpAddress": an IPv6 address, one with a zone (also an
//     IPv4-mapped one), or the zero netip.Addr;
//   - A11, Path "Action": the zero Action, or a value above the seven;
//   - A12, Path "": no principal, or both a user and a role;
//   - A12, Path "Action": a role request for an action other than EWS.
//
// Shrinks toward an IPv6 address in a user request.
func InvalidRequest() *rapid.Generator[Invalid[accessctl.Request]] {
	return rapid.Custom(func(t *rapid.T) Invalid[accessctl.Request] {
		r := Request().Draw(t, "request")
		bad := func(class, rule, path string) Invalid[accessctl.Request] {
			return invalid(r, rule, class, policy.InvalidParameterException, path)
		}
		switch rapid.IntRange(0, 5).Draw(t, "class") {
		case 0:
			r.IP = rapid.SampledFrom([]netip.Addr{
				netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::1"), netip.MustParseAddr("::"),
			}).Draw(t, "ipv6")
			return bad("IPv6 address", "A10", "IpAddress")
		case 1:
			r.IP = rapid.SampledFrom([]netip.Addr{
				netip.MustParseAddr("fe80::1%eth0"), netip.MustParseAddr("::ffff:10.0.0.1%eth0"),
			}).Draw(t, "zone")
			return bad("address with a zone", "A10", "IpAddress")
		case 2:
			r.IP = netip.Addr{}
			return bad("no address", "A10", "IpAddress")
		case 3:
			r.Action = accessctl.Action(rapid.SampledFrom([]int{0, accessctl.NumActions + 1, 255}).Draw(t, "action"))
			return bad("invalid action", "A11", "Action")
		case 4:
			if rapid.Bool().Draw(t, "both?") {
				r.Action = accessctl.EWS
				r.UserID = rapid.SampledFrom(userIDs).Draw(t, "user")
				r.ImpersonationRoleID = rapid.SampledFrom(roleIDs).Draw(t, "role")
				return bad("two principals", "A12", "")
			}
			r.UserID, r.ImpersonationRoleID = "", ""
			return bad("no principal", "A12", "")
		default:
			r.UserID = ""
			r.ImpersonationRoleID = rapid.SampledFrom(roleIDs).Draw(t, "role")
			r.Action = rapid.SampledFrom(accessctl.Actions()).Filter(func(a accessctl.Action) bool { return a != accessctl.EWS }).Draw(t, "action")
			return bad("role without EWS", "A12", "Action")
		}
	})
}

// InvalidRequestInput generates wire requests that
// GetAccessControlEffectInput.Request and Policy.GetAccessControlEffect
// reject (SEMANTICS A10–A13). Each is a valid request with one field broken:
//
//   - A13 ValidationException "OrganizationId": not m-[0-9a-f]{32};
//   - A10 ValidationException "IpAddress": any [InvalidAddr];
//   - A13 ValidationException "UserId": longer than 256 characters or invalid
//     UTF-8; "ImpersonationRoleId": outside [a-zA-Z0-9_-]{1,64};
//   - A11 InvalidParameterException "Action": any [InvalidAction]
//     (ValidationException for invalid UTF-8);
//   - A12 InvalidParameterException "": no principal, or both;
//     "Action": a role with another action than EWS.
//
// Shrinks toward a bad OrganizationId.
func InvalidRequestInput() *rapid.Generator[Invalid[accessctl.GetAccessControlEffectInput]] {
	return rapid.Custom(func(t *rapid.T) Invalid[accessctl.GetAccessControlEffectInput] {
		r := Request().Draw(t, "request")
		in := accessctl.GetAccessControlEffectInput{
			IpAddress: r.IP.String(), Action: r.Action.String(),
			UserId: r.UserID, ImpersonationRoleId: r.ImpersonationRoleID,
		}
		if rapid.Bool().Draw(t, "org?") {
			in.OrganizationId = "m-0123456789abcdef0123456789abcdef"
		}
		bad := func(rule, class string, code policy.Code, path string) Invalid[accessctl.GetAccessControlEffectInput] {
			return invalid(in, rule, class, code, path)
		}
		switch rapid.IntRange(0, 6).Draw(t, "class") {
		case 0:
			in.OrganizationId = rapid.SampledFrom([]string{
				"m-0123456789ABCDEF0123456789ABCDEF", "m-0123456789abcdef", "0123456789abcdef0123456789abcdef",
				"m-0123456789abcdef0123456789abcdefa", "m-0123456789abcdef0123456789abcdeg", " m-0123456789abcdef0123456789abcdef",
			}).Draw(t, "org")
			return bad("A13", "malformed organization ID", policy.ValidationException, "OrganizationId")
		case 1:
			a := InvalidAddr().Draw(t, "addr")
			in.IpAddress = a.Value
			return bad("A10", "address "+a.Class, policy.ValidationException, "IpAddress")
		case 2:
			in.ImpersonationRoleId = ""
			in.UserId = rapid.SampledFrom([]string{"S-1-1-11-" + repeat("1", 248), "user\xff@example.org"}).Draw(t, "user")
			return bad("A13", "malformed user ID", policy.ValidationException, "UserId")
		case 3:
			in.UserId = ""
			in.Action = "EWS"
			in.ImpersonationRoleId = rapid.SampledFrom([]string{repeat("r", 65), "role.1", "role 1", "rôle", "role\xff"}).Draw(t, "role")
			return bad("A13", "malformed role ID", policy.ValidationException, "ImpersonationRoleId")
		case 4:
			if rapid.IntRange(0, 4).Draw(t, "utf8?") == 4 {
				in.Action = "IM\xffAP"
				return bad("A11", "invalid UTF-8", policy.ValidationException, "Action")
			}
			a := InvalidAction().Draw(t, "action")
			in.Action = a.Value
			return bad("A11", "action "+a.Class, policy.InvalidParameterException, "Action")
		case 5:
			if rapid.Bool().Draw(t, "both?") {
				in.Action = "EWS"
				in.UserId = rapid.SampledFrom(userIDs).Draw(t, "user")
				in.ImpersonationRoleId = rapid.SampledFrom(roleIDs).Draw(t, "role")
				return bad("A12", "two principals", policy.InvalidParameterException, "")
			}
			in.UserId, in.ImpersonationRoleId = "", ""
			return bad("A12", "no principal", policy.InvalidParameterException, "")
		default:
			in.UserId = ""
			in.ImpersonationRoleId = rapid.SampledFrom(roleIDs).Draw(t, "role")
			in.Action = rapid.SampledFrom(actionNames()).Filter(func(a string) bool { return a != "EWS" }).Draw(t, "action")
			return bad("A12", "role without EWS", policy.InvalidParameterException, "Action")
		}
	})
}
