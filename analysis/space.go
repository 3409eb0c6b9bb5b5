package analysis

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/internal/ruleset"
)

// PrincipalKind says whether a [Principal] is a user or an impersonation role.
type PrincipalKind uint8

// The principal kinds. The zero PrincipalKind is not valid.
const (
	User PrincipalKind = iota + 1
	Role
)

// String returns "user" or "role" ("" for an invalid kind).
func (k PrincipalKind) String() string {
	switch k {
	case User:
		return "user"
	case Role:
		return "role"
	}
	return ""
}

// Principal is a class of request principals that every rule treats alike:
// one user or role a rule names, or "any other user" / "any other role" — every
// principal of that kind that no rule names (ID ""). It is a plain comparable
// value.
type Principal struct {
	Kind PrincipalKind
	// ID is the user ID (resolved through the directory, A18) or role ID;
	// "" for "any other user/role".
	ID string
	// Witness is an identifier a request of this class carries: ID itself for a
	// named principal; for "any other", a directory user or listed role that no
	// rule names when Options give them, else a made-up ID that no rule names.
	Witness string
}

// Other reports whether p is "any other user" or "any other role".
func (p Principal) Other() bool { return p.ID == "" }

// String returns "user ID", "role ID", "any other user" or "any other role".
func (p Principal) String() string {
	if p.ID == "" {
		return "any other " + p.Kind.String()
	}
	return p.Kind.String() + " " + p.ID
}

// request returns a request of principal p for action act from address addr.
func (p Principal) request(addr uint32, act accessctl.Action) accessctl.Request {
	r := accessctl.Request{IP: cidr.AddrToNetip(addr), Action: act}
	if p.Kind == User {
		r.UserID = p.Witness
	} else {
		r.ImpersonationRoleID = p.Witness
	}
	return r
}

// col is one principal × action column of the cell grid. Roles have only
// EWS (A12).
type col struct {
	p   int32
	act accessctl.Action
}

// space is the cell decomposition of one or more rule sets over the same
// principals: IPv4 cut into elementary intervals at every range boundary of
// every set, × the principal-action columns. Within a cell every rule of every
// set either matches every request or none.
type space struct {
	table *cidr.Table
	ivs   []cidr.Interval
	prin  []Principal
	cols  []col
	sets  []*bitsets
}

// bitsets are one rule set's match sets: rule k is bit k.
type bitsets struct {
	a    *Analyzer
	w    int
	deny []uint64
	ip   []uint64 // per address class, w words: IP conditions hold
	pa   []uint64 // per column, w words: action and principal conditions hold
	// The distinct IP bitsets: most classes share theirs with others, and
	// every answer depends on a class only through its IP bitset.
	uniq  []uint64 // w words each, numbered in order of first occurrence
	cu    []int32  // class → index in uniq
	first []int32  // uniq index → first interval (index in ivs) with it
}

// cellsOf returns intervals × columns as an int64.
func (s *space) cells() int64 { return int64(len(s.ivs)) * int64(len(s.cols)) }

