// Package ruleset is the lowered form of an access-control rule list: what
// each rule means, decided once (SEMANTICS A3, A4, A18), for every consumer —
// accessctl's compiled Policy lays it out for evaluation, analysis builds its
// cells from it. Besides internal/reference (the oracle, which shares nothing
// on purpose) no other code in the module decides which list holds for a
// request, that an absent principal is in no list, or how a user named three
// ways becomes one ID.
//
// [Lower] turns validated rules into a [Set]: ranges parsed and tagged with
// their rule and list, actions as bit masks, user entries resolved through
// the directory and role entries checked, and the named principals as
// classes. A Set is immutable once built and safe for concurrent use.
//
// What each of a rule's eight lists ([List]) means for a request is stated
// once, in [Rule.ListHolds]; [Rule.Holds], [Rule.Allows], [Rule.HoldsAddr]
// and the Set's columns are derived from it, and code that reports on single
// lists (analysis's Explain) asks it list by list.
//
// The package cannot import accessctl (accessctl imports it), so rules come in
// as [Input], which has accessctl.Rule's fields (a Rule converts to it), and
// actions are numbers 1…[NumActions] in accessctl's order ([ActionNames]).
package ruleset

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/policy"
)

// NumActions is the number of WorkMail actions (A11); actions are numbered
// 1…NumActions.
const NumActions = 7

// Kind is the kind of a request's principal: a user or an impersonation
// role (A2). It indexes arrays by kind.
type Kind uint8

// The principal kinds.
const (
	User Kind = 0
	Role Kind = 1
)

// Input is one rule as accessctl.Rule holds it: the same fields, of the same
// types, in the same order, so that a Rule converts to an Input
// (ruleset.Input(rule)) and no code maps one onto the other field by field;
// the compiler refuses the conversion if the two ever differ. Lower reads
// Name, Effect and the eight lists. Ranges must parse (the rules have
// passed accessctl's validation), or come parsed in [Options.Parsed].
type Input struct {
	Name                                          string           // unique in the list (A15b)
	Effect                                        policy.Effect    // ALLOW or DENY
	Description                                   string           // not read
	IpRanges, NotIpRanges                         []string         // CIDRs as written (A9)
	Actions, NotActions                           []string         // action names, as ActionNames spells them (A11)
	UserIds, NotUserIds                           []string         // user identifiers: IDs, or with a Directory also emails, aliases, user names (A18)
	ImpersonationRoleIds, NotImpersonationRoleIds []string         // role IDs
	DateCreated, DateModified                     policy.Timestamp // not read
}

// ActionNames are the actions' API names by number (A11): ActionNames[a] is
// action a, 1…NumActions, in the order the API documents them; ActionNames[0]
// is "". accessctl.Action's names are these.
var ActionNames = [NumActions + 1]string{"", "ActiveSync", "AutoDiscover", "EWS", "IMAP", "SMTP", "WindowsOutlook", "WebMail"}

// Options configure [Lower]. The zero Options lower a rule list on its own:
// identifiers are exact strings, any role ID is known, a rule is numbered by
// its position in the input, and unknown entries cannot occur.
type Options struct {
	// Directory, when set, resolves user entries to user IDs (A18).
	Directory policy.Directory
	// KnownRole, when set, tells which role IDs exist (A18).
	KnownRole func(id string) bool
	// Lenient records a user entry the directory does not know, or a role
	// entry KnownRole refuses, in Rule.Unknown and lets it name nobody (how a
	// rule behaves once that user or role is deleted); otherwise each is an
	// error (EntityNotFoundException, ResourceNotFoundException).
	Lenient bool
	// ByName numbers rules in ascending byte order of Name (so that walking a
	// rule bitset yields names sorted, A7); otherwise in input order.
	ByName bool
	// Parsed, when not nil, are every rule's ranges already parsed, in input
	// order: rule 0's IpRanges then its NotIpRanges, then rule 1's, and so
	// on. Lower keeps the slice (Set.Ranges) instead of parsing again.
	Parsed []cidr.Range
}

// Entry is one list item that names nobody (Options.Lenient).
type Entry struct {
	Field string // "UserIds", "NotUserIds", "ImpersonationRoleIds", "NotImpersonationRoleIds"
	Index int
	ID    string
}

// List names one of a rule's eight lists, in the order of SEMANTICS A1
// (the API's order); String returns its API name.
type List uint8

// The lists, in API order; NumLists is their number.
const (
	IpRanges List = iota
	NotIpRanges
	Actions
	NotActions
	UserIds
	NotUserIds
	ImpersonationRoleIds
	NotImpersonationRoleIds
	NumLists
)

