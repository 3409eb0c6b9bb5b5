package main

import (
	"fmt"
	"io"
	"strings"
)

// verb is one command of wmpolicy, or one sub-command of a verb that has
// them (token, org). One registration — an entry in a verbSet's list — holds
// everything about it: its name, its usage lines and what runs it; every
// usage text that lists verbs is generated from the registrations.
type verb struct {
	name    string
	aliases []string // further names that run it, listed nowhere ("--version")
	// group, when set, is a heading printed before this verb in its set's
	// usage (the verbs after it belong to it until the next heading).
	group string
	// synopsis holds the verb's usage lines, each what follows the verb's
	// name: its arguments, then possibly a note. A line may continue on lines
	// of its own after a "\n", which are printed as they are. A verb without
	// synopsis is not listed (version: the usage's footer mentions it).
	synopsis []string
	// run runs the verb with the arguments after its name. A verb with
	// sub-commands has subs instead, which dispatch them; its lines in its
	// parent's usage are its synopsis or, without one, its sub-commands'
	// lines followed by hint.
	run  func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
	subs *verbSet
	hint string
}

// verbSet is the verbs of one command level, in usage order, and the text
// around their listing.
type verbSet struct {
	prefix string // the command line before a verb: "wmpolicy", "wmpolicy token"
	noun   string // what an unknown name is called: "command", "verb"
	head   string // the usage text before the listing
	indent string // starts each listed line: "  wmpolicy "
	width  int    // the width names are padded to, 0 for none
	foot   string // the usage text after the listing
	list   []*verb
}

// find returns the verb called name, or nil.
func (s *verbSet) find(name string) *verb {
	for _, v := range s.list {
		if v.name == name {
			return v
		}
		for _, a := range v.aliases {
			if a == name {
				return v
			}
		}
	}
	return nil
}

// lines returns v's usage lines as its set lists them.
func (s *verbSet) lines(v *verb) string {
	var b strings.Builder
	for _, syn := range v.synopsis {
		fmt.Fprintf(&b, "%s%-*s %s\n", s.indent, s.width, v.name, syn)
	}
	if len(v.synopsis) == 0 && v.subs != nil {
		for _, sub := range v.subs.list {
			for _, syn := range sub.synopsis {
				fmt.Fprintf(&b, "%s%s %-*s %s\n", s.indent, v.name, v.subs.width, sub.name, syn)
			}
		}
		if b.Len() > 0 && v.hint != "" {
			text := b.String()
			b.Reset()
			b.WriteString(text[:len(text)-1] + v.hint + "\n")
		}
	}
	return b.String()
}

// usage returns the set's usage text: head, every verb's lines under its
// group heading, foot.
func (s *verbSet) usage() string {
	var b strings.Builder
	b.WriteString(s.head)
	for _, v := range s.list {
		if v.group != "" {
			b.WriteString(v.group + "\n")
		}
		b.WriteString(s.lines(v))
	}
	b.WriteString(s.foot)
	return b.String()
}

// dispatch runs the verb args[0] names with the rest of args. No verb is
// bad usage (the usage on stderr, exit 3); "help", "-h", "-help" and
// "--help" print the usage on stdout (exit 0); an unknown name is bad usage.
func (s *verbSet) dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, s.usage())
		return exitInvalid
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, s.usage())
		return 0
	}
	if v := s.find(args[0]); v != nil && v.subs != nil {
		return v.subs.dispatch(args[1:], stdin, stdout, stderr)
	} else if v != nil {
		return v.run(args[1:], stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "%s: unknown %s %q\n\n%s", s.prefix, s.noun, args[0], s.usage())
	return exitInvalid
}

