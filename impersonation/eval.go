package impersonation

import (
	"fmt"

	"github.com/wmpolicy/wmpolicy/internal/fold"
	"github.com/wmpolicy/wmpolicy/internal/strtab"
	"github.com/wmpolicy/wmpolicy/internal/userdir"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Evaluator is one compiled, immutable impersonation role: the answer to
// GetImpersonationRoleEffect for every target user (SEMANTICS B2–B4). It is
// safe for concurrent use by any number of goroutines; to change the role,
// compile a new Evaluator and swap the pointer (for example with
// atomic.Pointer).
//
// All validation, directory resolution of the role's TargetUsers and
// NotTargetUsers, and the decision for every user the rules name happen in
// [Compile]. The users a role names (at most 200) each get a class, and every
// other user shares one more; each class holds its precomputed effect and
// matched rules. Evaluating is one [policy.Directory] Lookup of the target
// (none without a directory), one hash lookup of the user ID in a small table,
// and a copy of the class's matched rules: O(1) in the size of the directory
// and of the role.
//
// A nil *Evaluator is a role that does not exist: every evaluation returns a
// ResourceNotFoundException. The zero Evaluator is not usable; build one with
// Compile.
type Evaluator struct {
	role  Role             // deep copy of the compiled role
	dir   policy.Directory // nil: identifiers are exact strings
	users strtab.Table     // resolved user ID (without a directory, the exact string) → class
	// With a *policy.MemDirectory: every identifier of every ENABLED named user
	// as the directory keys it (the ID exactly; email, aliases and user name
	// folded) → class; targets that miss it are
	// resolved by the directory (see classMem).
	mem       *policy.MemDirectory
	keys      *userdir.Keys // mem's, for its allocation-free Find
	local     strtab.Table
	namedBits []uint64         // bit i: directory user i is one of the role's own ENABLED users
	namedIdx  map[int32]uint16 // directory index → class, for them
	named     []string         // class k's user ID
	other     uint16           // the class of every user the rules do not name
	classes   []class
	matched   []MatchedRule // the classes' MatchedRules, back to back
	matching  []Match       // the classes' matching rules (Decision.Matching), back to back
}

// class is the precomputed answer for one group of target users.
type class struct {
	effect     policy.Effect
	reason     Reason
	off, end   uint16 // MatchedRules are matched[off:end]
	moff, mend uint16 // the matching rules (B3) are matching[moff:mend]
}

// Compile validates role (as [ValidateRole]: every problem, with its path) and
// compiles it into an [*Evaluator].
//
// With a directory, every TargetUsers and NotTargetUsers entry is resolved
// through dir.Lookup to a user ID (an ID, email or alias, or user name; emails
// and user names case-insensitively), and the compiled role compares user IDs,
// so that naming one user two ways can never bypass a NotTargetUsers list
// (B2). An entry that resolves to no user is an EntityNotFoundException with
// its path ("Rules[1].NotTargetUsers[0]"); every such entry is reported. The
// state of the users a rule names does not matter here. The Evaluator keeps
// dir and looks every target up in it. Without a directory (dir == nil),
// entries and targets are compared as exact strings.
//
// The role is copied: later changes to it do not affect the Evaluator.
// Cost: O(R·U) time and space for R ≤ 10 rules and U ≤ 200 named users.
func Compile(role Role, dir policy.Directory) (*Evaluator, error) {
	if errs := validateRole(&role); len(errs) > 0 {
		return nil, errs
	}
	e := &Evaluator{role: role.Clone(), dir: dir}
	n := len(role.Rules)

	// B2: resolve the lists; collect the distinct user IDs the rules name.
	var errs policy.ErrorList
	index := map[string]int{}
	var named []string
	type sets struct{ target, notTarget map[int]bool }
	conds := make([]sets, n)
	resolve := func(i int, field string, list []string) map[int]bool {
		if list == nil {
			return nil // absent: no condition
		}
		m := make(map[int]bool, len(list))
		for j, id := range list {
			if dir != nil {
				u, ok := dir.Lookup(id)
				if !ok || u.ID == "" {
					errs = append(errs, policy.Errorf(policy.EntityNotFoundException,
						fmt.Sprintf("Rules[%d].%s[%d]", i, field, j), fmt.Sprintf("no user %q in the directory", truncate(id, 64))))
					continue
				}
				id = u.ID
			}
			k, ok := index[id]
			if !ok {
				k = len(named)
				index[id] = k
				named = append(named, id)
			}
			m[k] = true
		}
		return m
	}
	rules := make([]Match, n) // rule i as {ID, Name, Effect}, role order
	for i, r := range role.Rules {
		rules[i] = Match{ImpersonationRuleId: r.ImpersonationRuleId, Name: r.Name, Effect: r.Effect}
		conds[i] = sets{resolve(i, "TargetUsers", r.TargetUsers), resolve(i, "NotTargetUsers", r.NotTargetUsers)}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	classOf := make(map[string]int32, len(named))
	for k, id := range named {
		classOf[id] = int32(k)
	}
	e.users = strtab.New(classOf)
	e.named = named
	if md, ok := dir.(*policy.MemDirectory); ok && md != nil {
		e.mem = md
		local := map[string]int32{}
		e.namedBits = make([]uint64, (md.Len()+63)/64)
		e.namedIdx = make(map[int32]uint16, len(named))
		e.keys = userdir.Of(md)
		for k, id := range named {
			i, enabled, _, ok := e.keys.Find(id)
			if !ok || !enabled {
				continue // a target naming them takes the directory path (and its error)
			}
			e.namedBits[i>>6] |= 1 << (i & 63)
			e.namedIdx[int32(i)] = uint16(k)
			u, _ := md.Lookup(id)
			local[u.ID] = int32(k)
			for _, v := range append([]string{u.Email, u.Name}, u.Aliases...) {
				if v != "" {
					local[fold.String(v)] = int32(k)
				}
			}
		}
		e.local = strtab.New(local)
	}

	// B3, B4: the answer for each named user (class k) and for everyone else
	// (class len(named)), who is in no list.
	e.other = uint16(len(named))
	e.classes = make([]class, len(named)+1)
	interned := map[uint16][2]uint16{}  // deciding rules → matched[off:end]
	minterned := map[uint16][2]uint16{} // matching rules → matching[moff:mend]
	for k := range e.classes {
		var c class
		var matching, deny uint16 // bit i set: rule i matches (B3); and is a DENY rule
		for i, s := range conds {
			// A list that is present holds for user k when k is / is not in it;
			// the "other" class is in no list.
			if (s.target == nil || s.target[k]) && !s.notTarget[k] {
				matching |= 1 << i
				if rules[i].Effect == policy.Deny {
					deny |= 1 << i
				}
			}
		}
		deciding := matching
		switch {
		case deny != 0:
			c.effect, c.reason, deciding = policy.Deny, ExplicitDeny, deny
		case matching != 0:
			c.effect, c.reason = policy.Allow, ExplicitAllow
		default:
			c.effect, c.reason = policy.Deny, ImplicitDeny
		}
		span, ok := interned[deciding]
		if !ok {
			span[0] = uint16(len(e.matched))
			for i := range n {
				if deciding&(1<<i) != 0 {
					e.matched = append(e.matched, MatchedRule{ImpersonationRuleId: rules[i].ImpersonationRuleId, Name: rules[i].Name})
				}
			}
			span[1] = uint16(len(e.matched))
			interned[deciding] = span
		}
		c.off, c.end = span[0], span[1]
		mspan, ok := minterned[matching]
		if !ok {
			mspan[0] = uint16(len(e.matching))
			for i := range n {
				if matching&(1<<i) != 0 {
					e.matching = append(e.matching, rules[i])
				}
			}
			mspan[1] = uint16(len(e.matching))
			minterned[matching] = mspan
		}
		c.moff, c.mend = mspan[0], mspan[1]
		e.classes[k] = c
	}
	return e, nil
}

// errNoRole is the answer of a nil *Evaluator.
var errNoRole = &policy.Error{Code: policy.ResourceNotFoundException, Path: "ImpersonationRoleId",
	Message: "no such impersonation role"}

var errNoTarget = &policy.Error{Code: policy.ValidationException, Path: "TargetUser",
	Message: "target user is required"}

// class resolves target (B2) and returns its class and, when wantID is set,
// its user ID.
func (e *Evaluator) class(target string, wantID bool) (uint16, string, error) {
	if target == "" {
		return 0, "", errNoTarget
	}
	if e.mem != nil && len(target) <= 256 {
		if k, ok := e.classMem(target); ok {
			if !wantID {
				return k, "", nil
			}
			return k, e.idOf(k, target), nil
		}
	}
	return e.classDir(target)
}

// classDir is class for a non-empty target that classMem did not answer:
// through the directory's Lookup, or as the exact ID without a directory.
func (e *Evaluator) classDir(target string) (uint16, string, error) {
	id := target
	if e.dir != nil {
		u, ok := e.dir.Lookup(target)
		if !ok || u.ID == "" {
			return 0, "", &policy.Error{Code: policy.EntityNotFoundException, Path: "TargetUser",
				Message: fmt.Sprintf("no user %q in the directory", truncate(target, 64))}
		}
		if u.State != "ENABLED" {
			state := u.State
			if state == "" {
				state = "without a state"
			}
			return 0, "", &policy.Error{Code: policy.EntityStateException, Path: "TargetUser",
				Message: fmt.Sprintf("user %q is %s: only an ENABLED user can be impersonated", truncate(target, 64), state)}
		}
		id = u.ID
	}
	if k, ok := e.users.Get(id); ok {
		return uint16(k), id, nil
	}
	return e.other, id, nil
}

// classMem is class for a *policy.MemDirectory. A target written exactly as
// the directory keys one of the role's own users (its ID, or a lower-case
// email, alias or user name) is answered by the local table without touching
// the directory. Any other target is resolved by the directory (which folds
// case only when the exact probe misses, and keeps each user's state in its
// keys); only a folded match can be one of the role's own, which a bitset over
// the directory's users tells. ok is false when the
// general path must answer (a target the directory does not know or that is
// not ENABLED: it reports the error).
func (e *Evaluator) classMem(target string) (uint16, bool) {
	// strtab's Get, written out around its frameless Lookup.
	v, r := e.local.Lookup(target)
	hit := r == strtab.Hit
	if r == strtab.Slow {
		v, hit = e.local.Get(target)
	}
	if hit {
		return uint16(v), true
	}
	i, enabled, folded, ok := e.keys.Find(target)
	if !ok || !enabled {
		return 0, false
	}
	// Matched exactly as the directory keys it, a user of the role's own
	// would have been in the local table: only a folded match can be one.
	if folded && e.namedBits[i>>6]&(1<<(i&63)) != 0 {
		return e.namedIdx[int32(i)], true
	}
	return e.other, true
}

// idOf returns the user ID of a target in class k found by classMem.
func (e *Evaluator) idOf(k uint16, target string) string {
	if k != e.other {
		return e.named[k]
	}
	u, _ := e.mem.Lookup(target)
	return u.ID
}

// Evaluate is the fast path of GetImpersonationRoleEffect (SEMANTICS B2–B4): it
// returns the role's type, the effect for target, and matched extended by the
// rules that decided it — the matching rules whose effect equals the result, in
// the role's rule order, none when nothing matched (an implicit DENY).
//
// target names the user to impersonate: with a directory, by user ID, email or
// alias, or user name (emails and user names case-insensitively); without one,
// by the exact string the rules use. Only a non-empty target is required here;
// the wire constraints on it (1–256 characters of [a-zA-Z0-9._%+@-]) are
// checked by [Evaluator.GetImpersonationRoleEffect]. Errors: an empty target is
// a ValidationException; a target the directory does not know is an
// EntityNotFoundException, one whose state is not ENABLED an
// EntityStateException. On error the effect is Deny and matched is returned
// unchanged; the type is the role's, except for a nil *Evaluator (0 and a
// ResourceNotFoundException).
//
// Evaluate does not allocate when matched has room for the role's rules
// (reuse one slice per goroutine: `typ, eff, m, err = ev.Evaluate(t, m[:0])`)
// and the directory's Lookup does not allocate (a [policy.MemDirectory] does
// not for ASCII targets, the only ones the wire allows). It costs one
// Lookup, one small-table lookup and the copy of at most ten MatchedRules. With a *[policy.MemDirectory], a target written exactly
// as the directory keys one of the role's own (ENABLED) users — the ID, or a
// lower-case email, alias or user name — is answered from a table compiled
// with the role, without touching the directory; any other target costs one
// directory probe (two when it must be case-folded).
func (e *Evaluator) Evaluate(target string, matched []MatchedRule) (Type, policy.Effect, []MatchedRule, error) {
	if e == nil {
		return 0, policy.Deny, matched, errNoRole
	}
	// class, with its common case first and one call shallower.
	k, ok := uint16(0), false
	if e.mem != nil && target != "" && len(target) <= 256 {
		k, ok = e.classMem(target)
	}
	if !ok {
		var err error
		if k, _, err = e.class(target, false); err != nil {
			return e.role.Type, policy.Deny, matched, err
		}
	}
	c := &e.classes[k]
	// One append per rule: for the one to three rules that decide most
	// answers, cheaper than append's bulk copy (a runtime call).
	//lint:ignore S1011 measured: 30 instructions fewer per evaluation than the bulk append
	for _, m := range e.matched[c.off:c.end] {
		matched = append(matched, m)
	}
	return e.role.Type, c.effect, matched, nil
}

// Effect returns only the effect for target; see [Evaluator.Evaluate], whose
// errors it shares. It never allocates on success.
func (e *Evaluator) Effect(target string) (policy.Effect, error) {
	if e == nil {
		return policy.Deny, errNoRole
	}
	k, _, err := e.class(target, false)
	if err != nil {
		return policy.Deny, err
	}
	return e.classes[k].effect, nil
}

// Decide returns the full decision for target: the role's type, the effect,
// the [Reason], the deciding rules (B4), every matching rule and the resolved
// user ID. Errors are those of [Evaluator.Evaluate]. It allocates the slices
// of its answer (never nil); use Evaluate on hot paths, or
// [Evaluator.DecideTo] to reuse a Decision's slices.
func (e *Evaluator) Decide(target string) (Decision, error) {
	var d Decision
	err := e.DecideTo(&d, target)
	return d, err
}

// DecideTo is [Evaluator.Decide] writing its answer to *d, which it
// overwrites entirely, and reusing the capacity of d's slices: once they have
// had room for the role's rules it allocates nothing. Keep no reference into
// d's slices across calls. On error *d is the zero Decision but for its
// slices, kept emptied. Safe for concurrent use, each goroutine with its own d.
func (e *Evaluator) DecideTo(d *Decision, target string) error {
	matched, matching := d.MatchedRules[:0], d.Matching[:0]
	if e == nil {
		*d = Decision{MatchedRules: matched, Matching: matching}
		return errNoRole
	}
	k, id, err := e.class(target, true)
	if err != nil {
		*d = Decision{MatchedRules: matched, Matching: matching}
		return err
	}
	c := &e.classes[k]
	*d = Decision{
		Type:         e.role.Type,
		Effect:       c.effect,
		Reason:       c.reason,
		MatchedRules: append(room(matched, int(c.end-c.off)), e.matched[c.off:c.end]...),
		Matching:     append(room(matching, int(c.mend-c.moff)), e.matching[c.moff:c.mend]...),
		UserID:       id,
	}
	return nil
}

// room returns s emptied when it is non-nil with room for n elements, else
// a new empty slice with room for n (non-nil, and without allocating when n
// is 0).
func room[T any](s []T, n int) []T {
	if s == nil || cap(s) < n {
		return make([]T, 0, n)
	}
	return s[:0]
}

// GetImpersonationRoleEffect answers a request in the wire shapes (SEMANTICS
// B2–B4, D1). It checks the input first and reports every problem as a
// [policy.ErrorList] of ValidationException errors: OrganizationId, when set,
// matches m-[0-9a-f]{32}; ImpersonationRoleId, when set, is 1–64 characters
// of [a-zA-Z0-9_-]; TargetUser is 1–256 characters of [a-zA-Z0-9._%+@-].
// Then an ImpersonationRoleId other than the compiled role's is a
// ResourceNotFoundException (the Evaluator answers for its own role only; an
// empty one means this role). Then it evaluates as [Evaluator.Evaluate] does
// and returns {"Type", "Effect", "MatchedRules"} with MatchedRules never nil.
func (e *Evaluator) GetImpersonationRoleEffect(in GetImpersonationRoleEffectInput) (GetImpersonationRoleEffectOutput, error) {
	if err := in.Check(); err != nil {
		return GetImpersonationRoleEffectOutput{}, err
	}
	if e == nil || (in.ImpersonationRoleId != "" && in.ImpersonationRoleId != e.role.ImpersonationRoleId) {
		return GetImpersonationRoleEffectOutput{}, &policy.Error{Code: policy.ResourceNotFoundException,
			Path: "ImpersonationRoleId", Message: fmt.Sprintf("no impersonation role %q", in.ImpersonationRoleId)}
	}
	typ, eff, matched, err := e.Evaluate(in.TargetUser, make([]MatchedRule, 0, 2))
	if err != nil {
		return GetImpersonationRoleEffectOutput{}, err
	}
	return GetImpersonationRoleEffectOutput{Type: typ, Effect: eff, MatchedRules: matched}, nil
}

// Role returns a deep copy of the compiled role, as given to Compile (its
// TargetUsers as written, not resolved). A nil *Evaluator returns the zero Role.
func (e *Evaluator) Role() Role {
	if e == nil {
		return Role{}
	}
	return e.role.Clone()
}

// ID returns the role's ImpersonationRoleId ("" for a nil *Evaluator).
func (e *Evaluator) ID() string {
	if e == nil {
		return ""
	}
	return e.role.ImpersonationRoleId
}

// Type returns the role's type (0 for a nil *Evaluator).
func (e *Evaluator) Type() Type {
	if e == nil {
		return 0
	}
	return e.role.Type
}

// Reason says why a decision came out as it did; it is [policy.Reason].
type Reason = policy.Reason

// The reasons, as in package policy.
const (
	ImplicitDeny  = policy.ImplicitDeny  // no rule matched: DENY
	ExplicitDeny  = policy.ExplicitDeny  // a matching DENY rule decided
	ExplicitAllow = policy.ExplicitAllow // matching ALLOW rules and no DENY rule
)

// Match is one rule that matched a target user, with its effect.
type Match struct {
	ImpersonationRuleId string
	Name                string // "" when the rule has no name
	Effect              policy.Effect
}

// Decision is the full answer of GetImpersonationRoleEffect for one target
// (SEMANTICS B4). Decisions returned by [Evaluator.Decide] have non-nil slices.
type Decision struct {
	// Type is the role's type, whatever the effect.
	Type Type
	// Effect is Allow or Deny.
	Effect policy.Effect
	// Reason says whether a DENY rule, an ALLOW rule, or nothing decided.
	Reason Reason
	// MatchedRules are the matching rules whose effect is Effect, in the role's
	// rule order; empty on an implicit deny.
	MatchedRules []MatchedRule
	// Matching lists every matching rule, of either effect, in the role's rule order.
	Matching []Match
	// UserID is the user ID the target resolved to through the directory, or
	// the target as given when there is no directory.
	UserID string
}

// Output returns the wire shape of the decision (MatchedRules [] when empty).
func (d Decision) Output() GetImpersonationRoleEffectOutput {
	m := d.MatchedRules
	if m == nil {
		m = []MatchedRule{}
	}
	return GetImpersonationRoleEffectOutput{Type: d.Type, Effect: d.Effect, MatchedRules: m}
}