// newSpace decomposes the request space of the analyzers, which share opts.
// It checks the cell budget before any per-cell work.
func newSpace(ctx context.Context, opts Options, as ...*Analyzer) (*space, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	s := &space{}
	s.principals(opts, as)
	for pi, p := range s.prin {
		if p.Kind == User {
			for _, act := range accessctl.Actions() {
				s.cols = append(s.cols, col{int32(pi), act})
			}
		} else {
			s.cols = append(s.cols, col{int32(pi), accessctl.EWS})
		}
	}
	// Address dimension: distinct masked ranges of all sets, each with the
	// (set, rule, not) tags that list it.
	var ranges []cidr.Range
	var head []int32
	var tags []stag
	index := map[uint64]int32{}
	for si, a := range as {
		for j, r := range a.set.Ranges {
			k, not := int32(a.set.Tags[j]>>1), a.set.Tags[j]&1 == 1
			m := r.Masked()
			key := uint64(m.Addr())<<8 | uint64(m.Bits())
			i, ok := index[key]
			if !ok {
				i = int32(len(ranges))
				index[key] = i
				ranges = append(ranges, m)
				head = append(head, -1)
			}
			if h := head[i]; h >= 0 && tags[h].set == int32(si) && tags[h].rule == k && tags[h].not == not {
				continue
			}
			tags = append(tags, stag{int32(si), k, not, head[i]})
			head[i] = int32(len(tags) - 1)
		}
	}
	s.table = cidr.Build(ranges)
	n := s.table.NumIntervals()
	if need := int64(n) * int64(len(s.cols)); need > opts.maxCells() {
		return nil, &BudgetError{Resource: "cells", Need: need, Limit: opts.maxCells()}
	}
	// Memory budget (SEMANTICS D5): each set's bitsets below take one word
	// per 64 rules for every address class (twice: the table and its distinct
	// rows) and every column.
	nc := s.table.NumClasses()
	var need int64
	for _, a := range as {
		w := int64(max(1, (len(a.cr)+63)/64))
		need += (2*int64(nc) + int64(len(s.cols))) * w * 8
	}
	if need > opts.maxBytes() {
		return nil, &BudgetError{Resource: "bytes", Need: need, Limit: opts.maxBytes()}
	}
	s.ivs = make([]cidr.Interval, 0, n)
	for iv := range s.table.Intervals() {
		s.ivs = append(s.ivs, iv)
	}
	for si, a := range as {
		b, err := s.bitsets(ctx, si, a, head, tags)
		if err != nil {
			return nil, err
		}
		s.sets = append(s.sets, b)
	}
	return s, nil
}

// stag says that rule `rule` of set `set` lists a distinct masked range in
// IpRanges (not == false) or NotIpRanges; next chains the tags of one range.
type stag struct {
	set, rule int32
	not       bool
	next      int32
}

// bitsets builds set si's match sets over the space's address classes and
// columns, from the lowering (a.set): the IP conditions of every class (noIn,
// plus the rules whose IpRanges contain it, minus those whose NotIpRanges do),
// interned, and the action and principal conditions of every column.
func (s *space) bitsets(ctx context.Context, si int, a *Analyzer, head []int32, tags []stag) (*bitsets, error) {
	set := a.set
	b := &bitsets{a: a, w: set.Words, deny: set.Deny}
	w := b.w
	nc := s.table.NumClasses()
	b.ip = make([]uint64, nc*w)
	not := make([]uint64, w)
	for c := range nc {
		ip := b.ip[c*w : (c+1)*w]
		copy(ip, set.NoIn)
		clear(not)
		for _, m := range s.table.Members(uint32(c)) {
			for t := head[m]; t >= 0; t = tags[t].next {
				if tags[t].set != int32(si) {
					continue
				}
				k := tags[t].rule
				if tags[t].not {
					not[k/64] |= 1 << (k % 64)
				} else {
					ip[k/64] |= 1 << (k % 64)
				}
			}
		}
		for i := range ip {
			ip[i] &^= not[i]
		}
		if c&1023 == 0 {
			if err := checkCtx(ctx); err != nil {
				return nil, err
			}
		}
	}
	interned := ruleset.NewInterner(w)
	b.cu = make([]int32, nc)
	for c := range nc {
		b.cu[c] = int32(interned.Intern(b.ip[c*w:(c+1)*w]) / uint32(w))
	}
	b.uniq = interned.Sets()
	b.first = make([]int32, interned.Len())
	for i := range b.first {
		b.first[i] = -1
	}
	for i, iv := range s.ivs {
		if u := b.cu[iv.Class]; b.first[u] < 0 {
			b.first[u] = int32(i)
		}
	}
	b.pa = make([]uint64, len(s.cols)*w)
	for j, cl := range s.cols {
		p := &s.prin[cl.p]
		set.Column(b.pa[j*w:(j+1)*w], p.Kind.lowered(), p.ID, int(cl.act))
	}
	return b, nil
}

// lowered is k as the lowering numbers kinds.
func (k PrincipalKind) lowered() ruleset.Kind {
	if k == Role {
		return ruleset.Role
	}
	return ruleset.User
}

