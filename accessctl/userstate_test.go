package accessctl_test

import (
	"net/netip"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// SEMANTICS A8: the Go decision carries more than the wire shape — here the
// resolved user's state. The effect ignores it (a DISABLED user is ALLOWed by
// an ALLOW rule, as by WorkMail), UserEnabled says whether to let them in,
// and without a directory the state is unknown, so UserEnabled is false.
func TestSemanticsA8_DecisionCarriesUserState(t *testing.T) {
	dir, err := policy.NewDirectory([]policy.User{
		{ID: "S-1-1-11-000000000001", Name: "alice", State: "ENABLED"},
		{ID: "S-1-1-11-000000000004", Name: "dave", State: "DISABLED"},
	})
	if err != nil {
		t.Fatal(err)
	}
	rules := []accessctl.Rule{{Name: "default", Effect: policy.Allow}}
	withDir, err := accessctl.Compile(rules, accessctl.Options{Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	noDir, err := accessctl.Compile(rules, accessctl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("192.0.2.1")
	for _, tc := range []struct {
		p       *accessctl.Policy
		user    string
		state   string
		enabled bool
	}{
		{withDir, "alice", "ENABLED", true},
		{withDir, "dave", "DISABLED", false},
		{withDir, "S-1-1-11-000000000004", "DISABLED", false},
		{noDir, "dave", "", false},
	} {
		d, err := tc.p.Decide(accessctl.Request{IP: ip, Action: accessctl.IMAP, UserID: tc.user})
		if err != nil {
			t.Fatal(err)
		}
		if d.Effect != policy.Allow || d.UserState != tc.state || d.UserEnabled() != tc.enabled {
			t.Errorf("%s: effect %v, state %q, enabled %v; want ALLOW, %q, %v", tc.user, d.Effect, d.UserState, d.UserEnabled(), tc.state, tc.enabled)
		}
	}
	d, err := withDir.Decide(accessctl.Request{IP: ip, Action: accessctl.EWS, ImpersonationRoleID: "role"})
	if err != nil || d.UserState != "" || d.UserEnabled() {
		t.Errorf("role request: %+v, %v", d, err)
	}
}

// DecideTo with a directory still allocates nothing once warm: the user's
// state comes from the directory's lookup, which does not allocate.
func TestDecideToWithUserStateDoesNotAllocate(t *testing.T) {
	dir, err := policy.NewDirectory([]policy.User{{ID: "S-1-1-11-000000000004", Name: "dave", State: "DISABLED"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := accessctl.Compile([]accessctl.Rule{{Name: "default", Effect: policy.Allow}}, accessctl.Options{Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	req := accessctl.Request{IP: netip.MustParseAddr("192.0.2.1"), Action: accessctl.IMAP, UserID: "dave"}
	var d accessctl.Decision
	if err := p.DecideTo(&d, req); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { p.DecideTo(&d, req) }); n != 0 || d.UserState != "DISABLED" {
		t.Errorf("%v allocs, state %q", n, d.UserState)
	}
}
