package analysis

import (
	"context"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Severity ranks a [Finding]. Larger is more severe; the zero Severity is
// not used.
type Severity uint8

// The severities.
const (
	// Suggestion: harmless, but the rules could say the same more simply.
	Suggestion Severity = iota + 1
	// Warning: the rules probably do not do what their author meant.
	Warning
	// Error: a rule or the whole rule set cannot work as written.
	Error
)

// String returns "suggestion", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case Suggestion:
		return "suggestion"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return ""
}

// MarshalText writes String.
func (s Severity) MarshalText() ([]byte, error) {
	if t := s.String(); t != "" {
		return []byte(t), nil
	}
	return nil, errInvalid("Severity")
}

// ParseSeverity parses "error", "warning" or "suggestion"; anything else is an
// InvalidParameterException.
func ParseSeverity(s string) (Severity, error) {
	for _, v := range []Severity{Suggestion, Warning, Error} {
		if v.String() == s {
			return v, nil
		}
	}
	return 0, policy.Errorf(policy.InvalidParameterException, "", fmt.Sprintf("severity %q: want error, warning or suggestion", s))
}

// Kind names what a [Finding] is about.
type Kind string

// The finding kinds, with their severity.
const (
	// NeverMatches (error): no request satisfies every condition of the rule:
	// IpRanges inside NotIpRanges, Actions ⊆ NotActions, both UserIds and
	// ImpersonationRoleIds, roles without EWS, UserIds ⊆ NotUserIds, …
	NeverMatches Kind = "never-matches"
	// Shadowed (warning): an ALLOW rule that matches requests, but DENY rules
	// match every one of them, so it never decides anything.
	Shadowed Kind = "shadowed"
	// Redundant (suggestion): removing the rule, on its own, changes the
	// effect of no request. (Two rules may each be redundant while removing
	// both changes something.) An ALLOW rule with conditions is not reported
	// merely because an unconditional ALLOW rule (a rule without any list,
	// like WorkMail's "default") also allows what it allows: it is judged
	// as if the unconditional ALLOW rules were absent, so that it is reported
	// only when other conditional ALLOW rules cover it, which is what a
	// person would act on. DENY rules and unconditional rules are judged on
	// the rule set as it is.
	Redundant Kind = "redundant"
	// OrganizationLockedOut (error): no request at all is allowed.
	OrganizationLockedOut Kind = "organization-locked-out"
	// ActionLockedOut (warning): no principal may use the action from any
	// address.
	ActionLockedOut Kind = "action-locked-out"
	// UserLockedOut (warning): an enabled directory user may do nothing from
	// anywhere.
	UserLockedOut Kind = "user-locked-out"
	// HostBits (suggestion): a range written with host bits set; it matches
	// as its network (A9).
	HostBits Kind = "host-bits"
	// DuplicateRange (suggestion): a range listed twice in one list (after
	// masking).
	DuplicateRange Kind = "duplicate-range"
	// NestedRange (suggestion): a range inside another range of the same list.
	NestedRange Kind = "nested-range"
	// UnknownUser (error): with a directory, a user entry that resolves to no
	// user; it names nobody (A18).
	UnknownUser Kind = "unknown-user"
	// UnknownRole (error): with Options.Roles, a role the organization does
	// not have; it names nobody (A18).
	UnknownRole Kind = "unknown-role"
	// RuleLimit (warning): a rule past WorkMail's limit of
	// accessctl.WorkMailRuleLimit rules per organization (A14).
	RuleLimit Kind = "rule-limit"
)

