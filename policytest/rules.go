package policytest

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unicode"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/internal/ruleset"
	"github.com/wmpolicy/wmpolicy/policy"
	"pgregory.net/rapid"
)

// RuleOptions are the knobs of [Rule], [Rules] and [Mutate]. The zero value
// generates up to 10 rules with short lists and no principal conditions; see
// [DefaultRuleOptions] and [MaxRuleOptions]. Values above the model's maxima
// (SEMANTICS A13) are lowered to them, so generated rules are always valid.
type RuleOptions struct {
	MinRules      int      // fewest rules in a list ([Rules]); at most MaxRules
	MaxRules      int      // most rules in a list ([Rules]); 0 means 10; any number is allowed (A14)
	MaxRanges     int      // items in IpRanges and NotIpRanges each; 0 means 4; at most 1024
	MaxActions    int      // items in Actions and NotActions each; 0 means 3; at most 10
	MaxPrincipals int      // items in each user and role list; 0 means 3; at most 10
	Users         bool     // whether rules get UserIds and NotUserIds
	Roles         bool     // whether rules get ImpersonationRoleIds and NotImpersonationRoleIds
	UserIDs       []string // the users rules name (12–256 characters each); nil means [UserIDs]
	RoleIDs       []string // the roles rules name ([a-zA-Z0-9_-]{1,64}); nil means [RoleIDs]
	// Ranges, when not nil, draws every entry of IpRanges and NotIpRanges
	// (valid A9 ranges only), for example to keep rules inside a small
	// universe that a test can evaluate exhaustively; nil means the
	// edge-biased default ([RangeString], and in [Rules] a shared [RangeFamily]).
	Ranges *rapid.Generator[string]
}

// DefaultRuleOptions returns options that generate up to 10 rules (WorkMail's
// limit, A14) with up to 4 ranges, 3 actions and 3 principals per list, naming
// users and roles.
func DefaultRuleOptions() RuleOptions { return defaultRuleOptions }

var defaultRuleOptions = RuleOptions{MaxRules: 10, MaxRanges: 4, Users: true, Roles: true}

// MaxRuleOptions returns options that generate rule lists up to every maximum
// of the model: 10 rules, 1024 ranges per range list, 10 actions and 10
// principals per list. About one list in sixteen is at its maximum; 1024-range
// lists cost time to draw and shrink, so use these options in a few dedicated
// properties.
func MaxRuleOptions() RuleOptions { return maxRuleOptions }

var maxRuleOptions = RuleOptions{
	MaxRules: accessctl.WorkMailRuleLimit, MaxRanges: accessctl.MaxIPRanges,
	MaxActions: accessctl.MaxActions, MaxPrincipals: accessctl.MaxUserIDs,
	Users: true, Roles: true,
}

func (o RuleOptions) norm() RuleOptions {
	if o.MaxRules <= 0 {
		o.MaxRules = 10
	}
	o.MinRules = min(max(o.MinRules, 0), o.MaxRules)
	o.MaxRanges = clamp(o.MaxRanges, 4, accessctl.MaxIPRanges)
	o.MaxActions = clamp(o.MaxActions, 3, accessctl.MaxActions)
	o.MaxPrincipals = clamp(o.MaxPrincipals, 3, min(accessctl.MaxUserIDs, accessctl.MaxRoleIDs))
	if len(o.UserIDs) == 0 {
		o.UserIDs = userIDs
	}
	if len(o.RoleIDs) == 0 {
		o.RoleIDs = roleIDs
	}
	return o
}

func clamp(v, zero, hi int) int {
	if v <= 0 {
		return zero
	}
	return min(v, hi)
}

// listOf draws a list that is empty about half the time, else 1 to max items
// long, exactly max items one time in eight (so that maxima are reached).
func listOf[T any](t *rapid.T, label string, g *rapid.Generator[T], max int) []T {
	if rapid.Bool().Draw(t, label+"?") {
		return nil
	}
	if rapid.IntRange(0, 7).Draw(t, label+" full?") == 7 {
		return rapid.SliceOfN(g, max, max).Draw(t, label)
	}
	return rapid.SliceOfN(g, 1, max).Draw(t, label)
}

var edgeRuleNames = []string{
	"a", "Z", "_", "-", "0", "default", "Rule-1", "RULE-1", "rule-1",
	repeat("n", accessctl.MaxNameLength),
	"A-" + repeat("z", accessctl.MaxNameLength-2),
}

