package policytest

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
	"pgregory.net/rapid"
)

// Decider is the code under test in the access-control properties: it answers
// req under rules as your application does (a login gate, a proxy, a cache in
// front of the library, your own re-implementation). A property calls it with
// many rule lists, and with the same list many times in a row, from one
// goroutine; a Decider that keeps state (a compiled policy, a cache) should
// reload when rules change — which is exactly what [Monotone] tests. It must
// not modify rules.
type Decider func(rules []accessctl.Rule, req accessctl.Request) (policy.Effect, error)

// Library is the library's own [Decider]: accessctl.Compile with zero Options,
// then Policy.Effect. It compiles on every call; it is the reference the
// properties compare with, and a Decider to try them on.
func Library(rules []accessctl.Rule, req accessctl.Request) (policy.Effect, error) {
	p, err := accessctl.Compile(rules, accessctl.Options{})
	if err != nil {
		return policy.Deny, err
	}
	return p.Effect(req)
}

// requestsPerRules is how many requests a property asks per rule list.
const requestsPerRules = 10

func orDefault(g *rapid.Generator[[]accessctl.Rule]) *rapid.Generator[[]accessctl.Rule] {
	if g == nil {
		return Rules(defaultRuleOptions)
	}
	return g
}

// mustCompile compiles rules that a generator promised valid.
func mustCompile(t *rapid.T, rules []accessctl.Rule) *accessctl.Policy {
	p, err := accessctl.Compile(rules, accessctl.Options{})
	if err != nil {
		t.Fatalf("policytest: the rules generator produced rules the library refuses: %v", err)
	}
	return p
}

// Agrees returns the property "decide answers as the library does": for a
// rule list drawn from rules (nil means [Rules]([DefaultRuleOptions]())) and ten
// requests drawn from [RequestFor] it, decide returns the library's effect, and
// fails exactly when the library fails (with the same AWS code when decide's
// error carries one). Run it with [rapid.Check], as a fuzz
// target with [rapid.MakeFuzz] (or [Fuzz]), or inside a property of your own
// by calling it with your *rapid.T: policytest.Agrees(nil, decide)(t).
func Agrees(rules *rapid.Generator[[]accessctl.Rule], decide Decider) func(*rapid.T) {
	rules = orDefault(rules)
	return func(t *rapid.T) {
		rs := rules.Draw(t, "rules")
		p := mustCompile(t, rs)
		reqs := RequestFor(rs)
		for i := range requestsPerRules {
			req := reqs.Draw(t, fmt.Sprintf("request%d", i))
			want, wantErr := p.Effect(req)
			got, err := decide(rs, req)
			if msg := disagree(got, err, want, wantErr); msg != "" {
				t.Fatalf("request %+v: %s", req, msg)
			}
		}
	}
}

func disagree(got policy.Effect, err error, want policy.Effect, wantErr error) string {
	switch {
	case wantErr != nil && err == nil:
		return fmt.Sprintf("got %v, want the library's error %v", got, wantErr)
	case wantErr == nil && err != nil:
		return fmt.Sprintf("got error %v, want the library's %v", err, want)
	case wantErr != nil:
		if c := policy.CodeOf(err); c != "" && c != policy.CodeOf(wantErr) {
			return fmt.Sprintf("got error %v, want the library's %v", err, wantErr)
		}
		return ""
	case got != want:
		return fmt.Sprintf("got %v, the library says %v", got, want)
	}
	return ""
}

// DirDecider is the code under test in [AgreesWithDirectory]: it answers req
// under rules as your application does when user identifiers are resolved
// through dir (SEMANTICS A18). The remarks on [Decider] apply.
type DirDecider func(rules []accessctl.Rule, dir policy.Directory, req accessctl.Request) (policy.Effect, error)

// AgreesWithDirectory returns the property "decide answers as the library does
// when users are named every which way": for a [Directory], a rule list drawn
// from rules (nil means [Rules]([DefaultRuleOptions]())) whose UserIds and
// NotUserIds entries are renamed at random to another name of the same user
// ([NameOf]: ID, email or alias in any case, user name in any case), and ten
// [RequestFor] requests whose user is renamed the same way, decide returns
// what accessctl.Compile(rules, Options{Directory: dir}) answers, and fails
// exactly when it fails (EntityNotFoundException for an unknown user).
func AgreesWithDirectory(rules *rapid.Generator[[]accessctl.Rule], decide DirDecider) func(*rapid.T) {
	rules = orDefault(rules)
	return func(t *rapid.T) {
		dir := Directory().Draw(t, "directory")
		byID := map[string]policy.User{}
		for _, u := range dir.Users() {
			byID[u.ID] = u
		}
		rename := func(id, label string) string {
			if u, ok := byID[id]; ok {
				return NameOf(u).Draw(t, label)
			}
			return id
		}
		rs := rules.Draw(t, "rules")
		renamed := make([]accessctl.Rule, len(rs))
		for i, r := range rs {
			r = r.Clone()
			for _, list := range [][]string{r.UserIds, r.NotUserIds} {
				for j := range list {
					list[j] = rename(list[j], fmt.Sprintf("rule%d name%d", i, j))
				}
			}
			renamed[i] = r
		}
		p, err := accessctl.Compile(renamed, accessctl.Options{Directory: dir})
		if err != nil {
			t.Fatalf("policytest: the rules generator produced rules the library refuses with a directory: %v", err)
		}
		reqs := RequestFor(rs)
		for i := range requestsPerRules {
			req := reqs.Draw(t, fmt.Sprintf("request%d", i))
			if req.UserID != "" {
				req.UserID = rename(req.UserID, fmt.Sprintf("request%d user", i))
			}
			want, wantErr := p.Effect(req)
			got, err := decide(renamed, dir, req)
			if msg := disagree(got, err, want, wantErr); msg != "" {
				t.Fatalf("request %+v: %s", req, msg)
			}
		}
	}
}

