// Package suggest finds the name a misspelled one most likely meant, for the
// "did you mean …?" hints of error messages (an unknown JSON field, an invalid
// action).
package suggest

import "strings"

// Closest returns the candidate that s most likely misspells, or "" when none is
// close: a candidate equal to s but for case, else the one at the smallest edit
// distance (Levenshtein, ignoring case) when that distance is at most 2 and at
// most half the candidate's length. It is what error messages use for "did you
// mean …?" (an unknown JSON field, an invalid action). Inputs longer than 64
// bytes get no suggestion. Cost: O(len(s)·len(candidate)) per candidate.
func Closest(s string, candidates []string) string {
	for _, c := range candidates {
		if strings.EqualFold(c, s) {
			return c
		}
	}
	if len(s) > 64 {
		return ""
	}
	ls, hint, best := strings.ToLower(s), "", 3
	for _, c := range candidates {
		if n := len(c) - len(s); n > 2 || n < -2 {
			continue
		}
		if d := editDistance(ls, strings.ToLower(c)); d < best && 2*d <= len(c) {
			hint, best = c, d
		}
	}
	return hint
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
