package strtab

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// forge returns a table holding key k (value 7) in the slot where a lookup
// of q starts, with q's tag: a lookup of q then reaches the key comparison,
// as it does after a real 32-bit tag collision. full selects the maphash
// layout (getSlow for every key).
func forge(k, q string, full bool) Table {
	t := FromPairs([]string{k}, []int32{7})
	t.full = full
	t.setFastLim()
	for i := range t.slots {
		t.slots[i] = slot{}
	}
	h := t.hash(q)
	t.slots[h>>t.shift] = slot{key: k, tag: uint32(h), val: 7}
	return t
}

// Get and getSlow must report a key only when the whole key is equal
// (strtab's contract: Table maps strings to values; the lookup of a user ID
// one byte away from a rule's user ID must not find the rule's principal,
// SEMANTICS A3/A18). The tag is forged equal so that every length, every
// differing position and every bit reach the byte comparison, including the
// overlapping 8- and 16-byte loads at lengths 8..80.
func TestNearMissWithForgedTag(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, full := range []bool{false, true} {
		for n := 1; n <= 80; n++ {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte('0' + rng.IntN(75))
			}
			k := string(b)
			// The key itself is found through the forged slot.
			if tab := forge(k, k, full); true {
				if v, ok := tab.Get(strings.Clone(k)); !ok || v != 7 {
					t.Fatalf("full=%v n=%d: Get(own key) = %d, %v", full, n, v, ok)
				}
			}
			for j := 0; j < n; j++ {
				for _, bit := range []byte{1, 2, 4, 8, 16, 32, 64, 128} {
					q := []byte(k)
					q[j] ^= bit
					tab := forge(k, string(q), full)
					if v, ok := tab.Get(string(q)); ok {
						t.Fatalf("full=%v n=%d: Get(%q) found stored key %q (value %d): differs at byte %d bit %#x",
							full, n, q, k, v, j, bit)
					}
				}
			}
			// Two differences that cancel under a wrong XOR/OR grouping.
			if n >= 2 {
				for j := 0; j+1 < n; j++ {
					q := []byte(k)
					q[j] ^= 1
					q[n-1-j%n] ^= 1
					if string(q) == k {
						continue
					}
					tab := forge(k, string(q), full)
					if _, ok := tab.Get(string(q)); ok {
						t.Fatalf("full=%v n=%d: Get(%q) found %q", full, n, q, k)
					}
				}
			}
		}
	}
}

// Differential: random tables of keys that are near misses of each other
// (shared prefixes and suffixes, one byte apart, every length 1..70) answer
// every lookup as a Go map does (strtab's contract).
func TestNearMissTablesEqualMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 40; round++ {
		m := map[string]int32{}
		var probes []string
		base := fmt.Sprintf("S-1-1-11-%d-", round) + strings.Repeat("ab", 40)
		for n := 1; n <= 70; n++ {
			k := base[:n]
			if rng.IntN(2) == 0 {
				m[k] = int32(len(m))
			}
			for j := 0; j < n; j++ {
				q := []byte(k)
				q[j]++
				if rng.IntN(8) == 0 {
					m[string(q)] = int32(len(m))
				}
				probes = append(probes, string(q))
			}
			probes = append(probes, k)
		}
		tab := New(m)
		if tab.Len() != len(m) {
			t.Fatalf("Len = %d, want %d", tab.Len(), len(m))
		}
		for _, q := range probes {
			v, ok := tab.Get(q)
			w, wok := m[q]
			if ok != wok || v != w {
				t.Fatalf("Get(%q) = %d, %v; map: %d, %v", q, v, ok, w, wok)
			}
		}
	}
}

// Lookup answers exactly the keys of 1 to 64 bytes of a table that has slots
// and does not hash with maphash, as Get does, and returns Slow for every
// other key (the callers that handle Slow with Get rely on both).
func TestLookupCoversItsKeys(t *testing.T) {
	var keys []string
	var vals []int32
	for n := 1; n <= 80; n++ {
		keys = append(keys, strings.Repeat("k", n))
		vals = append(vals, int32(n))
	}
	tabs := map[string]Table{"zero": {}, "empty": FromPairs(nil, nil), "ends": FromPairs(keys, vals)}
	whole := FromPairs(keys, vals)
	whole.ends = false
	rebuild(&whole, keys, vals)
	tabs["whole"] = whole
	full := FromPairs(keys, vals)
	full.full = true
	rebuild(&full, keys, vals)
	tabs["full"] = full
	for name, tab := range tabs {
		for n := 0; n <= 81; n++ {
			for _, k := range []string{strings.Repeat("k", n), strings.Repeat("x", n)} {
				v, r := tab.Lookup(k)
				gv, gok := tab.Get(k)
				wantSlow := n < 1 || n > 64 || len(tab.slots) == 0 || tab.full
				switch {
				case (r == Slow) != wantSlow:
					t.Fatalf("%s: Lookup(%d bytes) = %v, want Slow %v", name, n, r, wantSlow)
				case r != Slow && (v != gv || (r == Hit) != gok):
					t.Fatalf("%s: Lookup(%q) = %d, %v; Get = %d, %v", name, k, v, r, gv, gok)
				case name != "zero" && name != "empty" && n >= 1 && n <= 80 && k[0] == 'k' && (!gok || gv != int32(n)):
					t.Fatalf("%s: Get(%q) = %d, %v", name, k, gv, gok)
				}
			}
		}
	}
}

// rebuild places keys afresh under t's layout flags (hash by ends or whole,
// or maphash), as FromPairs does.
func rebuild(t *Table, keys []string, vals []int32) {
	t.slots = make([]slot, len(t.slots))
	for j, k := range keys {
		h := t.hash(k)
		i := h >> t.shift
		for t.slots[i].key != "" {
			i = (i + 1) & t.mask
		}
		t.slots[i] = slot{key: k, tag: uint32(h), val: vals[j]}
	}
	t.setFastLim()
}
