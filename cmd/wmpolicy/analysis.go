package main

// The analysis verbs: explain, audit, diff, who-can (package analysis).

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/analysis"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Exit statuses of the analysis verbs (besides 0, 1 and 3).
const (
	exitFindings  = 4 // audit: findings at or above --fail-on
	exitDifferent = 5 // diff: the rule sets differ
)

func init() {
	register("explain", command{
		usage: "  wmpolicy explain --rules RULES.json [--users USERS.json] [--roles ROLES.json] --ip IP --action ACTION (--user ID | --role ID) [--output text|json]\n",
		run:   cmdExplain,
	})
	register("audit", command{
		usage: "  wmpolicy audit RULES.json [--users USERS.json] [--roles ROLES.json] [--fail-on error|warning|suggestion] [--output text|json]\n",
		run:   cmdAudit,
	})
	register("diff", command{
		usage: "  wmpolicy diff OLD.json NEW.json [--users USERS.json] [--roles ROLES.json] [--output text|json]\n",
		run:   cmdDiff,
	})
	register("who-can", command{
		usage: "  wmpolicy who-can RULES.json (--user ID | --role ID | --action ACTION --ip IP) [--users USERS.json] [--roles ROLES.json] [--output text|json]\n",
		run:   cmdWhoCan,
	})
}

// verbHelp sets fs's usage message: the verb's usage line, what its exit
// statuses mean, then the flags.
func verbHelp(fs *flag.FlagSet, verb, exits string) {
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, "Usage:\n"+commands[verb].usage)
		fmt.Fprintf(w, "Exit status: %s, 3 invalid input, 1 other failure.\n\nFlags:\n", exits)
		fs.PrintDefaults()
	}
}

// newAnalysisVerb returns the flag set of an analysis verb, with its usage
// message (verbHelp) and the flags every analysis verb shares.
func newAnalysisVerb(verb, exits string, stderr io.Writer) (*flag.FlagSet, analysisFlags) {
	fs := newVerbFlags(verb, stderr)
	verbHelp(fs, verb, exits)
	return fs, newAnalysisFlags(fs)
}

// analysisFlags are the flags every analysis verb shares.
type analysisFlags struct {
	users, roles, output *string
}

func newAnalysisFlags(fs *flag.FlagSet) analysisFlags {
	return analysisFlags{
		users:  fs.String("users", "", "`USERS.json`: aws workmail list-users output; turns on identifier resolution and makes the users known"),
		roles:  fs.String("roles", "", "`ROLES.json`: aws workmail list-impersonation-roles output; makes the roles known"),
		output: fs.String("output", "text", "`text` or json"),
	}
}

// options loads the users and roles files into analysis options.
func (f analysisFlags) options() (analysis.Options, *problem) {
	var opts analysis.Options
	if *f.users != "" {
		data, prob := readFile(*f.users)
		if prob != nil {
			return opts, prob
		}
		dir, err := policy.DecodeUsers(data)
		if err != nil {
			return opts, &problem{file: *f.users, err: err, code: exitInvalid}
		}
		opts.Directory = dir
	}
	if *f.roles != "" {
		data, prob := readFile(*f.roles)
		if prob != nil {
			return opts, prob
		}
		list, err := impersonation.DecodeRoleList(data)
		if err != nil {
			return opts, &problem{file: *f.roles, err: err, code: exitInvalid}
		}
		opts.Roles = []string{}
		for _, r := range list.Roles {
			opts.Roles = append(opts.Roles, r.ImpersonationRoleId)
		}
	}
	return opts, nil
}