// Finding is one result of [Analyzer.Audit].
type Finding struct {
	Severity Severity
	Kind     Kind
	// Rule is the rule's name; "" for a finding about the whole rule set.
	Rule string
	// RuleIndex is the rule's position in the list as given (the i of
	// "Rules[i]" in Path); -1 for a finding about the whole rule set.
	RuleIndex int
	// Action is the action the finding is about (action-locked-out); 0
	// otherwise.
	Action accessctl.Action
	// UserID is the directory user the finding is about (user-locked-out);
	// "" otherwise.
	UserID string
	// Entry is the list item the finding is about, as written
	// (unknown-user, unknown-role, host-bits, duplicate-range,
	// nested-range); "" otherwise.
	Entry string
	// Path is the field path in the rule list as given, e.g.
	// "Rules[3].IpRanges[17]"; "" for the whole rule set.
	Path    string
	Message string
	// Witness, when not nil, is a request that shows the finding: for
	// Shadowed, one the rule matches and a DENY rule decides; for Redundant,
	// one the rule matches whose effect is the same without the rule.
	Witness *accessctl.Request
}

// String returns "severity: path: message (kind)".
func (f Finding) String() string {
	var b strings.Builder
	b.WriteString(f.Severity.String())
	b.WriteString(": ")
	if f.Path != "" {
		b.WriteString(f.Path)
		if f.Rule != "" {
			b.WriteString(" (" + f.Rule + ")")
		}
		b.WriteString(": ")
	}
	b.WriteString(f.Message)
	b.WriteString(" [" + string(f.Kind) + "]")
	return b.String()
}

// Report is the result of [Analyzer.Audit].
type Report struct {
	// Findings, most severe first, then by rule position and path.
	Findings []Finding
	// Cells is the number of cells decided.
	Cells int64
}

// Max returns the highest severity among the findings, 0 when there are none.
func (r *Report) Max() Severity {
	var m Severity
	for _, f := range r.Findings {
		m = max(m, f.Severity)
	}
	return m
}

// Count returns the number of findings of severity s or higher.
func (r *Report) Count(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity >= s {
			n++
		}
	}
	return n
}

