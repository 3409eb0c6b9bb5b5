package analysis

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/internal/ruleset"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Default limits of [Options].
const (
	// DefaultMaxCells is the cell budget when Options.MaxCells is 0. The largest
	// rule sets WorkMail allows (10 rules of 1024 IpRanges and 1024 NotIpRanges,
	// two such sets in a diff, 10 users and 10 roles) need about 7 million cells.
	DefaultMaxCells = 1 << 26
	// DefaultMaxRegions is the region budget when Options.MaxRegions is 0.
	DefaultMaxRegions = 1 << 20
	// DefaultMaxBytes is the memory budget when Options.MaxBytes is 0: the
	// rule bitsets of the largest rule sets WorkMail allows take a few
	// megabytes; those of 100,000 rules about 2.5 GB.
	DefaultMaxBytes = 256 << 20
)

// Options configure [New] and [Diff]. The zero Options analyse a rule list on
// its own: identifiers are exact strings, any user or role ID may appear in a
// request, and the default budgets apply.
type Options struct {
	// Directory, when set, turns on identifier resolution (SEMANTICS A18) and
	// makes the user population known: user entries of rules resolve to user
	// IDs, and "any other user" means the directory's users that no rule names
	// (and is left out when there are none). It must also list its users, that
	// is implement Users() []policy.User as *policy.MemDirectory does; [New]
	// refuses any other Directory with an InvalidParameterException.
	Directory policy.Directory
	// Roles, when non-nil, are the impersonation role IDs the organization has
	// (`aws workmail list-impersonation-roles`): rule entries naming another
	// role match no request (and [Analyzer.Audit] reports them), requests of
	// another role are ResourceNotFoundException ([Analyzer.Explain],
	// [Analyzer.WhoCanPrincipal]), and "any other role" means the listed roles
	// that no rule names. Nil means any role ID may appear in a request.
	//
	// Each entry must be a valid role ID by the rule accessctl applies to
	// ImpersonationRoleIds entries (SEMANTICS A13: 1–64 characters of
	// [a-zA-Z0-9_-]); an invalid one is a ValidationException with the path
	// "Roles[i]", as accessctl reports a bad ID. Duplicates are allowed and
	// count once. (The wmpolicy command reads the roles from
	// list-impersonation-roles output, which cannot list a role twice: a file
	// that does is refused there, before it reaches this list.) [New] copies
	// the list: changing it afterwards does not affect the Analyzer.
	Roles []string
	// MaxCells bounds the cells (address intervals × principal classes ×
	// actions) one call may decide; a call that would need more returns a
	// *[BudgetError] and no answer. 0 means [DefaultMaxCells].
	MaxCells int64
	// MaxRegions bounds the regions one call may report (Diff, WhoCan); past
	// it the call returns a *[BudgetError]. 0 means [DefaultMaxRegions].
	MaxRegions int
	// MaxBytes bounds the memory of the rule bitsets one call builds (one
	// bit per rule for every address class and every principal × action
	// column: they grow with rules × ranges, so many rules can need far more
	// memory than cells); a call that would need more returns a
	// *[BudgetError] with Resource "bytes" before building them. 0 means
	// [DefaultMaxBytes].
	MaxBytes int64
}

func (o Options) maxBytes() int64 {
	if o.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return o.MaxBytes
}

func (o Options) maxCells() int64 {
	if o.MaxCells <= 0 {
		return DefaultMaxCells
	}
	return o.MaxCells
}

func (o Options) maxRegions() int {
	if o.MaxRegions <= 0 {
		return DefaultMaxRegions
	}
	return o.MaxRegions
}

// BudgetError is returned when a call would exceed a budget of [Options]:
// the answer would have been incomplete, so none is given. Raise the budget
// (Options.MaxCells, Options.MaxRegions, Options.MaxBytes) to get it.
type BudgetError struct {
	// Resource is "cells", "regions" or "bytes".
	Resource string
	// Need is how many the call needs, or -1 when only "more than Limit" is
	// known.
	Need int64
	// Limit is the budget that was exceeded.
	Limit int64
}

