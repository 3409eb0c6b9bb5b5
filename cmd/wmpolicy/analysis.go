package main

// The analysis verbs: explain, audit, diff, who-can (package analysis).

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
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

// verbHelp sets fs's usage message: the verb's usage line, what its exit
// statuses mean, then the flags.
func verbHelp(fs *flag.FlagSet, verb, exits string) {
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, "Usage:\n"+topVerbs.lines(topVerbs.find(verb)))
		fmt.Fprintf(w, "Exit status: %s, 3 invalid input, 1 other failure.\n\nFlags:\n", exits)
		fs.PrintDefaults()
	}
}

// newAnalysisVerb returns the flag set of an analysis verb, with its usage
// message (verbHelp) and the flags every analysis verb shares.
func newAnalysisVerb(verb, exits string, stderr io.Writer, outputs ...string) (*flag.FlagSet, analysisFlags) {
	fs := newVerbFlags(verb, stderr)
	verbHelp(fs, verb, exits)
	return fs, newAnalysisFlags(fs, outputs...)
}

// analysisFlags are the flags every analysis verb shares; names is filled
// by options from the users and roles files.
type analysisFlags struct {
	users, roles, output *string
	outputs              []string // the accepted --output values, "text" first
	names                *namer
}

func newAnalysisFlags(fs *flag.FlagSet, outputs ...string) analysisFlags {
	outputs = append([]string{"text", "json"}, outputs...)
	return analysisFlags{
		users:   fs.String("users", "", "`USERS.json`: aws workmail list-users output; turns on identifier resolution and makes the users known"),
		roles:   fs.String("roles", "", "`ROLES.json`: aws workmail list-impersonation-roles output; makes the roles known (and names them)"),
		output:  fs.String("output", "text", "`FORMAT`: "+strings.Join(outputs, ", ")),
		outputs: outputs,
		names:   &namer{},
	}
}

// namer renders principals with what the users and roles files tell about
// them: a user's name and email, a role's name. The zero namer knows
// nothing and renders IDs.
type namer struct {
	dir   *policy.MemDirectory
	roles map[string]string // role ID → name
}

// principalJSON is a principal class in JSON output: Name is the user name
// or role name and Email the user's email, when the users or roles file
// gives them.
type principalJSON struct {
	Kind     string `json:"Kind"`
	ID       string `json:"Id,omitempty"`
	AnyOther bool   `json:"AnyOther,omitempty"`
	Name     string `json:"Name,omitempty"`
	Email    string `json:"Email,omitempty"`
}

// describe returns what is known of the user or role id.
func (n *namer) describe(kind analysis.PrincipalKind, id string) (name, email string) {
	if id == "" || n == nil {
		return "", ""
	}
	if kind == analysis.User {
		if n.dir != nil {
			if u, ok := n.dir.Lookup(id); ok {
				return u.Name, u.Email
			}
		}
		return "", ""
	}
	return n.roles[id], ""
}

func (n *namer) json(p analysis.Principal) principalJSON {
	out := principalJSON{Kind: p.Kind.String(), ID: p.ID, AnyOther: p.Other()}
	out.Name, out.Email = n.describe(p.Kind, p.ID)
	return out
}

func (n *namer) jsons(ps []analysis.Principal) []principalJSON {
	out := make([]principalJSON, len(ps))
	for i, p := range ps {
		out[i] = n.json(p)
	}
	return out
}

// label names a user or role for a person: "user alice <alice@example.com>",
// "role archiver (9f1c…)", or the kind and ID when nothing more is known.
func (n *namer) label(kind analysis.PrincipalKind, id string) string {
	name, email := n.describe(kind, id)
	switch {
	case kind == analysis.User && name != "" && email != "":
		return "user " + name + " <" + email + ">"
	case kind == analysis.User && name != "":
		return "user " + name
	case kind == analysis.User && email != "":
		return "user <" + email + ">"
	case kind == analysis.Role && name != "":
		return "role " + name + " (" + id + ")"
	}
	return kind.String() + " " + id
}

// text renders a principal class: label for a named one, "any other user"
// or "any other role".
func (n *namer) text(p analysis.Principal) string {
	if p.Other() {
		return p.String()
	}
	return n.label(p.Kind, p.ID)
}

