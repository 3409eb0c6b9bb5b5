package accessctl_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
	"github.com/wmpolicy/wmpolicy/policytest"
	"pgregory.net/rapid"
)

// renameUsers renames every user reference in rules to another name of the
// same user (ID, email, alias or user name in any case), as A18 allows.
func renameUsers(t *rapid.T, users []policy.User, rules []accessctl.Rule) []accessctl.Rule {
	out := make([]accessctl.Rule, len(rules))
	for i, r := range rules {
		r = r.Clone()
		for _, list := range [][]string{r.UserIds, r.NotUserIds} {
			for j, id := range list {
				for _, u := range users {
					if u.ID == id {
						// A13: a name in a rule has 12 characters or more.
						if n := policytest.NameOf(u).Draw(t, "rulename"); len(n) >= 12 {
							list[j] = n
						}
					}
				}
			}
		}
		out[i] = r
	}
	return out
}

// Property (SEMANTICS A18 with A3–A7): with a directory, on policies of every
// layout — at most 32 rules (labels are the rule sets), one word, and wider
// ones with and without a rule lacking IpRanges — users named in rules and
// requests by any of their names (or a near miss of one, or an unknown name)
// get the reference's answer from Evaluate, Effect, Decide and
// GetAccessControlEffect alike.
func TestDirectoryAllLayoutsEqualReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		dir := policytest.Directory().Draw(t, "dir")
		users := dir.Users()
		maxRules := rapid.SampledFrom([]int{10, 33, 64, 150}).Draw(t, "maxRules")
		rules := policytest.Rules(policytest.RuleOptions{MaxRules: maxRules, MinRules: maxRules / 2, MaxRanges: 3, Users: true, Roles: true}).Draw(t, "rules")
		if rapid.Bool().Draw(t, "allIn") {
			for i := range rules {
				if len(rules[i].IpRanges) == 0 {
					rules[i].IpRanges = []string{policytest.RangeString().Draw(t, "range")}
				}
			}
		}
		rules = renameUsers(t, users, rules)
		p, err := accessctl.Compile(rules, accessctl.Options{Directory: dir})
		if err != nil {
			t.Fatalf("Compile: %v", err)
		}
		for i := range 8 {
			req := policytest.RequestFor(rules).Draw(t, fmt.Sprint("req", i))
			if req.UserID != "" {
				switch rapid.IntRange(0, 5).Draw(t, "how") {
				case 0, 1, 2:
					req.UserID = policytest.UserName(dir).Draw(t, "user")
				case 3:
					req.UserID = policytest.NearMiss(policytest.UserName(dir).Draw(t, "user")).Draw(t, "near")
				}
			}
			checkAgainstReference(t, p, rules, dir, req)
		}
	})
}

// The same without a directory, on the layouts the generators above reach
// rarely: more than 4096 rules with some lacking IpRanges (wider than
// maxStackWords: Evaluate and Effect walk words twice), and every-rule-has-
// IpRanges policies whose hit lists are around 64 and 128 long (evalHits'
// one-pass buffer, maxPassHits, which was 128 and is 64, and the two-pass
// walk just past it).
func TestWideBoundariesEqualReference(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	rng := rand.New(rand.NewPCG(21, 22))
	var cases [][]accessctl.Rule
	// Wider than 64 words, not allIn.
	rules := genRules(rng, 4200, shape{ranges: 2, notOneIn: 3}, 10)
	for i := range rules {
		if i%97 == 0 {
			rules[i].IpRanges = append(rules[i].IpRanges, "10.0.0.0/8")
		}
	}
	cases = append(cases, rules)
	// allIn with hit lists around maxPassHits at 10.0.0.0/8.
	for _, hot := range []int{63, 64, 65, 66, 127, 128, 129, 130} {
		rules := genRules(rng, 200, shape{ranges: 2, inEvery: true, notOneIn: 5}, 10)
		for i := 0; i < hot; i++ {
			rules[i].IpRanges = append(rules[i].IpRanges, "10.0.0.0/8")
			rules[i].NotIpRanges = nil
		}
		cases = append(cases, rules)
	}
	for _, rules := range cases {
		p, err := accessctl.Compile(rules, accessctl.Options{})
		if err != nil {
			t.Fatal(err)
		}
		reqs := genRequests(rng, rules, 150, 10)
		for i := range reqs {
			if i%2 == 0 {
				reqs[i].IP = netip.AddrFrom4([4]byte{10, byte(i), byte(i * 3), byte(i * 7)})
			}
		}
		for _, req := range reqs {
			checkAgainstReference(t, p, rules, nil, req)
		}
	}
}