// RuleName generates a valid rule name (SEMANTICS A13): "rule-N" three times in
// four, else an edge case: one character (a letter, '_', '-' or a digit),
// "default", names that differ only in case (which sort apart by byte order,
// A7), and names of the maximum length, 64.
//
// Shrinks toward "rule-0".
func RuleName() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		if rapid.IntRange(0, 3).Draw(t, "edge?") == 3 {
			return rapid.SampledFrom(edgeRuleNames).Draw(t, "edge")
		}
		return fmt.Sprintf("rule-%d", rapid.IntRange(0, 99999).Draw(t, "n"))
	})
}

// Description generates a valid rule description (A13): empty half the time,
// else 1–255 characters of U+0020–U+00FF, including the edges (space, '~',
// U+00A0, U+00FF) and the maximum length.
//
// Shrinks toward "".
func Description() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		switch rapid.IntRange(0, 3).Draw(t, "kind") {
		case 0, 1:
			return ""
		case 2:
			return rapid.SampledFrom([]string{
				"Default WorkMail Rule", " ", "ÿ", repeat("ÿ", accessctl.MaxDescription),
				repeat("x", accessctl.MaxDescription), "a ~ \u00a0 ü",
			}).Draw(t, "edge")
		}
		rs := rapid.SliceOfN(rapid.RuneFrom(nil, latin1), 1, accessctl.MaxDescription).Draw(t, "runes")
		return string(rs)
	})
}

// Rule generates one valid rule named name (SEMANTICS A1, A9–A13).
//
// Covers: both effects; each of the eight lists empty about half the time and
// otherwise 1 to the list's maximum in o items (the maximum one time in
// eight) — ranges from [RangeString], actions from the seven (repeats
// allowed), users from o.UserIDs and roles from o.RoleIDs (small pools, so
// lists of different rules overlap and a list and its Not twin may share
// items, A5); a [Description] a quarter of the time.
//
// Shrinks toward an ALLOW rule with no lists and no description.
func Rule(name string, o RuleOptions) *rapid.Generator[accessctl.Rule] {
	o = o.norm()
	return rapid.Custom(func(t *rapid.T) accessctl.Rule {
		ranges := o.Ranges
		if ranges == nil {
			ranges = RangeString()
		}
		return drawRule(t, name, o, ranges)
	})
}

func drawRule(t *rapid.T, name string, o RuleOptions, ranges *rapid.Generator[string]) accessctl.Rule {
	r := accessctl.Rule{
		Name:   name,
		Effect: rapid.SampledFrom([]policy.Effect{policy.Allow, policy.Deny}).Draw(t, "effect"),
	}
	if rapid.IntRange(0, 3).Draw(t, "described?") == 3 {
		r.Description = Description().Draw(t, "description")
	}
	r.IpRanges = listOf(t, "IpRanges", ranges, o.MaxRanges)
	r.NotIpRanges = listOf(t, "NotIpRanges", ranges, o.MaxRanges)
	actions := rapid.SampledFrom(actionNames())
	r.Actions = listOf(t, "Actions", actions, o.MaxActions)
	r.NotActions = listOf(t, "NotActions", actions, o.MaxActions)
	if o.Users {
		users := rapid.SampledFrom(o.UserIDs)
		r.UserIds = listOf(t, "UserIds", users, o.MaxPrincipals)
		r.NotUserIds = listOf(t, "NotUserIds", users, o.MaxPrincipals)
	}
	if o.Roles {
		roles := rapid.SampledFrom(o.RoleIDs)
		r.ImpersonationRoleIds = listOf(t, "ImpersonationRoleIds", roles, o.MaxPrincipals)
		r.NotImpersonationRoleIds = listOf(t, "NotImpersonationRoleIds", roles, o.MaxPrincipals)
	}
	return r
}

func actionNames() []string {
	var out []string
	for _, a := range accessctl.Actions() {
		out = append(out, a.String())
	}
	return out
}

