// Command audit shows how a change-review job uses wmpolicy's analysis: load
// an organization's rules and users as the AWS CLI prints them
// (`aws workmail list-access-control-rules`, `aws workmail list-users`), audit
// the current rules and a proposed change, and print exactly which requests
// the change would newly allow or deny, each with a witness request that
// `wmpolicy eval` confirms.
//
//	go run ./examples/audit -dir examples/org -proposed examples/audit/proposed.json
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/analysis"
	"github.com/wmpolicy/wmpolicy/policy"
)

func main() {
	dir := flag.String("dir", "examples/org", "directory with rules.json and users.json")
	proposed := flag.String("proposed", "examples/audit/proposed.json", "the proposed rules (list-access-control-rules shape)")
	flag.Parse()
	changed, err := run(*dir, *proposed, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "audit:", err)
		os.Exit(1)
	}
	if changed {
		os.Exit(5) // like `wmpolicy diff`: the change is not a no-op
	}
}

func readRules(file string) ([]accessctl.Rule, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return accessctl.DecodeRules(data)
}

// run prints the audit of the current and the proposed rules and their diff;
// it reports whether the proposal changes any effect.
func run(dir, proposedFile string, w io.Writer) (bool, error) {
	data, err := os.ReadFile(filepath.Join(dir, "users.json"))
	if err != nil {
		return false, err
	}
	users, err := policy.DecodeUsers(data)
	if err != nil {
		return false, err
	}
	current, err := readRules(filepath.Join(dir, "rules.json"))
	if err != nil {
		return false, err
	}
	proposed, err := readRules(proposedFile)
	if err != nil {
		return false, err
	}
	opts := analysis.Options{Directory: users}
	ctx := context.Background()
	for _, set := range []struct {
		name  string
		rules []accessctl.Rule
	}{{"current", current}, {"proposed", proposed}} {
		a, err := analysis.New(set.rules, opts)
		if err != nil {
			return false, err
		}
		rep, err := a.Audit(ctx)
		if err != nil {
			return false, err
		}
		fmt.Fprintf(w, "audit of the %s rules: %d findings\n", set.name, len(rep.Findings))
		for _, f := range rep.Findings {
			fmt.Fprintf(w, "  %s\n", f)
		}
	}
	d, err := analysis.Diff(ctx, current, proposed, opts)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(w, "the proposal is %s:\n", d.Verdict)
	for _, r := range d.Regions {
		var who []string
		for _, p := range r.Principals {
			who = append(who, principalName(users, p))
		}
		var acts []string
		for _, a := range r.Actions {
			acts = append(acts, a.String())
		}
		fmt.Fprintf(w, "  %s: %s %s for %s\n", r.Change, r.Addrs, strings.Join(acts, ","), strings.Join(who, ", "))
		fmt.Fprintf(w, "    e.g. %s %s as %s\n", r.Witness.IP, r.Witness.Action, witnessName(users, r.Witness))
	}
	return d.Verdict != analysis.Equivalent, nil
}

// principalName names a principal class by user name where the directory has one.
func principalName(users *policy.MemDirectory, p analysis.Principal) string {
	if p.Kind == analysis.User && p.ID != "" {
		if u, ok := users.Lookup(p.ID); ok && u.Name != "" {
			return u.Name
		}
	}
	return p.String()
}

func witnessName(users *policy.MemDirectory, r accessctl.Request) string {
	if r.ImpersonationRoleID != "" {
		return "role " + r.ImpersonationRoleID
	}
	if u, ok := users.Lookup(r.UserID); ok && u.Name != "" {
		return u.Name
	}
	return r.UserID
}