// Error describes the exceeded budget.
func (e *BudgetError) Error() string {
	if e.Need < 0 {
		return fmt.Sprintf("analysis: more than %d %s needed: budget exceeded", e.Limit, e.Resource)
	}
	return fmt.Sprintf("analysis: %d %s needed, budget is %d", e.Need, e.Resource, e.Limit)
}

// UserLister is a [policy.Directory] that can list its users, as
// *policy.MemDirectory does. Options.Directory must implement it.
type UserLister interface {
	policy.Directory
	Users() []policy.User
}

// Analyzer is a compiled rule list ready for analysis: every range parsed and
// masked, every user entry resolved, once. It is immutable and safe for
// concurrent use; the zero Analyzer is not usable — build one with [New].
type Analyzer struct {
	opts   Options
	rules  []accessctl.Rule // copies, input order; rule i is bit i
	cr     []ruleset.Rule   // the lowering, rule i in input order
	set    *ruleset.Set
	names  []int // rule indexes in ascending byte order of Name
	nconds int   // non-empty lists of all rules
	check  *accessctl.Policy
	dir    UserLister
	known  map[string]bool // Options.Roles as a set; nil when not given

	// explain index: distinct masked ranges of every rule, and who lists them
	table *cidr.Table
	head  []int32
	tags  []tag
}

// tag says that rule `rule` lists a range in IpRanges (not == false) or
// NotIpRanges at position index; next chains the tags of one distinct range.
type tag struct {
	rule  int32
	index int32
	not   bool
	next  int32
}

// New validates opts (see [Options]) and rules as [accessctl.ValidateRules]
// does (every problem, with its path, as a policy.ErrorList) and compiles them
// for analysis. Unlike
// [accessctl.Compile] it accepts user entries the directory does not know and
// role entries Options.Roles does not list: they name nobody (no request can
// carry them), which is exactly how the rule behaves once that user or role is
// deleted, and [Analyzer.Audit] reports each. The rules and Options.Roles are
// copied; Options.Directory is kept and must not change while the Analyzer is
// in use (a *policy.MemDirectory never changes).
//
// Cost: O(R log R) for R ranges, plus a table like accessctl's.
func New(rules []accessctl.Rule, opts Options) (*Analyzer, error) {
	errs := opts.check()
	errs = append(errs, policy.Errors(accessctl.ValidateRules(rules))...)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return build(rules, opts)
}

// check returns the problems of the options themselves (not of any rule
// list): a Directory that cannot list its users, invalid Roles entries.
func (o Options) check() policy.ErrorList {
	var errs policy.ErrorList
	if o.Directory != nil {
		if _, ok := o.Directory.(UserLister); !ok {
			errs = append(errs, policy.Errorf(policy.InvalidParameterException, "Directory",
				"the analysis needs a directory that lists its users (Users() []policy.User), like *policy.MemDirectory"))
		}
	}
	for i, id := range o.Roles {
		if msg := roleIDProblem(id); msg != "" {
			errs = append(errs, policy.Errorf(policy.ValidationException, "Roles["+strconv.Itoa(i)+"]", msg))
		}
	}
	return errs
}

// roleIDProblem returns what is wrong with an impersonation role ID, or "".
// It asks [accessctl.ValidateRules] about a rule naming the role, so that the
// rule (A13) and its wording are exactly accessctl's.
func roleIDProblem(id string) string {
	err := accessctl.ValidateRules([]accessctl.Rule{{Name: "r", Effect: policy.Allow, ImpersonationRoleIds: []string{id}}})
	if err == nil {
		return ""
	}
	return policy.Errors(err)[0].Message
}

