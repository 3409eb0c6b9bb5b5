package impersonation_test

import (
	"net/netip"
	"testing"
	"time"
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
