package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
	"github.com/wmpolicy/wmpolicy/policytest"
	"pgregory.net/rapid"
)

// A random sequence of reloads, drawn with the policytest kit: rule changes
// (policytest.Mutate) are applied, invalid files (policytest.InvalidRulesJSON)
// are rejected with the error the library reports and change nothing, and after
// every step the gateway decides logins exactly as the library does with the
// rules that should be in force.
func TestReloadProperty(t *testing.T) {
	opts := policytest.DefaultRuleOptions
	opts.Users, opts.Roles = true, false
	tmp := t.TempDir() // one folder: each check overwrites both files before New
	rulesPath, usersPath := filepath.Join(tmp, "rules.json"), filepath.Join(tmp, "users.json")
	rapid.Check(t, func(rt *rapid.T) {
		dir := policytest.Directory().Draw(rt, "users")
		rules := policytest.Rules(opts).Draw(rt, "rules")
		written := encodeRules(rt, rules)
		write(rt, rulesPath, written)
		write(rt, usersPath, encodeUsers(rt, dir))
		g, err := New(Config{RulesFile: rulesPath, UsersFile: usersPath, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			rt.Fatalf("New: %v", err)
		}

		current := rules
		for range rapid.IntRange(1, 4).Draw(rt, "steps") {
			before := g.ReloadStatus()
			if rapid.IntRange(0, 3).Draw(rt, "kind") == 0 {
				bad := policytest.InvalidRulesJSON().Draw(rt, "invalid")
				write(rt, rulesPath, bad.Value) // in place: same-size rewrites happen
				g.Check()
				after := g.ReloadStatus()
				if bytes.Equal(bad.Value, written) {
					continue
				}
				written = bad.Value
				if after.Rejected != before.Rejected+1 || after.Version != before.Version {
					rt.Fatalf("%s: status %+v → %+v", bad, before, after)
				}
				if err := bad.Match(after.LastError); err != nil {
					rt.Fatalf("%s: %v", bad, err)
				}
			} else {
				m := policytest.Mutate(current, opts).Draw(rt, "change")
				data := encodeRules(rt, m.After)
				write(rt, rulesPath, data)
				g.Check()
				after := g.ReloadStatus()
				current = m.After
				if bytes.Equal(data, written) {
					continue // no change in the file (e.g. a description set to itself)
				}
				written = data
				if after.Applied != before.Applied+1 || after.Version != before.Version+1 || after.LastError != nil {
					rt.Fatalf("%s: status %+v → %+v", m, before, after)
				}
			}
			requests := policytest.RequestFor(current)
			for range 4 {
				req := requests.Draw(rt, "request")
				if req.UserID == "" {
					continue // role requests are EWS; the gateway takes user logins
				}
				o := g.decide(req.IP, req.Action, req.UserID, "pw", nil)
				u, ok := dir.Lookup(req.UserID)
				switch {
				case !ok:
					if o.step != stepUnknownUser {
						rt.Fatalf("%+v: unknown user, got step %v", req, o.step)
					}
				case !u.Enabled():
					if o.step != stepDisabled {
						rt.Fatalf("%+v: disabled user, got step %v", req, o.step)
					}
				default:
					// The rules name users by ID and the request names one by
					// ID, so the library needs no directory to agree.
					want, werr := policytest.Library(current, req)
					if o.effect != want || (werr != nil) != (o.err != nil) {
						rt.Fatalf("%+v: gateway %v (%v), library %v (%v)", req, o.effect, o.err, want, werr)
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
