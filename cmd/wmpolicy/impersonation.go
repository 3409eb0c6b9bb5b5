package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"

	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

// loadRole reads and compiles get-impersonation-role output, with the users
// file if given (SEMANTICS B2: without it, targets are exact strings).
func loadRole(roleFile, usersFile string) (*impersonation.Evaluator, *problem) {
	var dir policy.Directory // stays a nil interface without --users
	if usersFile != "" {
		data, prob := readFile(usersFile)
		if prob != nil {
			return nil, prob
		}
		d, err := policy.DecodeUsers(data)
		if err != nil {
			return nil, &problem{file: usersFile, err: err, code: exitInvalid}
		}
		dir = d
	}
	data, prob := readFile(roleFile)
	if prob != nil {
		return nil, prob
	}
	role, err := impersonation.DecodeRole(data)
	if err != nil {
		return nil, &problem{file: roleFile, err: err, code: exitInvalid}
	}
	ev, err := impersonation.Compile(role, dir)
	if err != nil {
		return nil, &problem{file: roleFile, err: err, code: exitInvalid}
	}
	return ev, nil
}

func cmdImpersonationEffect(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const name = "wmpolicy impersonation-effect"
	fs := newVerbFlags("impersonation-effect", stderr)
	roleFile := fs.String("role", "", "`ROLE.json`: aws workmail get-impersonation-role output (required)")
	usersFile := fs.String("users", "", "`USERS.json`: aws workmail list-users output; turns on identifier resolution")
	target := fs.String("target", "", "the `USER` to impersonate (with --users also email, alias or user name); without it, batch mode")
	output := fs.String("output", "text", "`text` or json")
	stateDir := fs.String("state", "", "`DIR`: an organization state (wmpolicy org); with --org and --role-id, instead of --role and --users")
	orgID := fs.String("org", "", "the organization `ID` in --state")
	roleID := fs.String("role-id", "", "the `ROLE_ID` of a role in --state")
	storeFlag(fs, stateDir)
	if !parseFlagsOnly(fs, args, name, stderr) {
		return exitInvalid
	}
	if *stateDir != "" && (*roleFile != "" || *usersFile != "") {
		fmt.Fprintf(stderr, "%s: --state replaces --role and --users; give one or the other\n", name)
		return exitInvalid
	}
	if *stateDir != "" && *roleID == "" {
		fmt.Fprintf(stderr, "%s: --role-id is required with --state\n", name)
		return exitInvalid
	}
	if *roleFile == "" && *stateDir == "" {
		fmt.Fprintf(stderr, "%s: --role (or --state DIR --org ID --role-id ROLE_ID) is required\n", name)
		return exitInvalid
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "%s: --output must be text or json, not %q\n", name, *output)
		return exitInvalid
	}
	single := false
	fs.Visit(func(f *flag.Flag) { single = single || f.Name == "target" })
	var ev *impersonation.Evaluator
	var prob *problem
	if *stateDir != "" {
		if ev, prob = loadStateRole(*stateDir, *orgID, *roleID); prob != nil {
			printStateProblem(stderr, name, prob)
			return prob.code
		}
	} else {
		ev, prob = loadRole(*roleFile, *usersFile)
	}
	if prob != nil {
		return prob.exit(stderr)
	}
	if !single {
		invalid, err := roleBatch(ev, stdin, stdout)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return exitFailure
		}
		if invalid {
			fmt.Fprintf(stderr, "%s: some requests were invalid (answered with {\"__type\": …})\n", name)
			return exitInvalid
		}
		return 0
	}
	in := impersonation.GetImpersonationRoleEffectInput{TargetUser: *target}
	err := in.Check()
	var d impersonation.Decision
	if err == nil {
		d, err = ev.Decide(in.TargetUser)
	}
	if err != nil {
		if *output == "json" {
			writeJSON(stdout, errorShape(err), "    ")
		}
		for _, e := range policy.Errors(err) {
			fmt.Fprintf(stderr, "%s: invalid request: %s\n", name, e.Error())
		}
		return exitInvalid
	}
	if *output == "json" {
		if err := writeJSON(stdout, d.Output(), "    "); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return exitFailure
		}
	} else {
		printRoleDecision(stdout, ev, in.TargetUser, d)
	}
	if d.Effect == policy.Allow {
		return exitAllow
	}
	return exitDeny
}