// witnessPrincipal is the principal of a witness request, with what is
// known of it.
func (n *namer) witnessPrincipal(r accessctl.Request) principalJSON {
	if r.ImpersonationRoleID != "" {
		out := principalJSON{Kind: "role", ID: r.ImpersonationRoleID}
		out.Name, _ = n.describe(analysis.Role, r.ImpersonationRoleID)
		return out
	}
	out := principalJSON{Kind: "user", ID: r.UserID}
	out.Name, out.Email = n.describe(analysis.User, r.UserID)
	return out
}

// witnessLine is the text line of a witness request: the request in the
// GetAccessControlEffect shape (ready for 'wmpolicy eval' batch mode), and
// who its principal is when the files tell.
func (n *namer) witnessLine(r accessctl.Request) string {
	kind, id := analysis.User, r.UserID
	if r.ImpersonationRoleID != "" {
		kind, id = analysis.Role, r.ImpersonationRoleID
	}
	if l := n.label(kind, id); l != kind.String()+" "+id {
		return "    witness (" + l + "): " + wireText(r)
	}
	return "    witness: " + wireText(r)
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
		f.names.dir = dir
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
		f.names.roles = map[string]string{}
		for _, r := range list.Roles {
			opts.Roles = append(opts.Roles, r.ImpersonationRoleId)
			f.names.roles[r.ImpersonationRoleId] = r.Name
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

func checkOutput(name, output string, outputs []string, stderr io.Writer) bool {
	if !slices.Contains(outputs, output) {
		fmt.Fprintf(stderr, "%s: --output must be %s or %s, not %q\n", name,
			strings.Join(outputs[:len(outputs)-1], ", "), outputs[len(outputs)-1], output)
		return false
	}
	return true
}

// setup checks --output and builds the analysis options from the flags; when
// either is wrong it prints why and ok is false, with the exit status in code.
func (af *analysisFlags) setup(name string, stderr io.Writer) (opts analysis.Options, code int, ok bool) {
	if !checkOutput(name, *af.output, af.outputs, stderr) {
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
		if err := writeJSON(stdout, explainJSON(ex, af.names), "    "); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return exitFailure
		}
	} else {
		printExplanation(stdout, ex, af.names)
	}
	if ex.Effect == policy.Allow {
		return exitAllow
	}
	return exitDeny
}

type explainOut struct {
	Effect       policy.Effect `json:"Effect"`
	Reason       string        `json:"Reason"`
	MatchedRules []string      `json:"MatchedRules"`
	UserId       string        `json:"UserId,omitempty"`
	// Principal is who made the request, with the user's name and email or
	// the role's name when the users and roles files tell.
	Principal principalJSON        `json:"Principal"`
	Rules     []analysis.RuleTrace `json:"Rules"`
}

func explainJSON(ex *analysis.Explanation, n *namer) explainOut {
	r := ex.Request
	if r.ImpersonationRoleID == "" {
		r.UserID = ex.UserID
	}
	out := explainOut{Effect: ex.Effect, Reason: ex.Reason.String(), MatchedRules: ex.MatchedRules, UserId: ex.UserID,
		Principal: n.witnessPrincipal(r), Rules: ex.Rules}
	if out.Rules == nil {
		out.Rules = []analysis.RuleTrace{}
	}
	return out
}

func printExplanation(w io.Writer, ex *analysis.Explanation, n *namer) {
	printDecisionHead(w, ex.Effect, ex.Reason, ex.Request, ex.UserID, ex.MatchedRules)
	kind, id := analysis.User, ex.UserID
	if ex.Request.ImpersonationRoleID != "" {
		kind, id = analysis.Role, ex.Request.ImpersonationRoleID
	}
	if l := n.label(kind, id); l != kind.String()+" "+id {
		fmt.Fprintf(w, "principal: %s\n", l)
	}
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
		fmt.Fprintf(w, "  %-5s %s (Rules[%d]): %s\n", tr.Effect, tr.Name, tr.Index, state)
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

// findingOut is a finding in JSON output. The finding's subject is in its
// own fields: Rule and RuleIndex (the rule, Rules[RuleIndex] in the file),
// Action (action-locked-out), UserId with UserName and Email
// (user-locked-out), Entry (the list item of unknown-user, unknown-role,
// host-bits, duplicate-range, nested-range).
type findingOut struct {
	Severity         analysis.Severity                      `json:"Severity"`
	Kind             analysis.Kind                          `json:"Kind"`
	Rule             string                                 `json:"Rule,omitempty"`
	RuleIndex        *int                                   `json:"RuleIndex,omitempty"`
	Path             string                                 `json:"Path,omitempty"`
	Action           string                                 `json:"Action,omitempty"`
	UserId           string                                 `json:"UserId,omitempty"`
	UserName         string                                 `json:"UserName,omitempty"`
	Email            string                                 `json:"Email,omitempty"`
	Entry            string                                 `json:"Entry,omitempty"`
	Message          string                                 `json:"Message"`
	Witness          *accessctl.GetAccessControlEffectInput `json:"Witness,omitempty"`
	WitnessPrincipal *principalJSON                         `json:"WitnessPrincipal,omitempty"`
}

type auditOut struct {
	File     string       `json:"File"`
	Rules    int          `json:"Rules"`
	Findings []findingOut `json:"Findings"`
	Cells    int64        `json:"Cells"`
}

func auditJSON(file string, rules int, rep *analysis.Report, n *namer) auditOut {
	out := auditOut{File: file, Rules: rules, Findings: []findingOut{}, Cells: rep.Cells}
	for _, f := range rep.Findings {
		fo := findingOut{Severity: f.Severity, Kind: f.Kind, Rule: f.Rule, Path: f.Path, UserId: f.UserID, Entry: f.Entry, Message: f.Message}
		if f.RuleIndex >= 0 {
			i := f.RuleIndex
			fo.RuleIndex = &i
		}
		if f.Action.Valid() {
			fo.Action = f.Action.String()
		}
		if f.UserID != "" {
			fo.UserName, fo.Email = n.describe(analysis.User, f.UserID)
		}
		if f.Witness != nil {
			w := wire(*f.Witness)
			fo.Witness = &w
			wp := n.witnessPrincipal(*f.Witness)
			fo.WitnessPrincipal = &wp
		}
		out.Findings = append(out.Findings, fo)
	}
	return out
}

func cmdAudit(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const name = "wmpolicy audit"
	fs, af := newAnalysisVerb("audit", "0 no finding at or above --fail-on, 4 findings at or above it", stderr, "sarif")
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
	switch *af.output {
	case "json":
		if err := writeJSON(stdout, auditJSON(pos[0], a.Len(), rep, af.names), "    "); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return exitFailure
		}
	case "sarif":
		data, prob := readFile(pos[0]) // read again for the locations; loadAnalyzer read it whole
		if prob != nil {
			return prob.exit(stderr)
		}
		if err := writeJSON(stdout, auditSARIF(pos[0], data, rep, af.names), "  "); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return exitFailure
		}
	default:
		printReport(stdout, pos[0], a.Len(), rep, af.names)
	}
	if rep.Count(threshold) > 0 {
		return exitFindings
	}
	return 0
}

