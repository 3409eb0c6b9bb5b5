// Command embed shows how a mail gateway embeds wmpolicy: compile the
// organization's rules once, keep the compiled policy behind an atomic pointer
// so a reload can swap it without locks, and answer every login on the fast path
// with a reused slice (no allocation per request).
//
//	go run ./examples/embed -dir examples/org
package main

import (
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// gateway holds the current policy; logins read it, reloads replace it.
type gateway struct {
	current atomic.Pointer[accessctl.Policy]
}

// load reads list-access-control-rules and list-users output and compiles them.
func load(dir string) (*accessctl.Policy, error) {
	users, err := os.ReadFile(filepath.Join(dir, "users.json"))
	if err != nil {
		return nil, err
	}
	d, err := policy.DecodeUsers(users)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, "rules.json"))
	if err != nil {
		return nil, err
	}
	rules, err := accessctl.DecodeRules(data)
	if err != nil {
		return nil, err
	}
	return accessctl.Compile(rules, accessctl.Options{Directory: d})
}

// login is what a protocol front end calls for every authentication attempt.
// matched is the caller's scratch slice, reused across calls.
func (g *gateway) login(ip netip.Addr, action accessctl.Action, user string, matched []string) (bool, []string, error) {
	eff, matched, err := g.current.Load().Evaluate(accessctl.Request{IP: ip, Action: action, UserID: user}, matched[:0])
	return eff == policy.Allow, matched, err
}

func run(dir string, w io.Writer) error {
	p, err := load(dir)
	if err != nil {
		return err
	}
	var g gateway
	g.current.Store(p)
	logins := []struct {
		ip     string
		action accessctl.Action
		user   string
	}{
		{"192.0.2.44", accessctl.IMAP, "bob@example.com"},
		{"203.0.113.9", accessctl.IMAP, "bob"},
		{"203.0.113.9", accessctl.WebMail, "Bob@Example.com"},
		{"192.0.2.10", accessctl.ActiveSync, "carol"},
		{"192.0.2.10", accessctl.WebMail, "mallory@example.com"},
	}
	matched := make([]string, 0, 8)
	for _, l := range logins {
		var ok bool
		ok, matched, err = g.login(netip.MustParseAddr(l.ip), l.action, l.user, matched)
		switch {
		case err != nil:
			fmt.Fprintf(w, "%-12s %-8s %-20s error: %v\n", l.ip, l.action, l.user, err)
		case ok:
			fmt.Fprintf(w, "%-12s %-8s %-20s ALLOW %v\n", l.ip, l.action, l.user, matched)
		default:
			fmt.Fprintf(w, "%-12s %-8s %-20s DENY  %v\n", l.ip, l.action, l.user, matched)
		}
	}
	// A reload compiles a new policy and swaps it in; logins in flight keep the
	// one they loaded. Here: the same organization without its rules at all.
	empty, err := accessctl.Compile(nil, accessctl.Options{})
	if err != nil {
		return err
	}
	g.current.Store(empty)
	ok, _, _ := g.login(netip.MustParseAddr("192.0.2.44"), accessctl.IMAP, "anyone-at-all", matched)
	fmt.Fprintf(w, "after reload with no rules: allowed=%v (an organization without rules denies everything)\n", ok)
	return nil
}

func main() {
	dir := flag.String("dir", "examples/org", "folder with rules.json and users.json")
	flag.Parse()
	if err := run(*dir, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}