// principals fills s.prin: named users (sorted), any other user, named roles
// (sorted), any other role; "any other" only when such a principal can exist.
func (s *space) principals(opts Options, as []*Analyzer) {
	users, roles := map[string]bool{}, map[string]bool{}
	for _, a := range as {
		for _, id := range a.set.Named(ruleset.User) {
			users[id] = true
		}
		for _, id := range a.set.Named(ruleset.Role) {
			roles[id] = true
		}
	}
	for _, id := range sortedKeys(users) {
		s.prin = append(s.prin, Principal{Kind: User, ID: id, Witness: id})
	}
	var dir UserLister
	if len(as) > 0 {
		dir = as[0].dir
	}
	if dir != nil {
		for _, u := range dir.Users() {
			if u.ID != "" && !users[u.ID] {
				s.prin = append(s.prin, Principal{Kind: User, Witness: u.ID})
				break
			}
		}
	} else {
		s.prin = append(s.prin, Principal{Kind: User, Witness: otherUser(users)})
	}
	for _, id := range sortedKeys(roles) {
		s.prin = append(s.prin, Principal{Kind: Role, ID: id, Witness: id})
	}
	if opts.Roles != nil {
		for _, id := range opts.Roles { // sorted by build
			if !roles[id] {
				s.prin = append(s.prin, Principal{Kind: Role, Witness: id})
				break
			}
		}
	} else {
		s.prin = append(s.prin, Principal{Kind: Role, Witness: otherRole(roles)})
	}
}

// otherUser returns a user ID that no rule names and that looks like the
// ones rules name: a named ID ending in digits (a WorkMail user ID,
// "S-1-1-11-…-1003") with the smallest greater number of the same width
// that no rule names; else "S-1-1-11-0000000000-0000000000-0000000000-1000"
// (or the next free number).
func otherUser(taken map[string]bool) string {
	base := "S-1-1-11-0000000000-0000000000-0000000000-1000"
	for _, id := range sortedKeys(taken) {
		i := len(id)
		for i > 0 && id[i-1] >= '0' && id[i-1] <= '9' {
			i--
		}
		if n := len(id) - i; n >= 3 && n <= 9 && i > 0 {
			base = id
			break
		}
	}
	i := len(base)
	for base[i-1] >= '0' && base[i-1] <= '9' {
		i--
	}
	prefix, digits := base[:i], base[i:]
	n, _ := strconv.Atoi(digits)
	for k := n + 1; ; k++ {
		d := strconv.Itoa(k)
		if len(d) < len(digits) {
			d = strings.Repeat("0", len(digits)-len(d)) + d
		}
		if id := prefix + d; !taken[id] {
			return id
		}
	}
}

// otherRole returns a role ID that no rule names, shaped as WorkMail's
// role IDs are (a UUID, B5): "00000000-0000-4000-8000-000000000001", or the
// next number free.
func otherRole(taken map[string]bool) string {
	for k := 1; ; k++ {
		d := strconv.Itoa(k)
		if id := "00000000-0000-4000-8000-" + strings.Repeat("0", max(0, 12-len(d))) + d; !taken[id] {
			return id
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// allow reports whether set b allows the cell (distinct IP bitset u, column
// j): some rule matches and no matching rule is DENY (A6).
func (b *bitsets) allow(u int32, j int) bool {
	if b.w == 1 {
		m := b.uniq[u] & b.pa[j]
		return m != 0 && m&b.deny[0] == 0
	}
	ip := b.uniq[int(u)*b.w : int(u+1)*b.w]
	pa := b.pa[j*b.w : (j+1)*b.w]
	var any uint64
	for i := range ip {
		m := ip[i] & pa[i]
		if m&b.deny[i] != 0 {
			return false
		}
		any |= m
	}
	return any != 0
}

// match writes the match set of the cell (distinct IP bitset u, column j)
// into m (w words).
func (b *bitsets) match(m []uint64, u int32, j int) {
	ip := b.uniq[int(u)*b.w : int(u+1)*b.w]
	pa := b.pa[j*b.w : (j+1)*b.w]
	for i := range m {
		m[i] = ip[i] & pa[i]
	}
}
