package policytest_test

import (
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
	"github.com/wmpolicy/wmpolicy/policytest"
	"pgregory.net/rapid"
)

// The library agrees with itself: every checker passes for policytest.Library.
func TestCheckersPassForTheLibrary(t *testing.T) {
	t.Run("Agrees", func(t *testing.T) { rapid.Check(t, policytest.Agrees(nil, policytest.Library)) })
	t.Run("Monotone", func(t *testing.T) { rapid.Check(t, policytest.Monotone(nil, policytest.Library)) })
	t.Run("Reloads", func(t *testing.T) { rapid.Check(t, policytest.Reloads(nil, policytest.Library)) })
	t.Run("FailsClosed", func(t *testing.T) { rapid.Check(t, policytest.FailsClosed(nil, policytest.Library)) })
	t.Run("Validates", rapid.MakeCheck(policytest.Validates(accessctl.ValidateRules)))
	t.Run("ValidatesJSON", rapid.MakeCheck(policytest.ValidatesJSON(func(b []byte) error {
		_, err := accessctl.DecodeRules(b)
		return err
	})))
	t.Run("AgreesWithDirectory", func(t *testing.T) {
		rapid.Check(t, policytest.AgreesWithDirectory(nil, func(rules []accessctl.Rule, dir policy.Directory, req accessctl.Request) (policy.Effect, error) {
			p, err := accessctl.Compile(rules, accessctl.Options{Directory: dir})
			if err != nil {
				return policy.Deny, err
			}
			return p.Effect(req)
		}))
	})
	t.Run("RoleAgrees", func(t *testing.T) {
		rapid.Check(t, policytest.RoleAgrees(func(role impersonation.Role, dir policy.Directory, target string) (policy.Effect, error) {
			ev, err := impersonation.Compile(role, dir)
			if err != nil {
				return policy.Deny, err
			}
			return ev.Effect(target)
		}))
	})
}

// fails reports whether prop fails for one of the first n seeds. It runs the
// property inside a generator, so that a failure is not reported to the test.
func fails(prop func(*rapid.T), n int) bool {
	g := rapid.Custom(func(t *rapid.T) (failed bool) {
		defer func() {
			if recover() != nil {
				failed = true
			}
		}()
		prop(t)
		return false
	})
	for i := range n {
		if g.Example(i) {
			return true
		}
	}
	return false
}

// stripped is a Decider with a bug: it drops the Not lists.
func stripped(rules []accessctl.Rule, req accessctl.Request) (policy.Effect, error) {
	out := make([]accessctl.Rule, len(rules))
	for i, r := range rules {
		r = r.Clone()
		r.NotIpRanges, r.NotActions, r.NotUserIds, r.NotImpersonationRoleIds = nil, nil, nil, nil
		out[i] = r
	}
	return policytest.Library(out, req)
}

// inverted is a Decider with a bug: it answers the opposite of the library.
func inverted(rules []accessctl.Rule, req accessctl.Request) (policy.Effect, error) {
	e, err := policytest.Library(rules, req)
	if e == policy.Allow {
		return policy.Deny, err
	}
	return policy.Allow, err
}

// staleCache returns a Decider with a bug: it caches answers per request and
// never drops them when the rules change.
func staleCache() policytest.Decider {
	cache := map[accessctl.Request]policy.Effect{}
	return func(rules []accessctl.Rule, req accessctl.Request) (policy.Effect, error) {
		if e, ok := cache[req]; ok {
			return e, nil
		}
		e, err := policytest.Library(rules, req)
		if err == nil {
			cache[req] = e
		}
		return e, err
	}
}

// The checkers catch real bugs: each buggy function fails its property within
// a few hundred seeds.
func TestCheckersCatchBugs(t *testing.T) {
	if !fails(policytest.Agrees(nil, stripped), 200) {
		t.Error("Agrees did not catch a decider that ignores Not lists")
	}
	if !fails(policytest.Monotone(nil, inverted), 100) {
		t.Error("Monotone did not catch a decider that inverts the answer")
	}
	if !fails(policytest.Reloads(nil, staleCache()), 100) {
		t.Error("Reloads did not catch a decider that keeps stale answers")
	}
	allowAll := func([]accessctl.Rule, accessctl.Request) (policy.Effect, error) { return policy.Allow, nil }
	if !fails(policytest.FailsClosed(nil, allowAll), 20) {
		t.Error("FailsClosed did not catch a decider that allows everything")
	}
	if !fails(policytest.Validates(func([]accessctl.Rule) error { return nil }), 20) {
		t.Error("Validates did not catch a loader that accepts everything")
	}
	if !fails(policytest.ValidatesJSON(func([]byte) error { return nil }), 20) {
		t.Error("ValidatesJSON did not catch a loader that accepts everything")
	}
	exact := func(rules []accessctl.Rule, _ policy.Directory, req accessctl.Request) (policy.Effect, error) {
		return policytest.Library(rules, req) // forgets the directory: names are compared as strings
	}
	if !fails(policytest.AgreesWithDirectory(nil, exact), 100) {
		t.Error("AgreesWithDirectory did not catch a decider that ignores the directory")
	}
	noDir := func(role impersonation.Role, _ policy.Directory, target string) (policy.Effect, error) {
		ev, err := impersonation.Compile(role, nil) // forgets the directory
		if err != nil {
			return policy.Deny, err
		}
		return ev.Effect(target)
	}
	if !fails(policytest.RoleAgrees(noDir), 200) {
		t.Error("RoleAgrees did not catch a decider that ignores the directory")
	}
}

// Fuzz targets: the same properties, driven by the fuzzer's bytes
// (`go test -fuzz=FuzzAgrees ./policytest`).
func FuzzAgrees(f *testing.F) {
	policytest.Fuzz(f, policytest.Agrees(nil, policytest.Library))
}

func FuzzInvalidRulesJSONRejected(f *testing.F) {
	policytest.Fuzz(f, policytest.ValidatesJSON(func(b []byte) error {
		_, err := accessctl.DecodeRules(b)
		return err
	}))
}
