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
	// Which ranges of which rule contain the address: the first such item of
	// each list.
	n := len(a.cr)
	hit := make([]int32, 2*n) // [2k]: IpRanges item, [2k+1]: NotIpRanges item
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
	ip := cidr.AddrString(addr)
	act := req.Action.String()
	// The request's principal as the lowering takes it (A18: the resolved
	// user ID).
	kind, id := ruleset.User, ex.UserID
	if isRole {
		kind, id = ruleset.Role, req.ImpersonationRoleID
	}
	ex.Rules = make([]RuleTrace, 0, n)
	all := make([]Condition, 0, a.nconds) // every rule's conditions, one allocation
	anyDeny, anyAllow := false, false
	for _, k := range a.names {
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
			cd := Condition{Field: l.String(), Holds: c.ListHolds(l, inIP, inNot, kind, id, int(req.Action))}
			items := (*ruleset.Input)(r).Items(l)
			switch l {
			case ruleset.IpRanges, ruleset.NotIpRanges:
				cd.Index = int(hit[2*k+int(l-ruleset.IpRanges)])
				if cd.Index >= 0 {
					cd.Item = items[cd.Index]
					cd.Detail = ip + " is in " + cd.Field + "[" + strconv.Itoa(cd.Index) + "] " + cd.Item
				} else {
					cd.Detail = ip + " is in none of the " + count(len(items), cd.Field)
				}
			case ruleset.Actions, ruleset.NotActions:
				listed(&cd, items, slices.Index(items, act), "", act)
			case ruleset.UserIds, ruleset.NotUserIds:
				if isRole {
					cd.Index, cd.Detail = -1, "a role request carries no user, so it is in no "+cd.Field+" (A4)"
					break
				}
				resolved := c.UserList // item by item (the lowering is lenient)
				if l == ruleset.NotUserIds {
					resolved = c.NotUserList
				}
				listed(&cd, items, slices.Index(resolved, ex.UserID), "user ", ex.UserID)
			case ruleset.ImpersonationRoleIds, ruleset.NotImpersonationRoleIds:
				if !isRole {
					cd.Index, cd.Detail = -1, "a user request carries no role, so it is in no "+cd.Field+" (A4)"
					break
				}
				// the role is known (checked above), so an item naming it counts
				listed(&cd, items, slices.Index(items, req.ImpersonationRoleID), "role ", req.ImpersonationRoleID)
			}
			all = append(all, cd)
			tr.Matches = tr.Matches && cd.Holds
		}
		if len(all) > start {
			tr.Conditions = all[start:len(all):len(all)]
		}
		if tr.Matches {
			anyDeny = anyDeny || r.Effect == policy.Deny
			anyAllow = anyAllow || r.Effect == policy.Allow
		}
		ex.Rules = append(ex.Rules, tr)
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
	return ex, nil
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
