package strtab

import "testing"

// FuzzGet: a table holding keys a and c finds exactly them: Get(b) succeeds
// if and only if b is one of them, with its value.
func FuzzGet(f *testing.F) {
	id := "S-1-1-11-1234567890-1234567890-1234567890-1234"
	f.Add(id, "S-1-1-11-1234567990-1234567890-1234567890-1234", "bob")
	f.Add(id, "s-1-1-11-1234567890-1234567890-1234567890-1234", id+"x")
	f.Add("0123456789abcdef", "0123456789abcdeg", "0123456789abcdef0")
	f.Add("abcdefgh", "abcdefgi", "abcdefg")
	f.Add("a", "b", "")
	f.Add("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", "\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00", "\xff")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		m := map[string]int32{}
		if a != "" {
			m[a] = 1
		}
		if c != "" && c != a {
			m[c] = 2
		}
		tb := New(m)
		for _, k := range []string{a, b, c} {
			want, wantOK := m[k]
			got, ok := tb.Get(k)
			if ok != wantOK || got != want {
				t.Fatalf("keys %q: Get(%q) = %d, %v; want %d, %v", m, k, got, ok, want, wantOK)
			}
		}
	})
}
