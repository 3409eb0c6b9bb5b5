package accessctl

import (
	"slices"

	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/internal/ruleset"
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
	layout layout       // how ip, pa, sets and hits store the rule sets
	words  int          // bitset width in uint64 words
	deny   []uint64     // bit k set when rule k is DENY
	deny0  uint64       // deny[0]
	sets   []uint64     // interned bitsets, each `words` long, addressed by word offset
	ip     cidr.Map     // address → label (see layout); a value, so that Get needs no nil check
	noIn   []uint64     // wide: rules without IpRanges (their address set before hits)
	hits   []uint32     // wide, wideHits: per-class hit lists (see layout)
	pa     []uint32     // principal*NumActions + (action-1) → label (see layout)
	users  strtab.Table // resolved user ID → its row of pa (principal index × NumActions)
	roles  strtab.Table // role ID → its row of pa
	other  [2]int32     // rows of "any other user", "any other role"
	miss   [2]int32     // row of a user, role not in users, roles: other, or -1 for users with a directory
	dir    policy.Directory
}

// layout is how a Policy stores the rule sets of its address classes and
// principal×action entries; Compile's layout pass chooses it from the number
// of rules and their range lists.
type layout uint8

const (
	// narrow: at most 32 rules. Address labels and pa entries are the rule
	// sets themselves, which spares two dependent loads.
	narrow layout = iota
	// oneWord: at most 64 rules. Labels and pa entries are word offsets of
	// interned one-word sets in sets.
	oneWord
	// wideHits: more than 64 rules, every one with IpRanges. pa entries are
	// offsets in sets; address labels are offsets in hits of a length word
	// and then the rules whose address condition holds, ascending.
	wideHits
	// wide: more than 64 rules, some without IpRanges. pa entries as
	// wideHits; address labels are offsets in hits of a length word and then
	// rule<<1 | 1 for NotIpRanges, ascending, applied to noIn.
	wide
)

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
	set, err := lower(rules, opts, parsed)
	if err != nil {
		return nil, err
	}
	p := &Policy{ranges: set.Ranges, words: set.Words, deny: set.Deny, deny0: set.Deny[0], dir: opts.Directory}
	p.keepRules(rules, set)
	p.layout = chooseLayout(set)
	interned := ruleset.NewInterner(p.words)
	p.addressPass(set, interned)
	p.principalPass(set, interned)
	p.sets = interned.Sets()
	return p, nil
}

// lower is the lowering of rules that passed validateRules (parsed: their
// ranges), numbered by name (A7); an entry naming no user of the directory
// or no role of opts.Roles is an error with its path (A18).
func lower(rules []Rule, opts Options, parsed []cidr.Range) (*ruleset.Set, error) {
	in := make([]ruleset.Input, len(rules))
	for i, r := range rules {
		in[i] = ruleset.Input(r)
	}
	lo := ruleset.Options{Directory: opts.Directory, ByName: true, Parsed: parsed}
	if opts.Roles != nil {
		lo.KnownRole = opts.Roles.HasRole
	}
	return ruleset.Lower(in, lo)
}

// keepRules keeps copies of the rules in name order, their range lists
// parsed only (see Policy.rule).
func (p *Policy) keepRules(rules []Rule, set *ruleset.Set) {
	p.rules = make([]Rule, len(set.Rules))
	p.names = make([]string, len(set.Rules))
	p.refs = make([]rangeRef, len(set.Rules))
	for k := range set.Rules {
		lr := &set.Rules[k]
		r := rules[lr.Index]
		p.refs[k] = rangeRef{off: lr.Off, in: int32(lr.In), not: int32(len(lr.Ranges) - lr.In)}
		r.IpRanges, r.NotIpRanges = emptyOrNil(r.IpRanges), emptyOrNil(r.NotIpRanges)
		p.rules[k] = r.Clone()
		p.names[k] = r.Name
	}
}

// chooseLayout is the layout of a lowered set (see layout).
func chooseLayout(set *ruleset.Set) layout {
	switch {
	case len(set.Rules) <= 32:
		return narrow
	case set.Words == 1:
		return oneWord
	case !slices.ContainsFunc(set.NoIn, func(x uint64) bool { return x != 0 }):
		return wideHits
	}
	return wide
}

