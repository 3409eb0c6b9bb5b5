package impersonation_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/impersonation"
)

var sinkEWS bool

// BenchmarkEWSAuthorize measures the whole SEMANTICS B9 decision: token
// verification, the access-control decision and the role decision, with their
// traces.
func BenchmarkEWSAuthorize(b *testing.B) {
	f := newEWSFixture(b)
	a := f.authorizer(b, ewsNow.Add(time.Minute))
	token := f.token(b, ewsOrg, ewsRoleID)
	ip := netip.MustParseAddr("10.20.1.1")
	if d := a.Authorize(token, ip, "alice@example.com"); !d.Allowed {
		b.Fatalf("not allowed: %+v", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		sinkEWS = a.Authorize(token, ip, "alice@example.com").Allowed
	}
}

// BenchmarkEWSAuthorizeTo is BenchmarkEWSAuthorize into one reused
// EWSDecision: the same decision and traces, without allocating.
func BenchmarkEWSAuthorizeTo(b *testing.B) {
	f := newEWSFixture(b)
	a := f.authorizer(b, ewsNow.Add(time.Minute))
	token := f.token(b, ewsOrg, ewsRoleID)
	ip := netip.MustParseAddr("10.20.1.1")
	var d impersonation.EWSDecision
	if a.AuthorizeTo(&d, token, ip, "alice@example.com"); !d.Allowed {
		b.Fatalf("not allowed: %+v", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		a.AuthorizeTo(&d, token, ip, "alice@example.com")
	}
	sinkEWS = d.Allowed
}

// An allowed decision allocates only its two traces' slices (the
// access-control and role decisions' MatchedRules and Matching): the
// verified token's role ID is the compiled role's own string. Into a reused
// decision it allocates nothing.
func TestEWSAuthorizeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop the pooled HMAC states at random")
	}
	f := newEWSFixture(t)
	a := f.authorizer(t, ewsNow.Add(time.Minute))
	token := f.token(t, ewsOrg, ewsRoleID)
	ip := netip.MustParseAddr("10.20.1.1")
	d := a.Authorize(token, ip, "alice@example.com")
	if !d.Allowed || len(d.AccessControl.MatchedRules) == 0 || len(d.Role.MatchedRules) == 0 {
		t.Fatalf("want an allowed decision with matched rules in both traces: %+v", d)
	}
	if n := testing.AllocsPerRun(200, func() { sinkEWS = a.Authorize(token, ip, "alice@example.com").Allowed }); n > 4 {
		t.Errorf("Authorize allocates %v times, want at most 4", n)
	}
	// AuthorizeTo into that decision, whose traces have had room, allocates
	// nothing, and still allows.
	if n := testing.AllocsPerRun(200, func() { a.AuthorizeTo(&d, token, ip, "alice@example.com") }); n != 0 {
		t.Errorf("AuthorizeTo allocates %v times, want 0", n)
	}
	if !d.Allowed {
		t.Fatalf("not allowed after reuse: %+v", d)
	}
}
