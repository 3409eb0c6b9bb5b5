package accessctl

import (
	"fmt"
	"slices"
	"strings"
	"unsafe"

	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/internal/strtab"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Options configure [Compile]. The zero Options compile a rule list on its own:
// identifiers are compared as exact strings and role IDs are not checked.
type Options struct {
	// Directory, when set, turns on identifier resolution (SEMANTICS A18): user
	// identifiers in rules and requests may be IDs, emails, aliases or user names,
	// and are resolved to user IDs before matching. An identifier that resolves to
	// no user is EntityNotFoundException, in a rule at compile time and in a request
	// at evaluation time. The compiled Policy keeps the Directory and calls its
	// Lookup during evaluation when a request names a user by something other than
	// an ID a rule mentions.
	Directory policy.Directory
	// Roles, when set, is the set of impersonation roles the organization knows;
	// a rule naming any other role ID is ResourceNotFoundException (A18).
	Roles RoleSet
}

// RoleSet tells which impersonation role IDs exist in an organization.
// Implementations must be safe for concurrent use.
type RoleSet interface {
	HasRole(id string) bool
}

// RoleIDs is a [RoleSet] given as a set of IDs.
type RoleIDs map[string]struct{}

// HasRole implements [RoleSet].
func (s RoleIDs) HasRole(id string) bool { _, ok := s[id]; return ok }

// Policy is a compiled, immutable rule list: the answer to GetAccessControlEffect
// for one organization (SEMANTICS A). It is safe for concurrent use by any number
// of goroutines; to change the rules, compile a new Policy and swap the pointer
// (for example with atomic.Pointer).
//
// All parsing, masking and indexing happen in [Compile]. Evaluation is one
// address-table lookup (a bucket index and a short binary search over the
// elementary IPv4 intervals cut at every range boundary), one hash lookup for the
// principal, and an AND of two precomputed rule bitsets; rules are numbered in
// ascending name order, so matched names come out sorted (A7) by walking the set
// bits. Evaluating costs O(log r + w) for r ranges and w = ⌈rules/64⌉ words.
//
// A nil *Policy has no rules and denies everything (A6); the zero Policy is not
// usable — build one with Compile.
type Policy struct {
	rules  []Rule       // sorted by Name; rule k is bit k; range lists empty (nil if nil), see refs
	ranges []cidr.Range // every rule's IpRanges and NotIpRanges, parsed, in input order
	refs   []rangeRef   // where rule k's range lists are in ranges
	names  []string     // rules[k].Name
	words  int          // bitset width in uint64 words
	deny   []uint64     // bit k set when rule k is DENY
	deny0  uint64       // deny[0]
	narrow bool         // at most 32 rules: address labels and pa entries are the rule sets themselves, not offsets in sets
	sets   []uint64     // interned bitsets, each `words` long, addressed by word offset
	ip     *cidr.Map    // address → offset in sets (words == 1; narrow: the set) or in hits (words > 1)
	noIn   []uint64     // words > 1: rules without IpRanges (their address set before hits)
	allIn  bool         // words > 1 and noIn is empty: Evaluate walks the hits alone
	hits   []uint32     // words > 1: per-class hit lists: length, then rule<<1|not, ascending (allIn: the rules whose address condition holds)
	pa     []uint32     // principal*NumActions + (action-1) → offset in sets (narrow: the set)
	users  strtab.Table // resolved user ID → principal index
	roles  strtab.Table // role ID → principal index
	other  [2]int32     // principal index of "any other user", "any other role"
	dir    policy.Directory
}

// rangeRef locates a rule's range lists in Policy.ranges: IpRanges at
// off..off+in, then NotIpRanges.
type rangeRef struct{ off, in, not int32 }

// emptyOrNil is nil for nil and an empty, non-nil slice otherwise: a rule's
// range list as the Policy keeps it, so that a copy rebuilt from the parsed
// ranges is nil exactly where the rule's list was.
func emptyOrNil(s []string) []string {
	if s == nil {
		return nil
	}
	return []string{}
}

// rule returns a deep copy of rule k as given to Compile, its range lists
// written out again from the parsed ranges: the strict parser accepts one
// spelling per range (A9), which String writes, host bits included.
func (p *Policy) rule(k int) Rule {
	r := p.rules[k].Clone()
	ref := p.refs[k]
	write := func(list []string, rs []cidr.Range) []string {
		if list == nil {
			return nil
		}
		out := make([]string, len(rs))
		for i, rg := range rs {
			out[i] = rg.String()
		}
		return out
	}
	r.IpRanges = write(r.IpRanges, p.ranges[ref.off:ref.off+ref.in])
	r.NotIpRanges = write(r.NotIpRanges, p.ranges[ref.off+ref.in:ref.off+ref.in+ref.not])
	return r
}

// principal kinds index Policy.other
const (
	kindUser = 0
	kindRole = 1
)

// Compile validates rules (as [ValidateRules]: every problem, with its path) and,
// with a directory or role set in opts, resolves their identifiers (A18); then it
// builds the lookup tables. The rules are copied: later changes to the slice do
// not affect the Policy. Any number of rules is accepted (A14).
//
// Cost: O(R log R + C·w) time for R ranges, C distinct address classes and w
// bitset words; memory is dominated by one w-word bitset per distinct class.
func Compile(rules []Rule, opts Options) (*Policy, error) {
	parsed := make([]cidr.Range, 0, countRanges(rules))
	if errs := validateRules(rules, &parsed); len(errs) > 0 {
		return nil, errs
	}
	// rangeOff[i]: where rule i's ranges start in parsed (IpRanges, then NotIpRanges).
	rangeOff := make([]int, len(rules)+1)
	for i, r := range rules {
		rangeOff[i+1] = rangeOff[i] + len(r.IpRanges) + len(r.NotIpRanges)
	}
	n := len(rules)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(rules[a].Name, rules[b].Name) })

	p := &Policy{
		rules: make([]Rule, n),
		names: make([]string, n),
		words: max(1, (n+63)/64),
		dir:   opts.Directory,
	}
	users, roles := map[string]int32{}, map[string]int32{}
	type cond struct {
		users, notUsers, roleIDs, notRoleIDs map[string]bool
	}
	conds := make([]cond, n)
	var errs policy.ErrorList
	resolve := func(i int, field string, ids []string) map[string]bool {
		if len(ids) == 0 {
			return nil
		}
		m := make(map[string]bool, len(ids))
		for j, id := range ids {
			if opts.Directory != nil {
				u, ok := opts.Directory.Lookup(id)
				if !ok {
					errs = append(errs, policy.Errorf(policy.EntityNotFoundException,
						fmt.Sprintf("Rules[%d].%s[%d]", i, field, j), fmt.Sprintf("no user %q in the directory", truncate(id, 64))))
					continue
				}
				if u.ID == "" {
					errs = append(errs, policy.Errorf(policy.EntityNotFoundException,
						fmt.Sprintf("Rules[%d].%s[%d]", i, field, j), fmt.Sprintf("user %q has no ID in the directory", truncate(id, 64))))
					continue
				}
				id = u.ID
			}
			m[id] = true
		}
		return m
	}
	roleSet := func(i int, field string, ids []string) map[string]bool {
		if len(ids) == 0 {
			return nil
		}
		m := make(map[string]bool, len(ids))
		for j, id := range ids {
			if opts.Roles != nil && !opts.Roles.HasRole(id) {
				errs = append(errs, policy.Errorf(policy.ResourceNotFoundException,
					fmt.Sprintf("Rules[%d].%s[%d]", i, field, j), fmt.Sprintf("no impersonation role %q", truncate(id, 64))))
				continue
			}
			m[id] = true
		}
		return m
	}
	p.ranges = parsed
	p.refs = make([]rangeRef, n)
	for k, i := range order {
		// The range lists are kept parsed, not as strings (see Policy.rule).
		r := rules[i]
		p.refs[k] = rangeRef{off: int32(rangeOff[i]), in: int32(len(r.IpRanges)), not: int32(len(r.NotIpRanges))}
		r.IpRanges, r.NotIpRanges = emptyOrNil(r.IpRanges), emptyOrNil(r.NotIpRanges)
		r = r.Clone()
		p.rules[k] = r
		p.names[k] = r.Name
		conds[k] = cond{
			users:      resolve(i, "UserIds", r.UserIds),
			notUsers:   resolve(i, "NotUserIds", r.NotUserIds),
			roleIDs:    roleSet(i, "ImpersonationRoleIds", r.ImpersonationRoleIds),
			notRoleIDs: roleSet(i, "NotImpersonationRoleIds", r.NotImpersonationRoleIds),
		}
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *policy.Error) int { return comparePaths(a.Path, b.Path) })
		return nil, errs
	}

	w := p.words
	interned := newInterner(w)
	p.deny = make([]uint64, w)
	for k, r := range p.rules {
		if r.Effect == policy.Deny {
			p.deny[k/64] |= 1 << (k % 64)
		}
	}
	p.deny0 = p.deny[0]
	p.narrow = w == 1 && n <= 32

	// Address dimension: bit k of an address class's set is "rule k's IpRanges
	// and NotIpRanges conditions both hold for every address of the class".
	//
	// Range i of the table belongs to tags[i]: its rule and list. Identical
	// ranges are entered as often as they are written (cidr.Build takes
	// duplicates in its stride, and random-access deduplication costs more than
	// it saves).
	tags := make([]uint32, len(p.ranges)) // rule<<1 | 1 for NotIpRanges
	noIn := make([]uint64, w)             // rules with no IpRanges: that condition always holds
	for k, ref := range p.refs {
		if ref.in == 0 {
			noIn[k/64] |= 1 << (k % 64)
		}
		for j := ref.off; j < ref.off+ref.in+ref.not; j++ {
			tags[j] = uint32(k) << 1
			if j >= ref.off+ref.in {
				tags[j] |= 1
			}
		}
	}
	if w == 1 {
		// One word: each address class gets its whole rule set, and the
		// address map yields the set itself (narrow) or its interned
		// offset.
		bits := make([]uint64, 1)
		p.ip = cidr.BuildMap(p.ranges, func(members []int32) uint32 {
			var in, not uint64
			for _, m := range members {
				// Without branching on the list, which is about as
				// often one as the other.
				bit, nm := uint64(1)<<(tags[m]>>1&63), -uint64(tags[m]&1)
				in |= bit &^ nm
				not |= bit & nm
			}
			bits[0] = (noIn[0] | in) &^ not
			if p.narrow {
				return uint32(bits[0])
			}
			return interned.intern(bits)
		})
	} else {
		// Wider: the set of a class is noIn, plus the rules whose IpRanges contain
		// the class, minus those whose NotIpRanges do. The last two are short, so a
		// class keeps only them, as a sorted list of hits (rule<<1 | not) behind a
		// length word; evaluation applies them to the constant noIn.
		p.noIn = noIn
		p.allIn = !slices.ContainsFunc(noIn, func(x uint64) bool { return x != 0 })
		p.hits = make([]uint32, 0, 4*len(p.ranges)+4)
		var list []uint32
		p.ip = cidr.BuildMap(p.ranges, func(members []int32) uint32 {
			list = list[:0]
			for _, m := range members {
				list = append(list, tags[m])
			}
			slices.Sort(list)
			list = slices.Compact(list)
			if p.allIn {
				// Every rule has IpRanges: keep only the rules whose address
				// condition holds (an IpRanges hit not followed by the same
				// rule's NotIpRanges hit), as plain rule numbers.
				net := list[:0]
				for i := 0; i < len(list); i++ {
					h := list[i]
					if h&1 != 0 {
						continue
					}
					if i+1 < len(list) && list[i+1] == h|1 {
						i++
						continue
					}
					net = append(net, h>>1)
				}
				list = net
			}
			off := uint32(len(p.hits))
			p.hits = append(p.hits, uint32(len(list)))
			p.hits = append(p.hits, list...)
			return off
		})
		if cap(p.hits)-len(p.hits) > len(p.hits)/4 {
			p.hits = slices.Clone(p.hits) // the policy keeps it: no more than a quarter to spare
		}
	}

	// Principal × action dimension. Principals are the user IDs and role IDs the
	// rules name, then "any other user" and "any other role" (A3, A4).
	type principal struct {
		id    string
		kind  int
		rules []int // the rules whose lists name this principal
	}
	var princ []principal
	addP := func(k int, m map[string]bool, kind int, index map[string]int32) {
		ids := make([]string, 0, len(m))
		for id := range m {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			pi, ok := index[id]
			if !ok {
				pi = int32(len(princ))
				index[id] = pi
				princ = append(princ, principal{id: id, kind: kind})
			}
			if rs := princ[pi].rules; len(rs) == 0 || rs[len(rs)-1] != k {
				princ[pi].rules = append(rs, k)
			}
		}
	}
	for k, c := range conds {
		addP(k, c.users, kindUser, users)
		addP(k, c.notUsers, kindUser, users)
		addP(k, c.roleIDs, kindRole, roles)
		addP(k, c.notRoleIDs, kindRole, roles)
	}
	p.users, p.roles = strtab.New(users), strtab.New(roles)
	p.other[kindUser] = int32(len(princ))
	princ = append(princ, principal{kind: kindUser})
	p.other[kindRole] = int32(len(princ))
	princ = append(princ, principal{kind: kindRole})

	actionPass := make([][NumActions + 1]bool, n)
	for k, r := range p.rules {
		for a := Action(1); a <= NumActions; a++ {
			s := a.String()
			actionPass[k][a] = (len(r.Actions) == 0 || slices.Contains(r.Actions, s)) &&
				(len(r.NotActions) == 0 || !slices.Contains(r.NotActions, s))
		}
	}
	// holds reports whether rule k's principal conditions hold for principal
	// id of the kind (A3, A4: a request carries no principal of the other kind,
	// which is in no list; "" is any principal no rule names).
	holds := func(c *cond, kind int, id string) bool {
		if kind == kindUser {
			return (c.users == nil || c.users[id]) && !c.notUsers[id] && c.roleIDs == nil
		}
		return c.users == nil && (c.roleIDs == nil || c.roleIDs[id]) && !c.notRoleIDs[id]
	}
	// The set of "any other user/role" for each action; a named principal's set
	// differs from it only in the rules that name the principal.
	var otherSets [2][NumActions + 1][]uint64
	for kind := range otherSets {
		for a := Action(1); a <= NumActions; a++ {
			bits := make([]uint64, w)
			for k := range conds {
				if actionPass[k][a] && holds(&conds[k], kind, "") {
					bits[k/64] |= 1 << (k % 64)
				}
			}
			otherSets[kind][a] = bits
		}
	}
	p.pa = make([]uint32, len(princ)*NumActions)
	bits := make([]uint64, w)
	for pi, pr := range princ {
		for a := Action(1); a <= NumActions; a++ {
			copy(bits, otherSets[pr.kind][a])
			for _, k := range pr.rules {
				bit := uint64(1) << (k % 64)
				if actionPass[k][a] && holds(&conds[k], pr.kind, pr.id) {
					bits[k/64] |= bit
				} else {
					bits[k/64] &^= bit
				}
			}
			if p.narrow {
				p.pa[pi*NumActions+int(a-1)] = uint32(bits[0])
			} else {
				p.pa[pi*NumActions+int(a-1)] = interned.intern(bits)
			}
		}
	}
	p.sets = interned.sets
	return p, nil
}

