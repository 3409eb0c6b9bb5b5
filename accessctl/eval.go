package accessctl

import (
	"fmt"
	"math/bits"

	"github.com/wmpolicy/wmpolicy/internal/strtab"
	"github.com/wmpolicy/wmpolicy/policy"
)

// principalKey is where the principal of a request with action a is looked
// up: the table, the key, and the row (of pa) of a key the table does not
// hold — "any other user" or "any other role" — or -1 where that is not the
// answer: a user when the policy has a directory (the name may be an email,
// alias or user name, A18), or a request that does not carry exactly one
// principal, or a role with another action than EWS (A12; locate reports
// both). For those it returns the key "", which no table holds (strtab
// refuses empty keys), so they fail closed: row -1. It is the one place
// that chooses a request's principal table, for Evaluate and for principal,
// and it calls nothing, so that it inlines (TestHotPathInlining).
func (p *Policy) principalKey(user, role string, a Action) (t *strtab.Table, key string, miss int32) {
	if role == "" {
		if user != "" {
			return &p.users, user, p.miss[kindUser]
		}
	} else if user == "" && a == EWS {
		return &p.roles, role, p.miss[kindRole]
	}
	return &p.users, "", -1
}

// rowOf is the pa row of a principal looked up with principalKey's table
// and key: the key's row, miss for a key the table does not hold, and -1
// (take the checked path) when Lookup leaves the key to Get. It inlines.
func rowOf(v int32, res strtab.Result, miss int32) int32 {
	switch res {
	case strtab.Hit:
		return v
	case strtab.Miss:
		return miss
	}
	return -1
}

// principal finds the pa row of a checked request's principal and, for
// users, the resolved user ID.
func (p *Policy) principal(r *Request) (int32, string, error) {
	t, key, miss := p.principalKey(r.UserID, r.ImpersonationRoleID, r.Action)
	if row, ok := t.Get(key); ok {
		return row, r.UserID, nil
	}
	if miss >= 0 {
		return miss, r.UserID, nil
	}
	// A user the rules do not name by this string, with a directory.
	u, ok := p.dir.Lookup(r.UserID)
	if !ok {
		return 0, "", &policy.Error{Code: policy.EntityNotFoundException, Path: "UserId",
			Message: fmt.Sprintf("no user %q in the directory", truncate(r.UserID, 64))}
	}
	if row, ok := p.users.Get(u.ID); ok {
		return row, u.ID, nil
	}
	return p.other[kindUser], u.ID, nil
}

// locate checks the request and returns its address label (an offset in sets
// for one-word policies, in hits for wider ones) and the offset of its
// principal×action set.
func (p *Policy) locate(r *Request) (ipLabel, paOff uint32, userID string, err error) {
	a, err := r.check()
	if err != nil {
		return 0, 0, "", err
	}
	row, userID, err := p.principal(r)
	if err != nil {
		return 0, 0, "", err
	}
	return p.ip.Get(a), p.pa[int(row)+int(r.Action-1)], userID, nil
}

// Evaluate is the fast path: it returns the effect of the request and appends the
// names of the rules that decided it (A7: the matching rules whose effect equals
// the result, ascending by name; none on an implicit deny) to matched, returning
// the extended slice.
//
// It does not allocate when matched has room for the names (reuse one slice per
// goroutine: `eff, names, err = p.Evaluate(req, names[:0])`). An invalid request
// returns Deny, matched unchanged, and an error with its AWS code (A10–A12, A18).
// A nil *Policy denies everything.
func (p *Policy) Evaluate(r Request, matched []string) (policy.Effect, []string, error) {
	// The common request (an IPv4 address, a valid action and a principal
	// that needs no directory) is answered here, in a small frame and
	// without taking r's address; anything else takes evaluate.
	if p != nil && r.IP.Is4() && r.Action.Valid() {
		// The address first: its lookup (inline, with a branch that random
		// addresses mispredict) then overlaps the principal's lookup call,
		// and a mispredicted branch in it resolves before that call's work
		// is under way (S 7-9% faster than looking it up after the
		// principal, in paired rounds).
		ipLabel := p.ip.Get(addr4(r.IP))
		// The principal: principalKey, the frameless Lookup
		// (TestHotPathLeaves) and rowOf, as in Effect. A row of -1 (a user
		// with a directory not found as written, a key Lookup leaves to
		// Get, an invalid request) takes evaluate, which checks and
		// resolves.
		t, key, miss := p.principalKey(r.UserID, r.ImpersonationRoleID, r.Action)
		v, res := t.Lookup(key)
		if row := rowOf(v, res, miss); row >= 0 {
			paOff := p.pa[int(row)+int(r.Action-1)]
			var eff policy.Effect
			if p.layout <= oneWord {
				eff, matched = p.decide1(p.and1(ipLabel, paOff), matched)
			} else {
				eff, matched = p.decideWide(ipLabel, paOff, matched)
			}
			return eff, matched, nil
		}
	}
	return p.evaluate(r, matched)
}

