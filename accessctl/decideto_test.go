package accessctl_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policytest"
	"pgregory.net/rapid"
)

// Property: DecideTo into one Decision reused across requests (its slices
// full of an earlier answer) gives what Decide gives, error included, for
// one-word policies and for wide ones (up to 200 rules); only Matching may be
// empty where Decide's is nil.
func TestPropDecideToEqualsDecide(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		opts := policytest.RuleOptions{MaxRules: 10, MaxRanges: 4, Users: true, Roles: true}
		if rapid.Bool().Draw(t, "wide") {
			opts = policytest.RuleOptions{MinRules: 60, MaxRules: 200, MaxRanges: 3, Users: true, Roles: true}
		}
		rules := policytest.Rules(opts).Draw(t, "rules")
		var p *accessctl.Policy
		if !rapid.Bool().Draw(t, "nil policy") {
			var err error
			if p, err = accessctl.Compile(rules, accessctl.Options{}); err != nil {
				t.Fatal(err)
			}
		}
		var d accessctl.Decision
		for i := range 8 {
			req := policytest.RequestFor(rules).Draw(t, "req")
			want, wantErr := p.Decide(req)
			err := p.DecideTo(&d, req)
			if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
				t.Fatalf("request %d %+v: DecideTo error %v, Decide %v", i, req, err, wantErr)
			}
			if diff := cmp.Diff(want, d, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("request %d %+v: DecideTo differs from Decide (-Decide +DecideTo):\n%s", i, req, diff)
			}
			if err == nil && d.MatchedRules == nil {
				t.Fatalf("request %d: DecideTo left MatchedRules nil", i)
			}
		}
	})
}

// DecideTo into a Decision whose slices have had room for the policy's rules
// allocates nothing, on S, M and L alike.
func TestDecideToAllocs(t *testing.T) {
	for _, w := range workloads() {
		p, err := accessctl.Compile(w.rules, accessctl.Options{})
		if err != nil {
			t.Fatal(err)
		}
		d := accessctl.Decision{MatchedRules: make([]string, 0, len(w.rules)), Matching: make([]accessctl.Match, 0, len(w.rules))}
		i := 0
		if n := testing.AllocsPerRun(2000, func() {
			if err := p.DecideTo(&d, w.reqs[i&reqMask]); err != nil {
				t.Fatal(err)
			}
			i++
		}); n != 0 {
			t.Errorf("%s: DecideTo allocates %v times per call", w.name, n)
		}
	}
}