// interner stores each distinct bitset once.
type interner struct {
	w    int
	sets []uint64
	one  map[uint64]uint32
	many map[string]uint32
}

func newInterner(w int) *interner {
	return &interner{w: w, one: map[uint64]uint32{}, many: map[string]uint32{}}
}

func (in *interner) intern(bits []uint64) uint32 {
	if in.w == 1 {
		if off, ok := in.one[bits[0]]; ok {
			return off
		}
		off := uint32(len(in.sets))
		in.sets = append(in.sets, bits[0])
		in.one[bits[0]] = off
		return off
	}
	key := unsafe.Slice((*byte)(unsafe.Pointer(&bits[0])), len(bits)*8)
	if off, ok := in.many[string(key)]; ok {
		return off
	}
	off := uint32(len(in.sets))
	in.sets = append(in.sets, bits...)
	in.many[string(key)] = off
	return off
}

// countRanges returns the number of range entries of all rules.
func countRanges(rules []Rule) int {
	n := 0
	for i := range rules {
		n += len(rules[i].IpRanges) + len(rules[i].NotIpRanges)
	}
	return n
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

// Len returns the number of rules.
func (p *Policy) Len() int {
	if p == nil {
		return 0
	}
	return len(p.rules)
}

// Rules returns a deep copy of the policy's rules, in ascending name order,
// equal to the rules given to Compile. The policy keeps range lists parsed,
// so Rules writes them out again: it allocates a string per range.
func (p *Policy) Rules() []Rule {
	if p == nil {
		return nil
	}
	out := make([]Rule, len(p.rules))
	for k := range p.rules {
		out[k] = p.rule(k)
	}
	return out
}

// Rule returns a deep copy of the rule with the given name, as [Policy.Rules]
// does.
func (p *Policy) Rule(name string) (Rule, bool) {
	if p == nil {
		return Rule{}, false
	}
	i, ok := slices.BinarySearch(p.names, name)
	if !ok {
		return Rule{}, false
	}
	return p.rule(i), true
}

// Stats describes the size of a compiled policy.
type Stats struct {
	Rules        int // rules
	Ranges       int // IpRanges and NotIpRanges entries, all rules together
	Intervals    int // IPv4 intervals in the address map (maximal: neighbours differ)
	Principals   int // distinct principals (named users and roles, plus the two "any other")
	Bitsets      int // distinct rule bitsets of address classes and principal×action entries
	BitsetWords  int // uint64 words per bitset
	HitWords     int // uint32 words of the address hit lists (policies of more than 64 rules)
	ApproxMemory int // approximate bytes held by the tables
}

// Stats returns size figures of the compiled tables. O(1), except for
// policies of at most 32 rules, whose tables hold the rule sets themselves
// rather than offsets of interned ones: their distinct sets are counted, in
// time linear in the intervals and principals.
func (p *Policy) Stats() Stats {
	if p == nil {
		return Stats{}
	}
	s := Stats{
		Rules:       len(p.rules),
		Ranges:      len(p.ranges),
		Intervals:   p.ip.NumIntervals(),
		Principals:  len(p.pa) / NumActions,
		Bitsets:     len(p.sets) / p.words,
		BitsetWords: p.words,
		HitWords:    len(p.hits),
	}
	if p.narrow {
		distinct := map[uint32]struct{}{}
		for iv := range p.ip.Intervals() {
			distinct[iv.Class] = struct{}{}
		}
		for _, set := range p.pa {
			distinct[set] = struct{}{}
		}
		s.Bitsets = len(distinct)
	}
	s.ApproxMemory = 8*len(p.sets) + 4*len(p.pa) + 4*len(p.hits) + 8*len(p.noIn) + 24*s.Intervals + 8*len(p.ranges) + 12*len(p.refs)
	return s
}
