package policy

import "testing"

// SEMANTICS A18, B2: IDs match exactly; emails, aliases and user names in any
// case; an identifier that would name two users is refused.
func TestSemanticsA18_DirectoryLookup(t *testing.T) {
	d, err := NewDirectory([]User{
		{ID: "abc-lower-id-0001", Email: "Ann@Example.com", Aliases: []string{"ann.b@example.org"}, Name: "Ann", State: "ENABLED"},
		{ID: "S-1-UPPER-ID-0002", Email: "bob@example.com", Name: "bob", State: "DISABLED"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   string
		want string
	}{
		{"abc-lower-id-0001", "abc-lower-id-0001"},
		{"ABC-LOWER-ID-0001", ""}, // IDs are exact, even when their folded form exists
		{"S-1-UPPER-ID-0002", "S-1-UPPER-ID-0002"},
		{"s-1-upper-id-0002", ""},
		{"ann@example.com", "abc-lower-id-0001"},
		{"ANN@EXAMPLE.COM", "abc-lower-id-0001"},
		{"Ann.B@Example.org", "abc-lower-id-0001"},
		{"ann", "abc-lower-id-0001"},
		{"BOB", "S-1-UPPER-ID-0002"},
		{"nobody", ""},
		{"", ""},
		{"ÄNN", ""},
	} {
		u, ok := d.Lookup(tc.id)
		if ok != (tc.want != "") || u.ID != tc.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", tc.id, u.ID, ok, tc.want)
		}
	}
	if _, err := NewDirectory([]User{{ID: "user-one-0001", Name: "x"}, {ID: "user-two-0002", Email: "X"}}); err == nil {
		t.Error("a name equal to another user's email (folded) was accepted")
	}
	if _, err := NewDirectory([]User{{ID: "user-one-0001"}, {ID: "USER-ONE-0001"}}); err == nil {
		t.Error("two IDs equal but for case were accepted")
	}
	if _, err := NewDirectory([]User{{Email: "a@b.c"}}); err == nil {
		t.Error("a user without ID was accepted")
	}
	var nilDir *MemDirectory
	if _, ok := nilDir.Lookup("x"); ok || nilDir.Len() != 0 {
		t.Error("nil directory")
	}
	if n := testing.AllocsPerRun(100, func() { d.Lookup("ANN@EXAMPLE.COM") }); n != 0 {
		t.Errorf("Lookup allocates %v", n)
	}
}
