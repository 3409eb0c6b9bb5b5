package org

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// PutAccessControlRule adds a rule to an organization, or replaces the rule of
// the same Name (SEMANTICS A14): a replacement keeps the old DateCreated and
// sets DateModified to now; a new rule gets both set to now. Errors:
// ValidationException (A13, every problem with its path, such as
// "IpRanges[17]") and InvalidParameterException (an unknown action, A11) for
// the rule; EntityNotFoundException for a user identifier the organization's
// directory does not know and ResourceNotFoundException for an unknown
// impersonation role ID (A18); LimitExceededException for a new name when the
// organization already holds RuleLimit rules (10 by default, default rule
// included); OrganizationNotFoundException (C4).
func (s *Store) PutAccessControlRule(ctx context.Context, in PutAccessControlRuleInput) (PutAccessControlRuleOutput, error) {
	if err := checkOrgID(in.OrganizationId); err != nil {
		return PutAccessControlRuleOutput{}, err
	}
	rule := in.rule()
	if err := accessctl.ValidateRule(&rule); err != nil {
		return PutAccessControlRuleOutput{}, err
	}
	err := s.mutate(ctx, in.OrganizationId, func(snap *Snapshot) (*record, error) {
		prev := snap.rec
		roles := make(accessctl.RoleIDs, len(snap.roles))
		for id := range snap.roles {
			roles[id] = struct{}{}
		}
		// Resolve the new rule's identifiers against the directory and the
		// roles (A18); the stored rules are compiled without the role check,
		// since rules naming a deleted role stay (B6).
		if _, err := accessctl.Compile([]accessctl.Rule{rule}, accessctl.Options{Directory: snap.dir, Roles: roles}); err != nil {
			return nil, stripRulePrefix(err)
		}
		now := s.now()
		rules := make([]accessctl.Rule, 0, len(prev.Rules)+1)
		replaced := false
		for _, r := range prev.Rules {
			if r.Name == rule.Name {
				rule.DateCreated = r.DateCreated
				replaced = true
				continue
			}
			rules = append(rules, r)
		}
		if !replaced {
			if len(prev.Rules) >= s.ruleLimit {
				return nil, policy.Errorf(policy.LimitExceededException, "Name",
					fmt.Sprintf("the organization already has %d access-control rules, the limit", len(prev.Rules)))
			}
			rule.DateCreated = now
		}
		rule.DateModified = now
		rules = append(rules, rule)
		sort.Slice(rules, func(i, j int) bool { return rules[i].Name < rules[j].Name })
		rec := prev.clone()
		rec.Rules = rules
		return rec, nil
	})
	return PutAccessControlRuleOutput{}, err
}

// stripRulePrefix turns the paths of compiling a one-rule list ("Rules[0].X")
// into the request's paths ("X").
func stripRulePrefix(err error) error {
	var out policy.ErrorList
	for _, e := range policy.Errors(err) {
		e2 := *e
		e2.Path = strings.TrimPrefix(strings.TrimPrefix(e.Path, "Rules[0]"), ".")
		out = append(out, &e2)
	}
	return out.Err()
}

// DeleteAccessControlRule deletes the rule with the given Name; a name the
// organization does not have succeeds and changes nothing (A15). A malformed
// Name is ValidationException.
func (s *Store) DeleteAccessControlRule(ctx context.Context, in DeleteAccessControlRuleInput) (DeleteAccessControlRuleOutput, error) {
	if err := checkOrgID(in.OrganizationId); err != nil {
		return DeleteAccessControlRuleOutput{}, err
	}
	probe := accessctl.Rule{Name: in.Name, Effect: policy.Allow}
	if err := accessctl.ValidateRule(&probe); err != nil {
		return DeleteAccessControlRuleOutput{}, err
	}
	err := s.mutate(ctx, in.OrganizationId, func(snap *Snapshot) (*record, error) {
		prev := snap.rec
		for i, r := range prev.Rules {
			if r.Name == in.Name {
				rec := prev.clone()
				rec.Rules = append(append(make([]accessctl.Rule, 0, len(prev.Rules)-1), prev.Rules[:i]...), prev.Rules[i+1:]...)
				return rec, nil
			}
		}
		return nil, nil
	})
	return DeleteAccessControlRuleOutput{}, err
}

// ListAccessControlRules returns copies of every rule of the organization, in
// ascending byte order of Name (A16).
func (s *Store) ListAccessControlRules(ctx context.Context, in ListAccessControlRulesInput) (accessctl.ListAccessControlRulesOutput, error) {
	snap, err := s.live(in.OrganizationId)
	if err != nil {
		return accessctl.ListAccessControlRulesOutput{}, err
	}
	rules := make([]accessctl.Rule, len(snap.rec.Rules))
	for i, r := range snap.rec.Rules {
		rules[i] = r.Clone()
	}
	return accessctl.ListAccessControlRulesOutput{Rules: rules}, nil
}

// GetAccessControlEffect answers GetAccessControlEffect against the latest
// snapshot of the organization (SEMANTICS A2–A12, A18) in the wire shapes.
// OrganizationId is required. After the input's checks, an
// ImpersonationRoleId that is not a role of the organization (never created,
// or deleted) is ResourceNotFoundException with path ImpersonationRoleId:
// rules that still name a deleted role stay, but its ID never matches (B6).
// It allocates the answer's MatchedRules; use Store.Evaluate or Handle.Evaluate
// on hot paths.
func (s *Store) GetAccessControlEffect(ctx context.Context, in accessctl.GetAccessControlEffectInput) (accessctl.GetAccessControlEffectOutput, error) {
	snap, err := s.live(in.OrganizationId)
	if err != nil {
		return accessctl.GetAccessControlEffectOutput{}, err
	}
	r, err := in.Request()
	if err != nil {
		return accessctl.GetAccessControlEffectOutput{}, err
	}
	eff, matched, _, err := snap.evaluate(r, nil)
	if err != nil {
		return accessctl.GetAccessControlEffectOutput{}, err
	}
	if matched == nil {
		matched = []string{}
	}
	return accessctl.GetAccessControlEffectOutput{Effect: eff, MatchedRules: matched}, nil
}
