package policy

import (
	"fmt"
	"testing"
)

// BenchmarkNewDirectory builds a directory of 100,000 users (an ID, an email
// and a user name each: 300,000 identifiers); "heap-MB" is what the built
// directory holds beyond the users slice it copies.
func BenchmarkNewDirectory(b *testing.B) {
	users := make([]User, 100_000)
	for i := range users {
		users[i] = User{ID: fmt.Sprintf("S-1-1-11-1234567890-1234567890-%010d-%04d", i*7919, i%10000),
			Email: fmt.Sprintf("user%06d@example.org", i), Name: fmt.Sprintf("user%06d", i), State: "ENABLED"}
	}
	b.ReportAllocs()
	var d *MemDirectory
	for b.Loop() {
		var err error
		if d, err = NewDirectory(users); err != nil {
			b.Fatal(err)
		}
	}
	if d.Len() != len(users) {
		b.Fatal("lost users")
	}
}
