package compare

import (
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"strings"

	"github.com/cedar-policy/cedar-go"
	"github.com/cedar-policy/cedar-go/types"
	"github.com/gaissmai/bart"
	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// ---- wmpolicy ----

// Wmpolicy is the library under comparison: accessctl.Compile and
// Policy.Evaluate.
type Wmpolicy struct{ p *accessctl.Policy }

// NewWmpolicy compiles the rules.
func NewWmpolicy(rules []accessctl.Rule) (*Wmpolicy, error) {
	p, err := accessctl.Compile(rules, accessctl.Options{})
	return &Wmpolicy{p}, err
}

// Eval answers one request, appending the names to names[:0].
func (e *Wmpolicy) Eval(r *accessctl.Request, names []string) (bool, []string) {
	eff, names, err := e.p.Evaluate(*r, names[:0])
	if err != nil {
		panic(err)
	}
	return eff == policy.Deny, names
}

// ---- a straightforward net/netip scan ----

// Scan evaluates every rule in turn: its range lists as netip.Prefix slices,
// actions as a bit mask, principals as small maps. Rules are kept in name
// order so that names come out sorted.
type Scan struct{ rules []scanRule }

type scanRule struct {
	name               string
	deny               bool
	in, not            []netip.Prefix
	actions            uint8 // bit a: action a passes Actions and NotActions
	users, notUsers    map[string]bool
	roles, notRoles    map[string]bool
	hasUsers, hasRoles bool
}

func set(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func actionMask(r *accessctl.Rule) uint8 {
	var m uint8
	for _, a := range accessctl.Actions() {
		s := a.String()
		if (len(r.Actions) == 0 || slices.Contains(r.Actions, s)) && (len(r.NotActions) == 0 || !slices.Contains(r.NotActions, s)) {
			m |= 1 << a
		}
	}
	return m
}

func prefixes(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, len(list))
	for i, s := range list {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		out[i] = p.Masked()
	}
	return out, nil
}

// NewScan prepares the rules.
func NewScan(rules []accessctl.Rule) (*Scan, error) {
	e := &Scan{}
	for _, r := range rules {
		in, err := prefixes(r.IpRanges)
		if err != nil {
			return nil, err
		}
		not, err := prefixes(r.NotIpRanges)
		if err != nil {
			return nil, err
		}
		e.rules = append(e.rules, scanRule{
			name: r.Name, deny: r.Effect == policy.Deny, in: in, not: not, actions: actionMask(&r),
			users: set(r.UserIds), notUsers: set(r.NotUserIds), roles: set(r.ImpersonationRoleIds), notRoles: set(r.NotImpersonationRoleIds),
			hasUsers: len(r.UserIds) > 0, hasRoles: len(r.ImpersonationRoleIds) > 0,
		})
	}
	slices.SortFunc(e.rules, func(a, b scanRule) int { return strings.Compare(a.name, b.name) })
	return e, nil
}

func containsAny(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Eval answers one request, appending the names to names[:0].
func (e *Scan) Eval(r *accessctl.Request, names []string) (bool, []string) {
	a := addr4(r)
	names = names[:0]
	anyDeny := false
	matched := 0
	for i := range e.rules {
		x := &e.rules[i]
		if x.actions&(1<<r.Action) == 0 {
			continue
		}
		if r.UserID != "" {
			if x.hasRoles || x.hasUsers && !x.users[r.UserID] || x.notUsers[r.UserID] {
				continue
			}
		} else if x.hasUsers || x.hasRoles && !x.roles[r.ImpersonationRoleID] || x.notRoles[r.ImpersonationRoleID] {
			continue
		}
		if len(x.in) > 0 && !containsAny(x.in, a) || containsAny(x.not, a) {
			continue
		}
		if x.deny && !anyDeny {
			anyDeny, names = true, names[:0] // DENY wins: only DENY rules from here on
		}
		if x.deny == anyDeny {
			names = append(names, x.name)
		}
		matched++
	}
	return anyDeny || matched == 0, names
}

// ---- LPM + rule bitsets on bart ----

// maxWords bounds the rule bitsets of Bart (64 rules a word).
const maxWords = 16

// Bart looks the address up in two longest-prefix-match tables, IpRanges and
// NotIpRanges, whose value at each prefix is the set of rules whose list
// covers it (its own rules and those of every supernet, pushed down at build
// time), and ANDs the result with a principal × action rule set.
type Bart struct {
	w          int
	names      []string // rule k's name; rules numbered in name order
	deny, noIn []uint64
	in, not    bart.Table[[]uint64]
	users      map[string]int // principal index
	roles      map[string]int
	other      [2]int
	pa         [][]uint64 // principal*7 + action-1
}

// NewBart builds the tables.
func NewBart(rules []accessctl.Rule) (*Bart, error) {
	rules = slices.Clone(rules)
	slices.SortFunc(rules, func(a, b accessctl.Rule) int { return strings.Compare(a.Name, b.Name) })
	w := max(1, (len(rules)+63)/64)
	if w > maxWords {
		return nil, fmt.Errorf("bart engine: %d rules, at most %d", len(rules), 64*maxWords)
	}
	e := &Bart{w: w, deny: make([]uint64, w), noIn: make([]uint64, w), users: map[string]int{}, roles: map[string]int{}}
	var own [2]bart.Table[[]uint64]
	add := func(t *bart.Table[[]uint64], list []string, k int) error {
		ps, err := prefixes(list)
		if err != nil {
			return err
		}
		for _, p := range ps {
			t.Modify(p, func(v []uint64, ok bool) ([]uint64, bool) {
				if !ok {
					v = make([]uint64, w)
				}
				v[k/64] |= 1 << (k % 64)
				return v, false
			})
		}
		return nil
	}
	for k, r := range rules {
		e.names = append(e.names, r.Name)
		if r.Effect == policy.Deny {
			e.deny[k/64] |= 1 << (k % 64)
		}
		if len(r.IpRanges) == 0 {
			e.noIn[k/64] |= 1 << (k % 64)
		}
		if err := add(&own[0], r.IpRanges, k); err != nil {
			return nil, err
		}
		if err := add(&own[1], r.NotIpRanges, k); err != nil {
			return nil, err
		}
	}
	pushDown(&own[0], &e.in, w)
	pushDown(&own[1], &e.not, w)
	e.principals(rules)
	return e, nil
}

// pushDown fills dst with own's prefixes, each valued with the union of the
// sets of all its supernets in own (itself included): an LPM lookup then
// yields every rule whose list covers the address.
func pushDown(own, dst *bart.Table[[]uint64], w int) {
	for p := range own.All() {
		acc := make([]uint64, w)
		for _, v := range own.Supernets(p) {
			for j := range acc {
				acc[j] |= v[j]
			}
		}
		dst.Insert(p, acc)
	}
}

// principals numbers the IDs the rules name, then "any other user / role",
// and computes each one's rule set for every action (A3, A4).
func (e *Bart) principals(rules []accessctl.Rule) {
	type prin struct {
		role bool
		id   string
	}
	var ps []prin
	for _, r := range rules {
		for _, id := range append(append([]string{}, r.UserIds...), r.NotUserIds...) {
			if _, ok := e.users[id]; !ok {
				e.users[id] = len(ps)
				ps = append(ps, prin{false, id})
			}
		}
		for _, id := range append(append([]string{}, r.ImpersonationRoleIds...), r.NotImpersonationRoleIds...) {
			if _, ok := e.roles[id]; !ok {
				e.roles[id] = len(ps)
				ps = append(ps, prin{true, id})
			}
		}
	}
	e.other = [2]int{len(ps), len(ps) + 1}
	ps = append(ps, prin{false, ""}, prin{true, ""})
	for _, p := range ps {
		for a := accessctl.Action(1); a <= accessctl.NumActions; a++ {
			bs := make([]uint64, e.w)
			for k, r := range rules {
				if actionMask(&r)&(1<<a) == 0 {
					continue
				}
				var ok bool
				if !p.role {
					ok = (len(r.UserIds) == 0 || slices.Contains(r.UserIds, p.id)) && !slices.Contains(r.NotUserIds, p.id) && len(r.ImpersonationRoleIds) == 0
				} else {
					ok = len(r.UserIds) == 0 && (len(r.ImpersonationRoleIds) == 0 || slices.Contains(r.ImpersonationRoleIds, p.id)) && !slices.Contains(r.NotImpersonationRoleIds, p.id)
				}
				if ok {
					bs[k/64] |= 1 << (k % 64)
				}
			}
			e.pa = append(e.pa, bs)
		}
	}
}

// Eval answers one request, appending the names to names[:0].
func (e *Bart) Eval(r *accessctl.Request, names []string) (bool, []string) {
	a := addr4(r)
	pi, ok := 0, false
	if r.UserID != "" {
		if pi, ok = e.users[r.UserID]; !ok {
			pi = e.other[0]
		}
	} else if pi, ok = e.roles[r.ImpersonationRoleID]; !ok {
		pi = e.other[1]
	}
	pa := e.pa[pi*accessctl.NumActions+int(r.Action-1)]
	in, _ := e.in.Lookup(a)
	not, _ := e.not.Lookup(a)
	var buf [maxWords]uint64
	m := buf[:e.w]
	var any, anyDeny uint64
	for j := range m {
		x := e.noIn[j]
		if in != nil {
			x |= in[j]
		}
		if not != nil {
			x &^= not[j]
		}
		x &= pa[j]
		m[j] = x
		any |= x
		anyDeny |= x & e.deny[j]
	}
	names = names[:0]
	for j, x := range m {
		if anyDeny != 0 {
			x &= e.deny[j]
		}
		for ; x != 0; x &= x - 1 {
			names = append(names, e.names[64*j+bits.TrailingZeros64(x)])
		}
	}
	return anyDeny != 0 || any == 0, names
}

// ---- Cedar ----

// Cedar holds one Cedar policy per rule (permit for ALLOW, forbid for DENY,
// the policy ID the rule's name); a request is principal User::"id" or
// Role::"id", action Action::"IMAP", … and the address in context.ip.
// Cedar's decision is A6's (forbid overrides permit, default deny) and its
// reasons are A7's deciding rules.
type Cedar struct {
	ps       *cedar.PolicySet
	entities cedar.EntityMap
}

// CedarRequest is a request in Cedar's form, built before timing.
type CedarRequest = cedar.Request

func cedarList(ids []string, f func(string) string) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = f(id)
	}
	return "(" + strings.Join(parts, " || ") + ")"
}

