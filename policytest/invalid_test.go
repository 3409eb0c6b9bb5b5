package policytest_test

import (
	"errors"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policytest"
	"pgregory.net/rapid"
)

// draws is how many deterministic draws the coverage tests make.
const draws = 1000

// classes draws n examples of g (seeds 0..n-1, deterministic) and returns how
// often each Class occurred.
func classes[T any](g *rapid.Generator[policytest.Invalid[T]], n int) map[string]int {
	seen := map[string]int{}
	for i := range n {
		seen[g.Example(i).Class]++
	}
	return seen
}

func wantClasses(t *testing.T, seen map[string]int, want ...string) {
	t.Helper()
	for _, c := range want {
		if seen[c] == 0 {
			t.Errorf("class %q never drawn in %d draws (saw %v)", c, draws, seen)
		}
	}
}

// SEMANTICS A9: every InvalidRange is refused by cidr.ParseRange with the
// kind its Class names, and by rule validation at the item's path.
func TestSemanticsA9_InvalidRangeRejected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		bad := policytest.InvalidRange().Draw(t, "bad")
		_, err := cidr.ParseRange(bad.Value)
		var pe *cidr.ParseError
		if !errors.As(err, &pe) || pe.Kind.String() != bad.Class {
			t.Fatalf("%q: ParseRange error %v, want kind %q", bad.Value, err, bad.Class)
		}
		if e := bad.Match(err); e != nil {
			t.Fatal(e)
		}
		r := accessctl.Rule{Name: "r", Effect: 2, NotIpRanges: []string{"10.0.0.0/8", bad.Value}}
		if e := (policytest.Invalid[string]{Code: bad.Code, Path: "NotIpRanges[1]"}).Match(accessctl.ValidateRule(&r)); e != nil {
			t.Fatal(e)
		}
	})
	var kinds []string
	for k := cidr.KindSyntax; k <= cidr.KindZone; k++ {
		if k != cidr.KindMaskNotAllowed {
			kinds = append(kinds, k.String())
		}
	}
	wantClasses(t, classes(policytest.InvalidRange(), draws), kinds...)
}

// SEMANTICS A10: every InvalidAddr is refused by cidr.ParseAddr with its kind,
// and by the wire request at IpAddress.
func TestSemanticsA10_InvalidAddrRejected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		bad := policytest.InvalidAddr().Draw(t, "bad")
		_, err := cidr.ParseAddr(bad.Value)
		var pe *cidr.ParseError
		if !errors.As(err, &pe) || pe.Kind.String() != bad.Class {
			t.Fatalf("%q: ParseAddr error %v, want kind %q", bad.Value, err, bad.Class)
		}
		in := accessctl.GetAccessControlEffectInput{IpAddress: bad.Value, Action: "IMAP", UserId: "S-1-5-21-123"}
		_, err = in.Request()
		if e := bad.Match(err); e != nil {
			t.Fatal(e)
		}
	})
	var kinds []string
	for k := cidr.KindSyntax; k <= cidr.KindZone; k++ {
		if k != cidr.KindMaskRequired && k != cidr.KindMaskRange {
			kinds = append(kinds, k.String())
		}
	}
	wantClasses(t, classes(policytest.InvalidAddr(), draws), kinds...)
}

// SEMANTICS A11: every InvalidAction is refused by ParseAction.
func TestSemanticsA11_InvalidActionRejected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		bad := policytest.InvalidAction().Draw(t, "bad")
		_, err := accessctl.ParseAction(bad.Value)
		if e := bad.Match(err); e != nil {
			t.Fatal(e)
		}
	})
	wantClasses(t, classes(policytest.InvalidAction(), draws), "wrong case", "misspelled", "empty", "whitespace", "not an action")
}

// SEMANTICS A10 A11 A12: every InvalidRequest is refused by every evaluation
// path, whatever the rules, and never allowed.
func TestSemanticsA12_InvalidRequestRejected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rules := policytest.Rules(policytest.DefaultRuleOptions()).Draw(t, "rules")
		p, err := accessctl.Compile(rules, accessctl.Options{})
		if err != nil {
			t.Fatal(err)
		}
		bad := policytest.InvalidRequest().Draw(t, "bad")
		eff, _, err := p.Evaluate(bad.Value, nil)
		if e := bad.Match(err); e != nil || eff != 1 {
			t.Fatalf("Evaluate: %v, effect %v", e, eff)
		}
		if _, err := p.Decide(bad.Value); bad.Match(err) != nil {
			t.Fatalf("Decide: %v", bad.Match(err))
		}
	})
	wantClasses(t, classes(policytest.InvalidRequest(), draws),
		"IPv6 address", "address with a zone", "no address", "invalid action", "no principal", "two principals", "role without EWS")
}