// loadAnalyzer reads a rules file and compiles it for analysis. With strict,
// the rules must also compile as accessctl.Compile requires (every user and
// role they name known), as for eval.
func loadAnalyzer(file string, opts analysis.Options, strict bool) (*analysis.Analyzer, []accessctl.Rule, *problem) {
	data, prob := readFile(file)
	if prob != nil {
		return nil, nil, prob
	}
	rules, err := accessctl.DecodeRules(data)
	if err != nil {
		return nil, nil, &problem{file: file, err: err, code: exitInvalid}
	}
	if strict {
		co := accessctl.Options{Directory: opts.Directory}
		if opts.Roles != nil {
			ids := accessctl.RoleIDs{}
			for _, r := range opts.Roles {
				ids[r] = struct{}{}
			}
			co.Roles = ids
		}
		if _, err := accessctl.Compile(rules, co); err != nil {
			return nil, nil, &problem{file: file, err: err, code: exitInvalid}
		}
	}
	a, err := analysis.New(rules, opts)
	if err != nil {
		return nil, nil, &problem{file: file, err: err, code: exitInvalid}
	}
	return a, rules, nil
}

func checkOutput(name, output string, stderr io.Writer) bool {
	if output != "text" && output != "json" {
		fmt.Fprintf(stderr, "%s: --output must be text or json, not %q\n", name, output)
		return false
	}
	return true
}

// setup checks --output and builds the analysis options from the flags; when
// either is wrong it prints why and ok is false, with the exit status in code.
func (af *analysisFlags) setup(name string, stderr io.Writer) (opts analysis.Options, code int, ok bool) {
	if !checkOutput(name, *af.output, stderr) {
		return opts, exitInvalid, false
	}
	opts, prob := af.options()
	if prob != nil {
		return opts, prob.exit(stderr), false
	}
	return opts, 0, true
}

// analysisError prints an error of an analysis call: an error without an AWS
// code (a *analysis.BudgetError, a context error) is printed as it is and is a
// failure (1); a *policy.Error or ErrorList is invalid input (3), each
// problem on its own line.
func analysisError(name string, err error, stderr io.Writer) int {
	if policy.CodeOf(err) == "" {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitFailure
	}
	for _, e := range policy.Errors(err) {
		fmt.Fprintf(stderr, "%s: %s\n", name, e.Error())
	}
	return exitInvalid
}

// wire returns a witness request in the GetAccessControlEffect request shape,
// ready for `wmpolicy eval` batch mode.
func wire(r accessctl.Request) accessctl.GetAccessControlEffectInput {
	return accessctl.GetAccessControlEffectInput{IpAddress: r.IP.String(), Action: r.Action.String(),
		UserId: r.UserID, ImpersonationRoleId: r.ImpersonationRoleID}
}

func wireText(r accessctl.Request) string {
	if r.ImpersonationRoleID != "" {
		return fmt.Sprintf(`{"IpAddress":%q,"Action":%q,"ImpersonationRoleId":%q}`, r.IP, r.Action, r.ImpersonationRoleID)
	}
	return fmt.Sprintf(`{"IpAddress":%q,"Action":%q,"UserId":%q}`, r.IP, r.Action, r.UserID)
}

// principalJSON is a principal class in JSON output.
type principalJSON struct {
	Kind     string `json:"Kind"`
	ID       string `json:"Id,omitempty"`
	AnyOther bool   `json:"AnyOther,omitempty"`
}

func principalsJSON(ps []analysis.Principal) []principalJSON {
	out := make([]principalJSON, len(ps))
	for i, p := range ps {
		out[i] = principalJSON{Kind: p.Kind.String(), ID: p.ID, AnyOther: p.Other()}
	}
	return out
}

