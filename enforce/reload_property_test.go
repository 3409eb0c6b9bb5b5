package enforce

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
	"github.com/wmpolicy/wmpolicy/policytest"
	"pgregory.net/rapid"
)

// TestReloadProperty (moved from examples/gateway): a random sequence of
// reloads of a FileSource, drawn with the policytest kit. Rule changes
// (policytest.Mutate) are applied with one more revision, invalid files
// (policytest.InvalidRulesJSON) are rejected with the error the library
// reports and change nothing, and after every step a Decider over the source
// decides logins exactly as the library does with the rules that should be in
// force, unknown and disabled users denied (SEMANTICS E2).
func TestReloadProperty(t *testing.T) {
	opts := policytest.DefaultRuleOptions()
	opts.Users, opts.Roles = true, false
	tmp := t.TempDir() // one folder: each check overwrites both files before NewFileSource
	rulesPath, usersPath := filepath.Join(tmp, "rules.json"), filepath.Join(tmp, "users.json")
	rapid.Check(t, func(rt *rapid.T) {
		dir := policytest.Directory().Draw(rt, "users")
		rules := policytest.Rules(opts).Draw(rt, "rules")
		written := encodeRules(rt, rules)
		write(rt, rulesPath, written)
		write(rt, usersPath, encodeUsers(rt, dir))
		src, err := NewFileSource(FileSourceOptions{RulesFile: rulesPath, UsersFile: usersPath, Log: discardLog()})
		if err != nil {
			rt.Fatalf("NewFileSource: %v", err)
		}
		d := &Decider{Source: src, Log: discardLog()}

		current := rules
		for range rapid.IntRange(1, 4).Draw(rt, "steps") {
			before := src.Status()
			if rapid.IntRange(0, 3).Draw(rt, "kind") == 0 {
				bad := policytest.InvalidRulesJSON().Draw(rt, "invalid")
				write(rt, rulesPath, bad.Value) // in place: same-size rewrites happen
				src.Check()
				after := src.Status()
				if bytes.Equal(bad.Value, written) {
					continue
				}
				written = bad.Value
				if after.Rejected != before.Rejected+1 || after.Revision != before.Revision {
					rt.Fatalf("%s: status %+v → %+v", bad, before, after)
				}
				if err := bad.Match(after.LastError); err != nil {
					rt.Fatalf("%s: %v", bad, err)
				}
			} else {
				m := policytest.Mutate(current, opts).Draw(rt, "change")
				data := encodeRules(rt, m.After)
				write(rt, rulesPath, data)
				src.Check()
				after := src.Status()
				current = m.After
				if bytes.Equal(data, written) {
					continue // no change in the file (e.g. a description set to itself)
				}
				written = data
				if after.Applied != before.Applied+1 || after.Revision != before.Revision+1 || after.LastError != nil {
					rt.Fatalf("%s: status %+v → %+v", m, before, after)
				}
			}
			if got, want := src.Snapshot().Revision(), src.Status().Revision; got != want {
				rt.Fatalf("snapshot revision %d, status revision %d", got, want)
			}
			requests := policytest.RequestFor(current)
			for range 4 {
				req := requests.Draw(rt, "request")
				if req.UserID == "" || !req.Action.Valid() || !req.IP.Unmap().Is4() {
					continue // role requests are EWS; enforcement points take IPv4 user logins
				}
				var a Answer
				d.Decide(context.Background(), Question{Protocol: "test", Client: req.IP, Login: req.UserID, Action: req.Action}, &a)
				u, ok := dir.Lookup(req.UserID)
				switch {
				case !ok:
					if a.Outcome != UnknownUser || a.Allow {
						rt.Fatalf("%+v: unknown user, got %+v", req, a)
					}
				case !u.Enabled():
					if a.Outcome != UserNotEnabled || a.Allow {
						rt.Fatalf("%+v: disabled user, got %+v", req, a)
					}
				default:
					// The rules name users by ID and the request names one by
					// ID, so the library needs no directory to agree.
					want, werr := policytest.Library(current, req)
					if a.Allow != (want == policy.Allow && werr == nil) || (werr != nil) != (a.Outcome == InvalidRequest) {
						rt.Fatalf("%+v: decider %+v, library %v (%v)", req, a, want, werr)
					}
				}
			}
		}
	})
}

func encodeRules(t *rapid.T, rules []accessctl.Rule) []byte {
	data, err := accessctl.EncodeRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func encodeUsers(t *rapid.T, dir *policy.MemDirectory) []byte {
	var out policy.ListUsersOutput
	for _, u := range dir.Users() {
		// list-users output has no aliases; logins here name users by ID.
		out.Users = append(out.Users, policy.UserJSON{Id: u.ID, Email: u.Email, Name: u.Name, DisplayName: u.DisplayName, State: u.State})
	}
	data, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func write(t *rapid.T, path string, data []byte) {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
