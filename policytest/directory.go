package policytest

import (
	"fmt"
	"slices"

	"pgregory.net/rapid"

	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/internal/fold"
	"github.com/wmpolicy/wmpolicy/policy"
)

// UnknownTargets returns well-formed user identifiers that no [Directory]
// holds: an email, a user name and a user ID (a new slice on every call).
// [TargetUser] draws them.
func UnknownTargets() []string { return slices.Clone(unknownTargets) }

var unknownTargets = []string{"nobody@example.org", "nobody", UnknownUserID}

// Directory generates a valid user directory (SEMANTICS A18, B2) as
// policy.NewDirectory builds it.
//
// Covers: one user for each of [UserIDs] (so that every rule list [Rules]
// generates compiles against it) and 0–7 more whose IDs are S-1-… IDs, GUIDs
// or, one in three, a [NearMiss] of one of UserIDs;
// every user has a user name ("user.name.007"), four in five an email
// ("user007@example.org"), one in three an alias ("alias.007@example.com"); all
// names are 12 characters or more, so that any of them may stand in a rule's
// UserIds (A13). States: mostly ENABLED, sometimes DISABLED, DELETED or unset
// (such users are EntityStateException targets, B2).
//
// Shrinks toward the users of [UserIDs] only, all ENABLED, with emails and no
// aliases.
func Directory() *rapid.Generator[*policy.MemDirectory] {
	return rapid.Custom(func(t *rapid.T) *policy.MemDirectory {
		n := len(userIDs) + rapid.IntRange(0, 7).Draw(t, "extra users")
		users := make([]policy.User, n)
		taken := map[string]bool{}
		for i := range users {
			u := policy.User{Name: fmt.Sprintf("user.name.%03d", i), DisplayName: fmt.Sprintf("User %d", i)}
			switch {
			case i < len(userIDs):
				u.ID = userIDs[i]
			case rapid.IntRange(0, 2).Draw(t, fmt.Sprintf("near miss%d", i)) == 2:
				// One character away from a named user's ID, unless that
				// collides (IDs are unique case-insensitively).
				u.ID = NearMiss(rapid.SampledFrom(userIDs).Draw(t, fmt.Sprintf("near%d", i))).Draw(t, fmt.Sprintf("id%d", i))
				if taken[fold.String(u.ID)] {
					u.ID = fmt.Sprintf("S-1-1-11-%010d-2222222222-3333333333-%04d", i, i)
				}
			case rapid.Bool().Draw(t, fmt.Sprintf("guid%d", i)):
				u.ID = fmt.Sprintf("%08x-abcd-4ef0-8123-456789abcdef", i)
			default:
				u.ID = fmt.Sprintf("S-1-1-11-%010d-2222222222-3333333333-%04d", i, i)
			}
			taken[fold.String(u.ID)] = true
			if rapid.IntRange(0, 4).Draw(t, fmt.Sprintf("no email%d", i)) != 4 {
				u.Email = fmt.Sprintf("user%03d@example.org", i)
			}
			if rapid.IntRange(0, 2).Draw(t, fmt.Sprintf("alias%d", i)) == 2 {
				u.Aliases = []string{fmt.Sprintf("alias.%03d@example.com", i)}
			}
			u.State = rapid.SampledFrom([]string{"ENABLED", "ENABLED", "ENABLED", "DISABLED", "DELETED", ""}).Draw(t, fmt.Sprintf("state%d", i))
			users[i] = u
		}
		dir, err := policy.NewDirectory(users)
		if err != nil {
			panic("policytest: generated directory is invalid: " + err.Error())
		}
		return dir
	})
}

// Names returns every way of naming u that a directory resolves (SEMANTICS
// A18, B2): the ID exactly, then the email, each alias and the user name, each
// as written and in upper case.
func Names(u policy.User) []string {
	out := []string{u.ID}
	for _, s := range append(append([]string{u.Email}, u.Aliases...), u.Name) {
		if s != "" {
			out = append(out, s, upperASCII(s))
		}
	}
	return out
}