// Monotone returns the property "a rule change moves decide's answers only the
// way it may": for a rule list drawn from rules (nil means
// [Rules]([DefaultRuleOptions]())), a [Mutate] change of it, and twenty requests
// aimed at the changed rule and at both lists, decide's effect under the new list differs from its
// effect under the old one only as the change's [Direction] allows — adding
// an ALLOW rule never denies, removing one never allows, a description edit
// changes nothing. (Mixed changes are drawn too, and not checked.) Requests
// decide fails on are skipped. It tests reload paths: a Decider that keeps
// a compiled policy or a cache must serve the new rules right after the change.
func Monotone(rules *rapid.Generator[[]accessctl.Rule], decide Decider) func(*rapid.T) {
	rules = orDefault(rules)
	return func(t *rapid.T) {
		rs := rules.Draw(t, "rules")
		m := Mutate(rs, defaultRuleOptions).Draw(t, "mutation")
		// Aim at the changed rule, before and after the change, and at the lists.
		var changed []accessctl.Rule
		for _, list := range [][]accessctl.Rule{m.Before, m.After} {
			for _, r := range list {
				if r.Name == m.Name {
					changed = append(changed, r)
				}
			}
		}
		both := append(append([]accessctl.Rule(nil), m.Before...), m.After...)
		reqs := rapid.OneOf(RequestFor(changed), RequestFor(both))
		for i := range 2 * requestsPerRules {
			req := reqs.Draw(t, fmt.Sprintf("request%d", i))
			before, err1 := decide(m.Before, req)
			after, err2 := decide(m.After, req)
			if err1 != nil || err2 != nil {
				continue
			}
			if !m.Direction.Allows(before, after) {
				t.Fatalf("%s moved request %+v from %v to %v", m, req, before, after)
			}
		}
	}
}

// Reloads returns the property "after every reload, decide answers as the
// library does for the new rules": for a rule list drawn from rules (nil means
// [Rules]([DefaultRuleOptions]())), a chain of one to five [Mutate] changes, and
// a fixed set of ten requests aimed at every list of the chain, decide is
// asked every request under the first list and again after each change, and
// must answer as the library does for the current list. Because the same
// requests come back after each change, a Decider that keeps a cache or a
// compiled policy across calls fails this property when a reload leaves a stale
// answer behind — which [Monotone] cannot see, as an unchanged answer never
// breaks a direction.
func Reloads(rules *rapid.Generator[[]accessctl.Rule], decide Decider) func(*rapid.T) {
	rules = orDefault(rules)
	return func(t *rapid.T) {
		lists := [][]accessctl.Rule{rules.Draw(t, "rules")}
		var changes []Mutation
		for i := range rapid.IntRange(1, 5).Draw(t, "changes") {
			m := Mutate(lists[len(lists)-1], defaultRuleOptions).Draw(t, fmt.Sprintf("change%d", i))
			changes = append(changes, m)
			lists = append(lists, m.After)
		}
		var all []accessctl.Rule
		for _, l := range lists {
			all = append(all, l...)
		}
		gen := RequestFor(all)
		reqs := make([]accessctl.Request, requestsPerRules)
		for i := range reqs {
			reqs[i] = gen.Draw(t, fmt.Sprintf("request%d", i))
		}
		for k, l := range lists {
			p := mustCompile(t, l)
			for _, req := range reqs {
				want, wantErr := p.Effect(req)
				got, err := decide(l, req)
				if msg := disagree(got, err, want, wantErr); msg != "" {
					if k == 0 {
						t.Fatalf("before any change, request %+v: %s", req, msg)
					}
					t.Fatalf("after change %d (%s), request %+v: %s", k, changes[k-1], req, msg)
				}
			}
		}
	}
}