// decide1 answers from the match set m of a one-word policy (A6, A7): DENY
// with the matching DENY rules, else ALLOW with all matching rules, else an
// implicit DENY; the names are appended to matched.
func (p *Policy) decide1(m uint64, matched []string) (policy.Effect, []string) {
	eff, names := policy.Allow, m
	if d := m & p.deny0; d != 0 || m == 0 {
		eff, names = policy.Deny, d
	}
	return eff, p.appendNames(matched, 0, names)
}

// and1 is the match set of a one-word policy: the rule sets behind an
// address label and a principal×action entry, ANDed. With at most 32 rules
// (narrow) the labels are the sets themselves, which spares two dependent
// loads.
func (p *Policy) and1(ipLabel, paOff uint32) uint64 {
	if p.layout == narrow {
		return uint64(ipLabel & paOff)
	}
	return p.sets[ipLabel] & p.sets[paOff]
}

// evaluate is Evaluate for the requests its inline path does not answer:
// a nil policy, an invalid request, or a principal that needs the
// directory. It goes straight to locate (for a non-nil policy, the inline
// lookup has already missed).
func (p *Policy) evaluate(r Request, matched []string) (policy.Effect, []string, error) {
	if p == nil {
		_, err := r.check()
		return policy.Deny, matched, err
	}
	ipLabel, paOff, _, err := p.locate(&r)
	if err != nil {
		return policy.Deny, matched, err
	}
	if p.layout <= oneWord {
		eff, names := p.decide1(p.and1(ipLabel, paOff), matched)
		return eff, names, nil
	}
	eff, names := p.decideWide(ipLabel, paOff, matched)
	return eff, names, nil
}

// decideWide is decide1 for policies of more than one word: the effect of
// the request located at (ipLabel, paOff), with the deciding rules' names
// appended to matched.
func (p *Policy) decideWide(ipLabel, paOff uint32, matched []string) (policy.Effect, []string) {
	if p.layout == wide && p.words <= maxStackWords {
		var buf [maxStackWords]uint64
		m := buf[:p.words]
		anyMatch, anyDeny := p.fillWide(m, ipLabel, paOff)
		switch {
		case anyDeny:
			for w, x := range m {
				matched = p.appendNames(matched, w, x&p.deny[w])
			}
			return policy.Deny, matched
		case anyMatch:
			for w, x := range m {
				matched = p.appendNames(matched, w, x)
			}
			return policy.Allow, matched
		}
		return policy.Deny, matched
	}
	if p.layout == wideHits {
		if eff, names, ok := p.evalHits(ipLabel, paOff, matched); ok {
			return eff, names
		}
	}
	anyMatch, anyDeny := p.scanWide(ipLabel, paOff, nil, 0)
	switch {
	case anyDeny:
		_, _ = p.scanWide(ipLabel, paOff, &matched, policy.Deny)
		return policy.Deny, matched
	case anyMatch:
		_, _ = p.scanWide(ipLabel, paOff, &matched, policy.Allow)
		return policy.Allow, matched
	}
	return policy.Deny, matched
}

// maxPassHits is the longest hit list evalHits takes in one pass (longer
// ones, addresses in more than 64 rules' ranges, take scanWide's two). Its
// buffer is zeroed on every call: 64 entries measured faster on L than 128
// (median 148 against 156 ns, 10 interleaved rounds).
const maxPassHits = 64

