package policytest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
	"pgregory.net/rapid"
)

// Direction says which way a rule change may move the effect of a request
// (SEMANTICS A6: deny overrides, and nothing matched is DENY).
type Direction uint8

const (
	// Mixed: the change may turn some requests from DENY to ALLOW and others
	// from ALLOW to DENY.
	Mixed Direction = iota
	// Grants: the change may only turn DENY into ALLOW, never ALLOW into DENY
	// (adding an ALLOW rule, removing a DENY rule, widening an ALLOW rule,
	// narrowing a DENY rule, turning a DENY rule into an ALLOW rule).
	Grants
	// Restricts: the change may only turn ALLOW into DENY (the opposites of
	// the changes that grant).
	Restricts
	// Neutral: the change moves no effect (a description edit, or a list edit
	// after which the rule matches the same requests).
	Neutral
)

// String returns "mixed", "grants", "restricts" or "neutral".
func (d Direction) String() string {
	switch d {
	case Grants:
		return "grants"
	case Restricts:
		return "restricts"
	case Neutral:
		return "neutral"
	}
	return "mixed"
}

// Allows reports whether a change in direction d may move an effect from
// before to after.
func (d Direction) Allows(before, after policy.Effect) bool {
	switch {
	case before == after:
		return true
	case d == Neutral:
		return false
	case d == Grants:
		return before == policy.Deny && after == policy.Allow
	case d == Restricts:
		return before == policy.Allow && after == policy.Deny
	}
	return true
}

// MutationKind is what a [Mutation] does to a rule list.
type MutationKind uint8

// The kinds of mutation.
const (
	AddRule    MutationKind = iota + 1 // a rule with a new name is added
	RemoveRule                         // a rule is removed
	EditRule                           // a rule is replaced by an edited rule of the same name
)

// String returns "add", "remove" or "edit".
func (k MutationKind) String() string {
	switch k {
	case AddRule:
		return "add"
	case RemoveRule:
		return "remove"
	case EditRule:
		return "edit"
	}
	return fmt.Sprintf("MutationKind(%d)", uint8(k))
}

// Mutation is one change to a rule list, as a reload sees it: the list before
// and after, and what changed. Both lists are valid. Before is the list given
// to [Mutate] (not copied, never modified); After is a new slice whose rules
// share no list storage with Before's.
type Mutation struct {
	Kind        MutationKind
	Name        string           // the rule added, removed or edited
	Before      []accessctl.Rule // the list before the change
	After       []accessctl.Rule // the list after the change
	Direction   Direction        // which way the change may move effects
	Description string           // the change in words, e.g. `edit "rule-3": add "10.0.0.0/8" to NotIpRanges (restricts)`
}

// String returns m.Description.
func (m Mutation) String() string { return m.Description }

// Mutate generates one change to rules, for testing reload paths: add a rule
// (a [Rule] of o with a name rules do not use), remove one, or edit one — flip
// its effect, change its description, add an item to or remove an item from
// one of its eight lists, or replace it with another rule of the same name.
// Each mutation carries its [Direction]. For an edit of a list it is read from
// the rule before and after the edit as internal/ruleset lowers them (the
// reading the library evaluates): a rule that matches more requests is wider
// (as a rule, after adding an item to a non-empty positive list — IpRanges, Actions, UserIds,
// ImpersonationRoleIds —, removing one from a Not list or the last one of a
// positive list), one that matches fewer is narrower (the opposite changes),
// and one that matches the same requests (a repeated item, a range inside one
// already listed, an edit of a rule nothing can match) is Neutral. An edit of
// UserIds or NotUserIds is Neutral only when the list keeps the same strings:
// with a directory, an ID and that user's email name one user (A18), so any
// other edit keeps its direction as written. Widening an ALLOW rule grants,
// widening a DENY rule restricts, and so on. Replacing a whole rule is Mixed.
//
// An empty list can only be added to. Shrinks toward adding an ALLOW rule
// without lists.
func Mutate(rules []accessctl.Rule, o RuleOptions) *rapid.Generator[Mutation] {
	o = o.norm()
	used := map[string]bool{}
	for _, r := range rules {
		used[r.Name] = true
	}
	return rapid.Custom(func(t *rapid.T) Mutation {
		m := Mutation{Before: rules}
		after := make([]accessctl.Rule, len(rules))
		for i, r := range rules {
			after[i] = r.Clone()
		}
		kind := AddRule
		if len(rules) > 0 {
			kind = MutationKind(rapid.IntRange(1, 3).Draw(t, "kind"))
		}
		m.Kind = kind
		switch kind {
		case AddRule:
			name := RuleName().Filter(func(s string) bool { return !used[s] }).Draw(t, "name")
			r := drawRule(t, name, o, RangeString())
			at := rapid.IntRange(0, len(after)).Draw(t, "at")
			m.After = slices.Insert(after, at, r)
			m.Name = name
			m.Direction = byEffect(r.Effect, true)
			m.Description = fmt.Sprintf("add %s rule %q", r.Effect, name)
		case RemoveRule:
			i := rapid.IntRange(0, len(after)-1).Draw(t, "which")
			r := after[i]
			m.After = slices.Delete(after, i, i+1)
			m.Name = r.Name
			m.Direction = byEffect(r.Effect, false)
			m.Description = fmt.Sprintf("remove %s rule %q", r.Effect, r.Name)
		case EditRule:
			i := rapid.IntRange(0, len(after)-1).Draw(t, "which")
			m.Name = after[i].Name
			what := editRule(t, &after[i], o, &m.Direction)
			m.After = after
			m.Description = fmt.Sprintf("edit %q: %s", m.Name, what)
		}
		m.Description += " (" + m.Direction.String() + ")"
		return m
	})
}

