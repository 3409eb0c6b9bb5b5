package analysis

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Limits of a test file ([DecodeTestCases]).
const (
	// MaxTestCases is the most cases one file may hold.
	MaxTestCases = 10000
	// MaxTestNameLength is the longest case name, in characters.
	MaxTestNameLength = 256
)

// TestCase is one case of a policy test file: a request and what the rules
// must answer, the way people write tests for OPA or Cedar policies. The
// JSON shape is
//
//	{"Name": "alice may use IMAP from the office",
//	 "Request": {"IpAddress": "192.0.2.10", "Action": "IMAP", "UserId": "alice"},
//	 "Effect": "ALLOW", "MatchedRules": ["default"]}
//
// Request is the GetAccessControlEffect request shape (SEMANTICS A2, the
// input of `wmpolicy eval`). Exactly one of Effect and Error is set.
type TestCase struct {
	// Name is required (1–256 characters), unique in the file.
	Name string `json:"Name"`
	// Description is free text; the runner ignores it.
	Description string                                `json:"Description,omitempty"`
	Request     accessctl.GetAccessControlEffectInput `json:"Request"`
	// Effect is the expected effect.
	Effect policy.Effect `json:"Effect,omitempty"`
	// MatchedRules, when not nil, are the expected MatchedRules (A7) in any
	// order; an empty list expects none (an implicit deny). Nil does not
	// check them.
	MatchedRules *[]string `json:"MatchedRules,omitempty"`
	// Error, instead of Effect, expects the request to be refused with this
	// AWS error code, e.g. "EntityNotFoundException" for an unknown user.
	Error policy.Code `json:"Error,omitempty"`
}

// testFile is the JSON shape of a test file.
type testFile struct {
	Tests []TestCase `json:"Tests"`
}