// evalHits is Evaluate for policies in which every rule has IpRanges
// (wideHits), in one pass over the address's hit list: collectHits gathers the
// deciding rules (the matching DENY rules if there are any, else all
// matching rules) into a stack buffer without data-dependent branches, and
// their names are appended. ok is false, and nothing is appended, when the
// hit list is longer than maxPassHits.
func (p *Policy) evalHits(hitOff, paOff uint32, matched []string) (eff policy.Effect, names []string, ok bool) {
	n := p.hits[hitOff]
	if n > maxPassHits {
		return 0, matched, false
	}
	hits := p.hits[hitOff+1 : hitOff+1+n]
	pa := p.sets[paOff : paOff+uint32(p.words)]
	deny := p.deny[:len(pa)]
	var buf [maxPassHits]uint32
	l, isDeny := collectHits(&buf, hits, pa, deny)
	for _, k := range buf[:l] {
		matched = append(matched, p.names[k])
	}
	if l > 0 && !isDeny {
		return policy.Allow, matched, true
	}
	return policy.Deny, matched, true
}

// collectHits writes to buf the deciding rules among hits (at most
// maxPassHits): the ones in the set pa that are in deny, if any is, else all
// the ones in pa, ascending; it returns how many and whether they are DENY
// rules. Without data-dependent branches: every hit is written, and the count
// advances past the kept ones. (A function of its own, so that its loops keep
// everything in registers.)
//
//go:noinline
func collectHits(buf *[maxPassHits]uint32, hits []uint32, pa, deny []uint64) (n int, isDeny bool) {
	for _, k := range hits {
		buf[n&(maxPassHits-1)] = k // n < len(hits) <= maxPassHits: the mask only spares a bounds check
		// A bit test, not a shift: no register is tied to the shift count.
		n += int(bitSet(pa[k>>6] & (1 << (k & 63))))
	}
	// Then the DENY rules among the (few) matching ones, compacted in
	// place, in a loop of its own: with it, the first runs out of
	// registers. If there are none, the only write that lands is the
	// last one, on buf[0], which is put back.
	if n == 0 {
		return 0, false
	}
	first, d := buf[0], 0
	for _, k := range buf[:n] {
		buf[d&(maxPassHits-1)] = k
		d += int(bitSet(deny[k>>6] & (1 << (k & 63))))
	}
	if d == 0 {
		buf[0] = first
		return n, false
	}
	return d, true
}

// bitSet is 1 when x is not zero, else 0, without a branch.
func bitSet(x uint64) uint64 {
	var b uint64
	if x != 0 {
		b = 1
	}
	return b
}

// scanHits is scanWide for policies in which every rule has IpRanges
// (wideHits): a rule can then match only if its address condition holds, and the
// address's hit list is exactly those rules, ascending, so the walk is over
// that list alone, not over every word. Like scanWide, it appends the names
// of the matching DENY rules when want is Deny, and of all matching rules
// otherwise.
func (p *Policy) scanHits(hitOff, paOff uint32, names *[]string, want policy.Effect) (anyMatch, anyDeny bool) {
	n := p.hits[hitOff]
	hits := p.hits[hitOff+1 : hitOff+1+n]
	pa := p.sets[paOff : paOff+uint32(p.words)]
	if names == nil {
		// Only whether anything (DENY) matched: without data-dependent
		// branches, which the CPU would mispredict about every other hit.
		var am, ad uint64
		deny := p.deny[:len(pa)]
		for _, k := range hits {
			m := pa[k>>6] & (1 << (k & 63))
			am |= m
			ad |= m & deny[k>>6]
		}
		return am != 0, ad != 0
	}
	for _, k := range hits {
		bit := uint64(1) << (k & 63)
		if pa[k>>6]&bit == 0 {
			continue
		}
		deny := p.deny[k>>6]&bit != 0
		anyMatch = true
		anyDeny = anyDeny || deny
		if names != nil && (deny || want != policy.Deny) {
			*names = append(*names, p.names[k])
		}
	}
	return anyMatch, anyDeny
}

// maxStackWords is the widest policy (in 64-rule words) whose match set
// Evaluate builds in a stack buffer in one pass; wider ones take two passes of
// scanWide.
const maxStackWords = 64

// fillWide computes the match set of a policy of 2..maxStackWords words into m:
// word w is (noIn[w] | IpRanges hits) &^ NotIpRanges hits, ANDed with the
// principal×action set. Hits are sorted by rule, a rule's IpRanges hit before
// its NotIpRanges hit, so applying them in order without branches is exact.
func (p *Policy) fillWide(m []uint64, hitOff, paOff uint32) (anyMatch, anyDeny bool) {
	copy(m, p.noIn)
	n := p.hits[hitOff]
	for _, h := range p.hits[hitOff+1 : hitOff+1+n] {
		bit := uint64(1) << (h >> 1 & 63)
		not := -uint64(h & 1) // all ones for a NotIpRanges hit
		w := &m[h>>7]
		*w = (*w | bit&^not) &^ (bit & not)
	}
	pa := p.sets[paOff : paOff+uint32(len(m))]
	deny := p.deny[:len(m)]
	var am, ad uint64
	for w := range m {
		x := m[w] & pa[w]
		m[w] = x
		am |= x
		ad |= x & deny[w]
	}
	return am != 0, ad != 0
}