// addressPass builds the address map: bit k of an address class's set is
// "rule k's IpRanges and NotIpRanges conditions both hold for every address
// of the class". Identical ranges are entered as often as they are written
// (cidr.BuildMap takes duplicates in its stride, and random-access
// deduplication costs more than it saves).
func (p *Policy) addressPass(set *ruleset.Set, interned *ruleset.Interner) {
	tags, noIn := set.Tags, set.NoIn
	if p.words == 1 {
		// Each address class gets its whole rule set: the set itself
		// (narrow) or its interned offset.
		bits := make([]uint64, 1)
		p.ip = *cidr.BuildMap(p.ranges, func(members []int32) uint32 {
			var in, not uint64
			for _, m := range members {
				// Without branching on the list, which is about as
				// often one as the other.
				bit, nm := uint64(1)<<(tags[m]>>1&63), -uint64(tags[m]&1)
				in |= bit &^ nm
				not |= bit & nm
			}
			bits[0] = (noIn[0] | in) &^ not
			if p.layout == narrow {
				return uint32(bits[0])
			}
			return interned.Intern(bits)
		})
		return
	}
	// Wider: the set of a class is noIn, plus the rules whose IpRanges contain
	// the class, minus those whose NotIpRanges do. The last two are short, so a
	// class keeps only them, as a sorted list of hits behind a length word;
	// evaluation applies them to the constant noIn.
	p.noIn = noIn
	p.hits = make([]uint32, 0, 4*len(p.ranges)+4)
	var list []uint32
	p.ip = *cidr.BuildMap(p.ranges, func(members []int32) uint32 {
		list = list[:0]
		for _, m := range members {
			list = append(list, tags[m])
		}
		slices.Sort(list)
		list = slices.Compact(list)
		if p.layout == wideHits {
			list = holdingRules(list)
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

// holdingRules turns a sorted hit list (rule<<1 | not) of a layout in which
// every rule has IpRanges into the rules whose address condition holds (an
// IpRanges hit not followed by the same rule's NotIpRanges hit), as plain
// rule numbers, in place.
func holdingRules(list []uint32) []uint32 {
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
	return net
}

// principalPass builds the principal × action dimension: the principals are
// the user IDs and role IDs the rules name, then "any other user" and "any
// other role"; each gets, for every action, the rules whose action and
// principal conditions hold (the lowering decides which: A3, A4).
func (p *Policy) principalPass(set *ruleset.Set, interned *ruleset.Interner) {
	users, roles := set.Named(ruleset.User), set.Named(ruleset.Role)
	nu, nr := len(users), len(roles)
	vals := make([]int32, nu+nr)
	for i := range vals {
		vals[i] = int32(i * NumActions)
	}
	// Principal i: users[i], then roles[i-nu], then "any other user", "any
	// other role".
	p.users, p.roles = strtab.FromPairs(users, vals[:nu]), strtab.FromPairs(roles, vals[nu:])
	p.other = [2]int32{kindUser: int32((nu + nr) * NumActions), kindRole: int32((nu + nr + 1) * NumActions)}
	// A user no rule names is "any other user" only without a directory:
	// with one, the name may be an email, alias or user name (A18).
	p.miss = p.other
	if p.dir != nil {
		p.miss[kindUser] = -1
	}
	p.pa = make([]uint32, (nu+nr+2)*NumActions)
	buf := make([]uint64, p.words)
	column := func(pi int, kind ruleset.Kind, id string) {
		set.Columns(kind, id, buf, func(a int, bits []uint64) {
			if p.layout == narrow {
				p.pa[pi*NumActions+a-1] = uint32(bits[0])
			} else {
				p.pa[pi*NumActions+a-1] = interned.Intern(bits)
			}
		})
	}
	for i, id := range users {
		column(i, ruleset.User, id)
	}
	for i, id := range roles {
		column(nu+i, ruleset.Role, id)
	}
	column(nu+nr, ruleset.User, "")
	column(nu+nr+1, ruleset.Role, "")
}

// countRanges returns the number of range entries of all rules.
func countRanges(rules []Rule) int {
	n := 0
	for i := range rules {
		n += len(rules[i].IpRanges) + len(rules[i].NotIpRanges)
	}
	return n
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
	if p.layout == narrow {
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