// FailsClosed returns the property "decide never allows an invalid request":
// for a rule list drawn from rules (nil means [Rules]([DefaultRuleOptions]()))
// and an [InvalidRequest] (IPv6, no or an invalid action, no or two
// principals, a role without EWS), decide returns an error or DENY.
func FailsClosed(rules *rapid.Generator[[]accessctl.Rule], decide Decider) func(*rapid.T) {
	rules = orDefault(rules)
	return func(t *rapid.T) {
		rs := rules.Draw(t, "rules")
		bad := InvalidRequest().Draw(t, "request")
		if eff, err := decide(rs, bad.Value); err == nil && eff == policy.Allow {
			t.Fatalf("%v: request %+v allowed", bad, bad.Value)
		}
	}
}

// Validates returns the property "load accepts what the library accepts and
// rejects what it rejects", for the function your application loads rule
// lists with: load must return nil for every [Rules]([DefaultRuleOptions]())
// list and an error for every [InvalidRules] list. When load's errors are
// *policy.Error values, the expected code and path must be among them.
func Validates(load func([]accessctl.Rule) error) func(*rapid.T) {
	return func(t *rapid.T) {
		if rapid.Bool().Draw(t, "valid?") {
			rs := Rules(defaultRuleOptions).Draw(t, "rules")
			if err := load(rs); err != nil {
				t.Fatalf("valid rules refused: %v", err)
			}
			return
		}
		bad := InvalidRules().Draw(t, "invalid rules")
		checkRejected(t, bad, load(bad.Value))
	}
}

// ValidatesJSON is [Validates] for a loader of rule files: load must accept
// every encoded [Rules] list and reject every [InvalidRulesJSON] document.
func ValidatesJSON(load func([]byte) error) func(*rapid.T) {
	return func(t *rapid.T) {
		if rapid.Bool().Draw(t, "valid?") {
			rs := Rules(defaultRuleOptions).Draw(t, "rules")
			b, err := accessctl.EncodeRules(rs)
			if err != nil {
				t.Fatalf("EncodeRules: %v", err)
			}
			if err := load(b); err != nil {
				t.Fatalf("valid rules file refused: %v\n%s", err, b)
			}
			return
		}
		bad := InvalidRulesJSON().Draw(t, "invalid file")
		checkRejected(t, bad, load(bad.Value))
	}
}

func checkRejected[T any](t *rapid.T, bad Invalid[T], err error) {
	if err == nil {
		t.Fatalf("%v: accepted", bad)
	}
	if policy.CodeOf(err) == "" {
		return // not a policy error: rejecting is all we can check
	}
	if e := bad.Match(err); e != nil {
		t.Fatal(e)
	}
}

// RoleDecider is the code under test in [RoleAgrees]: it answers
// GetImpersonationRoleEffect for target under role, resolving names through
// dir (never nil in RoleAgrees). The same statefulness remarks as for
// [Decider] apply.
type RoleDecider func(role impersonation.Role, dir policy.Directory, target string) (policy.Effect, error)

// RoleAgrees returns the property "decide answers as the library does for
// impersonation roles": for a [Directory], a [Role] whose target lists name
// its users by any of their names, and ten [TargetUser] targets (unknown and
// disabled users included), decide returns impersonation.Compile(role,
// dir).Effect(target), and fails exactly when it fails (with the same code
// when decide's error carries one).
func RoleAgrees(decide RoleDecider) func(*rapid.T) {
	return func(t *rapid.T) {
		dir := Directory().Draw(t, "directory")
		role := Role(RoleOptions{Targets: UserName(dir)}).Draw(t, "role")
		ev, err := impersonation.Compile(role, dir)
		if err != nil {
			t.Fatalf("policytest: generated role refused: %v", err)
		}
		for i := range requestsPerRules {
			target := TargetUser(dir).Draw(t, fmt.Sprintf("target%d", i))
			want, wantErr := ev.Effect(target)
			got, err := decide(role, dir, target)
			if msg := disagree(got, err, want, wantErr); msg != "" {
				t.Fatalf("target %q: %s", target, msg)
			}
		}
	}
}

// Fuzz runs prop as the fuzz target of f, through [rapid.MakeFuzz], after
// adding seeds to f's corpus: 8 KiB of zeros (every draw its simplest value)
// and 8 KiB of pseudo-random bytes under three fixed seeds. rapid reads one
// 8-byte word per draw and skips an input that runs out, so seeds are long.
// Call it from a FuzzXxx function:
//
//	func FuzzGate(f *testing.F) { policytest.Fuzz(f, policytest.Agrees(nil, decide)) }
//
// Under `go test` the seeds run once; under `go test -fuzz` the fuzzer's bytes
// drive every draw.
func Fuzz(f *testing.F, prop func(*rapid.T)) {
	f.Helper()
	f.Add(make([]byte, 8<<10))
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 0x706f6c6963797465))
		b := make([]byte, 8<<10)
		for i := 0; i < len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
		}
		f.Add(b)
	}
	f.Fuzz(rapid.MakeFuzz(prop))
}