var listNames = [NumLists]string{"IpRanges", "NotIpRanges", "Actions", "NotActions", "UserIds", "NotUserIds", "ImpersonationRoleIds", "NotImpersonationRoleIds"}

// String returns the list's API name, e.g. "NotUserIds"; the field of
// accessctl.Rule and Input of that name holds it.
func (l List) String() string {
	if l >= NumLists {
		return fmt.Sprintf("List(%d)", uint8(l))
	}
	return listNames[l]
}

// Items returns list l of the rule, as written (nil for a List out of
// range).
func (in *Input) Items(l List) []string {
	switch l {
	case IpRanges:
		return in.IpRanges
	case NotIpRanges:
		return in.NotIpRanges
	case Actions:
		return in.Actions
	case NotActions:
		return in.NotActions
	case UserIds:
		return in.UserIds
	case NotUserIds:
		return in.NotUserIds
	case ImpersonationRoleIds:
		return in.ImpersonationRoleIds
	case NotImpersonationRoleIds:
		return in.NotImpersonationRoleIds
	}
	return nil
}

// Rule is one lowered rule.
type Rule struct {
	Index int // position in the input
	Name  string
	Deny  bool
	// Ranges are the rule's IpRanges then NotIpRanges, parsed, as written
	// (host bits kept, A9); a window of Set.Ranges starting at Off.
	Ranges []cidr.Range
	Off    int32
	In     int // len(IpRanges)
	// InActions, InNotActions have bit a set when action a is in Actions,
	// NotActions as written.
	InActions, InNotActions uint8
	// Actions has bit a set when action a satisfies Actions and NotActions:
	// Lower sets it as ListHolds says (for code that wants the mask).
	Actions uint8
	// Users … NotRoles are the lists as sets of resolved IDs (A18); nil for
	// an empty list. Unknown entries (Lenient) are left out.
	Users, NotUsers, Roles, NotRoles map[string]bool
	// UserList, NotUserList are UserIds, NotUserIds resolved item by item
	// ("" for an unknown entry); Lenient only (nil otherwise).
	UserList, NotUserList []string
	// Unknown are the entries that name nobody (Lenient only).
	Unknown []Entry
	// lists has bit l set when list l is non-empty as written (HasList).
	lists uint8
}

// IP returns the rule's IpRanges, parsed.
func (r *Rule) IP() []cidr.Range { return r.Ranges[:r.In] }

// NotIP returns the rule's NotIpRanges, parsed.
func (r *Rule) NotIP() []cidr.Range { return r.Ranges[r.In:] }

// HasList reports whether list l of the rule is non-empty as written, that
// is whether it sets a condition (A3). A list of entries that all name
// nobody (Options.Lenient) still does: a positive list then holds for no
// principal, a Not list for every one.
func (r *Rule) HasList(l List) bool { return l < NumLists && r.lists&(1<<l) != 0 }

// ListHolds reports whether list l of the rule holds for a request (SEMANTICS
// A3, A4; A18 through the resolved sets): inIP, inNot tell whether the
// request's address is inside some item of the rule's IpRanges, NotIpRanges
// (host bits ignored, A9); k and id are its principal, as [Rule.Holds] takes
// them (a resolved user ID; "" for a principal no rule names); a is its
// action, 1…NumActions. A list the rule does not have (HasList false) sets no
// condition and holds; so the rule matches the request when every list
// holds. The arguments a list does not read are ignored, and a List out of
// range holds.
//
// Each list's meaning is stated once, in the method of the list it calls;
// Holds, Allows (through Rule.Actions), HoldsAddr and every column of the
// Set are derived from the same methods.
func (r *Rule) ListHolds(l List, inIP, inNot bool, k Kind, id string, a int) bool {
	switch l {
	case IpRanges:
		return r.holdsIpRanges(inIP)
	case NotIpRanges:
		return r.holdsNotIpRanges(inNot)
	case Actions:
		return r.holdsActions(a)
	case NotActions:
		return r.holdsNotActions(a)
	case UserIds:
		return r.holdsUserIds(k, id)
	case NotUserIds:
		return r.holdsNotUserIds(k, id)
	case ImpersonationRoleIds:
		return r.holdsImpersonationRoleIds(k, id)
	case NotImpersonationRoleIds:
		return r.holdsNotImpersonationRoleIds(k, id)
	}
	return true
}

