package impersonation

import (
	"fmt"
	"strings"
	"testing"
)

// idTable finds every key and nothing else, also when the keys agree on every
// sampled byte (the table then hashes whole keys).
func TestIDTable(t *testing.T) {
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
			for i := range keys {
				keys[i] = c.key(i)
			}
			tab := newIDTable(keys)
			if c.wantFull && !tab.full {
				t.Errorf("keys that agree on every sampled byte are hashed by samples")
			}
			for i, k := range keys {
				if v, ok := tab.get(strings.Clone(k)); !ok || int(v) != i {
					t.Errorf("get(%q) = %d, %v; want %d", k, v, ok, i)
				}
			}
			for _, k := range []string{"", "S-1", "S-1-1-11-1234567890-1234567890-0000000000-9999", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", sampled(999)} {
				if v, ok := tab.get(k); ok {
					t.Errorf("get(%q) = %d, want absent", k, v)
				}
			}
		})
	}
}
