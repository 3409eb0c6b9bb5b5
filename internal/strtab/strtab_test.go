package strtab

import (
	"fmt"
	"strings"
	"testing"
)

// A Table finds every key and nothing else, also when the keys agree on every
// sampled byte (the table then hashes whole keys).
func TestTable(t *testing.T) {
	sampled := func(i int) string { // same length, first, middle and last 8 bytes
		return "S-1-1-11-" + fmt.Sprintf("%04d", i) + strings.Repeat("x", 20) + fmt.Sprintf("%04d", i) + "-0000000000"
	}
	for _, c := range []struct {
		name     string
		key      func(int) string
		n        int
		wantFull bool
	}{
		{"none", nil, 0, false},
		{"short keys", func(i int) string { return fmt.Sprint(i) }, 200, false},
		{"user IDs", func(i int) string { return fmt.Sprintf("S-1-1-11-1234567890-1234567890-%010d-%04d", i*7919, i) }, 200, false},
		{"colliding samples", sampled, 200, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			keys := make([]string, c.n)
			m := map[string]int32{}
			for i := range keys {
				keys[i] = c.key(i)
				m[keys[i]] = int32(i)
			}
			tab := New(m)
			if tab.Len() != c.n {
				t.Errorf("Len() = %d, want %d", tab.Len(), c.n)
			}
			if c.wantFull && !tab.full {
				t.Errorf("keys that agree on every sampled byte are hashed by samples")
			}
			for i, k := range keys {
				if v, ok := tab.Get(strings.Clone(k)); !ok || int(v) != i {
					t.Errorf("get(%q) = %d, %v; want %d", k, v, ok, i)
				}
			}
			for _, k := range []string{"", "S-1", "S-1-1-11-1234567890-1234567890-0000000000-9999", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", sampled(999)} {
				if v, ok := tab.Get(k); ok {
					t.Errorf("get(%q) = %d, want absent", k, v)
				}
			}
		})
	}
}

func TestTableGetNoAllocs(t *testing.T) {
	tab := New(map[string]int32{"S-1-1-11-1234567890-1234567890-1234567890-0001": 7})
	if n := testing.AllocsPerRun(100, func() { tab.Get("S-1-1-11-1234567890-1234567890-1234567890-0001") }); n != 0 {
		t.Fatalf("Get allocates %v", n)
	}
	var zero Table
	if _, ok := zero.Get("x"); ok {
		t.Fatal("zero Table holds a key")
	}
}