// scanWide walks the matching rules of a policy of more than one word: word w of
// the match set is (noIn[w] | IpRanges hits) &^ NotIpRanges hits, ANDed with the
// principal×action set. It reports whether anything matched and whether a DENY
// rule did; with names != nil it also appends the names of the matching rules of
// effect want. When every rule has IpRanges (wideHits) it walks the hit list
// alone (scanHits), whatever the width.
func (p *Policy) scanWide(hitOff, paOff uint32, names *[]string, want policy.Effect) (anyMatch, anyDeny bool) {
	if p.layout == wideHits {
		return p.scanHits(hitOff, paOff, names, want)
	}
	n := p.hits[hitOff]
	hits := p.hits[hitOff+1 : hitOff+1+n]
	pa := p.sets[paOff : paOff+uint32(p.words)]
	base := p.noIn[:len(pa)]
	deny := p.deny[:len(pa)]
	var am, ad uint64
	j := 0
	for w := range pa {
		m := base[w]
		for ; j < len(hits) && int(hits[j]>>7) == w; j++ {
			bit := uint64(1) << (hits[j] >> 1 & 63)
			if hits[j]&1 == 0 {
				m |= bit
			} else {
				m &^= bit
			}
		}
		m &= pa[w]
		am |= m
		ad |= m & deny[w]
		if names != nil {
			if want == policy.Deny {
				m &= deny[w]
			}
			*names = p.appendNames(*names, w, m)
		}
	}
	return am != 0, ad != 0
}

// Effect returns only the effect of the request; see [Policy.Evaluate].
func (p *Policy) Effect(r Request) (policy.Effect, error) {
	if p == nil {
		_, err := r.check()
		return policy.Deny, err
	}
	// The common request as Evaluate answers it; anything else is checked
	// and resolved by locate.
	var ipLabel, paOff uint32
	row := int32(-1)
	if r.IP.Is4() && r.Action.Valid() {
		t, key, miss := p.principalKey(r.UserID, r.ImpersonationRoleID, r.Action)
		v, res := t.Lookup(key)
		if row = rowOf(v, res, miss); row >= 0 {
			ipLabel = p.ip.Get(addr4(r.IP))
			paOff = p.pa[int(row)+int(r.Action-1)]
		}
	}
	if row < 0 {
		var err error
		if ipLabel, paOff, _, err = p.locate(&r); err != nil {
			return policy.Deny, err
		}
	}
	var anyMatch, anyDeny bool
	if p.layout <= oneWord {
		m := p.and1(ipLabel, paOff)
		anyMatch, anyDeny = m != 0, m&p.deny[0] != 0
	} else if p.layout == wide && p.words <= maxStackWords {
		var buf [maxStackWords]uint64
		anyMatch, anyDeny = p.fillWide(buf[:p.words], ipLabel, paOff)
	} else {
		anyMatch, anyDeny = p.scanWide(ipLabel, paOff, nil, 0)
	}
	if anyMatch && !anyDeny {
		return policy.Allow, nil
	}
	return policy.Deny, nil
}

func (p *Policy) appendNames(dst []string, word int, m uint64) []string {
	base := word * 64
	for m != 0 {
		dst = append(dst, p.names[base+bits.TrailingZeros64(m)])
		m &= m - 1
	}
	return dst
}

// Decide returns the full decision for a request: effect, reason, the deciding
// rules (A7), every matching rule and the resolved user with its state (A8; the
// effect ignores the state, see [Decision.UserState]). It allocates the
// slices of its answer (MatchedRules is never nil; Matching is nil when no rule
// matches); use [Policy.Evaluate] on hot paths, or [Policy.DecideTo] to reuse
// a Decision's slices.
func (p *Policy) Decide(r Request) (Decision, error) {
	var d Decision
	err := p.DecideTo(&d, r)
	return d, err
}

