package main

// wmpolicy fmt: canonical JSON for rules, users and roles files.

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

// exitNotCanonical is the exit status of wmpolicy fmt --check when a file is
// not in canonical form.
const exitNotCanonical = 7

func cmdFmt(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const name = "wmpolicy fmt"
	fs := newVerbFlags("fmt", stderr)
	verbHelp(fs, "fmt", "0 formatted (with --check: every file canonical), 7 with --check: a file is not canonical")
	check := fs.Bool("check", false, "print the files that are not in canonical form and exit 7 if any; write nothing")
	write := fs.Bool("w", false, "write the canonical form back to each file instead of to standard output")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitInvalid
	}
	if len(pos) == 0 {
		fmt.Fprintf(stderr, "%s: want one or more files\n", name)
		return exitInvalid
	}
	if *check && *write {
		fmt.Fprintf(stderr, "%s: --check and -w exclude each other\n", name)
		return exitInvalid
	}
	status := 0
	for _, file := range pos {
		data, prob := readFile(file)
		if prob != nil {
			return prob.exit(stderr)
		}
		out, err := canonical(data)
		if err != nil {
			return (&problem{file: file, err: err, code: exitInvalid}).exit(stderr)
		}
		switch {
		case *check:
			if !bytes.Equal(data, out) {
				fmt.Fprintf(stdout, "%s: not canonical (wmpolicy fmt -w %s)\n", file, file)
				status = exitNotCanonical
			}
		case *write:
			if bytes.Equal(data, out) {
				continue
			}
			st, err := os.Stat(file)
			if err == nil {
				err = os.WriteFile(file, out, st.Mode().Perm())
			}
			if err != nil {
				fmt.Fprintf(stderr, "%s: %v\n", name, err)
				return exitFailure
			}
		default:
			stdout.Write(out)
		}
	}
	return status
}

// canonical returns the canonical form of a rules file (list-access-control-
// rules output), users file (list-users), roles file (list-impersonation-
// roles) or role file (get-impersonation-role), told apart by their
// top-level members. The file is decoded and validated as the other verbs
// read it (strictly, D2), so that only a file they accept is formatted, and
// written back with four-space indentation, timestamps as epoch seconds
// (an RFC 3339 capture and an epoch capture of the same data give the same
// bytes), and every list whose order carries no meaning sorted:
//
//   - rules by Name (A16); in each rule IpRanges and NotIpRanges by address,
//     then prefix length, then text; Actions and NotActions in the order of
//     SEMANTICS A11; UserIds, NotUserIds, ImpersonationRoleIds and
//     NotImpersonationRoleIds by byte order;
//   - users by Id;
//   - roles by Name, then ImpersonationRoleId (B7);
//   - in a role, TargetUsers and NotTargetUsers by byte order. A role's
//     rules keep their order: it is the order of MatchedRules (B4).
//
// Nothing is added or removed: duplicates stay (audit reports them).
func canonical(data []byte) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		// not an object: let the strict decoder say what is wrong, with its place
		_, derr := accessctl.DecodeRules(data)
		if derr == nil {
			derr = policy.Errorf(policy.ValidationException, "", "not a JSON object")
		}
		return nil, derr
	}
	switch {
	case has(top, "Rules") && has(top, "ImpersonationRoleId", "Name", "Type"):
		role, err := impersonation.DecodeRole(data)
		if err != nil {
			return nil, err
		}
		canonicalRole(&role)
		return encodeCanonical(role)
	case has(top, "Rules"):
		rules, err := accessctl.DecodeRules(data)
		if err != nil {
			return nil, err
		}
		for i := range rules {
			canonicalRule(&rules[i])
		}
		return encodeCanonical(accessctl.ListAccessControlRulesOutput{Rules: sortedRules(rules)})
	case has(top, "Users"):
		if _, err := policy.DecodeUsers(data); err != nil {
			return nil, err
		}
		var out policy.ListUsersOutput
		if err := policy.DecodeStrict(data, &out); err != nil {
			return nil, err
		}
		if out.Users == nil {
			out.Users = []policy.UserJSON{}
		}
		slices.SortStableFunc(out.Users, func(a, b policy.UserJSON) int { return strings.Compare(a.Id, b.Id) })
		for i := range out.Users {
			u := &out.Users[i]
			u.EnabledDate, u.DisabledDate = epochRaw(u.EnabledDate), epochRaw(u.DisabledDate)
			for _, raw := range []*json.RawMessage{&u.UserRole, &u.IdentityProviderUserId, &u.IdentityProviderIdentityStoreId} {
				*raw = compactRaw(*raw)
			}
		}
		out.NextToken = compactRaw(out.NextToken)
		return encodeCanonical(out)
	case has(top, "Roles"):
		list, err := impersonation.DecodeRoleList(data)
		if err != nil {
			return nil, err
		}
		slices.SortStableFunc(list.Roles, func(a, b impersonation.RoleSummary) int {
			return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ImpersonationRoleId, b.ImpersonationRoleId))
		})
		return encodeCanonical(list)
	}
	return nil, policy.Errorf(policy.ValidationException, "",
		"not a rules (Rules), users (Users), roles (Roles) or role (ImpersonationRoleId, Name, Type, Rules) file")
}

// has reports whether the object has any of the members.
func has(top map[string]json.RawMessage, members ...string) bool {
	for _, m := range members {
		if _, ok := top[m]; ok {
			return true
		}
	}
	return false
}

// sortedRules returns the rules in ascending byte order of Name (A16).
func sortedRules(rules []accessctl.Rule) []accessctl.Rule {
	out := slices.Clone(rules)
	slices.SortStableFunc(out, func(a, b accessctl.Rule) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// canonicalRule sorts the lists of a validated rule.
func canonicalRule(r *accessctl.Rule) {
	for _, l := range [][]string{r.IpRanges, r.NotIpRanges} {
		slices.SortStableFunc(l, func(a, b string) int {
			x, _ := cidr.ParseRange(a) // validated
			y, _ := cidr.ParseRange(b)
			return cmp.Or(cmp.Compare(x.First(), y.First()), cmp.Compare(x.Bits(), y.Bits()), strings.Compare(a, b))
		})
	}
	for _, l := range [][]string{r.Actions, r.NotActions} {
		slices.SortStableFunc(l, func(a, b string) int {
			x, _ := accessctl.ParseAction(a) // validated
			y, _ := accessctl.ParseAction(b)
			return cmp.Compare(x, y)
		})
	}
	for _, l := range [][]string{r.UserIds, r.NotUserIds, r.ImpersonationRoleIds, r.NotImpersonationRoleIds} {
		slices.Sort(l)
	}
}

// canonicalRole sorts the target lists of a validated role's rules.
func canonicalRole(r *impersonation.Role) {
	for i := range r.Rules {
		slices.Sort(r.Rules[i].TargetUsers)
		slices.Sort(r.Rules[i].NotTargetUsers)
	}
}

// epochRaw rewrites a raw timestamp (epoch seconds or RFC 3339) as epoch
// seconds; anything else is kept, compacted.
func epochRaw(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	var ts policy.Timestamp
	if err := ts.UnmarshalJSON(raw); err != nil {
		return compactRaw(raw)
	}
	b, err := ts.MarshalJSON()
	if err != nil {
		return compactRaw(raw)
	}
	return b
}

// compactRaw removes the insignificant white space of a raw value.
func compactRaw(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

// encodeCanonical writes v with four-space indentation, HTML characters
// unescaped, and a final newline.
func encodeCanonical(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