// Audit checks the rules and returns every finding of the kinds listed under
// [Kind]. The semantic findings (never-matches, shadowed, redundant,
// lock-outs) are exact: they are decided on every cell of the decomposition —
// address intervals cut at every range boundary × principal classes ×
// actions — without enumerating addresses.
//
// Exceeding Options.MaxCells returns a *[BudgetError]; a cancelled ctx its
// error; neither returns a partial report. Cost: O(cells × ⌈rules/64⌉) time,
// O(intervals + columns) memory. Safe for concurrent use.
func (a *Analyzer) Audit(ctx context.Context) (*Report, error) {
	s, err := newSpace(ctx, a.opts, a)
	if err != nil {
		return nil, err
	}
	b := s.sets[0]
	w := b.w
	n := len(a.cr)
	matched := make([]uint64, w)
	decisive := make([]uint64, w)
	needed := make([]uint64, w)
	m := make([]uint64, w)
	// unconditional ALLOW rules (no list at all, like "default"): conditional
	// ALLOW rules are judged redundant as if these were absent (see Redundant)
	uncond := make([]uint64, w)
	for k := range a.rules {
		if !a.cr[k].Deny && unconditional(&a.rules[k]) {
			uncond[k/64] |= 1 << (k % 64)
		}
	}
	first := make([][2]int32, n) // first cell each rule matches: interval, column
	var allowAct [accessctl.NumActions + 1]bool
	allowPrin := make([]bool, len(s.prin))
	// Every finding is an OR over cells, and a cell depends on its interval
	// only through the interval's IP bitset: one pass over the distinct IP
	// bitsets, in order of first occurrence (so that the first match found is
	// at the lowest address), decides every cell.
	for u, i := range b.first {
		if u&255 == 0 {
			if err := checkCtx(ctx); err != nil {
				return nil, err
			}
		}
		for j, cl := range s.cols {
			b.match(m, int32(u), j)
			var any, nd, na, nc uint64 // any bit; deny, allow, conditional allow bit counts
			for x := range m {
				any |= m[x]
				nd += uint64(bits.OnesCount64(m[x] & b.deny[x]))
				na += uint64(bits.OnesCount64(m[x] &^ b.deny[x]))
				nc += uint64(bits.OnesCount64(m[x] &^ b.deny[x] &^ uncond[x]))
			}
			if any == 0 {
				continue
			}
			for x := range m {
				for nw := m[x] &^ matched[x]; nw != 0; nw &= nw - 1 {
					first[x*64+bits.TrailingZeros64(nw)] = [2]int32{i, int32(j)}
				}
				matched[x] |= m[x]
			}
			switch {
			case nd == 0:
				allowAct[cl.act] = true
				allowPrin[cl.p] = true
				for x := range m {
					decisive[x] |= m[x]
					if na == 1 {
						needed[x] |= m[x]
					}
					if nc == 1 {
						needed[x] |= m[x] &^ uncond[x]
					}
				}
			case nd == 1 && na > 0:
				for x := range m {
					needed[x] |= m[x] & b.deny[x]
				}
			}
		}
	}
	has := func(set []uint64, k int) bool { return set[k/64]&(1<<(k%64)) != 0 }
	rep := &Report{Cells: s.cells()}
	add := func(f Finding) { rep.Findings = append(rep.Findings, f) }
	// the witness address of a distinct IP bitset: in its best interval (see
	// AddrSet.witnessAddr)
	best := make([]int32, len(b.first))
	for u := range best {
		best[u] = -1
	}
	for i, iv := range s.ivs {
		u := b.cu[iv.Class]
		if best[u] < 0 || betterWitness(AddrRange{iv.First, iv.Last}, AddrRange{s.ivs[best[u]].First, s.ivs[best[u]].Last}) {
			best[u] = int32(i)
		}
	}
	witness := func(k int) *accessctl.Request {
		c := first[k]
		cl := s.cols[c[1]]
		iv := s.ivs[best[b.cu[s.ivs[c[0]].Class]]]
		r := s.prin[cl.p].request(witnessIn(AddrRange{iv.First, iv.Last}), cl.act)
		return &r
	}
	// per-rule IP and principal-action reach, for never-match reasons
	ipEver := make([]uint64, w)
	for c := 0; c < len(b.ip)/w; c++ {
		for x := range ipEver {
			ipEver[x] |= b.ip[c*w+x]
		}
	}
	paEver := make([]uint64, w)
	for j := range s.cols {
		for x := range paEver {
			paEver[x] |= b.pa[j*w+x]
		}
	}
	for k := range a.cr {
		r, c := &a.rules[k], &a.cr[k]
		path := fmt.Sprintf("Rules[%d]", k)
		f := Finding{Rule: r.Name}
		a.staticFindings(k, path, add)
		if !has(matched, k) {
			f.Severity, f.Kind = Error, NeverMatches
			f.Path, f.Message = a.neverReason(k, path, has(ipEver, k), has(paEver, k))
			add(f)
			continue
		}
		switch {
		case !c.Deny && !has(decisive, k):
			f.Severity, f.Kind, f.Path = Warning, Shadowed, path
			f.Witness = witness(k)
			f.Message = "DENY rules match every request this ALLOW rule matches, so it never decides anything"
			if d := a.denyAt(b, s, first[k]); d != "" {
				f.Message += fmt.Sprintf(" (e.g. %s, witness)", d)
			}
			add(f)
		case !has(needed, k):
			f.Severity, f.Kind, f.Path = Suggestion, Redundant, path
			f.Witness = witness(k)
			f.Message = "removing this rule alone changes the effect of no request"
			add(f)
		}
	}
	anyAllow := slices.Contains(allowAct[:], true)
	if !anyAllow {
		add(Finding{Severity: Error, Kind: OrganizationLockedOut, Message: "no request is allowed: every user and role is denied every action from every address"})
	} else {
		for _, act := range accessctl.Actions() {
			if !allowAct[act] {
				add(Finding{Severity: Warning, Kind: ActionLockedOut, Action: act,
					Message: fmt.Sprintf("no user or role may use %s from any address", act)})
			}
		}
		if a.dir != nil {
			for _, u := range a.dir.Users() {
				if !u.Enabled() {
					continue
				}
				pi := -1
				for i, p := range s.prin {
					if p.Kind == User && (p.ID == u.ID || (p.ID == "" && pi < 0)) {
						pi = i
					}
				}
				if pi >= 0 && !allowPrin[pi] {
					name := u.ID
					if u.Name != "" {
						name = u.Name + " (" + u.ID + ")"
					}
					add(Finding{Severity: Warning, Kind: UserLockedOut, UserID: u.ID,
						Message: fmt.Sprintf("user %s may not use any action from any address", name)})
				}
			}
		}
	}
	if len(a.rules) > accessctl.WorkMailRuleLimit {
		for k := accessctl.WorkMailRuleLimit; k < len(a.rules); k++ {
			add(Finding{Severity: Warning, Kind: RuleLimit, Rule: a.rules[k].Name, Path: fmt.Sprintf("Rules[%d]", k),
				Message: fmt.Sprintf("rule %d of %d: WorkMail allows %d rules per organization, the default rule included (A14)",
					k+1, len(a.rules), accessctl.WorkMailRuleLimit)})
		}
	}
	sortFindings(rep.Findings)
	return rep, nil
}

