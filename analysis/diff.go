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

// Region is a set of requests that all changed the same way: every address of
// Addrs × every action of Actions × every principal class of Principals.
// Every action applies to every principal: impersonation roles make EWS
// requests only (A12), so a region with a role has Actions [EWS] (and users
// share it only when EWS is all that changed for them there).
type Region struct {
	Change  Change
	Addrs   AddrRange
	Actions []accessctl.Action // ascending, non-empty
	// Principals are non-empty, in the order of DiffResult.Principals.
	Principals []Principal
	// Witness is one request of the region: its first address, first action
	// and first principal.
	Witness accessctl.Request
}

// DiffResult is the exact difference between two rule sets' effects.
type DiffResult struct {
	Verdict Verdict
	// Regions cover exactly the requests whose effect changed, without
	// overlap, ordered by Addrs.First, then Change (newly allowed first), then
	// first principal (Principals[0], in the order of DiffResult.Principals),
	// then Addrs.Last; no two regions tie.
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
// never enumerating addresses, and merges the changed cells into regions:
// adjacent intervals with the same change merge, and so do the principals
// that changed over the same addresses for the same actions, so that a change
// to one range reads as one region of users and, when roles changed too, one
// of roles (EWS only, A12).
//
// Exceeding Options.MaxCells or MaxRegions returns a *[BudgetError]; a
// cancelled ctx returns its error; neither returns a partial answer.
// Cost: O(cells) time; memory O(intervals + columns + regions).
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
	g := newGrouper(s, a.opts.maxRegions())
	A, B := s.sets[0], s.sets[1]
	// The changes of a class depend only on its two IP bitsets: compute the
	// change of every column once per distinct pair.
	ncol := len(s.cols)
	pairs := map[uint64]int32{}
	var vecs []Change // ncol per distinct pair
	classVec := make([]int32, len(A.cu))
	for c := range A.cu {
		key := uint64(A.cu[c])<<32 | uint64(B.cu[c])
		v, ok := pairs[key]
		if !ok {
			v = int32(len(vecs) / max(ncol, 1))
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
			if len(pairs)&1023 == 0 {
				if err := checkCtx(ctx); err != nil {
					return nil, err
				}
			}
		}
		classVec[c] = v
	}
	kind := make([]Change, ncol)
	start := make([]uint32, ncol)
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
		for j, k := range vec {
			if k != kind[j] {
				if kind[j] != 0 {
					g.add(start[j], j, kind[j])
				}
				kind[j], start[j] = k, iv.First
			}
		}
		// the runs closed here ended with the interval before this one
		if err := g.flush(iv.First - 1); err != nil {
			return nil, err
		}
	}
	for j := range s.cols {
		if kind[j] != 0 {
			g.add(start[j], j, kind[j])
		}
	}
	if err := g.flush(^uint32(0)); err != nil {
		return nil, err
	}
	res.Regions = sortRegions(g.regions, g.first)
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

// grouper turns runs of cells that end at the same address into regions.
type grouper struct {
	s       *space
	max     int
	pending []run
	regions []Region
	first   []int32 // per region: index in s.prin of its first principal
	mask    []uint8 // per principal: actions (bit a) of the current group
}

// run is a maximal run of intervals of one column with one change; its last
// address is the one given to flush.
type run struct {
	first uint32
	col   int32
	kind  Change
}

func newGrouper(s *space, max int) *grouper {
	return &grouper{s: s, max: max, mask: make([]uint8, len(s.prin))}
}

// add records a run that ends where the interval being processed ends.
func (g *grouper) add(first uint32, col int, kind Change) {
	g.pending = append(g.pending, run{first, int32(col), kind})
}

// flush turns the pending runs, which all end at last, into regions.
func (g *grouper) flush(last uint32) error {
	if len(g.pending) == 0 {
		return nil
	}
	slices.SortFunc(g.pending, func(x, y run) int {
		if x.first != y.first {
			if x.first < y.first {
				return -1
			}
			return 1
		}
		if x.kind != y.kind {
			return int(x.kind) - int(y.kind)
		}
		return int(x.col) - int(y.col)
	})
	for i := 0; i < len(g.pending); {
		j := i
		for j < len(g.pending) && g.pending[j].first == g.pending[i].first && g.pending[j].kind == g.pending[i].kind {
			j++
		}
		if err := g.group(g.pending[i:j], AddrRange{g.pending[i].first, last}); err != nil {
			return err
		}
		i = j
	}
	g.pending = g.pending[:0]
	return nil
}

// group makes the regions of runs with the same addresses and change: the
// principals with the same action set share a region, so that every action of
// a region applies to every principal of it. Roles have EWS only (A12): they
// share a region with users only when EWS is all those users' actions.
func (g *grouper) group(runs []run, addrs AddrRange) error {
	s := g.s
	var touched []int32
	for _, r := range runs {
		p := s.cols[r.col].p
		if g.mask[p] == 0 {
			touched = append(touched, p)
		}
		g.mask[p] |= 1 << s.cols[r.col].act
	}
	slices.Sort(touched) // principals in the order of s.prin
	kind := runs[0].kind
	start := len(g.regions)
	for _, p := range touched {
		m := g.mask[p]
		g.mask[p] = 0
		pr := s.prin[p]
		found := false
		for i := start; i < len(g.regions); i++ {
			if actionMask(g.regions[i].Actions) == m {
				g.regions[i].Principals = append(g.regions[i].Principals, pr)
				found = true
				break
			}
		}
		if !found {
			acts := maskActions(m)
			g.regions = append(g.regions, Region{Change: kind, Addrs: addrs, Actions: acts, Principals: []Principal{pr},
				Witness: pr.request(addrs.First, acts[0])})
			g.first = append(g.first, p)
		}
	}
	if len(g.regions) > g.max {
		return &BudgetError{Resource: "regions", Need: -1, Limit: int64(g.max)}
	}
	return nil
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
// first principal (first[i] is the index in s.prin of rs[i]'s), last address.
// No two regions have the same key: a principal is in one region per run end.
func sortRegions(rs []Region, first []int32) []Region {
	order := make([]int32, len(rs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(i, j int32) int {
		x, y := &rs[i], &rs[j]
		return cmp.Or(cmp.Compare(x.Addrs.First, y.Addrs.First), cmp.Compare(x.Change, y.Change),
			cmp.Compare(first[i], first[j]), cmp.Compare(x.Addrs.Last, y.Addrs.Last))
	})
	out := make([]Region, len(rs))
	for k, i := range order {
		out[k] = rs[i]
	}
	return out
}