// CedarText returns rule r as a Cedar policy.
func CedarText(r *accessctl.Rule) string {
	var conds []string
	ip := func(s string) string { return fmt.Sprintf("context.ip.isInRange(ip(%q))", s) }
	act := func(s string) string { return fmt.Sprintf("action == Action::%q", s) }
	user := func(s string) string { return fmt.Sprintf("principal == User::%q", s) }
	role := func(s string) string { return fmt.Sprintf("principal == Role::%q", s) }
	for _, l := range []struct {
		ids []string
		f   func(string) string
		not bool
	}{
		{r.IpRanges, ip, false}, {r.NotIpRanges, ip, true},
		{r.Actions, act, false}, {r.NotActions, act, true},
		{r.UserIds, user, false}, {r.NotUserIds, user, true},
		{r.ImpersonationRoleIds, role, false}, {r.NotImpersonationRoleIds, role, true},
	} {
		if len(l.ids) == 0 {
			continue
		}
		c := cedarList(l.ids, l.f)
		if l.not {
			c = "!" + c
		}
		conds = append(conds, c)
	}
	eff := "permit"
	if r.Effect == policy.Deny {
		eff = "forbid"
	}
	text := eff + " (principal, action, resource)"
	if len(conds) > 0 {
		text += "\nwhen { " + strings.Join(conds, "\n && ") + " }"
	}
	return text + ";"
}