// DecideTo is [Policy.Decide] writing its answer to *d, which it overwrites
// entirely, and reusing the capacity of d's slices: once they have had room
// for the policy's rules it allocates nothing. Keep no reference into d's
// slices across calls. On error *d is the zero Decision but for its slices,
// kept emptied. Safe for concurrent use, each goroutine with its own d.
func (p *Policy) DecideTo(d *Decision, r Request) error {
	matched, matching := d.MatchedRules[:0], d.Matching[:0]
	if p == nil {
		if _, err := r.check(); err != nil {
			*d = Decision{MatchedRules: matched, Matching: matching}
			return err
		}
		*d = Decision{Effect: policy.Deny, Reason: ImplicitDeny, MatchedRules: room(matched, 0), Matching: matching}
		return nil
	}
	ipLabel, paOff, userID, err := p.locate(&r)
	if err != nil {
		*d = Decision{MatchedRules: matched, Matching: matching}
		return err
	}
	*d = Decision{UserID: userID}
	if userID != "" && p.dir != nil {
		if u, ok := p.dir.Lookup(userID); ok {
			d.UserState = u.State
		}
	}
	if p.layout <= oneWord {
		// Straight from the bits, in one pass.
		m := p.and1(ipLabel, paOff)
		dm := m & p.deny0
		d.Effect, d.Reason = outcome(dm != 0, m != 0)
		deciding := m
		if dm != 0 {
			deciding = dm
		}
		if m != 0 {
			matching = room(matching, bits.OnesCount64(m))
		}
		matched = room(matched, bits.OnesCount64(deciding))
		for ; m != 0; m &= m - 1 {
			k := bits.TrailingZeros64(m)
			matching = append(matching, Match{Name: p.names[k], Effect: p.rules[k].Effect})
			if deciding&(1<<k) != 0 {
				matched = append(matched, p.names[k])
			}
		}
		d.MatchedRules, d.Matching = matched, matching
		return nil
	}
	// Every matching rule's name, into matched's memory; then the deciding
	// ones, a subsequence, compacted in place.
	all := matched
	p.scanWide(ipLabel, paOff, &all, policy.Allow)
	if len(all) > 0 {
		matching = room(matching, len(all))
	}
	var anyDeny bool
	for _, name := range all {
		e := p.rules[p.index(name)].Effect
		anyDeny = anyDeny || e == policy.Deny
		matching = append(matching, Match{Name: name, Effect: e})
	}
	d.Effect, d.Reason = outcome(anyDeny, len(matching) > 0)
	n := 0 // on an implicit deny nothing matched: none
	for _, m := range matching {
		if m.Effect == d.Effect {
			all[n] = m.Name
			n++
		}
	}
	d.MatchedRules, d.Matching = all[:n], matching
	if d.MatchedRules == nil {
		d.MatchedRules = []string{}
	}
	return nil
}

// outcome is A6's answer: DENY when a DENY rule matches, else ALLOW when any
// rule matches, else the implicit DENY.
func outcome(anyDeny, anyMatch bool) (policy.Effect, Reason) {
	switch {
	case anyDeny:
		return policy.Deny, ExplicitDeny
	case anyMatch:
		return policy.Allow, ExplicitAllow
	}
	return policy.Deny, ImplicitDeny
}

// room returns s emptied when it is non-nil with room for n elements, else
// a new empty slice with room for n (non-nil, and without allocating when n
// is 0).
func room[T any](s []T, n int) []T {
	if s == nil || cap(s) < n {
		return make([]T, 0, n)
	}
	return s[:0]
}

// index returns the position of the named rule (names are sorted and unique).
func (p *Policy) index(name string) int {
	lo, hi := 0, len(p.names)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if p.names[mid] < name {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// GetAccessControlEffect answers a request in the wire shapes: it checks the input
// as [GetAccessControlEffectInput.Request] does and returns
// {"Effect", "MatchedRules"} (A7, A8), or an error with its AWS code.
func (p *Policy) GetAccessControlEffect(in GetAccessControlEffectInput) (GetAccessControlEffectOutput, error) {
	r, err := in.Request()
	if err != nil {
		return GetAccessControlEffectOutput{}, err
	}
	eff, names, err := p.Evaluate(r, []string{})
	if err != nil {
		return GetAccessControlEffectOutput{}, err
	}
	return GetAccessControlEffectOutput{Effect: eff, MatchedRules: names}, nil
}
