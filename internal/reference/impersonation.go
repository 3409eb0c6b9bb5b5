package reference

// A literal, linear transcription of SEMANTICS B2–B4 (GetImpersonationRoleEffect):
// no indexes and no precomputation; the target and every TargetUsers and
// NotTargetUsers entry are resolved through the directory anew for every call.
// It is the oracle that impersonation.Evaluator is tested against. The role is
// assumed to have passed impersonation.ValidateRole.

import (
	"slices"

	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

// ImpersonationResult is the reference answer of GetImpersonationRoleEffect.
type ImpersonationResult struct {
	Type         impersonation.Type
	Effect       policy.Effect
	Reason       impersonation.Reason
	MatchedRules []impersonation.MatchedRule // B4: matching rules with the winning effect, role order
	Matching     []impersonation.Match       // every matching rule, role order
	UserID       string                      // the target's user ID (the target itself without a directory)
}

// EvaluateImpersonation answers GetImpersonationRoleEffect for target against
// role per SEMANTICS B2–B4 (dir may be nil).
func EvaluateImpersonation(role impersonation.Role, target string, dir policy.Directory) (ImpersonationResult, error) {
	if target == "" {
		return ImpersonationResult{}, policy.Errorf(policy.ValidationException, "TargetUser", "target user is required")
	}
	// B2: the target is resolved through the directory; unknown → not found;
	// not ENABLED → state error. Without a directory: the exact string.
	userID := target
	if dir != nil {
		u, ok := dir.Lookup(target)
		if !ok || u.ID == "" {
			return ImpersonationResult{}, policy.Errorf(policy.EntityNotFoundException, "TargetUser", "unknown user")
		}
		if u.State != "ENABLED" {
			return ImpersonationResult{}, policy.Errorf(policy.EntityStateException, "TargetUser", "user not enabled")
		}
		userID = u.ID
	}
	// B2: rule entries are resolved the same way and compared as user IDs.
	resolve := func(ids []string) ([]string, error) {
		if dir == nil || ids == nil {
			return ids, nil
		}
		out := make([]string, len(ids))
		for i, id := range ids {
			u, ok := dir.Lookup(id)
			if !ok || u.ID == "" {
				return nil, policy.Errorf(policy.EntityNotFoundException, "", "unknown user in a rule")
			}
			out[i] = u.ID
		}
		return out, nil
	}

	res := ImpersonationResult{Type: role.Type, UserID: userID}
	anyDeny, anyAllow := false, false
	for _, r := range role.Rules {
		targets, err := resolve(r.TargetUsers)
		if err != nil {
			return ImpersonationResult{}, err
		}
		notTargets, err := resolve(r.NotTargetUsers)
		if err != nil {
			return ImpersonationResult{}, err
		}
		// B3: (TargetUsers absent or the user is in it) and (NotTargetUsers
		// absent or the user is not in it).
		inTargets := targets == nil || slices.Contains(targets, userID)
		notExcluded := notTargets == nil || !slices.Contains(notTargets, userID)
		if !(inTargets && notExcluded) {
			continue
		}
		res.Matching = append(res.Matching, impersonation.Match{ImpersonationRuleId: r.ImpersonationRuleId, Name: r.Name, Effect: r.Effect})
		if r.Effect == policy.Deny {
			anyDeny = true
		} else {
			anyAllow = true
		}
	}
	// B4: deny overrides; else allow; nothing matched → DENY.
	switch {
	case anyDeny:
		res.Effect, res.Reason = policy.Deny, impersonation.ExplicitDeny
	case anyAllow:
		res.Effect, res.Reason = policy.Allow, impersonation.ExplicitAllow
	default:
		res.Effect, res.Reason = policy.Deny, impersonation.ImplicitDeny
	}
	// B4: MatchedRules = the matching rules whose effect equals the result, in
	// the role's rule order.
	res.MatchedRules = []impersonation.MatchedRule{}
	if res.Reason != impersonation.ImplicitDeny {
		for _, m := range res.Matching {
			if m.Effect == res.Effect {
				res.MatchedRules = append(res.MatchedRules, impersonation.MatchedRule{ImpersonationRuleId: m.ImpersonationRuleId, Name: m.Name})
			}
		}
	}
	if res.Matching == nil {
		res.Matching = []impersonation.Match{}
	}
	return res, nil
}
