package analysis

import (
	"context"
	"slices"
	"strconv"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/internal/ruleset"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Explanation is the full account of one request (SEMANTICS A3–A8): every
// rule with the outcome of each of its conditions, the decision and its
// reason. Effect, Reason and MatchedRules equal what
// [accessctl.Policy.Decide] answers for the same rules and request.
type Explanation struct {
	Request accessctl.Request
	// UserID is the user the request's UserID resolved to through the
	// directory (A18), the UserID itself without one, "" for a role request.
	UserID       string
	Effect       policy.Effect
	Reason       policy.Reason
	MatchedRules []string    // A7: matching rules of the winning effect, ascending name
	Rules        []RuleTrace // every rule, ascending name
}

// RuleTrace is one rule's part in an [Explanation].
type RuleTrace struct {
	Name   string
	Index  int // position in the rule list as given ("Rules[Index]")
	Effect policy.Effect
	// Matches is true when every condition holds (A3).
	Matches bool
	// Decisive is true when the rule matches and its effect is the decision's,
	// that is when it is in MatchedRules.
	Decisive bool
	// Conditions are the rule's non-empty lists, in the order of SEMANTICS A1;
	// a rule without any list has none and matches every request.
	Conditions []Condition
}

// Condition is the outcome of one list of a rule for one request.
type Condition struct {
	// Field is the list: "IpRanges", "NotIpRanges", "Actions", "NotActions",
	// "UserIds", "NotUserIds", "ImpersonationRoleIds" or
	// "NotImpersonationRoleIds".
	Field string
	// Holds is whether the list's condition holds (A3, A4).
	Holds bool
	// Index is the position of the list item that contains the request's
	// address or names its action or principal (the first such item), or -1
	// when none does; Item is that item as written.
	Index int
	Item  string
	// Detail says it in words, e.g. "192.0.2.7 is in NotIpRanges[0] 192.0.2.0/24".
	Detail string
}

// Explain answers one request and explains it. The request is checked as
// [accessctl.Policy.Evaluate] checks it (A10–A12; with a directory, A18: an
// unknown user is EntityNotFoundException); an invalid request returns the
// same error. With Options.Roles, a request of a role not listed is
// ResourceNotFoundException (path "ImpersonationRoleId"), as in
// [Analyzer.WhoCanPrincipal]: the organization has no such role, so no such
// request exists. Unknown user and role entries of rules (see [New]) name
// nobody.
//
// Cost: one address-table lookup plus O(rules × list lengths of users and
// actions); it allocates the answer. Safe for concurrent use.
func (a *Analyzer) Explain(ctx context.Context, req accessctl.Request) (*Explanation, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if _, err := a.check.Effect(req); err != nil {
		return nil, err
	}
	if err := a.knownRole(req.ImpersonationRoleID); err != nil {
		return nil, err
	}
	addr, _ := cidr.AddrFrom(req.IP) // checked above
	ex := &Explanation{Request: req, MatchedRules: []string{}}
	isRole := req.ImpersonationRoleID != ""
	if !isRole {
		ex.UserID = req.UserID
		if a.dir != nil {
			u, _ := a.dir.Lookup(req.UserID) // found: checked above
			ex.UserID = u.ID
		}
	}
	hit := a.addressHits(addr)
	// The request's principal as the lowering takes it (A18: the resolved
	// user ID).
	q := explainQuery{ip: cidr.AddrString(addr), act: req.Action.String(), action: int(req.Action),
		isRole: isRole, kind: ruleset.User, id: ex.UserID}
	if isRole {
		q.kind, q.id = ruleset.Role, req.ImpersonationRoleID
	}
	ex.Rules = make([]RuleTrace, 0, len(a.cr))
	all := make([]Condition, 0, a.nconds) // every rule's conditions, one allocation
	for _, k := range a.names {
		var tr RuleTrace
		tr, all = a.trace(k, hit, &q, all)
		ex.Rules = append(ex.Rules, tr)
	}
	ex.decide()
	return ex, nil
}

// explainQuery is a request as Explain's traces read it.
type explainQuery struct {
	ip, act string       // the address and action as printed
	action  int          // the action, 1…NumActions
	isRole  bool         // a role request
	kind    ruleset.Kind // the principal as the lowering takes it
	id      string       // the resolved user ID, or the role ID
}

// addressHits returns, for each rule k, the first item of its IpRanges
// ([2k]) and of its NotIpRanges ([2k+1]) that contains addr, or -1.
func (a *Analyzer) addressHits(addr uint32) []int32 {
	hit := make([]int32, 2*len(a.cr))
	for i := range hit {
		hit[i] = -1
	}
	for _, m := range a.table.Lookup(addr) {
		for t := a.head[m]; t >= 0; t = a.tags[t].next {
			tg := &a.tags[t]
			i := 2 * int(tg.rule)
			if tg.not {
				i++
			}
			if hit[i] < 0 || tg.index < hit[i] {
				hit[i] = tg.index
			}
		}
	}
	return hit
}

// trace explains rule k for q: one condition per list the rule has, in API
// order, appended to all (whose tail the trace's Conditions are).
func (a *Analyzer) trace(k int, hit []int32, q *explainQuery, all []Condition) (RuleTrace, []Condition) {
	r, c := &a.rules[k], &a.cr[k]
	tr := RuleTrace{Name: r.Name, Index: k, Effect: r.Effect, Matches: true}
	start := len(all)
	inIP, inNot := hit[2*k] >= 0, hit[2*k+1] >= 0
	for l := range ruleset.NumLists {
		if !c.HasList(l) {
			continue
		}
		// Whether the list holds is the lowering's (A3, A4, A18); which
		// item names the request, and the words, are found here.
		cd := Condition{Field: l.String(), Holds: c.ListHolds(l, inIP, inNot, q.kind, q.id, q.action)}
		items := (*ruleset.Input)(r).Items(l)
		switch l {
		case ruleset.IpRanges, ruleset.NotIpRanges:
			cd.Index = int(hit[2*k+int(l-ruleset.IpRanges)])
			if cd.Index >= 0 {
				cd.Item = items[cd.Index]
				cd.Detail = q.ip + " is in " + cd.Field + "[" + strconv.Itoa(cd.Index) + "] " + cd.Item
			} else {
				cd.Detail = q.ip + " is in none of the " + count(len(items), cd.Field)
			}
		case ruleset.Actions, ruleset.NotActions:
			listed(&cd, items, slices.Index(items, q.act), "", q.act)
		case ruleset.UserIds, ruleset.NotUserIds:
			if q.isRole {
				cd.Index, cd.Detail = -1, "a role request carries no user, so it is in no "+cd.Field+" (A4)"
				break
			}
			resolved := c.UserList // item by item (the lowering is lenient)
			if l == ruleset.NotUserIds {
				resolved = c.NotUserList
			}
			i := -1
			if q.id != "" { // "" marks an unknown entry in resolved
				i = slices.Index(resolved, q.id)
			}
			listed(&cd, items, i, "user ", q.id)
		case ruleset.ImpersonationRoleIds, ruleset.NotImpersonationRoleIds:
			if !q.isRole {
				cd.Index, cd.Detail = -1, "a user request carries no role, so it is in no "+cd.Field+" (A4)"
				break
			}
			// the role is known (checked above), so an item naming it counts
			listed(&cd, items, slices.Index(items, q.id), "role ", q.id)
		}
		all = append(all, cd)
		tr.Matches = tr.Matches && cd.Holds
	}
	if len(all) > start {
		tr.Conditions = all[start:len(all):len(all)]
	}
	return tr, all
}

// decide sets the effect, reason and deciding rules of ex from its traces
// (A6, A7): a matching DENY rule denies, else a matching ALLOW rule allows,
// else nothing matched.
func (ex *Explanation) decide() {
	anyDeny, anyAllow := false, false
	for i := range ex.Rules {
		if tr := &ex.Rules[i]; tr.Matches {
			anyDeny = anyDeny || tr.Effect == policy.Deny
			anyAllow = anyAllow || tr.Effect == policy.Allow
		}
	}
	switch {
	case anyDeny:
		ex.Effect, ex.Reason = policy.Deny, policy.ExplicitDeny
	case anyAllow:
		ex.Effect, ex.Reason = policy.Allow, policy.ExplicitAllow
	default:
		ex.Effect, ex.Reason = policy.Deny, policy.ImplicitDeny
	}
	if ex.Reason != policy.ImplicitDeny {
		for i := range ex.Rules {
			tr := &ex.Rules[i]
			if tr.Matches && tr.Effect == ex.Effect {
				tr.Decisive = true
				ex.MatchedRules = append(ex.MatchedRules, tr.Name)
			}
		}
	}
}

// listed fills in the item and the words of cd, the condition of a list of
// names: i is the item naming the request's value (-1 when none), prefix and
// value say what the request carries.
func listed(cd *Condition, items []string, i int, prefix, value string) {
	cd.Index = i
	what := prefix + value
	if i >= 0 {
		cd.Item = items[i]
		cd.Detail = what + " is " + cd.Field + "[" + strconv.Itoa(i) + "]"
		if items[i] != value {
			cd.Detail += " " + strconv.Quote(items[i])
		}
	} else {
		cd.Detail = what + " is not in " + cd.Field
	}
}

// count is "N field items", or "1 field item".
func count(n int, field string) string {
	if n == 1 {
		return "1 " + field + " item"
	}
	return strconv.Itoa(n) + " " + field + " items"
}