// build compiles rules that passed ValidateRules with options that passed
// check. The Analyzer keeps its own copies of the rules and of opts.Roles
// (sorted, duplicates removed).
func build(rules []accessctl.Rule, opts Options) (*Analyzer, error) {
	if opts.Roles != nil {
		roles := slices.Clone(opts.Roles)
		slices.Sort(roles)
		opts.Roles = slices.Clip(slices.Compact(roles))
	}
	a := &Analyzer{opts: opts, rules: make([]accessctl.Rule, len(rules))}
	if opts.Directory != nil {
		a.dir = opts.Directory.(UserLister) // checked by Options.check
	}
	if opts.Roles != nil {
		a.known = make(map[string]bool, len(opts.Roles))
		for _, r := range opts.Roles {
			a.known[r] = true
		}
	}
	var err error
	// A rule-less policy with the same directory checks requests exactly as a
	// compiled policy does (A10–A12, A18).
	if a.check, err = accessctl.Compile(nil, accessctl.Options{Directory: opts.Directory}); err != nil {
		return nil, err
	}
	if a.set, err = lower(rules, opts, a.known); err != nil {
		return nil, err
	}
	a.cr = a.set.Rules
	for i := range rules {
		r := rules[i].Clone()
		a.rules[i] = r
		for _, l := range [][]string{r.IpRanges, r.NotIpRanges, r.Actions, r.NotActions, r.UserIds, r.NotUserIds, r.ImpersonationRoleIds, r.NotImpersonationRoleIds} {
			if len(l) > 0 {
				a.nconds++
			}
		}
	}
	a.explainIndex()
	a.names = make([]int, len(rules))
	for i := range a.names {
		a.names[i] = i
	}
	slices.SortFunc(a.names, func(x, y int) int { return strings.Compare(a.rules[x].Name, a.rules[y].Name) })
	return a, nil
}

// lower is the lowering of validated rules (internal/ruleset, the one place
// that decides what a rule means), in input order and lenient: entries naming
// no user (Options.Directory) or no role (known, when not nil) name nobody.
func lower(rules []accessctl.Rule, opts Options, known map[string]bool) (*ruleset.Set, error) {
	in := make([]ruleset.Input, len(rules))
	for i, r := range rules {
		in[i] = ruleset.Input(r)
	}
	lo := ruleset.Options{Directory: opts.Directory, Lenient: true}
	if known != nil {
		lo.KnownRole = func(id string) bool { return known[id] }
	}
	return ruleset.Lower(in, lo)
}

// explainIndex builds the explain index: the distinct masked ranges of every
// rule, each with the (rule, list, position) tags that name it.
func (a *Analyzer) explainIndex() {
	var ranges []cidr.Range
	index := map[uint64]int32{}
	for k := range a.cr {
		c := &a.cr[k]
		for li, list := range [2][]cidr.Range{c.IP(), c.NotIP()} {
			not := li == 1
			for pos, r := range list {
				m := r.Masked()
				key := uint64(m.Addr())<<8 | uint64(m.Bits())
				i, ok := index[key]
				if !ok {
					i = int32(len(ranges))
					index[key] = i
					ranges = append(ranges, m)
					a.head = append(a.head, -1)
				}
				if h := a.head[i]; h >= 0 && a.tags[h].rule == int32(k) && a.tags[h].not == not {
					continue // the same list names this network at a lower index already
				}
				a.tags = append(a.tags, tag{rule: int32(k), index: int32(pos), not: not, next: a.head[i]})
				a.head[i] = int32(len(a.tags) - 1)
			}
		}
	}
	a.table = cidr.Build(ranges)
}

// Len returns the number of rules.
func (a *Analyzer) Len() int { return len(a.rules) }

// Rules returns a deep copy of the rules, in input order (the order of the
// paths "Rules[i]" in findings).
func (a *Analyzer) Rules() []accessctl.Rule {
	out := make([]accessctl.Rule, len(a.rules))
	for i, r := range a.rules {
		out[i] = r.Clone()
	}
	return out
}

// checkCtx returns ctx's error, if any.
func checkCtx(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	return ctx.Err()
}

// errInvalid is the error of MarshalText for a value outside its constants.
func errInvalid(what string) error {
	return fmt.Errorf("analysis: invalid %s", what)
}
