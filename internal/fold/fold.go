// Package fold case-folds emails, aliases and user names for their
// case-insensitive comparison: [String] everywhere, [ASCIILower] (eight bytes at
// a time, into a caller's buffer) on hot paths.
package fold

import (
	"encoding/binary"
	"strings"
	"unicode/utf8"
)

const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
)

// ASCIILower writes s with ASCII letters lowered into dst, which must be at
// least len(s) long, and reports whether any byte changed and whether s is all
// ASCII. When s is not all ASCII, dst's contents are unspecified. It does not
// allocate; it handles eight bytes per step.
func ASCIILower(dst []byte, s string) (changed, ascii bool) {
	dst = dst[:len(s)]
	var any, nonASCII uint64
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		up := upper(w)
		any |= up
		nonASCII |= w
		binary.LittleEndian.PutUint64(dst[i:], w|up>>2)
	}
	if i < len(s) && len(s) >= 8 { // the last word, overlapping the previous one
		i = len(s) - 8
		w := binary.LittleEndian.Uint64([]byte(s[i:]))
		up := upper(w)
		any |= up
		nonASCII |= w
		binary.LittleEndian.PutUint64(dst[i:], w|up>>2)
		i = len(s)
	}
	for ; i < len(s); i++ {
		c := s[i]
		nonASCII |= uint64(c)
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
			any = 1
		}
		dst[i] = c
	}
	return any != 0, nonASCII&high == 0
}

// upper returns 0x80 in each byte of w that is an ASCII upper-case letter,
// for bytes below 0x80 (others may be flagged; callers reject non-ASCII).
func upper(w uint64) uint64 {
	x := w &^ high                // clear the top bit so that adding cannot carry across bytes
	geA := x + (0x80-'A')*ones    // top bit set where byte >= 'A'
	gtZ := x + (0x80-'Z'-1)*ones  // top bit set where byte > 'Z'
	return geA &^ gtZ &^ w & high // >= 'A', <= 'Z', and the byte was ASCII
}

// String returns the case-folded form under which emails, aliases and user
// names are compared (SEMANTICS A18): ASCII letters lowered, other characters
// lowered by Unicode rules. It does not allocate when s is ASCII with no upper
// case letter.
func String(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' || c >= utf8.RuneSelf {
			return strings.ToLower(s)
		}
	}
	return s
}
