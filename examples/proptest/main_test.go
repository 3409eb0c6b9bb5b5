package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
	"github.com/wmpolicy/wmpolicy/policytest"
	"pgregory.net/rapid"
)

// decider adapts one long-lived Gate to policytest.Decider: it reloads the gate
// whenever the properties hand it a different rule list, exactly as the
// application reloads on a file change, and then asks it the request. Using one
// gate for the whole property (not a new one per call) is the point: the
// properties then see the gate's cache and reload path.
func decider(g *Gate) policytest.Decider {
	var last []accessctl.Rule
	loaded := false
	return func(rules []accessctl.Rule, req accessctl.Request) (policy.Effect, error) {
		if !loaded || !sameList(rules, last) {
			if err := g.Reload(rules); err != nil {
				return policy.Deny, err
			}
			last, loaded = rules, true
		}
		return g.Check(req)
	}
}

// sameList reports whether a and b are the same slice (not merely equal).
func sameList(a, b []accessctl.Rule) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// The gate answers every generated request as the library does.
func TestGateAgreesWithLibrary(t *testing.T) {
	rapid.Check(t, policytest.Agrees(nil, decider(NewGate(nil))))
}

// Up to the model's maxima: 10 rules, 1024 ranges per list, 10 actions and
// principals per list.
func TestGateAgreesAtMaxima(t *testing.T) {
	rapid.Check(t, policytest.Agrees(policytest.Rules(policytest.MaxRuleOptions()), decider(NewGate(nil))))
}

// With a directory, users named by ID, email or user name in any case (in
// the rules and in the requests) get the library's answers (SEMANTICS A18).
func TestGateResolvesNames(t *testing.T) {
	var (
		lastDir policy.Directory
		decide  policytest.Decider
	)
	rapid.Check(t, policytest.AgreesWithDirectory(nil, func(rules []accessctl.Rule, dir policy.Directory, req accessctl.Request) (policy.Effect, error) {
		if decide == nil || dir != lastDir { // a new organization: a new gate
			lastDir, decide = dir, decider(NewGate(dir))
		}
		return decide(rules, req)
	}))
}

// After every reload the gate answers for the new rules: its cache never
// serves an answer of the old ones.
func TestGateReloads(t *testing.T) {
	rapid.Check(t, policytest.Reloads(nil, decider(NewGate(nil))))
}

// A change that may only grant never makes the gate deny, and the other way round.
func TestGateMonotone(t *testing.T) {
	rapid.Check(t, policytest.Monotone(nil, decider(NewGate(nil))))
}

// An invalid request (IPv6, no principal, a role without EWS, …) is never allowed.
func TestGateFailsClosed(t *testing.T) {
	rapid.Check(t, policytest.FailsClosed(nil, decider(NewGate(nil))))
}

// A bad rules file is refused with the error the library gives it, and the
// gate keeps answering with the last good rules. This one uses the generators
// directly, with rapid.Check.
func TestGateKeepsLastGoodRules(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		g := NewGate(nil)
		good := policytest.Rules(policytest.DefaultRuleOptions()).Draw(t, "good rules")
		data, err := accessctl.EncodeRules(good)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.ReloadJSON(data); err != nil {
			t.Fatalf("good rules refused: %v", err)
		}
		bad := policytest.InvalidRulesJSON().Draw(t, "bad file")
		if err := bad.Match(g.ReloadJSON(bad.Value)); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			req := policytest.RequestFor(good).Draw(t, fmt.Sprintf("request%d", i))
			want, _ := policytest.Library(good, req)
			if got, err := g.Check(req); err != nil || got != want {
				t.Fatalf("after a bad reload, %+v: got %v %v, want %v (last good rules)", req, got, err, want)
			}
		}
	})
}

// Login fails closed on bad text input: an invalid address or protocol is an
// error and no login.
func TestGateLoginRejectsBadInput(t *testing.T) {
	g := NewGate(nil)
	if err := g.Reload([]accessctl.Rule{{Name: "default", Effect: policy.Allow}}); err != nil {
		t.Fatal(err)
	}
	rapid.Check(t, func(t *rapid.T) {
		addr := policytest.InvalidAddr().Filter(func(b policytest.Invalid[string]) bool {
			return b.Class != "mask not allowed" && b.Class != "IPv4-mapped IPv6" && b.Class != "IPv6" && b.Class != "zone"
		}).Draw(t, "address")
		if ok, err := g.Login(addr.Value, "IMAP", policytest.UserIDs()[0]); ok || err == nil {
			t.Fatalf("address %q (%s): login %v, %v", addr.Value, addr.Class, ok, err)
		}
		action := policytest.InvalidAction().Draw(t, "protocol")
		ok, err := g.Login("192.0.2.1", action.Value, policytest.UserIDs()[0])
		if ok || action.Match(err) != nil {
			t.Fatalf("protocol %q: login %v, %v", action.Value, ok, err)
		}
	})
	// IPv6 text parses as an address, and the library refuses it (A10).
	if ok, err := g.Login("[2001:db8::1]:993", "IMAP", policytest.UserIDs()[0]); ok || policy.CodeOf(err) != policy.InvalidParameterException {
		t.Fatalf("IPv6: %v %v", ok, err)
	}
}

// The same property under the fuzzer: go test -fuzz=FuzzGateAgrees ./examples/proptest
func FuzzGateAgrees(f *testing.F) {
	policytest.Fuzz(f, policytest.Agrees(nil, decider(NewGate(nil))))
}

// The command runs on the shipped example organization.
func TestRun(t *testing.T) {
	for _, c := range []struct {
		args []string
		out  string
		code int
	}{
		{[]string{"192.0.2.44", "IMAP", "bob"}, "ALLOW\n", 0},
		{[]string{"203.0.113.9", "IMAP", "bob@example.com"}, "DENY\n", 2},
		{[]string{"203.0.113.9:993", "WebMail", "BOB"}, "ALLOW\n", 0},
		{[]string{"203.0.113.9", "Imap", "bob"}, "", 3},
		{[]string{"203.0.113.9", "IMAP"}, "", 3},
	} {
		var out, errs strings.Builder
		args := append([]string{"-rules", "../org/rules.json", "-users", "../org/users.json"}, c.args...)
		if code := run(args, &out, &errs); code != c.code || out.String() != c.out {
			t.Errorf("%q: exit %d, output %q (stderr %q); want %d, %q", c.args, code, out.String(), errs.String(), c.code, c.out)
		}
	}
}
