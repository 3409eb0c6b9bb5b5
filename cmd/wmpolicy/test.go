package main

// wmpolicy test: policy tests with coverage (package analysis, RunTests).

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/wmpolicy/wmpolicy/analysis"
	"github.com/wmpolicy/wmpolicy/policy"
)

// exitTestsFailed is the exit status of wmpolicy test when a case failed.
const exitTestsFailed = 6

func cmdTest(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const name = "wmpolicy test"
	fs, af := newAnalysisVerb("test", "0 every case passed, 6 a case failed", stderr)
	rulesFile := fs.String("rules", "", "`RULES.json`: aws workmail list-access-control-rules output (required)")
	coverage := fs.Bool("coverage", false, "print every rule's and condition's coverage, not only what no case covered")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitInvalid
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "%s: want one TESTS.json argument, got %d\n", name, len(pos))
		return exitInvalid
	}
	if *rulesFile == "" {
		fmt.Fprintf(stderr, "%s: --rules is required\n", name)
		return exitInvalid
	}
	opts, code, ok := af.setup(name, stderr)
	if !ok {
		return code
	}
	a, _, prob := loadAnalyzer(*rulesFile, opts, true)
	if prob != nil {
		return prob.exit(stderr)
	}
	data, prob := readFile(pos[0])
	if prob != nil {
		return prob.exit(stderr)
	}
	cases, err := analysis.DecodeTestCases(data)
	if err != nil {
		return (&problem{file: pos[0], err: err, code: exitInvalid}).exit(stderr)
	}
	rep, err := a.RunTests(context.Background(), cases)
	if err != nil {
		return analysisError(name, err, stderr)
	}
	if *af.output == "json" {
		if err := writeJSON(stdout, testJSON(pos[0], *rulesFile, rep, af.names), "    "); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return exitFailure
		}
	} else {
		printTests(stdout, pos[0], rep, *coverage, af.names)
	}
	if rep.Failed > 0 {
		return exitTestsFailed
	}
	return 0
}

func percent(n, of int) string {
	if of == 0 {
		return "100%"
	}
	return fmt.Sprintf("%d%%", n*100/of)
}

func printTests(w io.Writer, file string, rep *analysis.TestReport, all bool, n *namer) {
	for _, r := range rep.Results {
		if r.Passed {
			fmt.Fprintf(w, "PASS  %s\n", r.Case.Name)
			continue
		}
		fmt.Fprintf(w, "FAIL  %s (Tests[%d])\n      %s\n", r.Case.Name, r.Index, r.Problem)
		if r.Explanation != nil {
			var b strings.Builder
			printExplanation(&b, r.Explanation, n)
			for _, line := range strings.SplitAfter(strings.TrimSuffix(b.String(), "\n"), "\n") {
				fmt.Fprint(w, "      "+line)
			}
			fmt.Fprintln(w)
		}
	}
	total := rep.Passed + rep.Failed
	status := "ok"
	if rep.Failed > 0 {
		status = "FAILED"
	}
	fmt.Fprintf(w, "%s: %s: %d passed, %d failed (%d cases)\n", file, status, rep.Passed, rep.Failed, total)
	c := rep.Coverage
	fmt.Fprintf(w, "coverage: %d of %d rules matched by some case (%s), %d of %d conditions seen holding and failing (%s)\n",
		c.RulesCovered, len(c.Rules), percent(c.RulesCovered, len(c.Rules)), c.ConditionsCovered, c.Conditions, percent(c.ConditionsCovered, c.Conditions))
	for _, rc := range c.Rules {
		var gaps []string
		if !rc.Covered() {
			gaps = append(gaps, "matched by no case")
		}
		for _, cc := range rc.Conditions {
			switch {
			case cc.Held == 0 && cc.Failed == 0:
				gaps = append(gaps, cc.Field+" never evaluated")
			case cc.Held == 0:
				gaps = append(gaps, cc.Field+" never held")
			case cc.Failed == 0:
				gaps = append(gaps, cc.Field+" never failed")
			}
		}
		if len(gaps) > 0 {
			fmt.Fprintf(w, "  not covered: Rules[%d] %s: %s\n", rc.Index, rc.Name, strings.Join(gaps, "; "))
		}
		if all {
			fmt.Fprintf(w, "  Rules[%d] %s: matched by %d, decided %d\n", rc.Index, rc.Name, rc.Matched, rc.Decided)
			for _, cc := range rc.Conditions {
				fmt.Fprintf(w, "    %-23s held %d, failed %d\n", cc.Field, cc.Held, cc.Failed)
			}
		}
	}
}

type testOut struct {
	File     string          `json:"File"`
	Rules    string          `json:"Rules"`
	Passed   int             `json:"Passed"`
	Failed   int             `json:"Failed"`
	Results  []testResultOut `json:"Results"`
	Coverage coverageOut     `json:"Coverage"`
}

type testResultOut struct {
	Name   string `json:"Name"`
	Index  int    `json:"Index"`
	Passed bool   `json:"Passed"`
	// Problem says why the case failed.
	Problem      string        `json:"Problem,omitempty"`
	Effect       policy.Effect `json:"Effect,omitempty"`
	MatchedRules []string      `json:"MatchedRules,omitempty"`
	Error        *errorOutput  `json:"Error,omitempty"`
	// Explanation is given for a failed case whose request is valid.
	Explanation *explainOut `json:"Explanation,omitempty"`
}

type coverageOut struct {
	RulesCovered      int                     `json:"RulesCovered"`
	RulesTotal        int                     `json:"RulesTotal"`
	ConditionsCovered int                     `json:"ConditionsCovered"`
	ConditionsTotal   int                     `json:"ConditionsTotal"`
	Rules             []analysis.RuleCoverage `json:"Rules"`
}

func testJSON(file, rules string, rep *analysis.TestReport, n *namer) testOut {
	out := testOut{File: file, Rules: rules, Passed: rep.Passed, Failed: rep.Failed, Results: []testResultOut{}}
	for _, r := range rep.Results {
		ro := testResultOut{Name: r.Case.Name, Index: r.Index, Passed: r.Passed, Problem: r.Problem, Effect: r.Effect, MatchedRules: r.MatchedRules}
		if r.Err != nil {
			e := errorShape(r.Err)
			ro.Error = &e
		}
		if !r.Passed && r.Explanation != nil {
			ex := explainJSON(r.Explanation, n)
			ro.Explanation = &ex
		}
		out.Results = append(out.Results, ro)
	}
	c := rep.Coverage
	out.Coverage = coverageOut{RulesCovered: c.RulesCovered, RulesTotal: len(c.Rules), ConditionsCovered: c.ConditionsCovered,
		ConditionsTotal: c.Conditions, Rules: c.Rules}
	return out
}