func actionList(acts []accessctl.Action) string {
	if len(acts) == accessctl.NumActions {
		return "every action"
	}
	s := make([]string, len(acts))
	for i, a := range acts {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}

func rangeList(rs []analysis.AddrRange) string {
	if len(rs) == 1 && rs[0].First == 0 && rs[0].Last == ^uint32(0) {
		return "every address"
	}
	var parts []string
	for _, r := range rs {
		for _, c := range r.CIDRs() {
			parts = append(parts, c.String())
		}
	}
	if len(parts) > 12 {
		parts = parts[:0]
		for _, r := range rs {
			parts = append(parts, cidr.AddrString(r.First)+"-"+cidr.AddrString(r.Last))
		}
	}
	return strings.Join(parts, " ")
}

// ---- explain

func cmdExplain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const name = "wmpolicy explain"
	fs, af := newAnalysisVerb("explain", "0 ALLOW, 2 DENY", stderr)
	rulesFile := fs.String("rules", "", "`RULES.json`: aws workmail list-access-control-rules output (required)")
	ip := fs.String("ip", "", "client IPv4 address")
	action := fs.String("action", "", "ActiveSync, AutoDiscover, EWS, IMAP, SMTP, WindowsOutlook or WebMail")
	user := fs.String("user", "", "user ID (with --users also email, alias or user name)")
	role := fs.String("role", "", "impersonation role ID")
	if !parseFlagsOnly(fs, args, name, stderr) {
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
	in := accessctl.GetAccessControlEffectInput{IpAddress: *ip, Action: *action, UserId: *user, ImpersonationRoleId: *role}
	req, err := in.Request()
	var ex *analysis.Explanation
	if err == nil {
		ex, err = a.Explain(context.Background(), req)
	}
	if err != nil {
		if *af.output == "json" {
			writeJSON(stdout, errorShape(err), "    ")
		}
		for _, e := range policy.Errors(err) {
			fmt.Fprintf(stderr, "%s: invalid request: %s\n", name, e.Error())
		}
		return exitInvalid
	}
	if *af.output == "json" {
		if err := writeJSON(stdout, explainJSON(ex), "    "); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return exitFailure
		}
	} else {
		printExplanation(stdout, ex)
	}
	if ex.Effect == policy.Allow {
		return exitAllow
	}
	return exitDeny
}

type explainOut struct {
	Effect       policy.Effect  `json:"Effect"`
	Reason       string         `json:"Reason"`
	MatchedRules []string       `json:"MatchedRules"`
	UserId       string         `json:"UserId,omitempty"`
	Rules        []ruleTraceOut `json:"Rules"`
}

type ruleTraceOut struct {
	Name       string         `json:"Name"`
	Effect     policy.Effect  `json:"Effect"`
	Matches    bool           `json:"Matches"`
	Decisive   bool           `json:"Decisive"`
	Conditions []conditionOut `json:"Conditions"`
}

type conditionOut struct {
	Field  string `json:"Field"`
	Holds  bool   `json:"Holds"`
	Index  *int   `json:"Index,omitempty"`
	Item   string `json:"Item,omitempty"`
	Detail string `json:"Detail"`
}

func explainJSON(ex *analysis.Explanation) explainOut {
	out := explainOut{Effect: ex.Effect, Reason: ex.Reason.String(), MatchedRules: ex.MatchedRules, UserId: ex.UserID, Rules: []ruleTraceOut{}}
	for _, tr := range ex.Rules {
		rt := ruleTraceOut{Name: tr.Name, Effect: tr.Effect, Matches: tr.Matches, Decisive: tr.Decisive, Conditions: []conditionOut{}}
		for _, c := range tr.Conditions {
			co := conditionOut{Field: c.Field, Holds: c.Holds, Item: c.Item, Detail: c.Detail}
			if c.Index >= 0 {
				i := c.Index
				co.Index = &i
			}
			rt.Conditions = append(rt.Conditions, co)
		}
		out.Rules = append(out.Rules, rt)
	}
	return out
}

func printExplanation(w io.Writer, ex *analysis.Explanation) {
	printDecisionHead(w, ex.Effect, ex.Reason, ex.Request, ex.UserID, ex.MatchedRules)
	for _, tr := range ex.Rules {
		state := "does not match"
		switch {
		case tr.Decisive:
			state = "matches, decides"
		case tr.Matches && ex.Effect == policy.Deny:
			state = "matches, overridden by DENY"
		case tr.Matches:
			state = "matches"
		}
		fmt.Fprintf(w, "  %-5s %s: %s\n", tr.Effect, tr.Name, state)
		if len(tr.Conditions) == 0 {
			fmt.Fprintln(w, "        (no conditions: matches every request)")
		}
		for _, c := range tr.Conditions {
			mark := "holds"
			if !c.Holds {
				mark = "FAILS"
			}
			fmt.Fprintf(w, "        %-23s %-5s  %s\n", c.Field, mark, c.Detail)
		}
	}
}

// ---- audit

