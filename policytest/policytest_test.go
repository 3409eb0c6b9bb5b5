package policytest_test

import (
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/policytest"
	"pgregory.net/rapid"
)

// The generators produce only valid inputs, and their edge cases occur.
func TestGeneratorsValidAndCovering(t *testing.T) {
	seen := map[string]bool{}
	rapid.Check(t, func(t *rapid.T) {
		rules := policytest.Rules(policytest.DefaultRuleOptions).Draw(t, "rules")
		if err := accessctl.ValidateRules(rules); err != nil {
			t.Fatalf("generated invalid rules: %v", err)
		}
		r := policytest.Range().Draw(t, "range")
		switch {
		case r.Bits() == 0:
			seen["/0"] = true
		case r.Bits() == 32:
			seen["/32"] = true
		case r.Bits() == 31:
			seen["/31"] = true
		}
		if r.HasHostBits() {
			seen["host bits"] = true
		}
		if _, err := cidr.ParseRange(r.String()); err != nil {
			t.Fatalf("generated invalid range %s: %v", r, err)
		}
		req := policytest.RequestFor(rules).Draw(t, "req")
		if req.ImpersonationRoleID != "" {
			seen["role"] = true
		}
		if _, err := mustPolicy(t, rules).Effect(req); err != nil {
			t.Fatalf("generated invalid request %+v: %v", req, err)
		}
	})
	for _, k := range []string{"/0", "/32", "/31", "host bits", "role"} {
		if !seen[k] {
			t.Errorf("no %s drawn in 100 tests", k)
		}
	}
}

func mustPolicy(t *rapid.T, rules []accessctl.Rule) *accessctl.Policy {
	p, err := accessctl.Compile(rules, accessctl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBoundaryAddrs(t *testing.T) {
	got := policytest.BoundaryAddrs(cidr.MustParseRange("10.0.0.0/24"))
	want := map[uint32]bool{0x0A000000: true, 0x0A0000FF: true, 0x09FFFFFF: true, 0x0A000100: true, 0x0A000001: true, 0x0A0000FE: true}
	if len(got) != len(want) {
		t.Fatalf("got %d addresses", len(got))
	}
	for _, a := range got {
		if !want[a] {
			t.Errorf("unexpected %s", cidr.AddrString(a))
		}
	}
	if n := len(policytest.BoundaryAddrs(cidr.MustParseRange("0.0.0.0/0"))); n != 4 {
		t.Errorf("/0: %d addresses, want 4 (no outside neighbours)", n)
	}
}