// Rules generates a valid rule list (ValidateRules accepts it, Compile compiles
// it) of o.MinRules to o.MaxRules rules with distinct [RuleName] names, in
// random order (names are not sorted, so order-dependence shows).
//
// Covers: everything [Rule] covers; the ranges of one list are drawn half the
// time from one shared [RangeFamily], so that ranges in different rules and
// lists duplicate, nest, touch and overlap.
//
// Shrinks toward fewer rules, then as [Rule] does.
func Rules(o RuleOptions) *rapid.Generator[[]accessctl.Rule] {
	o = o.norm()
	return rapid.Custom(func(t *rapid.T) []accessctl.Rule {
		n := rapid.IntRange(o.MinRules, o.MaxRules).Draw(t, "n")
		names := rapid.SliceOfNDistinct(RuleName(), n, n, rapid.ID[string]).Draw(t, "names")
		ranges := o.Ranges
		if ranges == nil {
			var family []string
			for _, r := range RangeFamily().Draw(t, "family") {
				family = append(family, r.String())
			}
			ranges = rapid.OneOf(rapid.SampledFrom(family), RangeString())
		}
		rules := make([]accessctl.Rule, n)
		for i, name := range names {
			rules[i] = drawRule(t, name, o, ranges)
		}
		return rules
	})
}

// Request generates a valid request (SEMANTICS A2, A10–A12): a user request for
// any of the seven actions, or (about one in four) an EWS request of an
// impersonation role. Addresses come from [Addr]; principals from [UserIDs]
// and [RoleIDs] plus [UnknownUserID] and [UnknownRoleID], which no generated
// rule names, and one time in four a [NearMiss] of the one drawn.
//
// Shrinks toward an ActiveSync request of UserIDs[0] from 10.0.0.0.
func Request() *rapid.Generator[accessctl.Request] {
	return requestFrom(userIDs, roleIDs, nil)
}

func requestFrom(users, roles []string, ranges []cidr.Range) *rapid.Generator[accessctl.Request] {
	users = append(slices.Clone(users), UnknownUserID)
	roles = append(slices.Clone(roles), UnknownRoleID)
	addr := Addr()
	if len(ranges) > 0 {
		addr = rapid.OneOf(AddrNear(ranges...), Addr())
	}
	return rapid.Custom(func(t *rapid.T) accessctl.Request {
		r := accessctl.Request{IP: addr.Draw(t, "ip")}
		if rapid.IntRange(0, 3).Draw(t, "role?") == 3 {
			r.Action = accessctl.EWS
			r.ImpersonationRoleID = principal(t, roles, "role")
			return r
		}
		r.Action = rapid.SampledFrom(accessctl.Actions()).Draw(t, "action")
		r.UserID = principal(t, users, "user")
		return r
	})
}

// principal draws an identifier from pool or, one time in four, a near miss
// of one ([NearMiss]).
func principal(t *rapid.T, pool []string, label string) string {
	id := rapid.SampledFrom(pool).Draw(t, label)
	if rapid.IntRange(0, 3).Draw(t, label+" near miss?") == 3 {
		id = NearMiss(id).Draw(t, label+" near miss")
	}
	return id
}

// idChars are the characters user and role IDs share: a near miss stays
// within them, so that it is as valid as the identifier it imitates.
const idChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"

// NearMiss generates identifiers one character away from id: the same length,
// with one character at any position replaced by another of
// [a-zA-Z0-9-], preferably one that differs from it in a single bit ('8' and
// '9', 'S' and 's'), since those are what a comparison that looks at words
// rather than bytes gets wrong. Tables that hash only part of a long key give
// such near misses the key's hash: requests naming them must still be
// another principal. The result can equal another identifier of a pool (a
// near miss of "…-0001" may be "…-0003"), never id itself. It panics if id
// is empty. Shrinks toward changing the first character.
func NearMiss(id string) *rapid.Generator[string] {
	if id == "" {
		panic("policytest: NearMiss of an empty identifier")
	}
	return rapid.Custom(func(t *rapid.T) string {
		b := []byte(id)
		i := rapid.IntRange(0, len(b)-1).Draw(t, "position")
		var near []byte
		for bit := range 8 {
			if c := b[i] ^ 1<<bit; strings.IndexByte(idChars, c) >= 0 {
				near = append(near, c)
			}
		}
		if len(near) == 0 || rapid.IntRange(0, 3).Draw(t, "any character?") == 3 {
			near = nil
			for j := range len(idChars) {
				if idChars[j] != b[i] {
					near = append(near, idChars[j])
				}
			}
		}
		b[i] = rapid.SampledFrom(near).Draw(t, "character")
		return string(b)
	})
}