type findingOut struct {
	Severity analysis.Severity                      `json:"Severity"`
	Kind     analysis.Kind                          `json:"Kind"`
	Rule     string                                 `json:"Rule,omitempty"`
	Path     string                                 `json:"Path,omitempty"`
	Message  string                                 `json:"Message"`
	Witness  *accessctl.GetAccessControlEffectInput `json:"Witness,omitempty"`
}

type auditOut struct {
	Findings []findingOut `json:"Findings"`
	Cells    int64        `json:"Cells"`
}

func cmdAudit(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const name = "wmpolicy audit"
	fs, af := newAnalysisVerb("audit", "0 no finding at or above --fail-on, 4 findings at or above it", stderr)
	failOn := fs.String("fail-on", "error", "exit 4 when a finding of this `severity` or higher is found: error, warning or suggestion")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitInvalid
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "%s: want one RULES.json argument, got %d\n", name, len(pos))
		return exitInvalid
	}
	threshold, err := analysis.ParseSeverity(*failOn)
	if err != nil {
		fmt.Fprintf(stderr, "%s: --fail-on: %s\n", name, policy.Errors(err)[0].Message)
		return exitInvalid
	}
	opts, code, ok := af.setup(name, stderr)
	if !ok {
		return code
	}
	a, _, prob := loadAnalyzer(pos[0], opts, false)
	if prob != nil {
		return prob.exit(stderr)
	}
	rep, err := a.Audit(context.Background())
	if err != nil {
		return analysisError(name, err, stderr)
	}
	if *af.output == "json" {
		out := auditOut{Findings: []findingOut{}, Cells: rep.Cells}
		for _, f := range rep.Findings {
			fo := findingOut{Severity: f.Severity, Kind: f.Kind, Rule: f.Rule, Path: f.Path, Message: f.Message}
			if f.Witness != nil {
				w := wire(*f.Witness)
				fo.Witness = &w
			}
			out.Findings = append(out.Findings, fo)
		}
		if err := writeJSON(stdout, out, "    "); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return exitFailure
		}
	} else {
		printReport(stdout, pos[0], a.Len(), rep)
	}
	if rep.Count(threshold) > 0 {
		return exitFindings
	}
	return 0
}

func printReport(w io.Writer, file string, rules int, rep *analysis.Report) {
	if len(rep.Findings) == 0 {
		fmt.Fprintf(w, "%s: no findings (%d rules, %d cells checked)\n", file, rules, rep.Cells)
		return
	}
	var counts []string
	for _, s := range []analysis.Severity{analysis.Error, analysis.Warning, analysis.Suggestion} {
		n := rep.Count(s) - rep.Count(s+1)
		if s == analysis.Error {
			n = rep.Count(s)
		}
		if n > 0 {
			plural := "s"
			if n == 1 {
				plural = ""
			}
			counts = append(counts, fmt.Sprintf("%d %s%s", n, s, plural))
		}
	}
	fmt.Fprintf(w, "%s: %s (%d rules, %d cells checked)\n", file, strings.Join(counts, ", "), rules, rep.Cells)
	for _, f := range rep.Findings {
		fmt.Fprintln(w, f.String())
		if f.Witness != nil {
			fmt.Fprintf(w, "    witness: %s\n", wireText(*f.Witness))
		}
	}
}

// ---- diff

type regionOut struct {
	Change     analysis.Change                       `json:"Change"`
	Addrs      analysis.AddrRange                    `json:"Addrs"`
	Actions    []accessctl.Action                    `json:"Actions"`
	Principals []principalJSON                       `json:"Principals"`
	Witness    accessctl.GetAccessControlEffectInput `json:"Witness"`
}

type diffOut struct {
	Verdict analysis.Verdict `json:"Verdict"`
	Regions []regionOut      `json:"Regions"`
	Cells   int64            `json:"Cells"`
}

