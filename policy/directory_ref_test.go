package policy

import (
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/wmpolicy/wmpolicy/internal/fold"
)

// refLookup is Directory.Lookup's contract, read literally: the user whose ID
// equals id exactly; else the user with an email or alias equal to id under
// Fold; else the user with a user name equal to id under Fold.
func refLookup(users []User, id string) (int, bool) {
	if id == "" {
		return 0, false
	}
	for i, u := range users {
		if u.ID == id {
			return i, true
		}
	}
	f := fold.String(id)
	for i, u := range users {
		if u.Email != "" && fold.String(u.Email) == f {
			return i, true
		}
		for _, a := range u.Aliases {
			if a != "" && fold.String(a) == f {
				return i, true
			}
		}
	}
	for i, u := range users {
		if u.Name != "" && fold.String(u.Name) == f {
			return i, true
		}
	}
	return 0, false
}

// userIdents returns u's non-empty identifiers: ID, email, user name, then
// its aliases.
func userIdents(u User) []string {
	var out []string
	for _, s := range append([]string{u.ID, u.Email, u.Name}, u.Aliases...) {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// refCollides says whether two different users share an identifier under
// Fold (NewDirectory's documented refusal).
func refCollides(users []User) bool {
	owner := map[string]int{}
	for i, u := range users {
		for _, s := range userIdents(u) {
			if j, ok := owner[fold.String(s)]; ok && j != i {
				return true
			}
			owner[fold.String(s)] = i
		}
	}
	return false
}

// randCase writes s with each ASCII letter's case drawn at random.
func randCase(t *rapid.T, s, label string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			if rapid.Bool().Draw(t, label) {
				b[i] = c ^ 0x20
			}
		}
	}
	return string(b)
}

// Property (SEMANTICS A18, B2; Directory's contract): MemDirectory.Lookup and
// Find answer as refLookup for identifiers drawn from a small universe in
// which IDs, emails, aliases and user names of one user fold alike, differ
// only in case, or coincide with their folded forms — the cases NewDirectory's
// deduplication (put) and the idFlag/enabledFlag bits must get right — and
// NewDirectory refuses exactly the directories refCollides refuses.
func TestDirectoryEqualsReference(t *testing.T) {
	accepted := 0
	defer func() { t.Logf("%d directories accepted", accepted) }()
	rapid.Check(t, func(t *rapid.T) {
		stems := []string{"s-1-1-11-ab", "user.name.01", "ann@example.org", "x1", "ab", "abcdefghij-klmnopqrstu"}
		stem := rapid.SampledFrom(stems)
		n := rapid.IntRange(1, 4).Draw(t, "n")
		users := make([]User, n)
		for i := range users {
			suffix := fmt.Sprint(i)
			if rapid.IntRange(0, 3).Draw(t, "shareSuffix") == 0 {
				suffix = "0"
			}
			base := stem.Draw(t, "stem") + suffix
			u := User{ID: randCase(t, base, "idcase")}
			if rapid.Bool().Draw(t, "hasEmail") {
				u.Email = randCase(t, rapid.SampledFrom([]string{base, stem.Draw(t, "estem") + suffix}).Draw(t, "email"), "ecase")
			}
			for range rapid.IntRange(0, 2).Draw(t, "naliases") {
				u.Aliases = append(u.Aliases, randCase(t, rapid.SampledFrom([]string{base, u.Email, stem.Draw(t, "astem") + suffix}).Draw(t, "alias"), "acase"))
			}
			if rapid.Bool().Draw(t, "hasName") {
				u.Name = randCase(t, rapid.SampledFrom([]string{base, u.Email, stem.Draw(t, "nstem") + suffix}).Draw(t, "name"), "ncase")
			}
			u.State = rapid.SampledFrom([]string{"ENABLED", "DISABLED", "DELETED", ""}).Draw(t, "state")
			users[i] = u
		}
		// Drop empty aliases (they are not identifiers).
		for i := range users {
			var as []string
			for _, a := range users[i].Aliases {
				if a != "" {
					as = append(as, a)
				}
			}
			users[i].Aliases = as
		}
		d, err := NewDirectory(users)
		if collide := refCollides(users); collide != (err != nil) {
			t.Fatalf("NewDirectory(%+v) error = %v; identifiers of two users collide: %v", users, err, collide)
		}
		if err != nil {
			return
		}
		accepted++
		var probes []string
		for _, u := range users {
			for _, s := range userIdents(u) {
				probes = append(probes, s, strings.ToUpper(s), strings.ToLower(s), randCase(t, s, "probecase"))
			}
		}
		probes = append(probes, "", "nobody-at-all", "S-1-1-11-AB0")
		for _, q := range probes {
			wi, wok := refLookup(users, q)
			i, enabled, _, ok := d.keys.Find(q)
			if ok != wok || ok && i != wi {
				t.Fatalf("Find(%q) = %d, %v; reference %d, %v (users %+v)", q, i, ok, wi, wok, users)
			}
			if ok && enabled != users[i].Enabled() {
				t.Fatalf("Find(%q): enabled = %v, user state %q", q, enabled, users[i].State)
			}
			u, ok := d.Lookup(q)
			if ok != wok || ok && u.ID != users[wi].ID {
				t.Fatalf("Lookup(%q) = %q, %v; reference %d, %v", q, u.ID, ok, wi, wok)
			}
		}
	})
}