// RequestFor generates valid requests aimed at rules, so that they hit some
// rules and miss others (and, for some, all). One time in three the request is
// a [RequestMatching] one of the rules; otherwise half the time the address is
// at the edge of one of the rules' ranges ([AddrNear]: network, broadcast, ±1),
// else an [Addr], and principals are the users and roles the rules name, the
// pools [UserIDs] and [RoleIDs], or [UnknownUserID] and [UnknownRoleID], and
// one time in four a [NearMiss] of the one drawn.
//
// Rules are read once, when RequestFor is called. Shrinks as [Request] does.
func RequestFor(rules []accessctl.Rule) *rapid.Generator[accessctl.Request] {
	var ranges []cidr.Range
	users, roles := slices.Clone(userIDs), slices.Clone(roleIDs)
	for _, r := range rules {
		for _, list := range [][]string{r.IpRanges, r.NotIpRanges} {
			for _, s := range list {
				if rg, err := cidr.ParseRange(s); err == nil {
					ranges = append(ranges, rg)
				}
			}
		}
		users = append(append(users, r.UserIds...), r.NotUserIds...)
		roles = append(append(roles, r.ImpersonationRoleIds...), r.NotImpersonationRoleIds...)
	}
	general := requestFrom(dedup(users), dedup(roles), ranges)
	if len(rules) == 0 {
		return general
	}
	aimed := make([]*rapid.Generator[accessctl.Request], len(rules))
	for i, r := range rules {
		aimed[i] = RequestMatching(r)
	}
	return rapid.Custom(func(t *rapid.T) accessctl.Request {
		if rapid.IntRange(0, 2).Draw(t, "aimed?") == 2 {
			return aimed[rapid.IntRange(0, len(aimed)-1).Draw(t, "at rule")].Draw(t, "aimed")
		}
		return general.Draw(t, "request")
	})
}

// RequestMatching generates valid requests aimed to match rule r: the address
// is inside one of its IpRanges (network, broadcast, just inside them, or
// anywhere inside) or, without IpRanges, an [Addr], avoiding its NotIpRanges
// when a few tries allow; the action is one of its Actions not in NotActions
// or, without Actions, any not in NotActions; the principal is one of its
// UserIds or ImpersonationRoleIds (with EWS) not in the Not twin or, without
// them, one not in its Not lists. The request matches r unless r's lists
// exclude each other (UserIds and ImpersonationRoleIds both set, A4; a role list
// with Actions lacking EWS; a list inside its Not twin; …), in which case
// nothing can match r and the principal is one of the kind r lists (users
// first) that satisfies the lists of its kind; it is always valid. Which addresses, actions and
// principals satisfy r is read from r lowered by internal/ruleset, the
// reading accessctl evaluates (ranges that do not parse are left out). The
// rule is read once, when RequestMatching is called. Shrinks toward the first
// item of each list.
func RequestMatching(r accessctl.Rule) *rapid.Generator[accessctl.Request] {
	r.IpRanges, r.NotIpRanges = parseable(r.IpRanges), parseable(r.NotIpRanges)
	lr := &ruleset.Rule{} // unreachable fallback: with its ranges parsed and no directory, r lowers
	if set, err := lower(r); err == nil {
		lr = &set.Rules[0]
	}
	addr := Addr()
	if len(lr.IP()) > 0 {
		addr = addrInside(lr.IP())
	}
	holds := func(a netip.Addr) bool {
		u, _ := cidr.AddrFrom(a)
		return lr.HoldsAddr(u)
	}
	var actions []accessctl.Action
	for _, a := range accessctl.Actions() {
		if lr.Allows(int(a)) {
			actions = append(actions, a)
		}
	}
	if len(actions) == 0 {
		actions = accessctl.Actions()
	}
	// The principals r's lists name, or without them the pools, that satisfy
	// r's principal conditions; a role is aimed at when only a role can.
	userList, roleList := candidates(r.UserIds, userIDs, UnknownUserID), candidates(r.ImpersonationRoleIds, roleIDs, UnknownRoleID)
	users, roles := holding(lr, ruleset.User, userList), holding(lr, ruleset.Role, roleList)
	roleFirst, either := len(roles) > 0 && len(users) == 0, len(roles) > 0 && len(users) > 0
	if len(users) == 0 && len(roles) == 0 {
		// No principal satisfies r (A4: it lists users and roles; or a list
		// lies inside its Not twin): aim at a user when r lists users, else
		// at a role, that satisfies the lists of its own kind, as r without
		// the other kind's lists reads them; else at any it lists.
		roleFirst = len(r.UserIds) == 0 && len(r.ImpersonationRoleIds) > 0
		own := r
		if roleFirst {
			own.UserIds, own.NotUserIds = nil, nil
		} else {
			own.ImpersonationRoleIds, own.NotImpersonationRoleIds = nil, nil
		}
		if set, err := lower(own); err == nil {
			users, roles = holding(&set.Rules[0], ruleset.User, userList), holding(&set.Rules[0], ruleset.Role, roleList)
		}
		if len(users) == 0 {
			users = userList
		}
		if len(roles) == 0 {
			roles = roleList
		}
	}
	return rapid.Custom(func(t *rapid.T) accessctl.Request {
		req := accessctl.Request{IP: addr.Draw(t, "ip")}
		for try := 0; try < 3 && !holds(req.IP); try++ {
			req.IP = addr.Draw(t, "ip again")
		}
		useRole := roleFirst
		if either && slices.Contains(actions, accessctl.EWS) {
			useRole = rapid.IntRange(0, 3).Draw(t, "role?") == 3
		}
		if useRole {
			req.Action = accessctl.EWS
			req.ImpersonationRoleID = rapid.SampledFrom(roles).Draw(t, "role")
			return req
		}
		req.Action = rapid.SampledFrom(actions).Draw(t, "action")
		req.UserID = rapid.SampledFrom(users).Draw(t, "user")
		return req
	})
}

