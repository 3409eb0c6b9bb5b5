package main

import (
	"encoding/base64"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file holds the three small parsers the gateway reads untrusted bytes
// with: the PROXY protocol v1 header, IMAP command lines and SASL PLAIN
// credentials. Each is strict (anything it does not understand is an error,
// never a guess) and fuzzed (FuzzParseProxyV1, FuzzParseIMAP, FuzzDecodePlain).

// maxProxyLine is the longest PROXY v1 header without its CRLF: the protocol
// caps the whole line at 107 bytes.
const maxProxyLine = 107 - 2

var errProxy = errors.New("not a valid PROXY protocol v1 header")

// parseProxyV1 reads a PROXY protocol v1 header line (without its line end),
// as HAProxy, nginx and most load balancers send it first on a connection:
//
//	PROXY TCP4 192.0.2.44 127.0.0.1 51234 143
//	PROXY TCP6 2001:db8::1 ::1 51234 143
//	PROXY UNKNOWN
//
// It returns the client's (source) address; known is false for UNKNOWN, where
// the receiver must use the connection's own address. The fields must be
// separated by single spaces, the addresses must be of the declared family
// without a zone, and the ports decimal 0–65535 without leading zeros.
func parseProxyV1(line string) (src netip.Addr, known bool, err error) {
	if len(line) > maxProxyLine {
		return netip.Addr{}, false, errProxy
	}
	rest, ok := strings.CutPrefix(line, "PROXY ")
	if !ok {
		return netip.Addr{}, false, errProxy
	}
	if rest == "UNKNOWN" || strings.HasPrefix(rest, "UNKNOWN ") {
		// The spec lets the sender put anything after UNKNOWN; it is ignored.
		return netip.Addr{}, false, nil
	}
	f := strings.Split(rest, " ")
	if len(f) != 5 || (f[0] != "TCP4" && f[0] != "TCP6") {
		return netip.Addr{}, false, errProxy
	}
	want4 := f[0] == "TCP4"
	var addrs [2]netip.Addr
	for i, s := range f[1:3] {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" || a.Is4() != want4 {
			return netip.Addr{}, false, errProxy
		}
		addrs[i] = a
	}
	for _, s := range f[3:5] {
		if !validPort(s) {
			return netip.Addr{}, false, errProxy
		}
	}
	return addrs[0], true, nil
}

// validPort reports whether s is a decimal port 0–65535 without leading zeros.
func validPort(s string) bool {
	if s == "" || len(s) > 5 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	n, err := strconv.Atoi(s)
	return err == nil && n <= 65535
}

// imapLine is one parsed IMAP command line: "tag SP command [SP arguments]".
type imapLine struct {
	Tag     string
	Command string // upper-cased
	Args    string // the rest of the line after the command and one space, unparsed
}

var (
	errIMAPSyntax  = errors.New("syntax error")
	errIMAPLiteral = errors.New("literals are not supported by this example; send the argument as a quoted string")
)

// parseIMAPLine splits an IMAP command line (without its line end) into tag,
// command and arguments (RFC 9051 §2.2.1). The tag is 1–64 characters of
// ASTRING-CHAR without "+"; the command is an atom, compared case-insensitively.
func parseIMAPLine(line string) (imapLine, error) {
	tag, rest, ok := strings.Cut(line, " ")
	if !ok || tag == "" || len(tag) > 64 {
		return imapLine{Tag: sanitizeTag(tag)}, errIMAPSyntax
	}
	for i := 0; i < len(tag); i++ {
		if !isAtomChar(tag[i]) || tag[i] == '+' {
			return imapLine{}, errIMAPSyntax
		}
	}
	cmd, args, _ := strings.Cut(rest, " ")
	if cmd == "" || len(cmd) > 32 {
		return imapLine{Tag: tag}, errIMAPSyntax
	}
	for i := 0; i < len(cmd); i++ {
		if !isAtomChar(cmd[i]) {
			return imapLine{Tag: tag}, errIMAPSyntax
		}
	}
	return imapLine{Tag: tag, Command: strings.ToUpper(cmd), Args: args}, nil
}

