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

// A user whose ID is already in folded form and equals their email (or whose
// alias repeats the email in another case) is found by every spelling the
// email allows: the email entry is the one the table keeps for that key.
func TestDirectoryIdentifiersThatCoincide(t *testing.T) {
	d, err := NewDirectory([]User{
		{ID: "abc@example.org", Email: "abc@example.org", Name: "abc.name", State: "ENABLED"},
		{ID: "S-1-1-11-2", Email: "dup@example.org", Aliases: []string{"DUP@example.org", "other@example.org"}, Name: "dup", State: "DISABLED"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id      string
		user    int
		enabled bool
	}{
		{"abc@example.org", 0, true},
		{"ABC@EXAMPLE.ORG", 0, true},
		{"Abc@Example.org", 0, true},
		{"ABC.NAME", 0, true},
		{"S-1-1-11-2", 1, false},
		{"DUP@EXAMPLE.ORG", 1, false},
		{"dup@example.org", 1, false},
		{"Other@example.org", 1, false},
		{"DUP", 1, false},
	} {
		i, enabled, _, ok := d.keys.Find(c.id)
		if !ok || i != c.user || enabled != c.enabled {
			t.Errorf("Find(%q) = %d, %v, %v; want %d, %v", c.id, i, enabled, ok, c.user, c.enabled)
		}
	}
	if _, _, _, ok := d.keys.Find("s-1-1-11-2"); ok {
		t.Error("an ID matched in another case")
	}
}
