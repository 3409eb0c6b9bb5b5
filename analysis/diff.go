package analysis

import (
	"cmp"
	"context"
	"slices"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Change labels a [Region] of a diff.
type Change uint8

// The changes. The zero Change is not used.
const (
	// NewlyAllowed: DENY before, ALLOW after.
	NewlyAllowed Change = iota + 1
	// NewlyDenied: ALLOW before, DENY after.
	NewlyDenied
)

// String returns "newly allowed" or "newly denied".
func (c Change) String() string {
	switch c {
	case NewlyAllowed:
		return "newly allowed"
	case NewlyDenied:
		return "newly denied"
	}
	return ""
}

// MarshalText writes String's words with a hyphen: "newly-allowed".
func (c Change) MarshalText() ([]byte, error) {
	switch c {
	case NewlyAllowed:
		return []byte("newly-allowed"), nil
	case NewlyDenied:
		return []byte("newly-denied"), nil
	}
	return nil, errInvalid("Change")
}

// Verdict compares two rule sets as a whole.
type Verdict uint8

// The verdicts; the zero Verdict is Equivalent.
const (
	// Equivalent: every request gets the same effect.
	Equivalent Verdict = iota
	// MorePermissive: some requests are newly allowed, none newly denied.
	MorePermissive
	// LessPermissive: some requests are newly denied, none newly allowed.
	LessPermissive
	// Incomparable: some requests are newly allowed and others newly denied.
	Incomparable
)

// String returns "equivalent", "more permissive", "less permissive" or
// "incomparable".
func (v Verdict) String() string {
	return [...]string{"equivalent", "more permissive", "less permissive", "incomparable", ""}[min(int(v), 4)]
}

// MarshalText writes String's words with a hyphen: "more-permissive".
func (v Verdict) MarshalText() ([]byte, error) {
	switch v {
	case Equivalent:
		return []byte("equivalent"), nil
	case MorePermissive:
		return []byte("more-permissive"), nil
	case LessPermissive:
		return []byte("less-permissive"), nil
	case Incomparable:
		return []byte("incomparable"), nil
	}
	return nil, errInvalid("Verdict")
}

// Region is a set of requests that all changed the same way: every address
// of Addrs × every action of Actions × every principal class of Principals.
// Addrs is merged across the whole address space: a change that applies
// "everywhere except 198.51.100.0/24" is one region, not one per interval.
// Every action applies to every principal. Impersonation roles make EWS
// requests only (A12), so a region with a role has Actions [EWS], and users
// share it when EWS is all that changed for them on the same addresses: a
// region may mix users and roles only then.
type Region struct {
	Change  Change
	Addrs   AddrSet            // non-empty
	Actions []accessctl.Action // ascending, non-empty
	// Principals are non-empty, in the order of DiffResult.Principals.
	Principals []Principal
	// Witness is one request of the region, chosen to look like real
	// traffic: an address inside the region's most specific interval (see
	// [AddrSet]), the first action, and the first named principal (the
	// first principal when every one is "any other").
	Witness accessctl.Request
}

// DiffResult is the exact difference between two rule sets' effects.
type DiffResult struct {
	Verdict Verdict
	// Regions cover exactly the requests whose effect changed, without
	// overlap. A principal's changed requests of one kind for one action form
	// one address set; the (principal, action) pairs with the same change and
	// the same set share a region, and within it the principals with the same
	// actions. So there are at most two regions per principal-action pair, and
	// usually far fewer. They are ordered by their first address
	// (Addrs[0].First), then Change (newly allowed first), then first
	// principal (in the order of DiffResult.Principals), then actions, then
	// Addrs; no two regions tie.
	Regions []Region
	// Principals are the principal classes that were compared, in this order:
	// named users by ascending ID, any other user, named roles by ascending ID,
	// any other role (an "any other" class only when such a principal can
	// exist).
	Principals []Principal
	// Cells is the number of cells decided.
	Cells int64
}

// Diff computes which requests change effect between before and after, both
// compiled with opts (see [New]). Invalid input gives every problem as a
// policy.ErrorList, as New does, with the path of a rule problem naming its
// list: "Before.Rules[0].IpRanges[0]" or "After.Rules[0].IpRanges[0]"
// (problems of opts keep their paths, e.g. "Roles[0]").
//
// It decides every cell of the common decomposition — address intervals cut
// at every range boundary of both sets × principal classes × actions — once,
// never enumerating addresses, and merges the changed cells into regions
// (see DiffResult.Regions): a change to one range reads as one region of
// users and, when roles changed too, one of roles (EWS only, A12); a change
// everywhere but one range reads as one region "everywhere except" it.
//
// Exceeding Options.MaxCells, or Options.MaxRegions (which here bounds the
// address intervals of the distinct address sets of all regions together;
// regions with equal sets share one), returns a *[BudgetError]; a cancelled
// ctx returns its error; neither returns a partial answer.
// Cost: O(cells) time; memory O(intervals + columns × distinct outcomes +
// the intervals of the regions).
func Diff(ctx context.Context, before, after []accessctl.Rule, opts Options) (*DiffResult, error) {
	errs := opts.check()
	for _, set := range []struct {
		name  string
		rules []accessctl.Rule
	}{{"Before", before}, {"After", after}} {
		for _, e := range policy.Errors(accessctl.ValidateRules(set.rules)) {
			errs = append(errs, e.WithPrefix(set.name))
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	a, err := build(before, opts)
	if err != nil {
		return nil, err
	}
	b, err := build(after, opts)
	if err != nil {
		return nil, err
	}
	return diff(ctx, a, b)
}

// diff is Diff for compiled analyzers sharing options.
func diff(ctx context.Context, a, b *Analyzer) (*DiffResult, error) {
	s, err := newSpace(ctx, a.opts, a, b)
	if err != nil {
		return nil, err
	}
	res := &DiffResult{Principals: s.prin, Cells: s.cells()}
	A, B := s.sets[0], s.sets[1]
	// The changes of a class depend only on its two IP bitsets: compute the
	// change of every column once per distinct pair of those that occur.
	ncol := len(s.cols)
	pairs := map[uint64]int32{}
	var vecs []Change // ncol per distinct pair
	classVec := make([]int32, len(A.cu))
	for i := range classVec {
		classVec[i] = -1
	}
	for i, iv := range s.ivs {
		c := iv.Class
		if classVec[c] >= 0 {
			continue
		}
		key := uint64(A.cu[c])<<32 | uint64(B.cu[c])
		v, ok := pairs[key]
		if !ok {
			v = int32(len(pairs))
			pairs[key] = v
			ua, ub := A.cu[c], B.cu[c]
			for j := range s.cols {
				var k Change
				if x, y := A.allow(ua, j), B.allow(ub, j); x != y {
					k = NewlyDenied
					if y {
						k = NewlyAllowed
					}
				}
				vecs = append(vecs, k)
			}
		}
		classVec[c] = v
		if i&1023 == 0 {
			if err := checkCtx(ctx); err != nil {
				return nil, err
			}
		}
	}
	np := len(pairs)
	// A column's set of one change is the intervals whose pair has that
	// change in the column: two columns have the same set exactly when their
	// changes agree on every pair that occurs. Group the (column, change)
	// pairs by that signature, exactly (the signature is the map key).
	type group struct {
		kind Change
		rep  int   // a column of the group
		cols []int // ascending
		set  AddrSet
	}
	var groups []*group
	byKey := map[string]*group{}
	// which changes each column has at all: most columns of a small edit
	// have none, and need no signature
	kinds := make([]uint8, ncol) // bit k: some pair has change k
	for i, k := range vecs {
		kinds[i%ncol] |= 1 << k
	}
	sig := make([]byte, 1+(np+7)/8)
	for j := range s.cols {
		for _, kind := range [2]Change{NewlyAllowed, NewlyDenied} {
			if kinds[j]&(1<<kind) == 0 {
				continue
			}
			clear(sig)
			sig[0] = byte(kind)
			for v := range np {
				if vecs[v*ncol+j] == kind {
					sig[1+v/8] |= 1 << (v % 8)
				}
			}
			g, ok := byKey[string(sig)]
			if !ok {
				g = &group{kind: kind, rep: j}
				byKey[string(sig)] = g
				groups = append(groups, g)
			}
			g.cols = append(g.cols, j)
		}
		if j&63 == 0 {
			if err := checkCtx(ctx); err != nil {
				return nil, err
			}
		}
	}
	// One pass over the intervals builds every group's set.
	open := make([]bool, len(groups))
	total := 0
	prev := int32(-1)
	for i, iv := range s.ivs {
		if i&1023 == 0 {
			if err := checkCtx(ctx); err != nil {
				return nil, err
			}
		}
		v := classVec[iv.Class]
		if v == prev {
			continue // same changes as the interval before: every run goes on
		}
		prev = v
		vec := vecs[int(v)*ncol : int(v+1)*ncol]
		for gi, g := range groups {
			in := vec[g.rep] == g.kind
			switch {
			case in && !open[gi]:
				g.set = append(g.set, AddrRange{First: iv.First})
				open[gi] = true
				if total++; total > a.opts.maxRegions() {
					return nil, &BudgetError{Resource: "regions", Need: -1, Limit: int64(a.opts.maxRegions())}
				}
			case !in && open[gi]:
				g.set[len(g.set)-1].Last = iv.First - 1
				open[gi] = false
			}
		}
	}
	for gi, g := range groups {
		if open[gi] {
			g.set[len(g.set)-1].Last = ^uint32(0)
		}
		g.set = slices.Clip(g.set)
	}
	// Within a group, the principals with the same actions share a region.
	mask := make([]uint8, len(s.prin))
	var first []int32 // per region: index in s.prin of its first principal
	for _, g := range groups {
		var touched []int32
		for _, j := range g.cols {
			p := s.cols[j].p
			if mask[p] == 0 {
				touched = append(touched, p)
			}
			mask[p] |= 1 << s.cols[j].act
		}
		slices.Sort(touched)
		start := len(res.Regions)
		for _, p := range touched {
			m := mask[p]
			mask[p] = 0
			found := false
			for i := start; i < len(res.Regions); i++ {
				if actionMask(res.Regions[i].Actions) == m {
					res.Regions[i].Principals = append(res.Regions[i].Principals, s.prin[p])
					found = true
					break
				}
			}
			if !found {
				res.Regions = append(res.Regions, Region{Change: g.kind, Addrs: g.set, Actions: maskActions(m), Principals: []Principal{s.prin[p]}})
				first = append(first, p)
			}
		}
	}
	for i := range res.Regions {
		r := &res.Regions[i]
		w := r.Principals[0]
		for _, p := range r.Principals {
			if !p.Other() {
				w = p
				break
			}
		}
		r.Witness = w.request(r.Addrs.witnessAddr(), r.Actions[0])
	}
	res.Regions = sortRegions(res.Regions, first)
	var na, nd bool
	for _, r := range res.Regions {
		na = na || r.Change == NewlyAllowed
		nd = nd || r.Change == NewlyDenied
	}
	switch {
	case na && nd:
		res.Verdict = Incomparable
	case na:
		res.Verdict = MorePermissive
	case nd:
		res.Verdict = LessPermissive
	}
	return res, nil
}

func actionMask(acts []accessctl.Action) uint8 {
	var m uint8
	for _, a := range acts {
		m |= 1 << a
	}
	return m
}

func maskActions(m uint8) []accessctl.Action {
	var out []accessctl.Action
	for _, a := range accessctl.Actions() {
		if m&(1<<a) != 0 {
			out = append(out, a)
		}
	}
	return out
}

// sortRegions returns rs in the documented order: by first address, change,
// first principal (first[i] is the index in s.prin of rs[i]'s), actions,
// addresses. No two regions tie: a principal is in one region per change and
// address set, and the actions of a principal in two regions with the same
// change differ or their sets do.
func sortRegions(rs []Region, first []int32) []Region {
	order := make([]int32, len(rs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(i, j int32) int {
		x, y := &rs[i], &rs[j]
		return cmp.Or(cmp.Compare(x.Addrs[0].First, y.Addrs[0].First), cmp.Compare(x.Change, y.Change),
			cmp.Compare(first[i], first[j]), slices.Compare(x.Actions, y.Actions), compareSets(x.Addrs, y.Addrs))
	})
	out := make([]Region, len(rs))
	for k, i := range order {
		out[k] = rs[i]
	}
	return out
}

// compareSets orders address sets by their intervals, lexicographically.
func compareSets(x, y AddrSet) int {
	return slices.CompareFunc(x, y, func(a, b AddrRange) int {
		return cmp.Or(cmp.Compare(a.First, b.First), cmp.Compare(a.Last, b.Last))
	})
}