// sanitizeTag returns tag when it is a usable tag for an error response, else "*".
func sanitizeTag(tag string) string {
	if tag == "" || len(tag) > 64 {
		return "*"
	}
	for i := 0; i < len(tag); i++ {
		if !isAtomChar(tag[i]) || tag[i] == '+' {
			return "*"
		}
	}
	return tag
}

// isAtomChar reports whether c is an ATOM-CHAR (RFC 9051): a printable ASCII
// character other than SP and the specials ( ) { % * " \ ].
func isAtomChar(c byte) bool {
	if c <= 0x20 || c >= 0x7f {
		return false
	}
	switch c {
	case '(', ')', '{', '%', '*', '"', '\\', ']':
		return false
	}
	return true
}

// parseAStrings reads exactly n IMAP astrings (atoms or quoted strings)
// separated by single spaces, as the arguments of LOGIN. Quoted strings may
// hold any UTF-8 text but NUL, CR and LF, with " and \ escaped by a backslash.
// Literals ({5}) are errIMAPLiteral; anything else malformed is errIMAPSyntax.
func parseAStrings(s string, n int) ([]string, error) {
	out := make([]string, 0, n)
	for len(out) < n {
		if len(out) > 0 {
			if s == "" || s[0] != ' ' {
				return nil, errIMAPSyntax
			}
			s = s[1:]
		}
		if s == "" {
			return nil, errIMAPSyntax
		}
		switch s[0] {
		case '{':
			return nil, errIMAPLiteral
		case '"':
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				c := s[i]
				if c == '\\' {
					i++
					if i == len(s) || (s[i] != '"' && s[i] != '\\') {
						return nil, errIMAPSyntax
					}
					c = s[i]
				} else if c == 0 || c == '\r' || c == '\n' {
					return nil, errIMAPSyntax
				}
				b.WriteByte(c)
			}
			if i == len(s) || !utf8.ValidString(b.String()) {
				return nil, errIMAPSyntax
			}
			out = append(out, b.String())
			s = s[i+1:]
		default:
			i := 0
			for i < len(s) && (isAtomChar(s[i]) || s[i] == ']') {
				i++
			}
			if i == 0 {
				return nil, errIMAPSyntax
			}
			out = append(out, s[:i])
			s = s[i:]
		}
	}
	if s != "" {
		return nil, errIMAPSyntax
	}
	return out, nil
}

// quoteIMAP writes s as an IMAP quoted string (the inverse of parseAStrings for
// one quoted argument).
func quoteIMAP(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// maxSASLField is the longest authorization identity, user name or password
// SASL PLAIN allows (RFC 4616: 255 octets each).
const maxSASLField = 255

var errPlain = errors.New("malformed SASL PLAIN response")

// decodePlain decodes a SASL PLAIN initial response (RFC 4616): standard
// base64 (padded, strictly) of "authzid NUL authcid NUL passwd". The user name
// (authcid) and the password must be non-empty; every field is UTF-8 without
// NUL and at most 255 bytes.
func decodePlain(b64 string) (authz, user, pass string, err error) {
	// Strict decoding still skips CR and LF; a response carrying them is not
	// what any client sends, so refuse it rather than read past them.
	if strings.ContainsAny(b64, "\r\n") {
		return "", "", "", errPlain
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(raw) > 3*maxSASLField+2 {
		return "", "", "", errPlain
	}
	f := strings.Split(string(raw), "\x00")
	if len(f) != 3 || f[1] == "" || f[2] == "" {
		return "", "", "", errPlain
	}
	for _, s := range f {
		if len(s) > maxSASLField || !utf8.ValidString(s) {
			return "", "", "", errPlain
		}
	}
	return f[0], f[1], f[2], nil
}

// encodePlain is the inverse of decodePlain: what a client sends.
func encodePlain(authz, user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(authz + "\x00" + user + "\x00" + pass))
}
