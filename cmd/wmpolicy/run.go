package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Exit statuses.
const (
	exitAllow   = 0
	exitFailure = 1
	exitDeny    = 2
	exitInvalid = 3
)

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cli = &session{stdin: stdin, stdout: stdout, maxInput: defaultMaxInput}
	code := topVerbs.dispatch(args, stdin, stdout, stderr)
	if cli.helped {
		return 0 // -h/--help of a verb: its usage went to standard output
	}
	return code
}

// parseFlagsOnly parses args for verb name, which takes flags but no
// arguments: it reports false, after saying why on stderr, when the flags do
// not parse or an argument is left over.
func parseFlagsOnly(fs *flag.FlagSet, args []string, name string, stderr io.Writer) bool {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return false
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", name, pos[0])
		return false
	}
	return true
}

// newVerbFlags returns the flag set of a verb, reporting its errors and
// usage to stderr.
func newVerbFlags(verb string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(byteSize{&cli.maxInput}, "max-input-bytes", "the largest input file or standard input to read, in `BYTES` (K, M, G suffixes; default 64M)")
	return fs
}

// parseInterspersed parses flags that may stand before or after positional
// arguments, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	if helpRequested(args) {
		showHelp(fs)
		return nil, flag.ErrHelp
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// problem is an error from loading input files, printed with the file name.
type problem struct {
	file string
	err  error
	code int
}

// exit prints the problem to w and returns its exit status.
func (p *problem) exit(w io.Writer) int {
	p.print(w)
	return p.code
}

func (p *problem) print(w io.Writer) {
	if policy.CodeOf(p.err) == "" {
		// An I/O error (a missing file, permission denied, a full disk) or a
		// usage problem: the operating system's words, no AWS code.
		if p.file != "" {
			fmt.Fprintf(w, "wmpolicy: %s: %v\n", quoteText(p.file), p.err)
		} else {
			fmt.Fprintf(w, "wmpolicy: %v\n", p.err)
		}
		return
	}
	for _, e := range policy.Errors(p.err) {
		if p.file != "" {
			fmt.Fprintf(w, "%s: ", quoteText(p.file))
		}
		fmt.Fprintln(w, e.Error())
	}
}

// loadPolicy reads and compiles the rules file, with the users file if given.
func loadPolicy(rulesFile, usersFile string) (*accessctl.Policy, []accessctl.Rule, *problem) {
	var opts accessctl.Options
	if usersFile != "" {
		data, prob := readFile(usersFile)
		if prob != nil {
			return nil, nil, prob
		}
		dir, err := policy.DecodeUsers(data)
		if err != nil {
			return nil, nil, &problem{file: usersFile, err: err, code: exitInvalid}
		}
		opts.Directory = dir
	}
	data, prob := readFile(rulesFile)
	if prob != nil {
		return nil, nil, prob
	}
	rules, err := accessctl.DecodeRules(data)
	if err != nil {
		return nil, nil, &problem{file: rulesFile, err: err, code: exitInvalid}
	}
	p, err := accessctl.Compile(rules, opts)
	if err != nil {
		return nil, nil, &problem{file: rulesFile, err: err, code: exitInvalid}
	}
	return p, rules, nil
}

// validateOutput is what validate --output json prints.
type validateOutput struct {
	File   string        `json:"File"`
	Valid  bool          `json:"Valid"`
	Rules  int           `json:"Rules"`
	Notes  []string      `json:"Notes"`
	Errors []errorDetail `json:"Errors"`
}

// errorDetail is one problem in validate --output json: the AWS code, the
// field path ("" for the whole file) and the message.
type errorDetail struct {
	Type    policy.Code `json:"__type"`
	Path    string      `json:"Path,omitempty"`
	Message string      `json:"Message"`
}