// unconditional reports whether r has no list at all: it matches every
// request (A3), like WorkMail's "default" rule.
func unconditional(r *accessctl.Rule) bool {
	for _, l := range [][]string{r.IpRanges, r.NotIpRanges, r.Actions, r.NotActions, r.UserIds, r.NotUserIds, r.ImpersonationRoleIds, r.NotImpersonationRoleIds} {
		if len(l) > 0 {
			return false
		}
	}
	return true
}

// denyAt names a DENY rule matching the cell, the first by name.
func (a *Analyzer) denyAt(b *bitsets, s *space, cell [2]int32) string {
	m := make([]uint64, b.w)
	b.match(m, b.cu[s.ivs[cell[0]].Class], int(cell[1]))
	for _, k := range a.names {
		if m[k/64]&b.deny[k/64]&(1<<(k%64)) != 0 {
			return a.rules[k].Name
		}
	}
	return ""
}

// neverReason explains why rule k matches no request, most specific first.
func (a *Analyzer) neverReason(k int, path string, ipOK, paOK bool) (string, string) {
	r, c := &a.rules[k], &a.cr[k]
	switch {
	case len(r.UserIds) > 0 && len(r.ImpersonationRoleIds) > 0:
		return path + ".ImpersonationRoleIds", "the rule sets both UserIds and ImpersonationRoleIds, and a request carries only one kind of principal (A4), so it never matches"
	case c.Actions == 0 && len(r.Actions) > 0:
		return path + ".NotActions", "every action in Actions is also in NotActions, so the rule never matches"
	case c.Actions == 0:
		return path + ".NotActions", "NotActions lists every action, so the rule never matches"
	case len(r.ImpersonationRoleIds) > 0 && c.Actions&(1<<accessctl.EWS) == 0:
		return path + ".ImpersonationRoleIds", "impersonation roles make EWS requests only (A12), and the rule's actions exclude EWS, so it never matches"
	case !ipOK && len(r.IpRanges) > 0:
		return path + ".IpRanges", "every address in IpRanges is also in NotIpRanges, so the rule never matches"
	case !ipOK:
		return path + ".NotIpRanges", "NotIpRanges cover every address, so the rule never matches"
	case !paOK && len(r.UserIds) > 0 && len(c.Users) == 0:
		return path + ".UserIds", "no entry of UserIds names a known user, so the rule never matches"
	case !paOK && len(r.ImpersonationRoleIds) > 0 && len(c.Roles) == 0:
		return path + ".ImpersonationRoleIds", "no entry of ImpersonationRoleIds names a known role, so the rule never matches"
	case !paOK && len(r.UserIds) > 0:
		return path + ".UserIds", "every user in UserIds is also in NotUserIds, so the rule never matches"
	case !paOK && len(r.ImpersonationRoleIds) > 0:
		return path + ".ImpersonationRoleIds", "every role in ImpersonationRoleIds is also in NotImpersonationRoleIds, so the rule never matches"
	case !paOK:
		return path, "no user or role satisfies the rule's principal and action conditions, so it never matches"
	}
	return path, "no request satisfies all of the rule's conditions together, so it never matches"
}