// SEMANTICS A3, the table, and A4, one method per list ([Rule.ListHolds]):
// an absent list holds; a present one as the table says, a principal the
// request does not carry being in no list.

// holdsIpRanges: the address is inside at least one range (inIP).
func (r *Rule) holdsIpRanges(inIP bool) bool { return !r.HasList(IpRanges) || inIP }

// holdsNotIpRanges: the address is inside none of the ranges (inNot false).
func (r *Rule) holdsNotIpRanges(inNot bool) bool { return !r.HasList(NotIpRanges) || !inNot }

// holdsActions: action a is in the list.
func (r *Rule) holdsActions(a int) bool { return !r.HasList(Actions) || r.InActions&(1<<a) != 0 }

// holdsNotActions: action a is not in the list.
func (r *Rule) holdsNotActions(a int) bool {
	return !r.HasList(NotActions) || r.InNotActions&(1<<a) == 0
}

// holdsUserIds: the request's user is in the list; a role request carries
// no user, which is in no list (A4).
func (r *Rule) holdsUserIds(k Kind, id string) bool {
	return !r.HasList(UserIds) || k == User && r.Users[id]
}

// holdsNotUserIds: the request's user is not in the list; a role request
// carries none (A4), so it holds.
func (r *Rule) holdsNotUserIds(k Kind, id string) bool {
	return !r.HasList(NotUserIds) || k != User || !r.NotUsers[id]
}

// holdsImpersonationRoleIds: the request's role is in the list; a user
// request carries no role, which is in no list (A4).
func (r *Rule) holdsImpersonationRoleIds(k Kind, id string) bool {
	return !r.HasList(ImpersonationRoleIds) || k == Role && r.Roles[id]
}

// holdsNotImpersonationRoleIds: the request's role is not in the list; a
// user request carries none (A4), so it holds.
func (r *Rule) holdsNotImpersonationRoleIds(k Kind, id string) bool {
	return !r.HasList(NotImpersonationRoleIds) || k != Role || !r.NotRoles[id]
}

// Holds reports whether the rule's principal conditions — UserIds,
// NotUserIds, ImpersonationRoleIds, NotImpersonationRoleIds — hold for a
// request whose principal is of kind k with ID id ("" for a principal no rule
// names), each as [Rule.ListHolds] says: SEMANTICS A3 — each non-empty list
// holds — and A4 — a request carries no principal of the other kind, which is
// in no list, so a user never satisfies a non-empty ImpersonationRoleIds and
// always satisfies NotImpersonationRoleIds, and the other way round for
// roles.
func (r *Rule) Holds(k Kind, id string) bool {
	return r.holdsUserIds(k, id) && r.holdsNotUserIds(k, id) &&
		r.holdsImpersonationRoleIds(k, id) && r.holdsNotImpersonationRoleIds(k, id)
}

// Allows reports whether action a (1…NumActions) satisfies the rule's
// Actions and NotActions (A3): bit a of Rule.Actions, which Lower sets as
// [Rule.ListHolds] says, so the zero Rule allows every action.
func (r *Rule) Allows(a int) bool { return r.holdsActions(a) && r.holdsNotActions(a) }

// Set is a lowered rule list. Rule k is bit k of every bitset: bit k%64 of
// word k/64, Words words.
type Set struct {
	Rules []Rule // numbered: by name (Options.ByName) or input order
	// Ranges are every rule's ranges in input order (Rule.Off, Rule.In);
	// Tags[j] says whose range j is: rule number << 1, | 1 for NotIpRanges.
	Ranges []cidr.Range
	Tags   []uint32
	Words  int
	Deny   []uint64 // the DENY rules
	NoIn   []uint64 // the rules without IpRanges (that condition always holds)
	named  [2]map[string][]int32
	ids    [2][]string // named IDs by kind, sorted
	other  [2][NumActions + 1][]uint64
}

// Named returns the IDs of kind k that some rule's lists name, sorted. The
// slice is the Set's: do not change it.
func (s *Set) Named(k Kind) []string { return s.ids[k] }

// IsNamed reports whether a rule names id as a principal of kind k.
func (s *Set) IsNamed(k Kind, id string) bool { _, ok := s.named[k][id]; return ok }

// Column writes to dst (Words long) the rules whose action and principal
// conditions hold for a request of action a by the principal of kind k with
// ID id ("" or any unnamed ID: a principal no rule names). It costs
// O(Words + rules naming id); [Set.Columns] writes every action's at once.
func (s *Set) Column(dst []uint64, k Kind, id string, a int) {
	copy(dst, s.other[k][a])
	for _, n := range s.named[k][id] {
		r := &s.Rules[n]
		bit := uint64(1) << (n % 64)
		if r.Allows(a) && r.Holds(k, id) {
			dst[n/64] |= bit
		} else {
			dst[n/64] &^= bit
		}
	}
}