// DecodeTestCases reads a test file, {"Tests": [TestCase, ...]}, strictly
// (SEMANTICS D2: an unknown, duplicated or wrong-case key is an error), and
// checks every case: a name of 1–256 characters, unique; exactly one of
// Effect and Error; at most [MaxTestCases] cases. Every problem is reported,
// with its path ("Tests[3].Name"), as a policy.ErrorList of
// ValidationExceptions; on error no cases are returned. The requests
// themselves are checked when the cases run, as a case's outcome.
//
// Cost: linear in len(data).
func DecodeTestCases(data []byte) ([]TestCase, error) {
	var f testFile
	if err := policy.DecodeStrict(data, &f); err != nil {
		return nil, err
	}
	var errs policy.ErrorList
	bad := func(path, msg string) {
		errs = append(errs, policy.Errorf(policy.ValidationException, path, msg))
	}
	if f.Tests == nil {
		bad("Tests", "a test file is {\"Tests\": [...]}: Tests is required")
	}
	if len(f.Tests) > MaxTestCases {
		bad("Tests", fmt.Sprintf("%d cases: at most %d", len(f.Tests), MaxTestCases))
		return nil, errs
	}
	seen := map[string]int{}
	for i, c := range f.Tests {
		at := "Tests[" + strconv.Itoa(i) + "]"
		switch n := utf8.RuneCountInString(c.Name); {
		case n == 0:
			bad(at+".Name", "a case needs a name")
		case n > MaxTestNameLength:
			bad(at+".Name", fmt.Sprintf("%d characters: at most %d", n, MaxTestNameLength))
		}
		if j, dup := seen[c.Name]; dup && c.Name != "" {
			bad(at+".Name", fmt.Sprintf("%q is also the name of Tests[%d]", c.Name, j))
		} else {
			seen[c.Name] = i
		}
		switch {
		case c.Effect == 0 && c.Error == "":
			bad(at, "a case expects an Effect (ALLOW or DENY) or an Error code")
		case c.Effect != 0 && c.Error != "":
			bad(at+".Error", "a case expects an Effect or an Error, not both")
		case c.Error != "" && c.MatchedRules != nil:
			bad(at+".MatchedRules", "a case that expects an Error has no MatchedRules")
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return f.Tests, nil
}

// TestResult is the outcome of one [TestCase].
type TestResult struct {
	// Index is the case's position in the file (Tests[Index]).
	Index  int
	Case   TestCase
	Passed bool
	// Problem says why the case failed ("" when it passed), e.g. "want
	// ALLOW, got DENY".
	Problem string
	// Effect and MatchedRules are the answer, when the request is valid.
	Effect       policy.Effect
	MatchedRules []string
	// Err is the error of an invalid request, nil otherwise.
	Err error
	// Explanation is the full account of the request (nil when the request
	// is invalid): printed for failures.
	Explanation *Explanation
}

// TestReport is the result of [Analyzer.RunTests].
type TestReport struct {
	Results        []TestResult // in file order
	Passed, Failed int
	Coverage       Coverage
}

// Coverage says which rules and which conditions the cases exercised.
//
// A rule is covered when some case's request matches it. A condition (one
// non-empty list of a rule: IpRanges, NotActions, …) is covered when some
// case saw it hold and some case saw it fail: a test set that never makes a
// condition fail would not notice if the condition were deleted, and one
// that never makes it hold would not notice if it were inverted. Requests
// refused as invalid exercise nothing.
type Coverage struct {
	Rules []RuleCoverage // in the order of the rule list as given
	// RulesCovered of len(Rules) rules are matched by some case;
	// ConditionsCovered of Conditions conditions were seen both ways.
	RulesCovered, ConditionsCovered, Conditions int
}

// RuleCoverage is one rule's part in [Coverage].
type RuleCoverage struct {
	Name  string
	Index int // Rules[Index]
	// Matched and Decided count the cases whose request the rule matched,
	// and of those the cases where it decided the effect (it is in
	// MatchedRules).
	Matched, Decided int
	Conditions       []ConditionCoverage // in the order of SEMANTICS A1
}

// Covered reports whether some case matched the rule.
func (r RuleCoverage) Covered() bool { return r.Matched > 0 }

// ConditionCoverage counts the cases in which one condition held and failed.
type ConditionCoverage struct {
	Field        string
	Held, Failed int
}

// Covered reports whether the condition was seen both holding and failing.
func (c ConditionCoverage) Covered() bool { return c.Held > 0 && c.Failed > 0 }

// RunTests answers every case's request as [Analyzer.Explain] does (the same
// answer accessctl gives, A3–A8, with the directory and roles of the
// Options) and compares it with the expectation: the effect, the matched
// rules when the case lists them, or the error code of a refused request.
// A case passes when all agree. The report counts passes and failures and
// measures [Coverage].
//
// Cost: one Explain per case. A cancelled ctx returns its error and no
// report. Safe for concurrent use.
func (a *Analyzer) RunTests(ctx context.Context, cases []TestCase) (*TestReport, error) {
	rep := &TestReport{Results: make([]TestResult, 0, len(cases))}
	cov := &rep.Coverage
	cov.Rules = make([]RuleCoverage, len(a.rules))
	for k, r := range a.rules {
		cov.Rules[k] = RuleCoverage{Name: r.Name, Index: k}
		for _, f := range conditionFields(&r) {
			cov.Rules[k].Conditions = append(cov.Rules[k].Conditions, ConditionCoverage{Field: f})
		}
		cov.Conditions += len(cov.Rules[k].Conditions)
	}
	for i, c := range cases {
		if err := checkCtx(ctx); err != nil {
			return nil, err
		}
		res := TestResult{Index: i, Case: c}
		req, err := c.Request.Request()
		var ex *Explanation
		if err == nil {
			ex, err = a.Explain(ctx, req)
		}
		if err != nil {
			if ctxErr := checkCtx(ctx); ctxErr != nil {
				return nil, ctxErr
			}
			res.Err = err
			code := policy.CodeOf(err)
			switch {
			case c.Error == "":
				res.Problem = fmt.Sprintf("want %s, got %v", c.Effect, err)
			case c.Error != code:
				res.Problem = fmt.Sprintf("want %s, got %v", c.Error, err)
			default:
				res.Passed = true
			}
		} else {
			res.Explanation, res.Effect, res.MatchedRules = ex, ex.Effect, ex.MatchedRules
			switch {
			case c.Error != "":
				res.Problem = fmt.Sprintf("want %s, got %s", c.Error, ex.Effect)
			case c.Effect != ex.Effect:
				res.Problem = fmt.Sprintf("want %s, got %s", c.Effect, ex.Effect)
			case c.MatchedRules != nil && !sameNames(*c.MatchedRules, ex.MatchedRules):
				res.Problem = fmt.Sprintf("want MatchedRules %q, got %q", *c.MatchedRules, ex.MatchedRules)
			default:
				res.Passed = true
			}
			for _, tr := range ex.Rules {
				rc := &cov.Rules[tr.Index]
				if tr.Matches {
					rc.Matched++
				}
				if tr.Decisive {
					rc.Decided++
				}
				for j, cd := range tr.Conditions {
					if cd.Holds {
						rc.Conditions[j].Held++
					} else {
						rc.Conditions[j].Failed++
					}
				}
			}
		}
		if res.Passed {
			rep.Passed++
		} else {
			rep.Failed++
		}
		rep.Results = append(rep.Results, res)
	}
	for _, rc := range cov.Rules {
		if rc.Covered() {
			cov.RulesCovered++
		}
		for _, cc := range rc.Conditions {
			if cc.Covered() {
				cov.ConditionsCovered++
			}
		}
	}
	return rep, nil
}

// conditionFields are the non-empty lists of r in the order of SEMANTICS A1,
// the order of RuleTrace.Conditions.
func conditionFields(r *accessctl.Rule) []string {
	var out []string
	for _, l := range []struct {
		name string
		list []string
	}{{"IpRanges", r.IpRanges}, {"NotIpRanges", r.NotIpRanges}, {"Actions", r.Actions}, {"NotActions", r.NotActions},
		{"UserIds", r.UserIds}, {"NotUserIds", r.NotUserIds}, {"ImpersonationRoleIds", r.ImpersonationRoleIds},
		{"NotImpersonationRoleIds", r.NotImpersonationRoleIds}} {
		if len(l.list) > 0 {
			out = append(out, l.name)
		}
	}
	return out
}

// sameNames reports whether x and y hold the same names, in any order.
func sameNames(x, y []string) bool {
	if len(x) != len(y) {
		return false
	}
	a, b := slices.Clone(x), slices.Clone(y)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