// NameOf generates a name of u: its ID, or its email, an alias or its user
// name with the case of each ASCII letter drawn at random (B2: compared
// case-insensitively). Shrinks toward the ID.
func NameOf(u policy.User) *rapid.Generator[string] {
	forms := []string{u.ID}
	for _, s := range append(append([]string{u.Email}, u.Aliases...), u.Name) {
		if s != "" {
			forms = append(forms, s)
		}
	}
	return rapid.Custom(func(t *rapid.T) string {
		f := rapid.IntRange(0, len(forms)-1).Draw(t, "form")
		if f == 0 {
			return forms[0]
		}
		return randomCase(t, forms[f])
	})
}

func randomCase(t *rapid.T, s string) string {
	mask := rapid.Uint64().Draw(t, "case")
	b := []byte(s)
	for i := range b {
		if mask>>(i%64)&1 == 1 && 'a' <= b[i] && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// UserName generates a name of a user of dir, any user, by any of its names
// ([NameOf]). dir must hold at least one user: drawing from the generator of
// an empty (or nil) directory fails the test. Shrinks toward the first user's
// ID.
func UserName(dir *policy.MemDirectory) *rapid.Generator[string] {
	users := dir.Users()
	return rapid.Custom(func(t *rapid.T) string {
		if len(users) == 0 {
			t.Fatalf("policytest: UserName of an empty directory")
		}
		return NameOf(users[rapid.IntRange(0, len(users)-1).Draw(t, "user")]).Draw(t, "name")
	})
}

// TargetUser generates a target user for GetImpersonationRoleEffect against
// dir (SEMANTICS B2): six times in eight a user of dir by any of its names
// ([UserName]; some of them not ENABLED), once a [NearMiss] of such a name
// (another user of dir, or none), else one of [UnknownTargets] that dir
// does not hold (EntityNotFoundException). With a nil or empty dir it draws from
// [TargetPool], one time in four a NearMiss of an entry. Every value is well formed (1–256 characters of
// [a-zA-Z0-9._%+@-]). Shrinks toward the first user's ID.
func TargetUser(dir *policy.MemDirectory) *rapid.Generator[string] {
	if dir.Len() == 0 {
		pool := rapid.SampledFrom(targetPool)
		return rapid.Custom(func(t *rapid.T) string {
			s := pool.Draw(t, "target")
			if rapid.IntRange(0, 3).Draw(t, "near miss?") == 3 {
				s = NearMiss(s).Draw(t, "near miss")
			}
			return s
		})
	}
	var unknown []string
	for _, s := range unknownTargets {
		if _, ok := dir.Lookup(s); !ok {
			unknown = append(unknown, s)
		}
	}
	known := UserName(dir)
	return rapid.Custom(func(t *rapid.T) string {
		switch rapid.IntRange(0, 7).Draw(t, "unknown?") {
		case 7:
			if len(unknown) > 0 {
				return rapid.SampledFrom(unknown).Draw(t, "who")
			}
		case 6:
			return NearMiss(known.Draw(t, "near")).Draw(t, "near miss")
		}
		return known.Draw(t, "known")
	})
}

// TargetPool returns the pool of exact strings that [Role] puts in TargetUsers
// and NotTargetUsers when no directory is used (B2: without a directory,
// identifiers are compared as exact strings; a new slice on every call); it
// holds pairs that differ only in case, and a 46-character ID, so that the
// near misses [TargetUser] draws exercise comparisons of long keys.
func TargetPool() []string { return slices.Clone(targetPool) }

var targetPool = []string{"alice", "ALICE", "bob@example.org", "Bob@example.org", "S-1-1-11-1", "carol",
	"S-1-1-11-1234567890-1234567890-1234567890-1234"}

// RoleOptions are the knobs of [Role]. The zero value generates roles of up to
// 10 rules whose target lists hold up to 10 entries of [TargetPool].
type RoleOptions struct {
	MaxRules   int                      // rules per role; 0 means 10, negative means none; at most 10
	MaxTargets int                      // entries per TargetUsers and NotTargetUsers; 0 means 10; at most 10
	Targets    *rapid.Generator[string] // entries of the target lists; nil means [TargetPool]; use [UserName](dir) for roles compiled with dir
	ID         string                   // the role's ImpersonationRoleId; "" means one of [RoleIDs]
}

var (
	edgeRuleIDs   = []string{"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "R", "_", "-", repeat("i", impersonation.MaxIDLength)}
	edgeRoleNames = []string{"random role", "R", "read-only auditors", "Ünïcödé ✓", repeat("n", impersonation.MaxNameLength)}
	edgeRoleDescs = []string{"", "d", "line one\nline two\r\n", repeat("d", impersonation.MaxDescriptionLength), "« quoted » & more"}
)

// Role generates a valid impersonation role (SEMANTICS B1): ValidateRole
// accepts it, and Compile compiles it (with a directory when o.Targets names
// that directory's users).
//
// Covers: both types; 0 to o.MaxRules rules with distinct IDs (including a
// one-character and a 64-character ID), both effects, optional names and
// descriptions (edge cases: 64-character names, non-ASCII, LF and CR in
// descriptions, 256 characters); each target list absent two times in three,
// else 1 to o.MaxTargets entries drawn from o.Targets (repeats allowed, and a
// user may be in both lists of one rule).
//
// Shrinks toward a FULL_ACCESS role without rules.
func Role(o RoleOptions) *rapid.Generator[impersonation.Role] {
	if o.MaxRules < 0 {
		o.MaxRules = 0
	} else {
		o.MaxRules = clamp(o.MaxRules, impersonation.MaxRules, impersonation.MaxRules)
	}
	o.MaxTargets = clamp(o.MaxTargets, impersonation.MaxTargetUsers, impersonation.MaxTargetUsers)
	targets := o.Targets
	if targets == nil {
		targets = rapid.SampledFrom(targetPool)
	}
	return rapid.Custom(func(t *rapid.T) impersonation.Role {
		role := impersonation.Role{
			ImpersonationRoleId: o.ID,
			Name:                rapid.SampledFrom(edgeRoleNames).Draw(t, "name"),
			Type:                rapid.SampledFrom([]impersonation.Type{impersonation.FullAccess, impersonation.ReadOnly}).Draw(t, "type"),
			Description:         rapid.SampledFrom(edgeRoleDescs).Draw(t, "description"),
		}
		if role.ImpersonationRoleId == "" {
			role.ImpersonationRoleId = rapid.SampledFrom(roleIDs).Draw(t, "id")
		}
		n := rapid.IntRange(0, o.MaxRules).Draw(t, "rules")
		ids := rapid.SliceOfNDistinct(rapid.SampledFrom(edgeRuleIDs), n, n, rapid.ID[string]).Draw(t, "rule ids")
		list := func(label string) []string {
			if rapid.IntRange(0, 2).Draw(t, label+"?") != 2 {
				return nil
			}
			return rapid.SliceOfN(targets, 1, o.MaxTargets).Draw(t, label)
		}
		for i, id := range ids {
			r := impersonation.Rule{
				ImpersonationRuleId: id,
				Effect:              rapid.SampledFrom([]policy.Effect{policy.Allow, policy.Deny}).Draw(t, fmt.Sprintf("effect%d", i)),
				TargetUsers:         list(fmt.Sprintf("TargetUsers%d", i)),
				NotTargetUsers:      list(fmt.Sprintf("NotTargetUsers%d", i)),
			}
			if rapid.Bool().Draw(t, fmt.Sprintf("named%d", i)) {
				r.Name = rapid.SampledFrom(append([]string{fmt.Sprintf("Rule %.20s", id)}, edgeRoleNames...)).Draw(t, fmt.Sprintf("name%d", i))
			}
			r.Description = rapid.SampledFrom(edgeRoleDescs).Draw(t, fmt.Sprintf("description%d", i))
			role.Rules = append(role.Rules, r)
		}
		return role
	})
}