func cmdDiff(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const name = "wmpolicy diff"
	fs, af := newAnalysisVerb("diff", "0 equivalent, 5 different", stderr)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitInvalid
	}
	if len(pos) != 2 {
		fmt.Fprintf(stderr, "%s: want OLD.json and NEW.json, got %d arguments\n", name, len(pos))
		return exitInvalid
	}
	opts, code, ok := af.setup(name, stderr)
	if !ok {
		return code
	}
	_, before, prob := loadAnalyzer(pos[0], opts, true)
	if prob != nil {
		return prob.exit(stderr)
	}
	_, after, prob := loadAnalyzer(pos[1], opts, true)
	if prob != nil {
		return prob.exit(stderr)
	}
	res, err := analysis.Diff(context.Background(), before, after, opts)
	if err != nil {
		return analysisError(name, err, stderr)
	}
	if *af.output == "json" {
		out := diffOut{Verdict: res.Verdict, Regions: []regionOut{}, Cells: res.Cells}
		for _, r := range res.Regions {
			out.Regions = append(out.Regions, regionOut{Change: r.Change, Addrs: r.Addrs, Actions: r.Actions,
				Principals: principalsJSON(r.Principals), Witness: wire(r.Witness)})
		}
		if err := writeJSON(stdout, out, "    "); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return exitFailure
		}
	} else {
		printDiff(stdout, pos[0], pos[1], res, opts.Directory)
	}
	if res.Verdict != analysis.Equivalent {
		return exitDifferent
	}
	return 0
}

// principalList names principals, "every user" / "every role" for all
// classes of a kind.
func principalList(ps, all []analysis.Principal, dir policy.Directory) string {
	var parts []string
	for _, kind := range []analysis.PrincipalKind{analysis.User, analysis.Role} {
		var have, total []string
		for _, p := range all {
			if p.Kind == kind {
				total = append(total, p.String())
			}
		}
		for _, p := range ps {
			if p.Kind == kind {
				have = append(have, principalName(p, dir))
			}
		}
		switch {
		case len(have) == 0:
		case len(have) == len(total) && len(total) > 1:
			parts = append(parts, "every "+kind.String())
		default:
			parts = append(parts, have...)
		}
	}
	return strings.Join(parts, ", ")
}

// principalName is p.String(), with the user name from the directory when
// there is one: "user S-1-…-1003 (carol)".
func principalName(p analysis.Principal, dir policy.Directory) string {
	if dir != nil && p.Kind == analysis.User && p.ID != "" {
		if u, ok := dir.Lookup(p.ID); ok && u.Name != "" {
			return p.String() + " (" + u.Name + ")"
		}
	}
	return p.String()
}

func printDiff(w io.Writer, old, new string, res *analysis.DiffResult, dir policy.Directory) {
	fmt.Fprintf(w, "%s -> %s: %s", old, new, res.Verdict)
	switch len(res.Regions) {
	case 0:
	case 1:
		fmt.Fprint(w, " (1 region)")
	default:
		fmt.Fprintf(w, " (%d regions)", len(res.Regions))
	}
	fmt.Fprintf(w, ", %d cells compared\n", res.Cells)
	for _, r := range res.Regions {
		sign := "+"
		if r.Change == analysis.NewlyDenied {
			sign = "-"
		}
		fmt.Fprintf(w, "%s %s: %s  %s  %s\n", sign, r.Change, rangeList([]analysis.AddrRange{r.Addrs}), actionList(r.Actions), principalList(r.Principals, res.Principals, dir))
		fmt.Fprintf(w, "    witness: %s\n", wireText(r.Witness))
	}
}

// ---- who-can

type grantOut struct {
	Actions []accessctl.Action   `json:"Actions"`
	Ranges  []analysis.AddrRange `json:"Ranges"`
}

type whoCanPrincipalOut struct {
	Principal principalJSON `json:"Principal"`
	UserId    string        `json:"UserId,omitempty"`
	Grants    []grantOut    `json:"Grants"`
}

type whoCanRequestOut struct {
	Action  accessctl.Action `json:"Action"`
	Address string           `json:"IpAddress"`
	Allowed []principalJSON  `json:"Allowed"`
	Denied  []principalJSON  `json:"Denied"`
}