func printReport(w io.Writer, file string, rules int, rep *analysis.Report, n *namer) {
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
			fmt.Fprintln(w, n.witnessLine(*f.Witness))
		}
	}
}

// ---- diff

type regionOut struct {
	Change           analysis.Change                       `json:"Change"`
	Addrs            analysis.AddrSet                      `json:"Addrs"`
	Actions          []accessctl.Action                    `json:"Actions"`
	Principals       []principalJSON                       `json:"Principals"`
	Witness          accessctl.GetAccessControlEffectInput `json:"Witness"`
	WitnessPrincipal principalJSON                         `json:"WitnessPrincipal"`
}

type diffOut struct {
	Before  string           `json:"Before"`
	After   string           `json:"After"`
	Verdict analysis.Verdict `json:"Verdict"`
	Regions []regionOut      `json:"Regions"`
	Cells   int64            `json:"Cells"`
}

func diffJSON(old, new string, res *analysis.DiffResult, n *namer) diffOut {
	out := diffOut{Before: old, After: new, Verdict: res.Verdict, Regions: []regionOut{}, Cells: res.Cells}
	for _, r := range res.Regions {
		out.Regions = append(out.Regions, regionOut{Change: r.Change, Addrs: r.Addrs, Actions: r.Actions,
			Principals: n.jsons(r.Principals), Witness: wire(r.Witness), WitnessPrincipal: n.witnessPrincipal(r.Witness)})
	}
	return out
}