// NewDirectory checks every identifier it enters for valid UTF-8 except
// aliases: an alias of invalid UTF-8 is accepted and stored under
// strings.ToLower's form, in which every invalid byte became U+FFFD. Then an
// identifier that is no name of the user (another invalid byte, or a literal
// U+FFFD) resolves to it (Directory's contract: emails and aliases compared
// case-insensitively; SEMANTICS A13: invalid UTF-8 anywhere is a
// ValidationException). Minimal input: Aliases ["\xffadmin@example.org"],
// Lookup("\xfeadmin@example.org").
func TestDirectoryAliasInvalidUTF8(t *testing.T) {
	users := []User{{ID: "S-1-1-11-0001", Email: "ann@example.org", Aliases: []string{"\xffadmin@example.org"}, State: "ENABLED"}}
	d, err := NewDirectory(users)
	if err == nil {
		if u, ok := d.Lookup("\xfeadmin@example.org"); ok {
			t.Errorf("Lookup(%q) resolved to %q, whose alias is %q", "\xfeadmin@example.org", u.ID, users[0].Aliases[0])
		}
		t.Fatalf("NewDirectory accepted an alias of invalid UTF-8")
	}
	if CodeOf(err) != ValidationException || !strings.Contains(err.Error(), "Users[0].Aliases[0]") {
		t.Fatalf("error = %v; want ValidationException at Users[0].Aliases[0]", err)
	}
}

// Find's three probing branches (exact; ASCII folded into a stack buffer;
// strings.ToLower for non-ASCII or identifiers longer than 256 bytes) agree
// with refLookup, at the 256-byte edge and with non-ASCII letters, and IDs
// never match folded (A18: IDs exact; emails and user names in any case).
func TestDirectoryFindBranches(t *testing.T) {
	long := func(n int, c string) string { return strings.Repeat(c, n-8) + "@exa.org" }
	users := []User{
		{ID: "S-1-1-11-Upper-ID", Email: long(256, "a"), Name: "Ärger.Name", State: "ENABLED"},
		{ID: "s-1-1-11-lower-id", Email: long(257, "b"), Aliases: []string{"ÖL@x.org"}, State: "DISABLED"},
		{ID: "S-1-1-11-" + strings.Repeat("C", 300), Name: long(300, "d"), State: "ENABLED"},
	}
	d, err := NewDirectory(users)
	if err != nil {
		t.Fatal(err)
	}
	var probes []string
	for _, u := range users {
		for _, s := range userIdents(u) {
			probes = append(probes, s, strings.ToUpper(s), strings.ToLower(s))
			if len(s) > 1 {
				probes = append(probes, s[:len(s)-1], strings.ToUpper(s[:len(s)-1])+"x")
			}
		}
	}
	for _, q := range probes {
		wi, wok := refLookup(users, q)
		i, enabled, _, ok := d.keys.Find(q)
		if ok != wok || ok && (i != wi || enabled != users[wi].Enabled()) {
			t.Errorf("Find(%.40q…) = %d, %v, %v; reference %d, %v", q, i, enabled, ok, wi, wok)
		}
	}
}