func cmdWhoCan(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const name = "wmpolicy who-can"
	fs, af := newAnalysisVerb("who-can", "0 answered", stderr)
	user := fs.String("user", "", "what may this user do (with --users also email, alias or user name)")
	role := fs.String("role", "", "what may this impersonation role do")
	action := fs.String("action", "", "with --ip: who may use this action from that address")
	ip := fs.String("ip", "", "with --action: the client IPv4 address")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitInvalid
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "%s: want one RULES.json argument, got %d\n", name, len(pos))
		return exitInvalid
	}
	modes := 0
	for _, s := range []string{*user, *role} {
		if s != "" {
			modes++
		}
	}
	if *action != "" || *ip != "" {
		modes++
		if *action == "" || *ip == "" {
			fmt.Fprintf(stderr, "%s: --action and --ip go together\n", name)
			return exitInvalid
		}
	}
	if modes != 1 {
		fmt.Fprintf(stderr, "%s: want exactly one of --user, --role, or --action with --ip\n", name)
		return exitInvalid
	}
	opts, code, ok := af.setup(name, stderr)
	if !ok {
		return code
	}
	a, _, prob := loadAnalyzer(pos[0], opts, true)
	if prob != nil {
		return prob.exit(stderr)
	}
	ctx := context.Background()
	if *action != "" {
		act, err := accessctl.ParseAction(*action)
		if err != nil {
			return analysisError(name, err, stderr)
		}
		addr, err := cidr.ParseAddr(*ip)
		if err != nil {
			return analysisError(name, policy.Errorf(policy.ValidationException, "IpAddress", err.Error()), stderr)
		}
		ra, err := a.WhoCanRequest(ctx, act, cidr.AddrToNetip(addr))
		if err != nil {
			return analysisError(name, err, stderr)
		}
		if *af.output == "json" {
			writeJSON(stdout, whoCanRequestOut{Action: act, Address: ra.Addr.String(),
				Allowed: principalsJSON(ra.Allowed), Denied: principalsJSON(ra.Denied)}, "    ")
			return 0
		}
		all := append(append([]analysis.Principal{}, ra.Allowed...), ra.Denied...)
		fmt.Fprintf(stdout, "%s from %s:\n", act, ra.Addr)
		fmt.Fprintf(stdout, "  allowed: %s\n", orNone(principalList(ra.Allowed, all, opts.Directory)))
		fmt.Fprintf(stdout, "  denied:  %s\n", orNone(principalList(ra.Denied, all, opts.Directory)))
		return 0
	}
	kind, id := analysis.User, *user
	if *role != "" {
		kind, id = analysis.Role, *role
	}
	pa, err := a.WhoCanPrincipal(ctx, kind, id)
	if err != nil {
		return analysisError(name, err, stderr)
	}
	if *af.output == "json" {
		out := whoCanPrincipalOut{Principal: principalsJSON([]analysis.Principal{pa.Principal})[0], UserId: pa.UserID, Grants: []grantOut{}}
		for _, g := range pa.Grants {
			out.Grants = append(out.Grants, grantOut{Actions: g.Actions, Ranges: g.Ranges})
		}
		writeJSON(stdout, out, "    ")
		return 0
	}
	label := kind.String() + " " + id
	if pa.UserID != "" && pa.UserID != id {
		label += " (" + pa.UserID + ")"
	}
	if pa.Principal.Other() {
		label += ", named by no rule (any other " + kind.String() + ")"
	}
	fmt.Fprintf(stdout, "%s:\n", label)
	if len(pa.Grants) == 0 {
		fmt.Fprintln(stdout, "  nothing: denied every action from every address")
		return 0
	}
	var granted []accessctl.Action
	for _, g := range pa.Grants {
		fmt.Fprintf(stdout, "  %s from %s\n", actionList(g.Actions), rangeList(g.Ranges))
		granted = append(granted, g.Actions...)
	}
	if kind == analysis.User {
		var denied []string
		for _, act := range accessctl.Actions() {
			found := false
			for _, g := range granted {
				found = found || g == act
			}
			if !found {
				denied = append(denied, act.String())
			}
		}
		if len(denied) > 0 {
			fmt.Fprintf(stdout, "  denied everywhere: %s\n", strings.Join(denied, ","))
		}
	}
	return 0
}

func orNone(s string) string {
	if s == "" {
		return "nobody"
	}
	return s
}