func cmdDiff(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const name = "wmpolicy diff"
	fs, af := newAnalysisVerb("diff", "0 equivalent, 5 different", stderr, "markdown")
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
	switch *af.output {
	case "json":
		if err := writeJSON(stdout, diffJSON(pos[0], pos[1], res, af.names), "    "); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return exitFailure
		}
	case "markdown":
		printDiffMarkdown(stdout, pos[0], pos[1], res, af.names)
	default:
		printDiff(stdout, pos[0], pos[1], res, af.names)
	}
	if res.Verdict != analysis.Equivalent {
		return exitDifferent
	}
	return 0
}

// principalList names principals, "every user" / "every role" for all
// classes of a kind.
func principalList(ps, all []analysis.Principal, n *namer) string {
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
				have = append(have, n.text(p))
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

func regionCount(n int) string {
	if n == 1 {
		return "1 region"
	}
	return fmt.Sprintf("%d regions", n)
}

func printDiff(w io.Writer, old, new string, res *analysis.DiffResult, n *namer) {
	fmt.Fprintf(w, "%s -> %s: %s", old, new, res.Verdict)
	if len(res.Regions) > 0 {
		fmt.Fprintf(w, " (%s)", regionCount(len(res.Regions)))
	}
	fmt.Fprintf(w, ", %d cells compared\n", res.Cells)
	for _, r := range res.Regions {
		sign := "+"
		if r.Change == analysis.NewlyDenied {
			sign = "-"
		}
		fmt.Fprintf(w, "%s %s: %s  %s  %s\n", sign, r.Change, r.Addrs, actionList(r.Actions), principalList(r.Principals, res.Principals, n))
		fmt.Fprintln(w, n.witnessLine(r.Witness))
	}
}

// markdownCIDRs is the longest CIDR list a Markdown cell shows; the rest is
// counted ("… and 17 more"). The JSON output is exact.
const markdownCIDRs = 16

// markdownRegions is the most regions a Markdown report lists.
const markdownRegions = 200

// printDiffMarkdown writes the diff as a pull-request comment: the verdict,
// then one table row per region.
func printDiffMarkdown(w io.Writer, old, new string, res *analysis.DiffResult, n *namer) {
	fmt.Fprintf(w, "### wmpolicy diff: `%s` → `%s`\n\n", mdCode(old), mdCode(new))
	if len(res.Regions) == 0 {
		fmt.Fprintf(w, "**Equivalent**: every request gets the same effect (%d cells compared).\n", res.Cells)
		return
	}
	verdict := res.Verdict.String()
	fmt.Fprintf(w, "**%s%s**: %s (%d cells compared).\n\n", strings.ToUpper(verdict[:1]), verdict[1:], regionCount(len(res.Regions)), res.Cells)
	fmt.Fprintln(w, "| | Change | Addresses | Actions | Principals | Witness |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for i, r := range res.Regions {
		if i == markdownRegions {
			fmt.Fprintf(w, "\n… and %d more regions: run `wmpolicy diff --output json` for all of them.\n", len(res.Regions)-i)
			break
		}
		sign := "➕"
		if r.Change == analysis.NewlyDenied {
			sign = "➖"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | `%s` |\n", sign, r.Change, mdAddrs(r.Addrs), mdCell(actionList(r.Actions)),
			mdCell(principalList(r.Principals, res.Principals, n)), mdCode(wireText(r.Witness)))
	}
}

// mdAddrs renders an address set for a Markdown cell, CIDRs as code, at most
// markdownCIDRs of them.
func mdAddrs(s analysis.AddrSet) string {
	cs := s.FormCIDRs()
	var parts []string
	for i, c := range cs {
		if i == markdownCIDRs {
			parts = append(parts, fmt.Sprintf("… and %d more", len(cs)-i))
			break
		}
		parts = append(parts, "`"+c.String()+"`")
	}
	switch s.Form() {
	case analysis.FormEverywhere:
		return "everywhere"
	case analysis.FormEverywhereExcept:
		return "everywhere except " + strings.Join(parts, ", ")
	}
	return strings.Join(parts, ", ")
}

// mdCell escapes text for a Markdown table cell.
func mdCell(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "`", "'", "*", `\*`, "_", `\_`)
	return r.Replace(s)
}