// topVerbs are wmpolicy's verbs. To add one, write its cmdXxx function and
// add its entry to the list in init below; 'wmpolicy help', the dispatcher
// and the verb's --help (verbHelp) all take it from the entry.
var topVerbs = &verbSet{
	prefix: "wmpolicy",
	noun:   "command",
	head: `wmpolicy evaluates Amazon WorkMail access-control rules offline.

Usage:
`,
	indent: "  wmpolicy ",
	foot: `
RULES.json is the output of 'aws workmail list-access-control-rules';
USERS.json is the output of 'aws workmail list-users';
ROLE.json is the output of 'aws workmail get-impersonation-role'.
A file argument "-" reads standard input. Every input is limited to 64 MiB
(--max-input-bytes raises it). Batch modes read JSON values (one per line or
pretty-printed), answer each with one line, and exit 3 after answering all
when any was invalid. 'wmpolicy VERB --help' describes a verb;
'wmpolicy version' prints the version.
Exit status: 0 ALLOW (or valid), 2 DENY, 3 invalid input, 1 other failure
(such as an unreadable file).
`,
}

// topVerbs' list is filled in init: some verbs' run functions refer back to
// it (verbHelp prints a verb's lines), which a variable's initializer may not.
func init() {
	topVerbs.list = []*verb{
		{name: "eval", run: cmdEval, synopsis: []string{
			"--rules RULES.json [--users USERS.json] --ip IP --action ACTION (--user ID | --role ID) [--output text|json]",
			"--rules RULES.json [--users USERS.json] < requests.json      (batch: JSON values in, one JSON line out each)",
			"--state DIR --org ID ...                (the rules and users of an organization in a 'wmpolicy org' state)",
		}},
		{name: "validate", run: cmdValidate, synopsis: []string{
			"[--users USERS.json] [--output text|json] RULES.json",
		}},
		{name: "impersonation-effect", run: cmdImpersonationEffect, synopsis: []string{
			"--role ROLE.json [--users USERS.json] --target USER [--output text|json]",
			`--role ROLE.json [--users USERS.json] < targets.json   (batch: {"TargetUser":...} values)`,
			"--state DIR --org ID --role-id ROLE_ID ...   (a role of an organization in a 'wmpolicy org' state)",
		}},
		{name: "token", subs: tokenVerbs, hint: "      ('wmpolicy token help': the key file format)"},
		{name: "explain", run: cmdExplain, synopsis: []string{
			"--rules RULES.json [--users USERS.json] [--roles ROLES.json] --ip IP --action ACTION (--user ID | --role ID) [--output text|json]",
		}},
		{name: "audit", run: cmdAudit, synopsis: []string{
			"RULES.json [--users USERS.json] [--roles ROLES.json] [--fail-on error|warning|suggestion] [--output text|json|sarif]",
		}},
		{name: "diff", run: cmdDiff, synopsis: []string{
			"OLD.json NEW.json [--users USERS.json] [--roles ROLES.json] [--output text|json|markdown]",
		}},
		{name: "who-can", run: cmdWhoCan, synopsis: []string{
			"RULES.json (--user ID | --role ID | --action ACTION --ip IP) [--users USERS.json] [--roles ROLES.json] [--output text|json]",
		}},
		{name: "fmt", run: cmdFmt, synopsis: []string{
			"[--check | -w] FILE.json ...     (rules, users, roles or role files; canonical JSON)",
		}},
		{name: "org", subs: orgVerbs, synopsis: []string{
			"VERB --state DIR [flags]                  ('wmpolicy org help': create/list/describe/delete organizations, rules, roles, users)",
		}},
		{name: "serve", run: cmdServe, synopsis: []string{
			"(--rules R --users U | --state DIR [--org ID]) --LISTENER ADDR...   ('wmpolicy serve --help': enforcement points, the WorkMail API)",
		}},
		{name: "test", run: cmdTest, synopsis: []string{
			"--rules RULES.json [--users USERS.json] [--roles ROLES.json] [--coverage] [--output text|json] TESTS.json",
		}},
		{name: "version", aliases: []string{"--version"}, run: cmdVersion},
	}
}