// Columns calls each for every action a = 1…NumActions with the column of
// (k, id, a), as [Set.Column] writes it, in buf (Words long), which each must
// not keep.
func (s *Set) Columns(k Kind, id string, buf []uint64, each func(a int, bits []uint64)) {
	named := s.named[k][id]
	var hold [64]bool
	holds := hold[:0]
	if len(named) > len(hold) {
		holds = make([]bool, 0, len(named))
	}
	for _, n := range named {
		holds = append(holds, s.Rules[n].Holds(k, id))
	}
	bits := buf[:s.Words]
	for a := 1; a <= NumActions; a++ {
		copy(bits, s.other[k][a])
		for i, n := range named {
			bit := uint64(1) << (n % 64)
			if holds[i] && s.Rules[n].Allows(a) {
				bits[n/64] |= bit
			} else {
				bits[n/64] &^= bit
			}
		}
		each(a, bits)
	}
}

// Lower lowers rules that passed accessctl's validation. With a Directory or
// KnownRole and not Lenient, an entry naming no user is
// EntityNotFoundException and an unknown role ResourceNotFoundException
// (A18), every one with its path "Rules[i].Field[j]", sorted by rule, as a
// policy.ErrorList; the Set is then nil.
//
// Cost: O(R) for R ranges (plus parsing them when Options.Parsed is nil),
// O(n log n) for n rules, and one directory lookup per user entry.
func Lower(rules []Input, opts Options) (*Set, error) {
	n := len(rules)
	w := max(1, (n+63)/64)
	s := &Set{Rules: make([]Rule, n), Words: w, Deny: make([]uint64, w), NoIn: make([]uint64, w)}
	order := make([]int32, n) // number → input index
	for i := range order {
		order[i] = int32(i)
	}
	if opts.ByName {
		slices.SortFunc(order, func(a, b int32) int { return strings.Compare(rules[a].Name, rules[b].Name) })
	}
	// Ranges, in input order.
	s.Ranges = opts.Parsed
	if s.Ranges == nil {
		total := 0
		for i := range rules {
			total += len(rules[i].IpRanges) + len(rules[i].NotIpRanges)
		}
		s.Ranges = make([]cidr.Range, 0, total)
		for i := range rules {
			for li, list := range [2][]string{rules[i].IpRanges, rules[i].NotIpRanges} {
				for j, str := range list {
					rg, err := cidr.ParseRange(str)
					if err != nil {
						field := [2]string{"IpRanges", "NotIpRanges"}[li]
						return nil, policy.Errorf(policy.ValidationException, fmt.Sprintf("Rules[%d].%s[%d]", i, field, j), err.Error())
					}
					s.Ranges = append(s.Ranges, rg)
				}
			}
		}
	}
	off := make([]int32, n+1)
	for i := range rules {
		off[i+1] = off[i] + int32(len(rules[i].IpRanges)+len(rules[i].NotIpRanges))
	}
	s.Tags = make([]uint32, len(s.Ranges))
	l := lowering{opts: &opts}
	for k, i := range order {
		in := &rules[i]
		r := &s.Rules[k]
		*r = Rule{Index: int(i), Name: in.Name, Deny: in.Effect == policy.Deny, In: len(in.IpRanges), Off: off[i], Ranges: s.Ranges[off[i]:off[i+1]:off[i+1]]}
		if r.Deny {
			s.Deny[k/64] |= 1 << (k % 64)
		}
		if r.In == 0 {
			s.NoIn[k/64] |= 1 << (k % 64)
		}
		for j := off[i]; j < off[i+1]; j++ {
			s.Tags[j] = uint32(k) << 1
			if j >= off[i]+int32(r.In) {
				s.Tags[j] |= 1
			}
		}
		for l := range NumLists {
			if len(in.Items(l)) > 0 {
				r.lists |= 1 << l
			}
		}
		for a := 1; a <= NumActions; a++ {
			if slices.Contains(in.Actions, ActionNames[a]) {
				r.InActions |= 1 << a
			}
			if slices.Contains(in.NotActions, ActionNames[a]) {
				r.InNotActions |= 1 << a
			}
		}
		for a := 1; a <= NumActions; a++ {
			if r.holdsActions(a) && r.holdsNotActions(a) {
				r.Actions |= 1 << a
			}
		}
		r.Users, r.UserList = l.users(r, "UserIds", in.UserIds)
		r.NotUsers, r.NotUserList = l.users(r, "NotUserIds", in.NotUserIds)
		r.Roles = l.roles(r, "ImpersonationRoleIds", in.ImpersonationRoleIds)
		r.NotRoles = l.roles(r, "NotImpersonationRoleIds", in.NotImpersonationRoleIds)
	}
	if len(l.errs) > 0 {
		slices.SortStableFunc(l.errs, func(a, b *policy.Error) int { return comparePaths(a.Path, b.Path) })
		return nil, l.errs
	}
	s.classes()
	return s, nil
}