func cmdValidate(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newVerbFlags("validate", stderr)
	users := fs.String("users", "", "`USERS.json`: aws workmail list-users output; turns on identifier resolution")
	output := fs.String("output", "text", "`text` or json")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitInvalid
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "wmpolicy validate: want one RULES.json argument (\"-\": standard input), got %d\n", len(pos))
		return exitInvalid
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "wmpolicy validate: --output must be text or json, not %q\n", *output)
		return exitInvalid
	}
	name := pos[0]
	if name == "-" {
		name = "standard input"
	}
	p, rules, prob := loadPolicy(pos[0], *users)
	if prob != nil && (prob.code != exitInvalid || policy.CodeOf(prob.err) == "") {
		return prob.exit(stderr) // I/O and usage problems: not a verdict on the rules
	}
	if *output == "json" {
		out := validateOutput{File: name, Notes: []string{}, Errors: []errorDetail{}}
		if prob != nil {
			for _, e := range policy.Errors(prob.err) {
				path := e.Path
				if prob.file != "" && prob.file != pos[0] {
					path = prob.file + ": " + path // a problem of the users file
				}
				out.Errors = append(out.Errors, errorDetail{Type: e.Code, Path: path, Message: e.Message})
			}
		} else {
			out.Valid, out.Rules = true, p.Len()
			out.Notes = append(out.Notes, accessctl.Notes(rules)...)
		}
		if err := writeJSON(stdout, out, "    "); err != nil {
			fmt.Fprintf(stderr, "wmpolicy validate: writing standard output: %v\n", err)
			return exitFailure
		}
		if prob != nil {
			return exitInvalid
		}
		return 0
	}
	if prob != nil {
		return prob.exit(stderr)
	}
	fmt.Fprintf(stdout, "%s: valid: %d rules\n", quoteText(name), p.Len())
	for _, n := range accessctl.Notes(rules) {
		fmt.Fprintf(stdout, "%s: note: %s\n", quoteText(name), n)
	}
	return 0
}

func cmdEval(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newVerbFlags("eval", stderr)
	rulesFile := fs.String("rules", "", "`RULES.json`: aws workmail list-access-control-rules output (required)")
	usersFile := fs.String("users", "", "`USERS.json`: aws workmail list-users output; turns on identifier resolution")
	ip := fs.String("ip", "", "client IPv4 address")
	action := fs.String("action", "", "ActiveSync, AutoDiscover, EWS, IMAP, SMTP, WindowsOutlook or WebMail")
	user := fs.String("user", "", "user ID (with --users also email, alias or user name)")
	role := fs.String("role", "", "impersonation role ID")
	output := fs.String("output", "text", "`text` or json")
	stateDir := fs.String("state", "", "`DIR`: an organization state (wmpolicy org); with --org, instead of --rules and --users")
	orgID := fs.String("org", "", "the organization `ID` in --state")
	storeFlag(fs, stateDir)
	if !parseFlagsOnly(fs, args, "wmpolicy eval", stderr) {
		return exitInvalid
	}
	if *stateDir != "" && (*rulesFile != "" || *usersFile != "") {
		fmt.Fprintln(stderr, "wmpolicy eval: --state replaces --rules and --users; give one or the other")
		return exitInvalid
	}
	if *rulesFile == "" && *stateDir == "" {
		fmt.Fprintln(stderr, "wmpolicy eval: --rules (or --state DIR --org ID) is required")
		return exitInvalid
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "wmpolicy eval: --output must be text or json, not %q\n", *output)
		return exitInvalid
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	single := set["ip"] || set["action"] || set["user"] || set["role"]
	var p *accessctl.Policy
	var prob *problem
	var roleExists func(string) error // nil: every role exists (loose files)
	if *stateDir != "" {
		if p, roleExists, prob = loadStatePolicy(*stateDir, *orgID); prob != nil {
			printStateProblem(stderr, "wmpolicy eval", prob)
			return prob.code
		}
	} else {
		p, _, prob = loadPolicy(*rulesFile, *usersFile)
	}
	if prob != nil {
		return prob.exit(stderr)
	}
	if !single {
		invalid, err := evalBatch(p, roleExists, stdin, stdout)
		if err != nil {
			fmt.Fprintf(stderr, "wmpolicy eval: %v\n", err)
			return exitFailure
		}
		if invalid {
			fmt.Fprintln(stderr, "wmpolicy eval: some requests were invalid (answered with {\"__type\": …})")
			return exitInvalid
		}
		return 0
	}
	in := accessctl.GetAccessControlEffectInput{IpAddress: *ip, Action: *action, UserId: *user, ImpersonationRoleId: *role}
	req, err := in.Request()
	if err == nil && req.ImpersonationRoleID != "" && roleExists != nil {
		err = roleExists(req.ImpersonationRoleID)
	}
	var d accessctl.Decision
	if err == nil {
		d, err = p.Decide(req)
	}
	if err != nil {
		if *output == "json" {
			writeJSON(stdout, errorShape(err), "    ")
		}
		for _, e := range policy.Errors(err) {
			fmt.Fprintf(stderr, "wmpolicy eval: invalid request: %s\n", e.Error())
		}
		return exitInvalid
	}
	var werr error
	if *output == "json" {
		werr = writeJSON(stdout, d.Output(), "    ")
	} else {
		var b bytes.Buffer
		printDecision(&b, req, d)
		_, werr = stdout.Write(b.Bytes())
	}
	if werr != nil {
		fmt.Fprintf(stderr, "wmpolicy eval: writing standard output: %v\n", werr)
		return exitFailure
	}
	if d.Effect == policy.Allow {
		return exitAllow
	}
	return exitDeny
}

