// Command proptest is "your application" in miniature — a login gate in front
// of wmpolicy — and main_test.go is how you would property-test it with
// package policytest: the gate must answer as the library does for every
// generated rule list and request, keep answering correctly across reloads
// (it caches answers), never allow an invalid request, and keep the last good
// rules when a reload brings a bad file.
//
//	go run ./examples/proptest -rules examples/org/rules.json -users examples/org/users.json 192.0.2.44 IMAP bob
//	go test ./examples/proptest
//
// It prints ALLOW or DENY and exits 0 for ALLOW, 2 for DENY, 3 for invalid
// input and 1 for any other failure, like `wmpolicy eval`.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Gate answers "may this user log in with this protocol from this address?"
// for a mail front end. It keeps the compiled policy behind an atomic pointer,
// so that Reload swaps it while logins go on, and it caches answers, because
// front ends ask the same question on every reconnect. The cache belongs to
// the compiled rules it was filled from and is swapped with them: that is what
// makes a reload take effect at once (policytest.Reloads fails a gate whose
// cache outlives a reload).
//
// The zero Gate denies everything; it is safe for concurrent use.
type Gate struct {
	dir     policy.Directory
	current atomic.Pointer[gateState]
}

// gateState is one generation of the gate: compiled rules and their answers.
type gateState struct {
	policy *accessctl.Policy
	mu     sync.Mutex
	cache  map[accessctl.Request]policy.Effect
}

// maxCached bounds the cache; when full it starts over.
const maxCached = 10000

// NewGate returns a gate that resolves user names through dir (nil: user IDs
// are compared as exact strings) and denies everything until the first Reload.
func NewGate(dir policy.Directory) *Gate { return &Gate{dir: dir} }

// Reload compiles rules and swaps them in. Invalid rules are refused with
// every problem, and the gate keeps the rules it had.
func (g *Gate) Reload(rules []accessctl.Rule) error {
	p, err := accessctl.Compile(rules, accessctl.Options{Directory: g.dir})
	if err != nil {
		return err
	}
	g.current.Store(&gateState{policy: p, cache: map[accessctl.Request]policy.Effect{}})
	return nil
}

// ReloadJSON is Reload for `aws workmail list-access-control-rules` output.
func (g *Gate) ReloadJSON(data []byte) error {
	rules, err := accessctl.DecodeRules(data)
	if err != nil {
		return err
	}
	return g.Reload(rules)
}

// Check answers one request: the effect, or an error (and DENY) for an invalid
// request.
func (g *Gate) Check(req accessctl.Request) (policy.Effect, error) {
	st := g.current.Load()
	if st == nil {
		return policy.Deny, nil // no rules: deny everything (SEMANTICS A6)
	}
	st.mu.Lock()
	eff, ok := st.cache[req]
	st.mu.Unlock()
	if ok {
		return eff, nil
	}
	eff, err := st.policy.Effect(req)
	if err != nil {
		return policy.Deny, err
	}
	st.mu.Lock()
	if len(st.cache) >= maxCached {
		clear(st.cache)
	}
	st.cache[req] = eff
	st.mu.Unlock()
	return eff, nil
}

// Login is what a protocol front end calls: the client address as text (with
// or without a port), the protocol name as WorkMail spells it, and the user
// (an ID, or with a directory an email or user name). It fails closed: any
// error means no login.
func (g *Gate) Login(remote, protocol, user string) (bool, error) {
	ip, err := netip.ParseAddr(remote)
	if err != nil {
		ap, err2 := netip.ParseAddrPort(remote)
		if err2 != nil {
			return false, policy.Errorf(policy.ValidationException, "IpAddress", fmt.Sprintf("%q is not an address", remote))
		}
		ip = ap.Addr()
	}
	action, err := accessctl.ParseAction(protocol)
	if err != nil {
		return false, err
	}
	if user == "" {
		return false, policy.Errorf(policy.InvalidParameterException, "UserId", "no user")
	}
	eff, err := g.Check(accessctl.Request{IP: ip, Action: action, UserID: user})
	return err == nil && eff == policy.Allow, err
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("proptest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rulesFile := fs.String("rules", "examples/org/rules.json", "list-access-control-rules output")
	usersFile := fs.String("users", "", "list-users output (optional: resolves emails and user names)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: proptest [-rules FILE] [-users FILE] ADDRESS PROTOCOL USER")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 3
	}
	if fs.NArg() != 3 {
		fs.Usage()
		return 3
	}
	var dir policy.Directory
	if *usersFile != "" {
		data, err := os.ReadFile(*usersFile)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		d, err := policy.DecodeUsers(data)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 3
		}
		dir = d
	}
	data, err := os.ReadFile(*rulesFile)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	g := NewGate(dir)
	if err := g.ReloadJSON(data); err != nil {
		fmt.Fprintln(stderr, strings.TrimSpace(err.Error()))
		return 3
	}
	ok, err := g.Login(fs.Arg(0), fs.Arg(1), fs.Arg(2))
	switch {
	case err != nil:
		fmt.Fprintln(stderr, err)
		return 3
	case ok:
		fmt.Fprintln(stdout, "ALLOW")
		return 0
	}
	fmt.Fprintln(stdout, "DENY")
	return 2
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