// Evaluate "appends the names ... to matched" (its doc comment; SEMANTICS A7
// fixes what is appended). append writes nothing past the new length, so a
// caller's elements beyond it survive. When every rule has IpRanges and the
// address's hit list is longer than maxPassHits (then 128), evaluate's second
// pass (scanHits' branch-free loop, taken when matched has room for the whole
// hit list) writes the name of every hit rule, matching or not, into the
// caller's backing array past the returned length. Minimal input: 130 ALLOW
// rules with IpRanges 10.0.0.0/8, one DENY rule among them, matched =
// make([]string, 0, 200) whose spare elements hold "KEEP".
func TestEvaluateWritesOnlyAppendedNames(t *testing.T) {
	var rules []accessctl.Rule
	for i := 0; i < 130; i++ {
		r := accessctl.Rule{Name: fmt.Sprintf("r%03d", i), Effect: policy.Allow, IpRanges: []string{"10.0.0.0/8"}}
		if i == 5 {
			r.Effect = policy.Deny
		}
		rules = append(rules, r)
	}
	p, err := accessctl.Compile(rules, accessctl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	req := accessctl.Request{IP: netip.MustParseAddr("10.1.2.3"), Action: accessctl.IMAP, UserID: "S-1-1-11-0000000001"}
	backing := make([]string, 200)
	for i := range backing {
		backing[i] = "KEEP"
	}
	eff, names, err := p.Evaluate(req, backing[:0])
	if err != nil || eff != policy.Deny || !slices.Equal(names, []string{"r005"}) {
		t.Fatalf("Evaluate = %v %q %v, want DENY [r005]", eff, names, err)
	}
	for i := len(names); i < len(backing); i++ {
		if backing[i] != "KEEP" {
			t.Fatalf("Evaluate wrote %q at index %d of matched's backing array, past the %d names it appended", backing[i], i, len(names))
		}
	}
}

// A18: a request naming a user the directory does not know is
// EntityNotFoundException on every entry point, also when its UserID is one
// byte away from a user ID a rule names (the exact-ID fast lookup must not
// take it for that user), and a role request never consults the directory.
func TestDirectoryNearMissIsUnknown(t *testing.T) {
	const id = "S-1-1-11-1111111111-2222222222-3333333333-0001"
	dir, err := policy.NewDirectory([]policy.User{{ID: id, Email: "ann@example.org", Name: "ann.example", State: "ENABLED"}})
	if err != nil {
		t.Fatal(err)
	}
	rules := []accessctl.Rule{
		{Name: "allow-ann", Effect: policy.Allow, UserIds: []string{"ANN@example.org"}},
		{Name: "deny-not-ann", Effect: policy.Deny, NotUserIds: []string{id}},
	}
	p, err := accessctl.Compile(rules, accessctl.Options{Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("192.0.2.1")
	for j := 0; j < len(id); j++ {
		b := []byte(id)
		b[j] ^= 1
		req := accessctl.Request{IP: ip, Action: accessctl.IMAP, UserID: string(b)}
		checkAgainstReference(t, p, rules, dir, req)
		if _, err := p.Effect(req); policy.CodeOf(err) != policy.EntityNotFoundException {
			t.Fatalf("Effect(%q) error %v, want EntityNotFoundException", b, err)
		}
	}
	for _, name := range []string{id, "ann@example.org", "Ann@Example.Org", "ANN.EXAMPLE", "ann.example"} {
		checkAgainstReference(t, p, rules, dir, accessctl.Request{IP: ip, Action: accessctl.IMAP, UserID: name})
	}
	checkAgainstReference(t, p, rules, dir, accessctl.Request{IP: ip, Action: accessctl.EWS, ImpersonationRoleID: "role-1"})
}
