package impersonation_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/internal/reference"
	"github.com/wmpolicy/wmpolicy/policy"
	"pgregory.net/rapid"
)

// userIdents returns u's non-empty identifiers: ID, email, user name, then
// its aliases.
func userIdents(u policy.User) []string {
	var out []string
	for _, s := range append([]string{u.ID, u.Email, u.Name}, u.Aliases...) {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// reviewNaiveDir is SEMANTICS B2's resolution written out linearly: the ID
// exactly, else an email or alias case-insensitively, else a user name
// case-insensitively. It shares no code with policy.MemDirectory.
type reviewNaiveDir []policy.User

func (d reviewNaiveDir) Lookup(id string) (policy.User, bool) {
	for _, u := range d {
		if u.ID == id {
			return u, true
		}
	}
	l := strings.ToLower(id)
	for _, u := range d {
		if u.Email != "" && strings.ToLower(u.Email) == l {
			return u, true
		}
		for _, a := range u.Aliases {
			if strings.ToLower(a) == l {
				return u, true
			}
		}
	}
	for _, u := range d {
		if u.Name != "" && strings.ToLower(u.Name) == l {
			return u, true
		}
	}
	return policy.User{}, false
}

// TestSemanticsB2_MemDirectoryEvaluatorEqualsNaiveResolution: SEMANTICS B2–B4
// end to end. The Evaluator compiled with a *policy.MemDirectory (its local
// table, namedBits, and the directory's own folding and hash table) must
// answer every target exactly as reference.EvaluateImpersonation does over a
// linear B2 resolution of the same users. The differential tests that pass
// the same MemDirectory to the reference cannot see a directory-level
// mis-resolution; this one can.
func TestSemanticsB2_MemDirectoryEvaluatorEqualsNaiveResolution(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 80).Draw(t, "users")
		taken := map[string]bool{}
		fresh := func(label string) string {
			for {
				s := reviewIdent(t, label)
				if len(s) > 64 {
					s = s[:64]
				}
				s = strings.ToValidUTF8(s, "x")
				if s != "" && !taken[strings.ToLower(s)] {
					taken[strings.ToLower(s)] = true
					return s
				}
			}
		}
		var users []policy.User
		for i := range n {
			u := policy.User{ID: fresh("id")}
			if rapid.Bool().Draw(t, "email?") {
				u.Email = fresh("email")
			}
			if rapid.Bool().Draw(t, "name?") {
				u.Name = fresh("name")
			}
			if rapid.IntRange(0, 2).Draw(t, "alias?") == 0 {
				u.Aliases = []string{fresh("alias")}
			}
			u.State = rapid.SampledFrom([]string{"ENABLED", "ENABLED", "DISABLED", "DELETED", ""}).Draw(t, fmt.Sprint("state", i))
			users = append(users, u)
		}
		md, err := policy.NewDirectory(users)
		if err != nil {
			t.Skip(err)
		}
		naive := reviewNaiveDir(users)
		var idents, ruleIdents []string
		for _, u := range users {
			for _, s := range userIdents(u) {
				idents = append(idents, s)
				if impersonation.CheckTargetUser(s) == "" {
					ruleIdents = append(ruleIdents, s)
				}
			}
		}
		if len(ruleIdents) == 0 {
			t.Skip("no ASCII identifiers")
		}
		role := impersonation.Role{ImpersonationRoleId: "r1", Name: "r", Type: impersonation.ReadOnly}
		for i := range rapid.IntRange(1, 6).Draw(t, "rules") {
			r := impersonation.Rule{ImpersonationRuleId: fmt.Sprint("rule", i), Effect: []policy.Effect{policy.Allow, policy.Deny}[rapid.IntRange(0, 1).Draw(t, "eff")]}
			list := func(l string) []string {
				if !rapid.Bool().Draw(t, l+"?") {
					return nil
				}
				var out []string
				for range rapid.IntRange(1, 4).Draw(t, l+" n") {
					s := rapid.SampledFrom(ruleIdents).Draw(t, l)
					if rapid.Bool().Draw(t, l+" upper?") {
						s = strings.ToUpper(s)
					}
					out = append(out, s)
				}
				return out
			}
			r.TargetUsers, r.NotTargetUsers = list("t"), list("nt")
			role.Rules = append(role.Rules, r)
		}
		ev, err := impersonation.Compile(role, md)
		_, nerr := impersonation.Compile(role, naive)
		if (err == nil) != (nerr == nil) {
			t.Fatalf("Compile with MemDirectory: %v; with the naive directory: %v", err, nerr)
		}
		if err != nil {
			return
		}
		for range 10 {
			target := rapid.SampledFrom(idents).Draw(t, "target")
			switch rapid.IntRange(0, 3).Draw(t, "form") {
			case 0:
				target = strings.ToUpper(target)
			case 1:
				target = strings.ToLower(target)
			}
			want, werr := reference.EvaluateImpersonation(role, target, naive)
			d, err := ev.Decide(target)
			if policy.CodeOf(err) != policy.CodeOf(werr) {
				t.Fatalf("target %q: Decide err %v, reference (naive directory) %v", target, err, werr)
			}
			if err != nil {
				continue
			}
			got := reference.ImpersonationResult{Type: d.Type, Effect: d.Effect, Reason: d.Reason, MatchedRules: d.MatchedRules, Matching: d.Matching, UserID: d.UserID}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("target %q (-reference over naive directory +Evaluator)\n%s", target, diff)
			}
		}
	})
}
