package analysis_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/analysis"
	"github.com/wmpolicy/wmpolicy/cidr"
	"pgregory.net/rapid"
)

// addrSet draws a valid AddrSet: sorted, disjoint, non-adjacent intervals,
// with boundaries near a few anchors so that intervals touch the ends of the
// space and each other's neighbourhood.
func addrSet() *rapid.Generator[analysis.AddrSet] {
	return rapid.Custom(func(t *rapid.T) analysis.AddrSet {
		anchors := []uint32{0, 1, 0x0A000000, 0xC0000200, 0xC6336400, 0xCB007180, 0xFFFFFF00, 0xFFFFFFFF}
		n := rapid.IntRange(0, 8).Draw(t, "n")
		var pts []uint32
		for range 2 * n {
			a := rapid.SampledFrom(anchors).Draw(t, "anchor") + rapid.Uint32Range(0, 300).Draw(t, "off")
			pts = append(pts, a)
		}
		slices.Sort(pts)
		pts = slices.Compact(pts)
		var s analysis.AddrSet
		for i := 0; i+1 < len(pts); i += 2 {
			r := analysis.AddrRange{First: pts[i], Last: pts[i+1]}
			if len(s) > 0 && uint64(s[len(s)-1].Last)+1 >= uint64(r.First) {
				continue // keep intervals apart
			}
			s = append(s, r)
		}
		if rapid.Bool().Draw(t, "everywhere") {
			s = analysis.Everywhere
		}
		return s
	})
}

// probes are addresses at and around every boundary of s.
func probes(s analysis.AddrSet) []uint32 {
	out := []uint32{0, 1, 0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF}
	for _, r := range s {
		out = append(out, r.First-1, r.First, r.First+1, r.Last-1, r.Last, r.Last+1)
	}
	return out
}

// AddrSet's text is exact and the shortest of the three forms; Complement
// is an involution; CIDRs cover exactly the set; JSON keeps the intervals.
func TestAddrSetProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := addrSet().Draw(t, "set")
		c := s.Complement()
		if got := c.Complement(); !slices.Equal(got, s) && !(len(got) == 0 && len(s) == 0) {
			t.Fatalf("complement of complement %v, want %v", got, s)
		}
		in := func(cs []cidr.Range, a uint32) bool {
			return slices.ContainsFunc(cs, func(r cidr.Range) bool { return r.Contains(a) })
		}
		cs, ccs := s.CIDRs(), c.CIDRs()
		for _, a := range probes(s) {
			if s.Contains(a) == c.Contains(a) {
				t.Fatalf("%s in set %v and complement %v alike", cidr.AddrString(a), s, c)
			}
			if in(cs, a) != s.Contains(a) || in(ccs, a) != c.Contains(a) {
				t.Fatalf("CIDRs of %v disagree at %s", s, cidr.AddrString(a))
			}
		}
		if s.Size()+c.Size() != 1<<32 {
			t.Fatalf("sizes %d + %d", s.Size(), c.Size())
		}
		var total uint64
		for _, r := range cs {
			total += 1 << (32 - r.Bits())
		}
		if total != s.Size() {
			t.Fatalf("CIDRs of %v cover %d addresses, not %d", s, total, s.Size())
		}
		text := s.String()
		switch s.Form() {
		case analysis.FormEverywhere:
			if text != "everywhere" || s.Size() != 1<<32 {
				t.Fatalf("%v: %q", s, text)
			}
		case analysis.FormEverywhereExcept:
			if len(ccs) >= len(cs) || text != "everywhere except "+join(ccs) {
				t.Fatalf("%v: %q, %d CIDRs, complement %d", s, text, len(cs), len(ccs))
			}
		default:
			if len(s) > 0 && (len(cs) > len(ccs) || text != join(cs)) || len(s) == 0 && text != "nowhere" {
				t.Fatalf("%v: %q, %d CIDRs, complement %d", s, text, len(cs), len(ccs))
			}
		}
		var j struct {
			Text      string
			Form      string
			CIDRs     []string
			Intervals []struct{ First, Last string }
		}
		data, err := json.Marshal(s)
		if err != nil || json.Unmarshal(data, &j) != nil || j.Text != text || j.Form != s.Form().String() || len(j.Intervals) != len(s) {
			t.Fatalf("JSON %s (%v)", data, err)
		}
		for i, r := range s {
			if j.Intervals[i].First != cidr.AddrString(r.First) || j.Intervals[i].Last != cidr.AddrString(r.Last) {
				t.Fatalf("JSON interval %d: %+v, want %v", i, j.Intervals[i], r)
			}
		}
	})
}

func join(cs []cidr.Range) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, c.String())
	}
	return strings.Join(parts, ", ")
}