// printDecisionHead prints the first lines of a readable decision: the
// effect and reason, the request (with the user ID the directory resolved,
// when it differs from the name given), and the deciding rules.
func printDecisionHead(w io.Writer, eff policy.Effect, reason policy.Reason, req accessctl.Request, userID string, matched []string) {
	fmt.Fprintf(w, "%s (%s)\n", eff, reason)
	principal := "user " + quoteText(req.UserID)
	if userID != "" && userID != req.UserID {
		principal += " (" + quoteText(userID) + ")"
	}
	if req.ImpersonationRoleID != "" {
		principal = "impersonation role " + quoteText(req.ImpersonationRoleID)
	}
	fmt.Fprintf(w, "request: %s %s, %s\n", req.IP, req.Action, principal)
	if len(matched) > 0 {
		fmt.Fprintf(w, "matched rules: %s\n", strings.Join(matched, ", "))
	} else {
		fmt.Fprintln(w, "matched rules: none")
	}
}

func printDecision(w io.Writer, req accessctl.Request, d accessctl.Decision) {
	printDecisionHead(w, d.Effect, d.Reason, req, d.UserID, d.MatchedRules)
	switch d.Reason {
	case accessctl.ExplicitDeny:
		fmt.Fprintln(w, "why: a matching DENY rule overrides every ALLOW rule")
	case accessctl.ExplicitAllow:
		fmt.Fprintln(w, "why: ALLOW rules match and no DENY rule does")
	case accessctl.ImplicitDeny:
		fmt.Fprintln(w, "why: no rule matches, so access is denied")
	}
	for _, m := range d.Matching {
		note := ""
		if m.Effect != d.Effect {
			note = "  (overridden by DENY)"
		}
		fmt.Fprintf(w, "  %-5s %s%s\n", m.Effect, m.Name, note)
	}
	printUserState(w, d)
}

// printUserState notes a user whose state is not ENABLED: the effect ignores
// state, as WorkMail's GetAccessControlEffect does, but an enforcement point
// denies such a user (SEMANTICS E2).
func printUserState(w io.Writer, d accessctl.Decision) {
	if d.UserState == "" || d.UserEnabled() {
		return
	}
	fmt.Fprintf(w, "note: user %s is %s: GetAccessControlEffect ignores user state (so does this answer), "+
		"but an enforcement point denies every user that is not ENABLED (SEMANTICS E2)\n", quoteText(d.UserID), quoteText(d.UserState))
}

// errorShape is the wire shape of an error: {"__type": CODE, "Message": ...}.
type errorOutput struct {
	Type    policy.Code `json:"__type"`
	Message string      `json:"Message"`
}

func errorShape(err error) errorOutput {
	es := policy.Errors(err)
	e := es[0]
	msg := e.Message
	if e.Path != "" {
		msg = e.Path + ": " + msg
	}
	for _, more := range es[1:] {
		msg += "; " + more.Error()
	}
	return errorOutput{Type: e.Code, Message: msg}
}

func writeJSON(w io.Writer, v any, indent string) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// evalBatch answers GetAccessControlEffect request values with p, one output
// line each, and reports whether any was invalid. roleExists, when not nil,
// refuses a request naming a role the organization does not have (SEMANTICS
// B6: a deleted role's ID never matches).
func evalBatch(p *accessctl.Policy, roleExists func(string) error, stdin io.Reader, stdout io.Writer) (bool, error) {
	matched := make([]string, 0, 16)
	return batch(stdin, stdout, func(v []byte) any { return answer(p, roleExists, v, &matched) })
}

func answer(p *accessctl.Policy, roleExists func(string) error, line []byte, matched *[]string) any {
	var in accessctl.GetAccessControlEffectInput
	if err := policy.DecodeStrict(line, &in); err != nil {
		return errorShape(err)
	}
	in.OrganizationId = "" // the batch contract: accepted and ignored
	req, err := in.Request()
	if err == nil && req.ImpersonationRoleID != "" && roleExists != nil {
		err = roleExists(req.ImpersonationRoleID)
	}
	if err != nil {
		return errorShape(err)
	}
	eff, names, err := p.Evaluate(req, (*matched)[:0])
	if err != nil {
		return errorShape(err)
	}
	*matched = names
	if names == nil {
		names = []string{}
	}
	return accessctl.GetAccessControlEffectOutput{Effect: eff, MatchedRules: names}
}
