// Package semantics reads the rule numbers of the project's contract,
// docs/SEMANTICS.md, and the citations of those numbers in source files, so
// that a test can check mechanically that every rule is proven by a test and
// that nothing cites a rule the contract does not define.
//
// A rule is a line of the contract that starts with its ID and a period
// ("A7. …", "A15b. …"). A citation is the word SEMANTICS followed by one or
// more IDs ("SEMANTICS A3", "SEMANTICS B7, C3", "SEMANTICS B2–B4", "SEMANTICS
// A18 and B2"; a range cites every rule between its ends), or a test function
// named for a rule ("TestSemanticsA3_…").
//
// The functions are pure and safe for concurrent use; each costs time linear in
// its input.
package semantics

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// ID is a rule number: a section letter A–Z, a number and an optional
// lowercase suffix ("A15b").
type ID string

var (
	ruleLine     = regexp.MustCompile(`(?m)^([A-Z][0-9]+[a-z]?)\. `)
	notProven    = regexp.MustCompile(`<!--\s*not-yet-proven:([^>]*)-->`)
	citeWord     = regexp.MustCompile(`SEMANTICS((?:[ ,/]+(?:and |or )?[A-Z][0-9]+[a-z]?(?:\s*[–-]\s*[A-Z]?[0-9]+[a-z]?)?)+)`)
	citeID       = regexp.MustCompile(`([A-Z])([0-9]+)([a-z]?)(?:\s*[–-]\s*([A-Z])?([0-9]+)([a-z]?))?`)
	testFuncName = regexp.MustCompile(`func (TestSemantics([A-Z][0-9]+[a-z]?))_`)
)

// Rules returns the IDs of the rules the contract doc defines, in the order
// they appear, and the IDs its "not-yet-proven" marker comment lists
// (<!-- not-yet-proven: E1 E2 … -->).
func Rules(doc []byte) (rules, notYetProven []ID) {
	for _, m := range ruleLine.FindAllSubmatch(doc, -1) {
		rules = append(rules, ID(m[1]))
	}
	for _, m := range notProven.FindAllSubmatch(doc, -1) {
		for _, f := range strings.Fields(string(m[1])) {
			notYetProven = append(notYetProven, ID(f))
		}
	}
	return rules, notYetProven
}

// Citations returns the rule IDs src cites, sorted and without repeats. A
// range such as "B2–B4" cites B2, B3 and B4; a range over sections or
// suffixes cites its two ends only.
func Citations(src []byte) []ID {
	set := map[ID]bool{}
	for _, m := range citeWord.FindAllSubmatch(src, -1) {
		for _, c := range citeID.FindAllSubmatch(m[1], -1) {
			first := ID(string(c[1]) + string(c[2]) + string(c[3]))
			set[first] = true
			if len(c[5]) == 0 {
				continue
			}
			sec := string(c[4])
			if sec == "" {
				sec = string(c[1])
			}
			last := ID(sec + string(c[5]) + string(c[6]))
			set[last] = true
			lo, _ := strconv.Atoi(string(c[2]))
			hi, _ := strconv.Atoi(string(c[5]))
			if sec == string(c[1]) && len(c[3]) == 0 && len(c[6]) == 0 && hi-lo <= 50 {
				for n := lo + 1; n < hi; n++ {
					set[ID(sec+strconv.Itoa(n))] = true
				}
			}
		}
	}
	for _, m := range testFuncName.FindAllSubmatch(src, -1) {
		set[ID(m[2])] = true
	}
	out := make([]ID, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