// SEMANTICS A10–A13: every InvalidRequestInput is refused by the wire path.
func TestSemanticsA13_InvalidRequestInputRejected(t *testing.T) {
	p, err := accessctl.Compile(nil, accessctl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rapid.Check(t, func(t *rapid.T) {
		bad := policytest.InvalidRequestInput().Draw(t, "bad")
		_, err := bad.Value.Request()
		if e := bad.Match(err); e != nil {
			t.Fatal(e)
		}
		if _, err := p.GetAccessControlEffect(bad.Value); bad.Match(err) != nil {
			t.Fatal(bad.Match(err))
		}
	})
	seen := map[string]int{}
	for i := range draws {
		bad := policytest.InvalidRequestInput().Example(i)
		seen[bad.Path+" "+string(bad.Code)]++
	}
	for _, k := range []string{"OrganizationId ValidationException", "IpAddress ValidationException", "UserId ValidationException",
		"ImpersonationRoleId ValidationException", "Action InvalidParameterException", "Action ValidationException", " InvalidParameterException"} {
		if seen[k] == 0 {
			t.Errorf("%q never drawn: %v", k, seen)
		}
	}
}

// SEMANTICS A1 A9 A11 A13: every InvalidRule is refused by ValidateRule at
// its path with its code.
func TestSemanticsA13_InvalidRuleRejected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		bad := policytest.InvalidRule().Draw(t, "bad")
		if e := bad.Match(accessctl.ValidateRule(&bad.Value)); e != nil {
			t.Fatal(e)
		}
	})
	seen := map[string]int{}
	for i := range draws {
		bad := policytest.InvalidRule().Example(i)
		seen[fieldOf(bad.Path)]++
	}
	for _, f := range []string{"Name", "Effect", "Description", "IpRanges", "NotIpRanges", "IpRanges[]", "NotIpRanges[]",
		"Actions", "NotActions", "Actions[]", "NotActions[]", "UserIds", "NotUserIds", "UserIds[]", "NotUserIds[]",
		"ImpersonationRoleIds", "NotImpersonationRoleIds", "ImpersonationRoleIds[]", "NotImpersonationRoleIds[]"} {
		if seen[f] == 0 {
			t.Errorf("no invalid %s drawn: %v", f, seen)
		}
	}
}

// fieldOf turns "Rules[2].IpRanges[17]" into "IpRanges[]".
func fieldOf(path string) string {
	out := []byte{}
	skip := false
	for i := 0; i < len(path); i++ {
		switch c := path[i]; {
		case c == '[':
			skip = true
			out = append(out, '[')
		case c == ']':
			skip = false
			out = append(out, ']')
		case !skip:
			out = append(out, c)
		}
	}
	s := string(out)
	if len(s) > len("Rules[].") && s[:len("Rules[].")] == "Rules[]." {
		s = s[len("Rules[]."):]
	}
	return s
}

// SEMANTICS A13 A15b: every InvalidRules list is refused by ValidateRules,
// Compile and, encoded, DecodeRules.
func TestSemanticsA15b_InvalidRulesRejected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		bad := policytest.InvalidRules().Draw(t, "bad")
		if e := bad.Match(accessctl.ValidateRules(bad.Value)); e != nil {
			t.Fatal(e)
		}
		if _, err := accessctl.Compile(bad.Value, accessctl.Options{}); bad.Match(err) != nil {
			t.Fatal(bad.Match(err))
		}
	})
	wantClasses(t, classes(policytest.InvalidRules(), draws), "duplicate name", "invalid name", "invalid effect", "range leading zero")
}

// SEMANTICS D2 (and A9–A15b through encoded lists): every InvalidRulesJSON
// document is refused by DecodeRules at its path.
func TestSemanticsD2_InvalidRulesJSONRejected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		bad := policytest.InvalidRulesJSON().Draw(t, "bad")
		rules, err := accessctl.DecodeRules(bad.Value)
		if e := bad.Match(err); e != nil {
			t.Fatalf("%v\n%s", e, bad.Value)
		}
		if rules != nil {
			t.Fatalf("rules returned with an error")
		}
	})
	seen := classes(policytest.InvalidRulesJSON(), draws)
	wantClasses(t, seen, "unknown field", "wrong-case field", "duplicate field", "wrong JSON type", "invalid effect", "invalid UTF-8", "syntax error", "duplicate name")
}

// SEMANTICS B1: every InvalidRole is refused by ValidateRole and Compile at
// its path; every InvalidRoleJSON by DecodeRole.
func TestSemanticsB1_InvalidRoleRejected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		bad := policytest.InvalidRole().Draw(t, "bad")
		if e := bad.Match(impersonation.ValidateRole(bad.Value)); e != nil {
			t.Fatal(e)
		}
		if _, err := impersonation.Compile(bad.Value, nil); bad.Match(err) != nil {
			t.Fatal(bad.Match(err))
		}
		badJSON := policytest.InvalidRoleJSON().Draw(t, "bad json")
		if _, err := impersonation.DecodeRole(badJSON.Value); badJSON.Match(err) != nil {
			t.Fatalf("%v\n%s", badJSON.Match(err), badJSON.Value)
		}
		target := policytest.InvalidTargetUser().Draw(t, "target")
		in := impersonation.GetImpersonationRoleEffectInput{TargetUser: target.Value}
		if e := target.Match(in.Check()); e != nil {
			t.Fatal(e)
		}
	})
	wantClasses(t, classes(policytest.InvalidRole(), draws), "invalid role ID", "invalid role name", "invalid role description", "invalid type",
		"too many rules", "duplicate rule ID", "invalid rule ID", "invalid rule name", "invalid rule description", "invalid effect",
		"empty list", "too many target users", "invalid target user")
	wantClasses(t, classes(policytest.InvalidRoleJSON(), draws), "unknown field", "wrong-case field", "duplicate field", "wrong JSON type",
		"invalid type", "invalid effect", "invalid UTF-8", "syntax error", "invalid role name")
	wantClasses(t, classes(policytest.InvalidTargetUser(), draws), "empty", "too long", "bad character", "invalid UTF-8")
}