// ruleLabel is "ID (Name)", or the ID alone for a rule without a name.
func ruleLabel(id, name string) string {
	if name == "" {
		return id
	}
	return id + " (" + name + ")"
}

func printRoleDecision(w io.Writer, ev *impersonation.Evaluator, target string, d impersonation.Decision) {
	fmt.Fprintf(w, "%s (%s)\n", d.Effect, d.Reason)
	role := ev.Role()
	if role.ImpersonationRoleId != "" {
		fmt.Fprintf(w, "role: %s (%s), type %s\n", quoteText(role.Name), quoteText(role.ImpersonationRoleId), d.Type)
	} else {
		fmt.Fprintf(w, "role: %s, type %s\n", quoteText(role.Name), d.Type)
	}
	if d.UserID != "" && d.UserID != target {
		fmt.Fprintf(w, "target: %s (user %s)\n", quoteText(target), quoteText(d.UserID))
	} else {
		fmt.Fprintf(w, "target: %s\n", quoteText(target))
	}
	if len(d.MatchedRules) > 0 {
		var b bytes.Buffer
		for i, m := range d.MatchedRules {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteText(ruleLabel(m.ImpersonationRuleId, m.Name)))
		}
		fmt.Fprintf(w, "matched rules: %s\n", b.String())
	} else {
		fmt.Fprintln(w, "matched rules: none")
	}
	switch d.Reason {
	case impersonation.ExplicitDeny:
		fmt.Fprintln(w, "why: a matching DENY rule overrides every ALLOW rule")
	case impersonation.ExplicitAllow:
		fmt.Fprintln(w, "why: ALLOW rules match and no DENY rule does")
	case impersonation.ImplicitDeny:
		fmt.Fprintln(w, "why: no rule matches, so impersonation is denied")
	}
	for _, m := range d.Matching {
		note := ""
		if m.Effect != d.Effect {
			note = "  (overridden by DENY)"
		}
		fmt.Fprintf(w, "  %-5s %s%s\n", m.Effect, quoteText(ruleLabel(m.ImpersonationRuleId, m.Name)), note)
	}
	if d.Type == impersonation.ReadOnly && d.Effect == policy.Allow {
		fmt.Fprintln(w, "note: READ_ONLY: the role may read the mailbox, not change it")
	}
}

// roleBatchInput is one batch line: TargetUser and nothing else (an unknown
// field is an error on that line).
type roleBatchInput struct {
	TargetUser string `json:"TargetUser"`
}

// roleBatch answers one {"TargetUser":…} line with one JSON line: the
// GetImpersonationRoleEffect response or an error in the AWS shape.
func roleBatch(ev *impersonation.Evaluator, stdin io.Reader, stdout io.Writer) (bool, error) {
	matched := make([]impersonation.MatchedRule, 0, impersonation.MaxRules)
	return batch(stdin, stdout, func(line []byte) any { return roleAnswer(ev, line, &matched) })
}

func roleAnswer(ev *impersonation.Evaluator, line []byte, matched *[]impersonation.MatchedRule) any {
	var b roleBatchInput
	if err := policy.DecodeStrict(line, &b); err != nil {
		return errorShape(err)
	}
	in := impersonation.GetImpersonationRoleEffectInput{TargetUser: b.TargetUser}
	if err := in.Check(); err != nil {
		return errorShape(err)
	}
	typ, eff, m, err := ev.Evaluate(in.TargetUser, (*matched)[:0])
	if err != nil {
		return errorShape(err)
	}
	*matched = m
	return impersonation.GetImpersonationRoleEffectOutput{Type: typ, Effect: eff, MatchedRules: m}
}
