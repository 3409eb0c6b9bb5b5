package impersonation_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/internal/fold"
	"github.com/wmpolicy/wmpolicy/internal/reference"
	"github.com/wmpolicy/wmpolicy/policy"
	"github.com/wmpolicy/wmpolicy/policytest"
)

const reviewChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+@-"

// reviewIdent draws an identifier of 1–40 characters (short ones take
// strtab's slow path, long ones its word-compare path).
func reviewIdent(t *rapid.T, label string) string {
	n := rapid.SampledFrom([]int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 24, 31, 32, 33, 40, 255, 256, 257, 300}).Draw(t, label+" len")
	var b strings.Builder
	for range n {
		if rapid.IntRange(0, 15).Draw(t, label+" uni?") == 0 {
			b.WriteString(rapid.SampledFrom([]string{"\u212A", "ß", "İ", "Σ", "ς", "σ", "é", "É", "ǅ"}).Draw(t, label+" u"))
			continue
		}
		b.WriteByte(reviewChars[rapid.IntRange(0, len(reviewChars)-1).Draw(t, label+" c")])
	}
	return b.String()
}

// TestSemanticsB2B4_LargeDirectoryDifferential: SEMANTICS B2–B4. Directories of
// up to 150 users (so that the Evaluator's namedBits span several words),
// identifiers of every length class, targets that are any identifier of any
// user in any case, or a one-character near miss of one. Evaluate, Effect,
// Decide and GetImpersonationRoleEffect must all agree with
// reference.EvaluateImpersonation, with a *MemDirectory, an opaque
// Directory and no directory.
func TestSemanticsB2B4_LargeDirectoryDifferential(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 150).Draw(t, "users")
		var users []policy.User
		taken := map[string]bool{}
		fresh := func(label string) string {
			for {
				s := reviewIdent(t, label)
				if !taken[fold.String(s)] {
					taken[fold.String(s)] = true
					return s
				}
			}
		}
		for i := range n {
			u := policy.User{ID: fresh("id")}
			if rapid.Bool().Draw(t, "email?") {
				if rapid.IntRange(0, 4).Draw(t, "email=id?") == 0 {
					u.Email = strings.ToUpper(u.ID) // same user: folds alike
				} else {
					u.Email = fresh("email")
				}
			}
			if rapid.Bool().Draw(t, "name?") {
				u.Name = fresh("name")
			}
			if rapid.IntRange(0, 3).Draw(t, "alias?") == 0 {
				u.Aliases = []string{fresh("alias")}
			}
			u.State = rapid.SampledFrom([]string{"ENABLED", "ENABLED", "ENABLED", "DISABLED", "DELETED", ""}).Draw(t, fmt.Sprint("state", i))
			users = append(users, u)
		}
		dir, err := policy.NewDirectory(users)
		if err != nil {
			t.Skip(err)
		}
		var idents []string
		for _, u := range users {
			idents = append(idents, userIdents(u)...)
		}
		var ruleIdents []string
		for _, s := range idents {
			if impersonation.CheckTargetUser(s) == "" {
				ruleIdents = append(ruleIdents, s)
			}
		}
		if len(ruleIdents) == 0 {
			ruleIdents = []string{"nobody-at-all"}
		}
		pickIdent := func(label string) string {
			s := rapid.SampledFrom(idents).Draw(t, label)
			switch rapid.IntRange(0, 5).Draw(t, label+" form") {
			case 0:
				s = strings.ToUpper(s)
			case 1:
				s = strings.ToLower(s)
			case 2:
				s = policytest.NearMiss(s).Draw(t, label+" near")
			}
			return s
		}
		role := impersonation.Role{ImpersonationRoleId: "r1", Name: "r", Type: rapid.SampledFrom([]impersonation.Type{impersonation.FullAccess, impersonation.ReadOnly}).Draw(t, "type")}
		for i := range rapid.IntRange(0, 10).Draw(t, "rules") {
			r := impersonation.Rule{ImpersonationRuleId: fmt.Sprint("rule", i), Effect: rapid.SampledFrom([]policy.Effect{policy.Allow, policy.Deny}).Draw(t, "eff")}
			list := func(l string) []string {
				if !rapid.Bool().Draw(t, l+"?") {
					return nil
				}
				var out []string
				for range rapid.IntRange(1, 10).Draw(t, l+" n") {
					out = append(out, rapid.SampledFrom(ruleIdents).Draw(t, l))
				}
				return out
			}
			r.TargetUsers, r.NotTargetUsers = list("t"), list("nt")
			role.Rules = append(role.Rules, r)
		}
		dirs := []policy.Directory{dir, opaqueDir{dir}, nil}
		for di, d := range dirs {
			ev, err := impersonation.Compile(role, d)
			if err != nil && policy.CodeOf(err) == policy.EntityNotFoundException {
				continue
			}
			if err != nil {
				t.Fatalf("dir %d: compile: %v", di, err)
			}
			for range 8 {
				target := pickIdent("target")
				want, werr := reference.EvaluateImpersonation(role, target, d)
				prefix := []impersonation.MatchedRule{{ImpersonationRuleId: "sentinel"}}
				typ, eff, m, err := ev.Evaluate(target, prefix[:1:1])
				if len(m) < 1 || m[0].ImpersonationRuleId != "sentinel" {
					t.Fatalf("dir %d target %q: Evaluate dropped the caller's prefix: %v", di, target, m)
				}
				if err != nil && len(m) != 1 {
					t.Fatalf("dir %d target %q: Evaluate changed matched on error: %v", di, target, m)
				}
				m = m[1:]
				if (err == nil) != (werr == nil) || (err != nil && policy.CodeOf(err) != policy.CodeOf(werr)) {
					t.Fatalf("dir %d target %q: Evaluate err %v, reference %v", di, target, err, werr)
				}
				if typ != role.Type {
					t.Fatalf("dir %d target %q: type %v", di, target, typ)
				}
				e2, err2 := ev.Effect(target)
				dec, err3 := ev.Decide(target)
				if !errors.Is(err2, err) && policy.CodeOf(err2) != policy.CodeOf(err) || policy.CodeOf(err3) != policy.CodeOf(err) {
					t.Fatalf("dir %d target %q: errors differ: %v %v %v", di, target, err, err2, err3)
				}
				if err != nil {
					if eff != policy.Deny || len(m) != 0 || e2 != policy.Deny {
						t.Fatalf("dir %d target %q: error answer %v %v", di, target, eff, m)
					}
					continue
				}
				m = append([]impersonation.MatchedRule{}, m...)
				if eff != want.Effect || e2 != want.Effect || dec.Effect != want.Effect {
					t.Fatalf("dir %d target %q: effect %v/%v/%v, reference %v", di, target, eff, e2, dec.Effect, want.Effect)
				}
				if diff := cmp.Diff(want.MatchedRules, m); diff != "" {
					t.Fatalf("dir %d target %q: matched (-want +got)\n%s", di, target, diff)
				}
				got := reference.ImpersonationResult{Type: dec.Type, Effect: dec.Effect, Reason: dec.Reason, MatchedRules: dec.MatchedRules, Matching: dec.Matching, UserID: dec.UserID}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("dir %d target %q: Decide (-want +got)\n%s", di, target, diff)
				}
				if impersonation.CheckTargetUser(target) == "" {
					out, err := ev.GetImpersonationRoleEffect(impersonation.GetImpersonationRoleEffectInput{TargetUser: target})
					if err != nil || out.Effect != want.Effect || !cmp.Equal(out.MatchedRules, want.MatchedRules) || out.Type != role.Type {
						t.Fatalf("dir %d target %q: wire %v %v", di, target, out, err)
					}
				}
			}
		}
	})
}