// byEffect is the direction of making a rule of effect e match more requests
// (wider) or fewer.
func byEffect(e policy.Effect, wider bool) Direction {
	if (e == policy.Allow) == wider {
		return Grants
	}
	return Restricts
}

type editableList struct {
	name string
	list *[]string
	max  int
	item *rapid.Generator[string]
}

func editRule(t *rapid.T, r *accessctl.Rule, o RuleOptions, dir *Direction) string {
	lists := []editableList{
		{"IpRanges", &r.IpRanges, accessctl.MaxIPRanges, RangeString()},
		{"NotIpRanges", &r.NotIpRanges, accessctl.MaxIPRanges, RangeString()},
		{"Actions", &r.Actions, accessctl.MaxActions, rapid.SampledFrom(actionNames())},
		{"NotActions", &r.NotActions, accessctl.MaxActions, rapid.SampledFrom(actionNames())},
		{"UserIds", &r.UserIds, accessctl.MaxUserIDs, rapid.SampledFrom(o.UserIDs)},
		{"NotUserIds", &r.NotUserIds, accessctl.MaxUserIDs, rapid.SampledFrom(o.UserIDs)},
		{"ImpersonationRoleIds", &r.ImpersonationRoleIds, accessctl.MaxRoleIDs, rapid.SampledFrom(o.RoleIDs)},
		{"NotImpersonationRoleIds", &r.NotImpersonationRoleIds, accessctl.MaxRoleIDs, rapid.SampledFrom(o.RoleIDs)},
	}
	switch rapid.IntRange(0, 4).Draw(t, "edit") {
	case 0:
		if r.Effect == policy.Allow {
			r.Effect = policy.Deny
			*dir = Restricts
		} else {
			r.Effect = policy.Allow
			*dir = Grants
		}
		return "effect becomes " + r.Effect.String()
	case 1:
		old := r.Description
		r.Description = Description().Filter(func(s string) bool { return s != old }).Draw(t, "description")
		*dir = Neutral
		return fmt.Sprintf("description becomes %q", r.Description)
	case 2:
		name, effect := r.Name, r.Effect
		*r = drawRule(t, name, o, RangeString())
		*dir = Mixed
		if r.Effect != effect {
			return "replaced by a " + r.Effect.String() + " rule"
		}
		return "replaced"
	}
	l := lists[rapid.IntRange(0, len(lists)-1).Draw(t, "list")]
	before := r.Clone()
	var what string
	var wider, noop bool // wider as written; noop: the list holds the same strings
	if len(*l.list) == 0 || (len(*l.list) < l.max && rapid.Bool().Draw(t, "add?")) {
		v := l.item.Draw(t, "item")
		noop = slices.Contains(*l.list, v)
		wider = !strings.HasPrefix(l.name, "Not") && len(*l.list) > 0
		*l.list = append(*l.list, v)
		what = fmt.Sprintf("add %q to %s", v, l.name)
	} else {
		j := rapid.IntRange(0, len(*l.list)-1).Draw(t, "item")
		v := (*l.list)[j]
		*l.list = slices.Delete(*l.list, j, j+1)
		noop = slices.Contains(*l.list, v)
		wider = strings.HasPrefix(l.name, "Not") || len(*l.list) == 0
		if len(*l.list) == 0 {
			*l.list = nil
		}
		what = fmt.Sprintf("remove %q from %s", v, l.name)
	}
	*dir = listDirection(before, *r, l.name, wider, noop)
	return what
}

// listDirection is the direction of an edit of list (named as in the API) of
// rule before, giving after with the same effect: listEdit's, except that an
// edit of a user list that changes its strings keeps its direction as
// written (wider), never Neutral. The lowering compares user entries as
// strings; with a directory two of them may name one user (an ID and that
// user's email, A18), and the edit then moves decisions as written.
func listDirection(before, after accessctl.Rule, list string, wider, noop bool) Direction {
	d := listEdit(after.Effect, before, after)
	if d == Neutral && strings.HasSuffix(list, "UserIds") && !noop {
		return byEffect(after.Effect, wider)
	}
	return d
}

// listEdit is the direction of an edit of a rule's lists that keeps its
// effect e, as internal/ruleset reads the rule before and after (SEMANTICS
// A3–A5, A9), without a directory: matching more requests widens it, fewer
// narrows it, the same requests is Neutral; Mixed if neither covers the
// other or the rules do not lower.
func listEdit(e policy.Effect, before, after accessctl.Rule) Direction {
	set, err := lower(before, after)
	if err != nil {
		return Mixed
	}
	switch wider, narrower := set.Covers(1, 0), set.Covers(0, 1); {
	case wider && narrower:
		return Neutral
	case wider:
		return byEffect(e, true)
	case narrower:
		return byEffect(e, false)
	}
	return Mixed
}