// lowering is the state of one Lower call: its options and the errors found.
type lowering struct {
	opts *Options
	errs policy.ErrorList
}

// users resolves a user list of rule r (A18): the set of IDs and the list
// item by item; nil, nil for an empty list.
func (l *lowering) users(r *Rule, field string, ids []string) (map[string]bool, []string) {
	if len(ids) == 0 {
		return nil, nil
	}
	m := make(map[string]bool, len(ids))
	var list []string
	if l.opts.Lenient {
		list = make([]string, len(ids))
	}
	for j, id := range ids {
		if dir := l.opts.Directory; dir != nil {
			u, ok := dir.Lookup(id)
			if !ok || u.ID == "" {
				if l.opts.Lenient {
					r.Unknown = append(r.Unknown, Entry{field, j, id})
				} else if !ok {
					l.fail(policy.EntityNotFoundException, r, field, j, fmt.Sprintf("no user %q in the directory", truncate(id, 64)))
				} else {
					l.fail(policy.EntityNotFoundException, r, field, j, fmt.Sprintf("user %q has no ID in the directory", truncate(id, 64)))
				}
				continue
			}
			id = u.ID
		}
		m[id] = true
		if list != nil {
			list[j] = id
		}
	}
	return m, list
}

// roles checks a role list of rule r (A18): the set of IDs; nil for an
// empty list.
func (l *lowering) roles(r *Rule, field string, ids []string) map[string]bool {
	if len(ids) == 0 {
		return nil
	}
	m := make(map[string]bool, len(ids))
	for j, id := range ids {
		if l.opts.KnownRole != nil && !l.opts.KnownRole(id) {
			if l.opts.Lenient {
				r.Unknown = append(r.Unknown, Entry{field, j, id})
			} else {
				l.fail(policy.ResourceNotFoundException, r, field, j, fmt.Sprintf("no impersonation role %q", truncate(id, 64)))
			}
			continue
		}
		m[id] = true
	}
	return m
}

func (l *lowering) fail(code policy.Code, r *Rule, field string, j int, msg string) {
	l.errs = append(l.errs, policy.Errorf(code, fmt.Sprintf("Rules[%d].%s[%d]", r.Index, field, j), msg))
}

// classes indexes the named principals and computes the "any other" columns.
func (s *Set) classes() {
	for k := range s.named {
		s.named[k] = map[string][]int32{}
	}
	for n := range s.Rules {
		r := &s.Rules[n]
		for k, lists := range [2][2]map[string]bool{{r.Users, r.NotUsers}, {r.Roles, r.NotRoles}} {
			for _, m := range lists {
				for id := range m {
					rs := s.named[k][id]
					if len(rs) == 0 {
						s.ids[k] = append(s.ids[k], id)
					}
					if len(rs) == 0 || rs[len(rs)-1] != int32(n) {
						s.named[k][id] = append(rs, int32(n))
					}
				}
			}
		}
	}
	slices.Sort(s.ids[User])
	slices.Sort(s.ids[Role])
	all := make([]uint64, 2*NumActions*s.Words)
	for k := range s.other {
		for a := 1; a <= NumActions; a++ {
			bits := all[:s.Words:s.Words]
			all = all[s.Words:]
			for n := range s.Rules {
				if r := &s.Rules[n]; r.Allows(a) && r.Holds(Kind(k), "") {
					bits[n/64] |= 1 << (n % 64)
				}
			}
			s.other[k][a] = bits
		}
	}
}

// comparePaths orders error paths "Rules[2]…" by rule index, then text.
func comparePaths(a, b string) int {
	var ia, ib int
	fmt.Sscanf(a, "Rules[%d]", &ia)
	fmt.Sscanf(b, "Rules[%d]", &ib)
	if ia != ib {
		return ia - ib
	}
	return strings.Compare(a, b)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