// NewCedar parses one policy per rule.
func NewCedar(rules []accessctl.Rule) (*Cedar, error) {
	e := &Cedar{ps: cedar.NewPolicySet(), entities: cedar.EntityMap{}}
	for i := range rules {
		var p cedar.Policy
		if err := p.UnmarshalCedar([]byte(CedarText(&rules[i]))); err != nil {
			return nil, fmt.Errorf("rule %s: %w", rules[i].Name, err)
		}
		e.ps.Add(cedar.PolicyID(rules[i].Name), &p)
	}
	return e, nil
}

// Request converts a request to Cedar's form.
func (e *Cedar) Request(r *accessctl.Request) CedarRequest {
	req := cedar.Request{
		Action:   cedar.NewEntityUID("Action", cedar.String(r.Action.String())),
		Resource: cedar.NewEntityUID("Organization", "m-00000000000000000000000000000000"),
		Context:  cedar.NewRecord(cedar.RecordMap{"ip": types.IPAddr(netip.PrefixFrom(addr4(r), 32))}),
	}
	if r.UserID != "" {
		req.Principal = cedar.NewEntityUID("User", cedar.String(r.UserID))
	} else {
		req.Principal = cedar.NewEntityUID("Role", cedar.String(r.ImpersonationRoleID))
	}
	return req
}

// Eval answers one request in Cedar's form, appending the names to
// names[:0] (sorted: Cedar reports reasons in no set order).
func (e *Cedar) Eval(req *CedarRequest, names []string) (bool, []string) {
	dec, diag := cedar.Authorize(e.ps, e.entities, *req)
	if len(diag.Errors) > 0 {
		panic(fmt.Sprint(diag.Errors))
	}
	names = names[:0]
	for _, r := range diag.Reasons {
		names = append(names, string(r.PolicyID))
	}
	slices.Sort(names)
	return dec == cedar.Deny, names
}