// mdCode escapes text for inline code inside a table cell.
func mdCode(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "`", "'").Replace(s)
}

// ---- who-can

// whoCanQuestion echoes what who-can was asked.
type whoCanQuestion struct {
	User      string `json:"User,omitempty"`
	Role      string `json:"Role,omitempty"`
	Action    string `json:"Action,omitempty"`
	IpAddress string `json:"IpAddress,omitempty"`
}

type whoCanPrincipalOut struct {
	Question  whoCanQuestion   `json:"Question"`
	Principal principalJSON    `json:"Principal"`
	UserId    string           `json:"UserId,omitempty"`
	Grants    []analysis.Grant `json:"Grants"`
	// Denied are the actions denied from every address.
	Denied []accessctl.Action `json:"Denied"`
}

type whoCanRequestOut struct {
	Question whoCanQuestion   `json:"Question"`
	Action   accessctl.Action `json:"Action"`
	Address  string           `json:"IpAddress"`
	Allowed  []principalJSON  `json:"Allowed"`
	Denied   []principalJSON  `json:"Denied"`
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
	q := whoCanQuestion{User: *user, Role: *role, Action: *action, IpAddress: *ip}
	n := af.names
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
			writeJSON(stdout, whoCanRequestOut{Question: q, Action: act, Address: ra.Addr.String(),
				Allowed: n.jsons(ra.Allowed), Denied: n.jsons(ra.Denied)}, "    ")
			return 0
		}
		all := append(append([]analysis.Principal{}, ra.Allowed...), ra.Denied...)
		fmt.Fprintf(stdout, "who may use %s from %s?\n", act, ra.Addr)
		fmt.Fprintf(stdout, "  allowed: %s\n", orNone(principalList(ra.Allowed, all, n)))
		fmt.Fprintf(stdout, "  denied:  %s\n", orNone(principalList(ra.Denied, all, n)))
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
	var denied []accessctl.Action
	for _, act := range accessctl.Actions() {
		if kind == analysis.Role && act != accessctl.EWS {
			continue
		}
		found := false
		for _, g := range pa.Grants {
			found = found || slices.Contains(g.Actions, act)
		}
		if !found {
			denied = append(denied, act)
		}
	}
	if *af.output == "json" {
		p := n.json(pa.Principal)
		if pa.Principal.Other() { // the asked principal is named by no rule: say who it is
			asked := id
			if kind == analysis.User {
				asked = pa.UserID
			}
			p.Name, p.Email = n.describe(kind, asked)
		}
		out := whoCanPrincipalOut{Question: q, Principal: p, UserId: pa.UserID, Grants: pa.Grants, Denied: denied}
		if out.Grants == nil {
			out.Grants = []analysis.Grant{}
		}
		if out.Denied == nil {
			out.Denied = []accessctl.Action{}
		}
		writeJSON(stdout, out, "    ")
		return 0
	}
	asked := id
	if kind == analysis.User {
		asked = pa.UserID
	}
	label := n.label(kind, asked)
	if label == kind.String()+" "+asked && id != asked {
		label = kind.String() + " " + id + " (" + asked + ")"
	} else if label != kind.String()+" "+asked && kind == analysis.User {
		label += " (" + asked + ")"
	}
	fmt.Fprintf(stdout, "what may %s do?\n", label)
	if pa.Principal.Other() {
		fmt.Fprintf(stdout, "  (no rule names this %s: it is one of \"any other %s\")\n", kind, kind)
	}
	if len(pa.Grants) == 0 {
		fmt.Fprintln(stdout, "  nothing: denied every action from every address")
		return 0
	}
	for _, g := range pa.Grants {
		fmt.Fprintf(stdout, "  %s from %s\n", actionList(g.Actions), g.Ranges)
	}
	if len(denied) > 0 && kind == analysis.User {
		fmt.Fprintf(stdout, "  denied everywhere: %s\n", actionList(denied))
	}
	return 0
}

func orNone(s string) string {
	if s == "" {
		return "nobody"
	}
	return s
}