// staticFindings reports what a rule's text shows on its own: host bits,
// duplicate and nested ranges, unknown users and roles.
func (a *Analyzer) staticFindings(k int, path string, add func(Finding)) {
	r, c := &a.rules[k], &a.cr[k]
	for _, l := range []struct {
		field string
		rs    []cidr.Range
	}{{"IpRanges", c.IP()}, {"NotIpRanges", c.NotIP()}} {
		for j, rg := range l.rs {
			if rg.HasHostBits() {
				add(Finding{Severity: Suggestion, Kind: HostBits, Rule: r.Name, Entry: rg.String(), Path: fmt.Sprintf("%s.%s[%d]", path, l.field, j),
					Message: fmt.Sprintf("%s has host bits set; it matches as %s (A9)", rg, rg.Masked())})
			}
		}
		order := make([]int, len(l.rs))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(x, y int) int {
			rx, ry := l.rs[x].Masked(), l.rs[y].Masked()
			if rx.First() != ry.First() {
				if rx.First() < ry.First() {
					return -1
				}
				return 1
			}
			return rx.Bits() - ry.Bits()
		})
		var stack []int // enclosing ranges (list positions), outermost first
		for _, j := range order {
			cur := l.rs[j].Masked()
			for len(stack) > 0 && l.rs[stack[len(stack)-1]].Last() < cur.First() {
				stack = stack[:len(stack)-1]
			}
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				at := fmt.Sprintf("%s.%s[%d]", path, l.field, j)
				if l.rs[top].Masked() == cur {
					add(Finding{Severity: Suggestion, Kind: DuplicateRange, Rule: r.Name, Entry: l.rs[j].String(), Path: at,
						Message: fmt.Sprintf("%s covers the same addresses as %s[%d] %s", l.rs[j], l.field, top, l.rs[top])})
					continue
				}
				add(Finding{Severity: Suggestion, Kind: NestedRange, Rule: r.Name, Entry: l.rs[j].String(), Path: at,
					Message: fmt.Sprintf("%s is inside %s[%d] %s, so it adds nothing", l.rs[j], l.field, top, l.rs[top])})
			}
			stack = append(stack, j)
		}
	}
	for _, e := range c.Unknown {
		f := Finding{Severity: Error, Kind: UnknownUser, Rule: r.Name, Entry: e.ID, Path: fmt.Sprintf("%s.%s[%d]", path, e.Field, e.Index),
			Message: fmt.Sprintf("no user %q in the directory; the entry names nobody (A18)", e.ID)}
		if strings.HasSuffix(e.Field, "ImpersonationRoleIds") {
			f.Kind, f.Message = UnknownRole, fmt.Sprintf("no impersonation role %q in the organization; the entry names nobody (A18)", e.ID)
		}
		add(f)
	}
}

// sortFindings orders by severity (highest first), rule position, path, and
// sets each finding's RuleIndex from its path.
func sortFindings(fs []Finding) {
	type keyed struct {
		pos int
		f   Finding
	}
	ks := make([]keyed, len(fs))
	for i, f := range fs {
		ks[i] = keyed{-1, f}
		if rest, ok := strings.CutPrefix(f.Path, "Rules["); ok {
			if j := strings.IndexByte(rest, ']'); j > 0 {
				if n, err := strconv.Atoi(rest[:j]); err == nil {
					ks[i].pos = n
				}
			}
		}
		ks[i].f.RuleIndex = ks[i].pos
	}
	slices.SortStableFunc(ks, func(x, y keyed) int {
		if x.f.Severity != y.f.Severity {
			return int(y.f.Severity) - int(x.f.Severity)
		}
		if x.pos != y.pos {
			return x.pos - y.pos
		}
		return naturalCompare(x.f.Path, y.f.Path)
	})
	for i := range ks {
		fs[i] = ks[i].f
	}
}

// naturalCompare compares strings with runs of digits compared as numbers, so
// that "IpRanges[2]" sorts before "IpRanges[17]".
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) - len(nb)
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digits(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
