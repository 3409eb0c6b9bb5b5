package fold

import (
	"strings"
	"testing"
)

func check(t *testing.T, s string) {
	t.Helper()
	buf := make([]byte, len(s))
	changed, ascii := ASCIILower(buf, s)
	wantASCII := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			wantASCII = false
		}
	}
	if ascii != wantASCII {
		t.Fatalf("%q: ascii = %v", s, ascii)
	}
	if !ascii {
		return
	}
	want := strings.ToLower(s)
	if string(buf) != want || changed != (want != s) {
		t.Fatalf("%q: got %q changed=%v, want %q", s, buf, changed, want)
	}
}

// Every byte value at every position of every length up to 20 folds as
// strings.ToLower folds ASCII.
func TestASCIILower(t *testing.T) {
	for n := 1; n <= 20; n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				b := []byte(strings.Repeat("a", n))
				b[pos] = byte(c)
				check(t, string(b))
				b = []byte(strings.Repeat("Z", n))
				b[pos] = byte(c)
				check(t, string(b))
			}
		}
	}
	check(t, "User000123@Example.ORG")
	check(t, "")
}

func FuzzASCIILower(f *testing.F) {
	f.Add("User@Example.org")
	f.Add("ÄÖÜ@x")
	f.Add("@[`{")
	f.Fuzz(func(t *testing.T, s string) { check(t, s) })
}

func BenchmarkASCIILower(b *testing.B) {
	buf := make([]byte, 64)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ASCIILower(buf, "user000123@example.org")
	}
}

// String folds as strings.ToLower does, and returns s itself when nothing
// changes.
func TestString(t *testing.T) {
	for _, s := range []string{"", "alice", "Alice@Example.ORG", "Zoë", "ZOË", "bob@example.org"} {
		if got := String(s); got != strings.ToLower(s) {
			t.Errorf("String(%q) = %q", s, got)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = String("bob@example.org") }); n != 0 {
		t.Errorf("String of a folded ASCII name: %v allocations", n)
	}
}