// lower lowers rules, in input order, through internal/ruleset: the one
// reading of what a rule means (SEMANTICS A3, A4, A18), which accessctl and
// analysis build on. Without a directory identifiers are exact strings; it
// fails only on a range that does not parse.
func lower(rules ...accessctl.Rule) (*ruleset.Set, error) {
	in := make([]ruleset.Input, len(rules))
	for i, r := range rules {
		in[i] = ruleset.Input(r)
	}
	return ruleset.Lower(in, ruleset.Options{Lenient: true})
}

// parseable returns the ranges of list that parse, in a new slice (nil for
// none).
func parseable(list []string) []string {
	var out []string
	for _, s := range list {
		if _, err := cidr.ParseRange(s); err == nil {
			out = append(out, s)
		}
	}
	return out
}

// holding returns the ids for which lr's principal conditions of kind k hold
// (ruleset.Rule.Holds), in a new slice.
func holding(lr *ruleset.Rule, k ruleset.Kind, ids []string) []string {
	return slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return !lr.Holds(k, id) })
}

// candidates returns the principals to aim at from a positive list: the
// list, or without one the pool and unknown, deduplicated.
func candidates(list, pool []string, unknown string) []string {
	if len(list) == 0 {
		list = append(slices.Clone(pool), unknown)
	}
	return dedup(slices.Clone(list))
}

// addrInside generates an address inside one of ranges: its network or
// broadcast address, the address just inside either, or any address in it.
func addrInside(ranges []cidr.Range) *rapid.Generator[netip.Addr] {
	return rapid.Custom(func(t *rapid.T) netip.Addr {
		r := ranges[rapid.IntRange(0, len(ranges)-1).Draw(t, "range")]
		first, last := r.First(), r.Last()
		var a uint32
		switch rapid.IntRange(0, 4).Draw(t, "where") {
		case 0:
			a = first
		case 1:
			a = last
		case 2:
			a = first + min(1, last-first) // no wrap-around at 255.255.255.255/32
		case 3:
			a = last - min(1, last-first) // nor at 0.0.0.0/32
		default:
			a = first + rapid.Uint32Range(0, last-first).Draw(t, "offset")
		}
		return cidr.AddrToNetip(a)
	})
}

// dedup returns list without repeats, in first-seen order, dropping strings
// that are not valid principals of a request.
func dedup(list []string) []string {
	seen := map[string]bool{}
	out := list[:0:0]
	for _, s := range list {
		if !seen[s] && s != "" && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 }) {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// latin1 is U+0020–U+00FF, the characters of a rule description (A13).
var latin1 = &unicode.RangeTable{R16: []unicode.Range16{{Lo: 0x20, Hi: 0xFF, Stride: 1}}}
